using System.Globalization;
using System.Text;

namespace Lb.Scripts;

/// <summary>
/// Splits a script string into argv with keepalived's rules (lib/parser.c, <c>alloc_strvec_quoted_escaped</c>), applied to the
/// script word the config tokenizer produced: words are separated by blanks (space, \t, \f, \n, \r, \v); a double or single
/// quote groups until the same quote and is removed (quotes may start or end mid-word); a backslash, inside or outside quotes,
/// escapes: \a \b \E \f \n \r \t \v, \xHH…, \cX (control character), \ooo (octal, up to 3 digits), any other character stands
/// for itself. An unterminated quote or a trailing backslash is an error (keepalived then ignores the script). No shell is involved.
/// </summary>
public static class ScriptCommandLine
{
    private const string Blanks = " \t\f\n\r\v";

    /// <summary>Splits <paramref name="command"/>; false with keepalived's message in <paramref name="error"/> when it cannot be parsed or is empty.</summary>
    public static bool TrySplit(string command, out IReadOnlyList<string> argv, out string? error)
    {
        ArgumentNullException.ThrowIfNull(command);
        var words = new List<string>();
        var word = new StringBuilder();
        var i = 0;
        argv = [];
        while (i < command.Length)
        {
            while (i < command.Length && Blanks.Contains(command[i], StringComparison.Ordinal))
                i++;
            if (i >= command.Length)
                break;
            word.Clear();
            char quote = '\0';
            while (i < command.Length)
            {
                var c = command[i];
                if (c == '\\')
                {
                    if (++i >= command.Length)
                    {
                        error = $"Missing escape char at end: '{command}'";
                        return false;
                    }
                    i = Unescape(command, i, word);
                    continue;
                }
                if (quote != '\0')
                {
                    if (c == quote)
                        quote = '\0';
                    else
                        word.Append(c);
                    i++;
                    continue;
                }
                if (c is '"' or '\'')
                {
                    quote = c;
                    i++;
                    continue;
                }
                if (Blanks.Contains(c, StringComparison.Ordinal))
                    break;
                word.Append(c);
                i++;
            }
            if (quote != '\0')
            {
                error = $"String '{command}': missing terminating {quote}";
                return false;
            }
            words.Add(word.ToString());
        }
        if (words.Count == 0)
        {
            error = $"Unable to parse script '{command}'";
            return false;
        }
        argv = words;
        error = null;
        return true;
    }

    /// <summary>Splits <paramref name="command"/>; throws <see cref="FormatException"/> where <see cref="TrySplit"/> returns false.</summary>
    public static IReadOnlyList<string> Split(string command)
        => TrySplit(command, out var argv, out var error) ? argv : throw new FormatException(error);

    /// <summary>One escape starting at <paramref name="i"/> (the character after the backslash); returns the index after it.</summary>
    private static int Unescape(string s, int i, StringBuilder into)
    {
        var c = s[i];
        if (c == 'x' && i + 1 < s.Length && char.IsAsciiHexDigit(s[i + 1]))
        {
            var value = 0;
            i++;
            while (i < s.Length && char.IsAsciiHexDigit(s[i]))
                value = ((value << 4) | int.Parse(s.AsSpan(i++, 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture)) & 0xff;
            into.Append((char)value);
            return i;
        }
        if (c == 'c' && i + 1 < s.Length)
        {
            into.Append((char)(s[i + 1] & 0x1f));
            return i + 2;
        }
        if (c is >= '0' and <= '7')
        {
            var value = c - '0';
            i++;
            for (var n = 0; n < 2 && i < s.Length && s[i] is >= '0' and <= '7'; n++)
                value = ((value << 3) + (s[i++] - '0')) & 0xff;
            into.Append((char)value);
            return i;
        }
        into.Append(c switch
        {
            'a' => '\a',
            'b' => '\b',
            'E' => '\u001b',
            'f' => '\f',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\v',
            _ => c,
        });
        return i + 1;
    }
}
