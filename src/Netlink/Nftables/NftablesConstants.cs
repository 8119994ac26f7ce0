namespace Lb.Netlink.Nftables;

/// <summary>
/// Constants of linux/netlink.h, linux/netfilter.h, linux/netfilter/nfnetlink.h and linux/netfilter/nf_tables.h that
/// the nf_tables codec uses (checked against the installed headers by a test: the names are the C names).
/// </summary>
public static class NftablesConstants
{
    public const int NETLINK_NETFILTER = 12;

    // nfnetlink.h
    public const byte NFNETLINK_V0 = 0;
    public const ushort NFNL_SUBSYS_NFTABLES = 10;
    public const ushort NFNL_MSG_BATCH_BEGIN = 16;
    public const ushort NFNL_MSG_BATCH_END = 17;

    // netfilter.h: families, hooks, verdicts
    public const byte NFPROTO_UNSPEC = 0;
    public const byte NFPROTO_INET = 1;
    public const byte NFPROTO_IPV4 = 2;
    public const byte NFPROTO_IPV6 = 10;
    public const int NF_INET_LOCAL_IN = 1;
    public const int NF_INET_LOCAL_OUT = 3;
    public const int NF_DROP = 0;
    public const int NF_ACCEPT = 1;

    // nf_tables.h: message types (ORed with NFNL_SUBSYS_NFTABLES << 8)
    public const byte NFT_MSG_NEWTABLE = 0;
    public const byte NFT_MSG_GETTABLE = 1;
    public const byte NFT_MSG_DELTABLE = 2;
    public const byte NFT_MSG_NEWCHAIN = 3;
    public const byte NFT_MSG_NEWRULE = 6;
    public const byte NFT_MSG_NEWSET = 9;
    public const byte NFT_MSG_NEWSETELEM = 12;
    public const byte NFT_MSG_DELSETELEM = 14;

    public const ushort NFTA_TABLE_NAME = 1;
    public const ushort NFTA_TABLE_FLAGS = 2;

    public const ushort NFTA_CHAIN_TABLE = 1;
    public const ushort NFTA_CHAIN_NAME = 3;
    public const ushort NFTA_CHAIN_HOOK = 4;
    public const ushort NFTA_CHAIN_POLICY = 5;
    public const ushort NFTA_CHAIN_TYPE = 7;
    public const ushort NFTA_HOOK_HOOKNUM = 1;
    public const ushort NFTA_HOOK_PRIORITY = 2;

    public const ushort NFTA_RULE_TABLE = 1;
    public const ushort NFTA_RULE_CHAIN = 2;
    public const ushort NFTA_RULE_EXPRESSIONS = 4;
    public const ushort NFTA_LIST_ELEM = 1;
    public const ushort NFTA_EXPR_NAME = 1;
    public const ushort NFTA_EXPR_DATA = 2;

    public const int NFT_REG_VERDICT = 0;
    public const int NFT_REG_1 = 1;
    public const int NFT_REG_2 = 2;

    public const ushort NFTA_PAYLOAD_DREG = 1;
    public const ushort NFTA_PAYLOAD_BASE = 2;
    public const ushort NFTA_PAYLOAD_OFFSET = 3;
    public const ushort NFTA_PAYLOAD_LEN = 4;
    public const int NFT_PAYLOAD_LL_HEADER = 0;
    public const int NFT_PAYLOAD_NETWORK_HEADER = 1;
    public const int NFT_PAYLOAD_TRANSPORT_HEADER = 2;

    public const ushort NFTA_META_DREG = 1;
    public const ushort NFTA_META_KEY = 2;
    public const int NFT_META_IIF = 4;
    public const int NFT_META_OIF = 5;

    public const ushort NFTA_CMP_SREG = 1;
    public const ushort NFTA_CMP_OP = 2;
    public const ushort NFTA_CMP_DATA = 3;
    public const int NFT_CMP_EQ = 0;

    public const ushort NFTA_BITWISE_SREG = 1;
    public const ushort NFTA_BITWISE_DREG = 2;
    public const ushort NFTA_BITWISE_LEN = 3;
    public const ushort NFTA_BITWISE_MASK = 4;
    public const ushort NFTA_BITWISE_XOR = 5;

    public const ushort NFTA_LOOKUP_SET = 1;
    public const ushort NFTA_LOOKUP_SREG = 2;
    public const ushort NFTA_LOOKUP_SET_ID = 4;

    public const ushort NFTA_IMMEDIATE_DREG = 1;
    public const ushort NFTA_IMMEDIATE_DATA = 2;
    public const ushort NFTA_DATA_VALUE = 1;
    public const ushort NFTA_DATA_VERDICT = 2;
    public const ushort NFTA_VERDICT_CODE = 1;
    public const ushort NFTA_VERDICT_CHAIN = 2;
    public const int NFT_CONTINUE = -1;
    public const int NFT_BREAK = -2;
    public const int NFT_JUMP = -3;
    public const int NFT_GOTO = -4;
    public const int NFT_RETURN = -5;

    public const ushort NFTA_SET_TABLE = 1;
    public const ushort NFTA_SET_NAME = 2;
    public const ushort NFTA_SET_FLAGS = 3;
    public const ushort NFTA_SET_KEY_TYPE = 4;
    public const ushort NFTA_SET_KEY_LEN = 5;
    public const ushort NFTA_SET_ID = 10;
    public const ushort NFTA_SET_USERDATA = 13;
    public const int NFT_SET_CONSTANT = 0x2;

    public const ushort NFTA_SET_ELEM_LIST_TABLE = 1;
    public const ushort NFTA_SET_ELEM_LIST_SET = 2;
    public const ushort NFTA_SET_ELEM_LIST_ELEMENTS = 3;
    public const ushort NFTA_SET_ELEM_LIST_SET_ID = 4;
    public const ushort NFTA_SET_ELEM_KEY = 1;
}

/// <summary>
/// nft's data type numbers (nftables' include/datatype.h, not a kernel header): the kernel stores a set's key type
/// without reading it; <c>nft list</c> uses it to print the elements. A concatenation packs one type per 6 bits.
/// </summary>
public static class NftablesDataTypes
{
    public const uint IpAddress = 7;
    public const uint Ip6Address = 8;
    public const uint IcmpV6Type = 29;
    public const uint InterfaceIndex = 20;
    public const int ConcatBits = 6;
}
