using System.Buffers.Binary;
using Lb.Netlink.Collections;
using Lb.Netlink.Protocol;
using static Lb.Netlink.Nftables.NftablesConstants;
using static Lb.Netlink.Protocol.NetlinkConstants;

namespace Lb.Netlink.Nftables;

/// <summary>One element of a set: its key bytes as the kernel stores them, and how to name it in messages.</summary>
/// <param name="Key">The key (an address in network byte order; concatenated fields each padded to 4 bytes).</param>
/// <param name="Text">The element in words (e.g. <c>10.0.0.1</c>), for error messages.</param>
public sealed record NftSetElement(ValueList<byte> Key, string Text)
{
    public override string ToString() => Text;
}

/// <summary>
/// Encodes nf_tables requests (pure: no I/O, unit-tested by decoding them back). Each request names its object
/// (<c>add nftables chain ip keepalived in</c>), so a kernel refusal says what was refused. The changes of one
/// transaction are sent between <see cref="BatchBegin"/> and <see cref="BatchEnd"/> (<see cref="NftablesClient.CommitAsync"/>).
/// </summary>
public static class NftablesMessages
{
    /// <summary>NFT_NAME_MAXLEN - 1: the longest table, chain or set name the kernel takes.</summary>
    public const int MaxNameLength = 255;

    private const ushort CreateRequest = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE;

    /// <summary>The netlink message type of an nf_tables message: subsystem in the high byte.</summary>
    public static ushort MessageType(byte nftMessage) => (ushort)((NFNL_SUBSYS_NFTABLES << 8) | nftMessage);

    /// <summary>The family's name as nft spells it.</summary>
    public static string FamilyName(NftFamily family) => family switch
    {
        NftFamily.Ip => "ip",
        NftFamily.Ip6 => "ip6",
        NftFamily.Inet => "inet",
        _ => ((int)family).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>NFNL_MSG_BATCH_BEGIN for the nf_tables subsystem (no ACK is asked for: the kernel sends none).</summary>
    public static NetlinkRequest BatchBegin() => BatchMarker(NFNL_MSG_BATCH_BEGIN, "begin nftables transaction");

    /// <summary>NFNL_MSG_BATCH_END: the kernel commits the transaction (or aborts it when one change failed).</summary>
    public static NetlinkRequest BatchEnd() => BatchMarker(NFNL_MSG_BATCH_END, "end nftables transaction");

    private static NetlinkRequest BatchMarker(ushort type, string description) =>
        NetlinkRequest.Create(description, (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(type, NLM_F_REQUEST))
            {
                Span<byte> header = stackalloc byte[4];
                header[0] = NFPROTO_UNSPEC;
                header[1] = NFNETLINK_V0;
                BinaryPrimitives.WriteUInt16BigEndian(header[2..], NFNL_SUBSYS_NFTABLES);
                w.WriteBytes(header);
            }
        });

    /// <summary><c>nft add table FAMILY NAME</c> (no error when it exists).</summary>
    public static NetlinkRequest NewTable(NftFamily family, string table)
    {
        ValidateName("table", table);
        return NetlinkRequest.Create($"add nftables table {FamilyName(family)} {table}", (ref NetlinkWriter w) =>
        {
            using (BeginMessage(ref w, NFT_MSG_NEWTABLE, CreateRequest, family))
            {
                w.WriteString(NFTA_TABLE_NAME, table);
                WriteBe32(ref w, NFTA_TABLE_FLAGS, 0);
            }
        });
    }

    /// <summary><c>nft delete table FAMILY NAME</c>: the table and everything in it (ENOENT when there is none).</summary>
    public static NetlinkRequest DeleteTable(NftFamily family, string table)
    {
        ValidateName("table", table);
        return NetlinkRequest.Create($"delete nftables table {FamilyName(family)} {table}", (ref NetlinkWriter w) =>
        {
            using (BeginMessage(ref w, NFT_MSG_DELTABLE, NLM_F_REQUEST | NLM_F_ACK, family))
                w.WriteString(NFTA_TABLE_NAME, table);
        });
    }

    /// <summary>NFT_MSG_GETTABLE of one table: the kernel answers with the table or ENOENT.</summary>
    public static NetlinkRequest GetTable(NftFamily family, string table)
    {
        ValidateName("table", table);
        return NetlinkRequest.Create($"get nftables table {FamilyName(family)} {table}", (ref NetlinkWriter w) =>
        {
            using (BeginMessage(ref w, NFT_MSG_GETTABLE, NLM_F_REQUEST | NLM_F_ACK, family))
                w.WriteString(NFTA_TABLE_NAME, table);
        });
    }

    /// <summary>
    /// <c>nft add chain FAMILY TABLE NAME { type filter hook HOOK priority P; policy POLICY; }</c>, or a regular chain
    /// (a goto/jump target) when <paramref name="hook"/> is null.
    /// </summary>
    public static NetlinkRequest NewChain(NftFamily family, string table, string chain, NftChainHook? hook)
    {
        ValidateName("table", table);
        ValidateName("chain", chain);
        if (hook is not null && hook.Policy is not (NftVerdict.Accept or NftVerdict.Drop))
            throw new ArgumentException($"a base chain's policy is accept or drop, not {hook.Policy}", nameof(hook));
        return NetlinkRequest.Create($"add nftables chain {FamilyName(family)} {table} {chain}", (ref NetlinkWriter w) =>
        {
            using (BeginMessage(ref w, NFT_MSG_NEWCHAIN, CreateRequest, family))
            {
                w.WriteString(NFTA_CHAIN_TABLE, table);
                w.WriteString(NFTA_CHAIN_NAME, chain);
                if (hook is not null)
                {
                    w.WriteString(NFTA_CHAIN_TYPE, hook.Type);
                    WriteBe32(ref w, NFTA_CHAIN_POLICY, (int)hook.Policy);
                    using (w.BeginNested(NFTA_CHAIN_HOOK))
                    {
                        WriteBe32(ref w, NFTA_HOOK_HOOKNUM, (int)hook.Hook);
                        WriteBe32(ref w, NFTA_HOOK_PRIORITY, hook.Priority);
                    }
                }
            }
        });
    }

    /// <summary><c>nft add set FAMILY TABLE NAME { type …; [flags constant;] }</c>; <paramref name="id"/> is its id in the transaction.</summary>
    public static NetlinkRequest NewSet(NftSet set, uint id)
    {
        ValidateName("table", set.Table);
        ValidateName("set", set.Name);
        if (set.KeyLength is <= 0 or > 64)
            throw new ArgumentException($"set {set.Name}: key length {set.KeyLength} is outside 1..64 bytes", nameof(set));
        return NetlinkRequest.Create($"add nftables set {FamilyName(set.Family)} {set.Table} {set.Name}", (ref NetlinkWriter w) =>
        {
            using (BeginMessage(ref w, NFT_MSG_NEWSET, CreateRequest, set.Family))
            {
                w.WriteString(NFTA_SET_TABLE, set.Table);
                w.WriteString(NFTA_SET_NAME, set.Name);
                // a concatenated key needs no flag (NFT_SET_CONCAT is for interval sets, with NFTA_SET_DESC)
                WriteBe32(ref w, NFTA_SET_FLAGS, set.Constant ? NFT_SET_CONSTANT : 0);
                WriteBe32(ref w, NFTA_SET_KEY_TYPE, (int)set.KeyType);
                WriteBe32(ref w, NFTA_SET_KEY_LEN, set.KeyLength);
                WriteBe32(ref w, NFTA_SET_ID, (int)id);
                // libnftnl's user data: NFTNL_UDATA_SET_KEYBYTEORDER (0), 4 bytes, BYTEORDER_BIG_ENDIAN (2) or HOST (1)
                Span<byte> udata = stackalloc byte[6];
                udata[0] = 0;
                udata[1] = 4;
                NetlinkWriter.WriteHost32(udata[2..], set.KeyBigEndian ? 2u : 1u);
                w.WriteAttribute(NFTA_SET_USERDATA, udata);
            }
        });
    }

    /// <summary>
    /// <c>nft add element FAMILY TABLE SET { … }</c>. With <paramref name="exclusive"/> an element already in the set
    /// is an error (EEXIST), as keepalived asks.
    /// </summary>
    /// <param name="setId">The set's id when it is created in the same transaction (optional: the name finds it too).</param>
    public static NetlinkRequest NewSetElements(NftSet set, IReadOnlyList<NftSetElement> elements, bool exclusive = false, uint? setId = null) =>
        SetElements(NFT_MSG_NEWSETELEM, (ushort)(CreateRequest | (exclusive ? NLM_F_EXCL : 0)), "add", "to", set, elements, setId);

    /// <summary><c>nft delete element FAMILY TABLE SET { … }</c> (ENOENT for an element that is not there).</summary>
    public static NetlinkRequest DeleteSetElements(NftSet set, IReadOnlyList<NftSetElement> elements) =>
        SetElements(NFT_MSG_DELSETELEM, NLM_F_REQUEST | NLM_F_ACK, "delete", "from", set, elements, null);

    private static NetlinkRequest SetElements(byte command, ushort flags, string verb, string preposition, NftSet set, IReadOnlyList<NftSetElement> elements, uint? setId)
    {
        ValidateName("table", set.Table);
        ValidateName("set", set.Name);
        if (elements.Count == 0)
            throw new ArgumentException("no elements", nameof(elements));
        foreach (var e in elements)
        {
            if (e.Key.Count != set.KeyLength)
                throw new ArgumentException($"element {e.Text} has a {e.Key.Count}-byte key; set {set.Name} takes {set.KeyLength} bytes", nameof(elements));
        }
        var description = $"{verb} element{(elements.Count == 1 ? "" : "s")} {string.Join(", ", elements)} {preposition} nftables set {FamilyName(set.Family)} {set.Table} {set.Name}";
        var size = 128 + set.Table.Length + set.Name.Length + elements.Count * (24 + NetlinkConstants.Align(set.KeyLength));
        return NetlinkRequest.Create(description, (ref NetlinkWriter w) =>
        {
            using (BeginMessage(ref w, command, flags, set.Family))
            {
                w.WriteString(NFTA_SET_ELEM_LIST_TABLE, set.Table);
                w.WriteString(NFTA_SET_ELEM_LIST_SET, set.Name);
                if (setId is { } id)
                    WriteBe32(ref w, NFTA_SET_ELEM_LIST_SET_ID, (int)id);
                using (w.BeginNested(NFTA_SET_ELEM_LIST_ELEMENTS))
                {
                    foreach (var e in elements)
                    {
                        using (w.BeginNested(NFTA_LIST_ELEM))
                            NftExpression.WriteDataValue(ref w, NFTA_SET_ELEM_KEY, e.Key.AsSpan());
                    }
                }
            }
        }, size);
    }

    /// <summary><c>nft add rule FAMILY TABLE CHAIN …</c>: appended to the chain; <paramref name="text"/> is the rule as nft would print it.</summary>
    public static NetlinkRequest NewRule(NftFamily family, string table, string chain, IReadOnlyList<NftExpression> expressions, string text)
    {
        ValidateName("table", table);
        ValidateName("chain", chain);
        if (expressions.Count == 0)
            throw new ArgumentException("a rule needs at least one expression", nameof(expressions));
        return NetlinkRequest.Create($"add nftables rule {FamilyName(family)} {table} {chain} {text}", (ref NetlinkWriter w) =>
        {
            using (BeginMessage(ref w, NFT_MSG_NEWRULE, (ushort)(CreateRequest | NLM_F_APPEND), family))
            {
                w.WriteString(NFTA_RULE_TABLE, table);
                w.WriteString(NFTA_RULE_CHAIN, chain);
                using (w.BeginNested(NFTA_RULE_EXPRESSIONS))
                {
                    foreach (var e in expressions)
                    {
                        using (w.BeginNested(NFTA_LIST_ELEM))
                        {
                            w.WriteString(NFTA_EXPR_NAME, e.Name);
                            using (w.BeginNested(NFTA_EXPR_DATA))
                                e.WriteData(ref w);
                        }
                    }
                }
            }
        });
    }

    private static NetlinkWriter.LengthScope BeginMessage(ref NetlinkWriter w, byte command, ushort flags, NftFamily family)
    {
        var scope = w.BeginMessage(MessageType(command), flags);
        w.WriteBytes([(byte)family, NFNETLINK_V0, 0, 0]);
        return scope;
    }

    private static void WriteBe32(ref NetlinkWriter w, ushort type, int value) => NftExpression.WriteBe32(ref w, type, value);

    private static void ValidateName(string what, string name)
    {
        if (string.IsNullOrEmpty(name))
            throw new ArgumentException($"an nftables {what} needs a name");
        if (System.Text.Encoding.UTF8.GetByteCount(name) > MaxNameLength)
            throw new ArgumentException($"nftables {what} name '{name}' is longer than {MaxNameLength} bytes");
    }
}
