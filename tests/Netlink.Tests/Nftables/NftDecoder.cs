using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Lb.Netlink.Protocol;
using static Lb.Netlink.Nftables.NftablesConstants;

namespace Lb.Netlink.Tests.Nftables;

/// <summary>
/// An independent reader of nf_tables requests for the tests: walks the attributes by the header's numbers (not through
/// Lb's model) and prints rules the way <c>nft --debug=netlink</c> prints them.
/// </summary>
internal static class NftDecoder
{
    public sealed record Message(ushort Type, ushort Flags, byte Family, Dictionary<int, byte[]> Attributes);

    public static Message Read(byte[] message)
    {
        var reader = new NetlinkMessageReader(message);
        if (!reader.TryRead(out var m))
            throw new InvalidOperationException("no message");
        var attrs = new Dictionary<int, byte[]>();
        var a = m.Attributes(4);
        while (a.TryRead(out var attr))
            attrs[attr.Type] = attr.Payload.ToArray();
        return new Message(m.Type, m.Flags, m.Payload[0], attrs);
    }

    public static Dictionary<int, byte[]> Nested(byte[] payload)
    {
        var result = new Dictionary<int, byte[]>();
        var a = new NetlinkAttributeReader(payload);
        while (a.TryRead(out var attr))
            result[attr.Type] = attr.Payload.ToArray();
        return result;
    }

    public static List<byte[]> List(byte[] payload)
    {
        var result = new List<byte[]>();
        var a = new NetlinkAttributeReader(payload);
        while (a.TryRead(out var attr))
            result.Add(attr.Payload.ToArray());
        return result;
    }

    public static string Str(byte[] b) => Encoding.UTF8.GetString(b).TrimEnd('\0');

    public static int Be32(byte[] b) => BinaryPrimitives.ReadInt32BigEndian(b);

    private static string Words(byte[] data)
    {
        var words = new List<string>();
        for (var i = 0; i < data.Length; i += 4)
        {
            var w = new byte[4];
            Array.Copy(data, i, w, 0, Math.Min(4, data.Length - i));
            words.Add("0x" + BinaryPrimitives.ReadUInt32LittleEndian(w).ToString("x8", CultureInfo.InvariantCulture));
        }
        return string.Join(' ', words);
    }

    /// <summary>The expressions of a NEWRULE message, one line each, in nft's debug notation.</summary>
    public static List<string> RuleExpressions(byte[] message)
    {
        var m = Read(message);
        var lines = new List<string>();
        foreach (var elem in List(m.Attributes[NFTA_RULE_EXPRESSIONS]))
        {
            var e = Nested(elem);
            var name = Str(e[NFTA_EXPR_NAME]);
            var d = e.TryGetValue(NFTA_EXPR_DATA, out var data) ? Nested(data) : new Dictionary<int, byte[]>();
            lines.Add(name switch
            {
                "payload" => $"[ payload load {Be32(d[NFTA_PAYLOAD_LEN])}b @ {(Be32(d[NFTA_PAYLOAD_BASE]) switch { 0 => "link", 1 => "network", _ => "transport" })} header + {Be32(d[NFTA_PAYLOAD_OFFSET])} => reg {Be32(d[NFTA_PAYLOAD_DREG])} ]",
                "lookup" => $"[ lookup reg {Be32(d[NFTA_LOOKUP_SREG])} set {Str(d[NFTA_LOOKUP_SET])} ]",
                "counter" => "[ counter pkts 0 bytes 0 ]",
                "meta" => $"[ meta load {(Be32(d[NFTA_META_KEY]) == NFT_META_IIF ? "iif" : "oif")} => reg {Be32(d[NFTA_META_DREG])} ]",
                "cmp" => $"[ cmp eq reg {Be32(d[NFTA_CMP_SREG])} {Words(Nested(d[NFTA_CMP_DATA])[NFTA_DATA_VALUE])} ]",
                "bitwise" => $"[ bitwise reg {Be32(d[NFTA_BITWISE_DREG])} = ( reg {Be32(d[NFTA_BITWISE_SREG])} & {Words(Nested(d[NFTA_BITWISE_MASK])[NFTA_DATA_VALUE])} ) ^ {Words(Nested(d[NFTA_BITWISE_XOR])[NFTA_DATA_VALUE])} ]",
                "immediate" => Immediate(d),
                _ => $"[ {name} ? ]",
            });
        }
        return lines;
    }

    private static string Immediate(Dictionary<int, byte[]> d)
    {
        var verdict = Nested(Nested(d[NFTA_IMMEDIATE_DATA])[NFTA_DATA_VERDICT]);
        var code = Be32(verdict[NFTA_VERDICT_CODE]);
        var text = code switch { NF_DROP => "drop", NF_ACCEPT => "accept", NFT_GOTO => "goto", NFT_JUMP => "jump", _ => code.ToString(CultureInfo.InvariantCulture) };
        if (verdict.TryGetValue(NFTA_VERDICT_CHAIN, out var chain))
            text += " " + Str(chain);
        return $"[ immediate reg {Be32(d[NFTA_IMMEDIATE_DREG])} {text} ]";
    }

    /// <summary>
    /// The messages of an <c>nft --debug=mnl</c> dump, rebuilt into bytes from libmnl's printout (header fields, extra
    /// header, one line per attribute header and per 4 data bytes): (type, payload after the netlink header).
    /// </summary>
    public static List<(ushort Type, byte[] Payload)> ParseMnlDump(string dump)
    {
        var result = new List<(ushort, byte[])>();
        ushort? type = null;
        var payload = new List<byte>();
        var clean = System.Text.RegularExpressions.Regex.Replace(dump, "\u001b\\[[0-9;]*m", "");
        foreach (var raw in clean.Split('\n'))
        {
            var line = raw.TrimEnd();
            var fields = line.Split('|', StringSplitOptions.TrimEntries);
            if (line.EndsWith("| message length |", StringComparison.Ordinal))
            {
                if (type is { } t)
                    result.Add((t, payload.ToArray()));
                type = null;
                payload.Clear();
            }
            else if (line.EndsWith("|  type | flags  |", StringComparison.Ordinal))
                type = ushort.Parse(fields[1], CultureInfo.InvariantCulture);
            else if (line.EndsWith("|len |flags| type|", StringComparison.Ordinal))
            {
                var len = ushort.Parse(fields[1], CultureInfo.InvariantCulture);
                var attrType = ushort.Parse(fields[3], CultureInfo.InvariantCulture);
                if (fields[2].Contains('N', StringComparison.Ordinal))
                    attrType |= 0x8000;
                if (fields[2].Contains('B', StringComparison.Ordinal))
                    attrType |= 0x4000;
                payload.AddRange(BitConverter.GetBytes(len));
                payload.AddRange(BitConverter.GetBytes(attrType));
            }
            else if (line.Contains("|      data      |", StringComparison.Ordinal) || line.Contains("|  extra header  |", StringComparison.Ordinal))
                payload.AddRange(fields[1].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(h => byte.Parse(h, NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
        }
        if (type is { } last)
            result.Add((last, payload.ToArray()));
        return result;
    }
}
