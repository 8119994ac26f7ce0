using Lb.Netlink.Collections;
using System.Globalization;

namespace Lb.Checkers.Options;

/// <summary>
/// keepalived's free-format <c>HEX_STR</c>: groups separated by spaces, each group of odd length gets a leading 0
/// (<c>Ab12f 3 456</c> is AB 12 0F 03 45 06 — keepalived pads the last nibble of an odd group); X/x nibbles match anything.
/// </summary>
public sealed record HexPattern(ValueList<byte> Value, ValueList<byte> Mask)
{
    /// <summary>Parses a HEX_STR; throws <see cref="FormatException"/> on a character that is not hex or X.</summary>
    public static HexPattern Parse(string text)
    {
        var value = new List<byte>();
        var mask = new List<byte>();
        foreach (var group in text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            // keepalived: "Ab12f 3 456 546443123" => AB 12 0F 03 45 06 54 64 43 12 03: an odd trailing nibble becomes 0N.
            var i = 0;
            while (i < group.Length)
            {
                if (group.Length - i == 1)
                {
                    var (v, m) = Nibble(group[i]);
                    value.Add(v);
                    mask.Add((byte)(0xF0 | m));
                    i++;
                }
                else
                {
                    var (hv, hm) = Nibble(group[i]);
                    var (lv, lm) = Nibble(group[i + 1]);
                    value.Add((byte)((hv << 4) | lv));
                    mask.Add((byte)((hm << 4) | lm));
                    i += 2;
                }
            }
        }
        return new HexPattern(value.ToArray(), mask.ToArray());
    }

    /// <summary>True when the first min(len) bytes of <paramref name="data"/> match.</summary>
    public bool Matches(ReadOnlySpan<byte> data)
    {
        var n = Math.Min(data.Length, Value.Count);
        for (var i = 0; i < n; i++)
        {
            if ((data[i] & Mask[i]) != (Value[i] & Mask[i]))
                return false;
        }
        return true;
    }

    private static (byte Value, byte Mask) Nibble(char c)
    {
        if (c is 'x' or 'X')
            return (0, 0);
        if (!byte.TryParse(c.ToString(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var b))
            throw new FormatException($"'{c}' is not a hex digit");
        return (b, 0xF);
    }
}
