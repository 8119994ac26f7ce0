using System.Buffers.Binary;
using System.Globalization;
using Lb.Netlink.Collections;
using Lb.Netlink.Protocol;
using static Lb.Netlink.Nftables.NftablesConstants;

namespace Lb.Netlink.Nftables;

/// <summary>An nf_tables address family (the <c>nfgenmsg</c> family of a request).</summary>
public enum NftFamily : byte
{
    /// <summary><c>inet</c>: IPv4 and IPv6.</summary>
    Inet = NFPROTO_INET,

    /// <summary><c>ip</c>.</summary>
    Ip = NFPROTO_IPV4,

    /// <summary><c>ip6</c>.</summary>
    Ip6 = NFPROTO_IPV6,
}

/// <summary>The netfilter hook of a base chain.</summary>
public enum NftHook
{
    /// <summary>NF_INET_LOCAL_IN (<c>input</c>).</summary>
    Input = NF_INET_LOCAL_IN,

    /// <summary>NF_INET_LOCAL_OUT (<c>output</c>).</summary>
    Output = NF_INET_LOCAL_OUT,
}

/// <summary>A verdict code (netfilter's NF_DROP / NF_ACCEPT, nf_tables' NFT_GOTO …).</summary>
public enum NftVerdict
{
    Drop = NF_DROP,
    Accept = NF_ACCEPT,
    Continue = NFT_CONTINUE,
    Jump = NFT_JUMP,
    Goto = NFT_GOTO,
    Return = NFT_RETURN,
}

/// <summary>Where a payload expression reads from.</summary>
public enum NftPayloadBase
{
    LinkLayer = NFT_PAYLOAD_LL_HEADER,
    Network = NFT_PAYLOAD_NETWORK_HEADER,
    Transport = NFT_PAYLOAD_TRANSPORT_HEADER,
}

/// <summary>The meta keys Lb reads.</summary>
public enum NftMetaKey
{
    /// <summary>NFT_META_IIF: the input interface index.</summary>
    InputInterface = NFT_META_IIF,

    /// <summary>NFT_META_OIF: the output interface index.</summary>
    OutputInterface = NFT_META_OIF,
}

/// <summary>A base chain's hook: where, in which order (lower first), and the policy for packets no rule decides.</summary>
public sealed record NftChainHook(NftHook Hook, int Priority, NftVerdict Policy = NftVerdict.Accept, string Type = "filter");

/// <summary>
/// One expression of a rule (kernel name and NFTA_EXPR_DATA). <see cref="ToString"/> prints it as
/// <c>nft --debug=netlink</c> does (e.g. <c>[ payload load 4b @ network header + 16 => reg 1 ]</c>).
/// </summary>
public abstract record NftExpression
{
    /// <summary>The kernel's expression name (NFTA_EXPR_NAME).</summary>
    public abstract string Name { get; }

    /// <summary>Writes the attributes inside NFTA_EXPR_DATA.</summary>
    internal abstract void WriteData(ref NetlinkWriter writer);

    internal static void WriteBe32(ref NetlinkWriter writer, ushort type, int value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(b, value);
        writer.WriteAttribute(type, b);
    }

    /// <summary>NFTA_DATA_VALUE inside a nested attribute of <paramref name="type"/>.</summary>
    internal static void WriteDataValue(ref NetlinkWriter writer, ushort type, ReadOnlySpan<byte> value)
    {
        using (writer.BeginNested(type))
            writer.WriteAttribute(NFTA_DATA_VALUE, value);
    }

    internal static string Hex(ValueList<byte> bytes)
    {
        // nft prints data as host-order 32-bit words: 4 bytes at a time, low byte last on little-endian
        var words = new List<string>();
        var span = bytes.AsSpan();
        Span<byte> w = stackalloc byte[4];
        for (var i = 0; i < span.Length; i += 4)
        {
            var n = Math.Min(4, span.Length - i);
            w.Clear();
            span.Slice(i, n).CopyTo(w);
            var v = BitConverter.IsLittleEndian ? BinaryPrimitives.ReadUInt32LittleEndian(w) : BinaryPrimitives.ReadUInt32BigEndian(w);
            words.Add("0x" + v.ToString("x8", CultureInfo.InvariantCulture));
        }
        return string.Join(' ', words);
    }
}

/// <summary><c>payload</c>: loads <see cref="Length"/> bytes at <see cref="Offset"/> of a header into a register.</summary>
public sealed record NftPayload(NftPayloadBase Base, int Offset, int Length, int DestinationRegister = NFT_REG_1) : NftExpression
{
    public override string Name => "payload";

    internal override void WriteData(ref NetlinkWriter writer)
    {
        WriteBe32(ref writer, NFTA_PAYLOAD_DREG, DestinationRegister);
        WriteBe32(ref writer, NFTA_PAYLOAD_BASE, (int)Base);
        WriteBe32(ref writer, NFTA_PAYLOAD_OFFSET, Offset);
        WriteBe32(ref writer, NFTA_PAYLOAD_LEN, Length);
    }

    public override string ToString() =>
        $"[ payload load {Length}b @ {Base switch { NftPayloadBase.LinkLayer => "link", NftPayloadBase.Network => "network", _ => "transport" }} header + {Offset} => reg {DestinationRegister} ]";
}

/// <summary><c>meta</c>: loads a packet's meta value (interface index …) into a register.</summary>
public sealed record NftMeta(NftMetaKey Key, int DestinationRegister) : NftExpression
{
    public override string Name => "meta";

    internal override void WriteData(ref NetlinkWriter writer)
    {
        WriteBe32(ref writer, NFTA_META_DREG, DestinationRegister);
        WriteBe32(ref writer, NFTA_META_KEY, (int)Key);
    }

    public override string ToString() => $"[ meta load {(Key == NftMetaKey.InputInterface ? "iif" : "oif")} => reg {DestinationRegister} ]";
}

/// <summary><c>cmp</c> (equality): the rule goes on only when the register holds <see cref="Data"/>.</summary>
public sealed record NftCompare(int SourceRegister, ValueList<byte> Data) : NftExpression
{
    public override string Name => "cmp";

    internal override void WriteData(ref NetlinkWriter writer)
    {
        WriteBe32(ref writer, NFTA_CMP_SREG, SourceRegister);
        WriteBe32(ref writer, NFTA_CMP_OP, NFT_CMP_EQ);
        WriteDataValue(ref writer, NFTA_CMP_DATA, Data.AsSpan());
    }

    public override string ToString() => $"[ cmp eq reg {SourceRegister} {Hex(Data)} ]";
}

/// <summary><c>bitwise</c>: register = (register &amp; mask) ^ xor.</summary>
public sealed record NftBitwise(int SourceRegister, int DestinationRegister, ValueList<byte> Mask, ValueList<byte> Xor) : NftExpression
{
    public override string Name => "bitwise";

    internal override void WriteData(ref NetlinkWriter writer)
    {
        if (Mask.Count != Xor.Count)
            throw new ArgumentException($"bitwise mask ({Mask.Count} bytes) and xor ({Xor.Count} bytes) differ in length");
        WriteBe32(ref writer, NFTA_BITWISE_SREG, SourceRegister);
        WriteBe32(ref writer, NFTA_BITWISE_DREG, DestinationRegister);
        WriteBe32(ref writer, NFTA_BITWISE_LEN, Mask.Count);
        WriteDataValue(ref writer, NFTA_BITWISE_MASK, Mask.AsSpan());
        WriteDataValue(ref writer, NFTA_BITWISE_XOR, Xor.AsSpan());
    }

    public override string ToString() => $"[ bitwise reg {DestinationRegister} = ( reg {SourceRegister} & {Hex(Mask)} ) ^ {Hex(Xor)} ]";
}

/// <summary>
/// <c>lookup</c>: the rule goes on only when the register's value is an element of the named set (<see cref="SetId"/>:
/// the set's id when it is created in the same transaction; the name alone finds it too).
/// </summary>
public sealed record NftLookup(string Set, int SourceRegister = NFT_REG_1, uint? SetId = null) : NftExpression
{
    public override string Name => "lookup";

    internal override void WriteData(ref NetlinkWriter writer)
    {
        WriteBe32(ref writer, NFTA_LOOKUP_SREG, SourceRegister);
        writer.WriteString(NFTA_LOOKUP_SET, Set);
        if (SetId is { } id)
            WriteBe32(ref writer, NFTA_LOOKUP_SET_ID, (int)id);
    }

    public override string ToString() => $"[ lookup reg {SourceRegister} set {Set} ]";
}

/// <summary><c>counter</c>: counts the packets and bytes that reach it.</summary>
public sealed record NftCounter : NftExpression
{
    public override string Name => "counter";

    internal override void WriteData(ref NetlinkWriter writer)
    {
    }

    public override string ToString() => "[ counter pkts 0 bytes 0 ]";
}

/// <summary><c>immediate</c> into the verdict register: drop, accept, goto CHAIN …</summary>
public sealed record NftImmediateVerdict(NftVerdict Verdict, string? Chain = null) : NftExpression
{
    public override string Name => "immediate";

    internal override void WriteData(ref NetlinkWriter writer)
    {
        if ((Verdict is NftVerdict.Goto or NftVerdict.Jump) != (Chain is not null))
            throw new ArgumentException($"verdict {Verdict} {(Chain is null ? "needs" : "takes no")} chain");
        WriteBe32(ref writer, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
        using (writer.BeginNested(NFTA_IMMEDIATE_DATA))
        using (writer.BeginNested(NFTA_DATA_VERDICT))
        {
            WriteBe32(ref writer, NFTA_VERDICT_CODE, (int)Verdict);
            if (Chain is not null)
                writer.WriteString(NFTA_VERDICT_CHAIN, Chain);
        }
    }

    public override string ToString() =>
        $"[ immediate reg 0 {Verdict.ToString().ToLowerInvariant()}{(Chain is null ? "" : " " + Chain)} ]";
}

/// <summary>A named set: its key type (nft's data type number, for listing) and length in bytes.</summary>
/// <param name="KeyType">nft's data type (<see cref="NftablesDataTypes"/>), concatenations packed 6 bits per field.</param>
/// <param name="KeyLength">Key length in bytes (each concatenated field padded to 4).</param>
/// <param name="Constant">NFT_SET_CONSTANT: the elements given at creation are all it ever holds.</param>
/// <param name="KeyBigEndian">The key's byte order as nft records it in the set's user data (addresses: big-endian).</param>
public sealed record NftSet(NftFamily Family, string Table, string Name, uint KeyType, int KeyLength, bool Constant = false, bool KeyBigEndian = true);
