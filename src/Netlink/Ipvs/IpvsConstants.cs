namespace Lb.Netlink.Ipvs;

/// <summary>Constants of linux/ip_vs.h (every one is checked against the header by a test).</summary>
public static class IpvsConstants
{
    public const string IPVS_GENL_NAME = "IPVS";
    public const byte IPVS_GENL_VERSION = 1;

    public const int IP_VS_SCHEDNAME_MAXLEN = 16;
    public const int IP_VS_PENAME_MAXLEN = 16;
    public const int IP_VS_IFNAME_MAXLEN = 16;

    public const uint IP_VS_SVC_F_PERSISTENT = 0x0001;
    public const uint IP_VS_SVC_F_HASHED = 0x0002;
    public const uint IP_VS_SVC_F_ONEPACKET = 0x0004;
    public const uint IP_VS_SVC_F_SCHED1 = 0x0008;
    public const uint IP_VS_SVC_F_SCHED2 = 0x0010;
    public const uint IP_VS_SVC_F_SCHED3 = 0x0020;
    public const uint IP_VS_SVC_F_SCHED_SH_FALLBACK = IP_VS_SVC_F_SCHED1;
    public const uint IP_VS_SVC_F_SCHED_SH_PORT = IP_VS_SVC_F_SCHED2;

    public const int IP_VS_STATE_NONE = 0;
    public const int IP_VS_STATE_MASTER = 1;
    public const int IP_VS_STATE_BACKUP = 2;

    public const uint IP_VS_CONN_F_FWD_MASK = 0x0007;
    public const uint IP_VS_CONN_F_MASQ = 0x0000;
    public const uint IP_VS_CONN_F_LOCALNODE = 0x0001;
    public const uint IP_VS_CONN_F_TUNNEL = 0x0002;
    public const uint IP_VS_CONN_F_DROUTE = 0x0003;
    public const uint IP_VS_CONN_F_BYPASS = 0x0004;

    public const byte IP_VS_CONN_F_TUNNEL_TYPE_IPIP = 0;
    public const byte IP_VS_CONN_F_TUNNEL_TYPE_GUE = 1;
    public const byte IP_VS_CONN_F_TUNNEL_TYPE_GRE = 2;

    public const ushort IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM = 0;
    public const ushort IP_VS_TUNNEL_ENCAP_FLAG_CSUM = 1 << 0;
    public const ushort IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM = 1 << 1;

    public const byte IPVS_CMD_NEW_SERVICE = 1;
    public const byte IPVS_CMD_SET_SERVICE = 2;
    public const byte IPVS_CMD_DEL_SERVICE = 3;
    public const byte IPVS_CMD_GET_SERVICE = 4;
    public const byte IPVS_CMD_NEW_DEST = 5;
    public const byte IPVS_CMD_SET_DEST = 6;
    public const byte IPVS_CMD_DEL_DEST = 7;
    public const byte IPVS_CMD_GET_DEST = 8;
    public const byte IPVS_CMD_NEW_DAEMON = 9;
    public const byte IPVS_CMD_DEL_DAEMON = 10;
    public const byte IPVS_CMD_GET_DAEMON = 11;
    public const byte IPVS_CMD_SET_CONFIG = 12;
    public const byte IPVS_CMD_GET_CONFIG = 13;
    public const byte IPVS_CMD_SET_INFO = 14;
    public const byte IPVS_CMD_GET_INFO = 15;
    public const byte IPVS_CMD_ZERO = 16;
    public const byte IPVS_CMD_FLUSH = 17;

    public const ushort IPVS_CMD_ATTR_SERVICE = 1;
    public const ushort IPVS_CMD_ATTR_DEST = 2;
    public const ushort IPVS_CMD_ATTR_DAEMON = 3;
    public const ushort IPVS_CMD_ATTR_TIMEOUT_TCP = 4;
    public const ushort IPVS_CMD_ATTR_TIMEOUT_TCP_FIN = 5;
    public const ushort IPVS_CMD_ATTR_TIMEOUT_UDP = 6;

    public const ushort IPVS_SVC_ATTR_AF = 1;
    public const ushort IPVS_SVC_ATTR_PROTOCOL = 2;
    public const ushort IPVS_SVC_ATTR_ADDR = 3;
    public const ushort IPVS_SVC_ATTR_PORT = 4;
    public const ushort IPVS_SVC_ATTR_FWMARK = 5;
    public const ushort IPVS_SVC_ATTR_SCHED_NAME = 6;
    public const ushort IPVS_SVC_ATTR_FLAGS = 7;
    public const ushort IPVS_SVC_ATTR_TIMEOUT = 8;
    public const ushort IPVS_SVC_ATTR_NETMASK = 9;
    public const ushort IPVS_SVC_ATTR_STATS = 10;
    public const ushort IPVS_SVC_ATTR_PE_NAME = 11;
    public const ushort IPVS_SVC_ATTR_STATS64 = 12;

    public const ushort IPVS_DEST_ATTR_ADDR = 1;
    public const ushort IPVS_DEST_ATTR_PORT = 2;
    public const ushort IPVS_DEST_ATTR_FWD_METHOD = 3;
    public const ushort IPVS_DEST_ATTR_WEIGHT = 4;
    public const ushort IPVS_DEST_ATTR_U_THRESH = 5;
    public const ushort IPVS_DEST_ATTR_L_THRESH = 6;
    public const ushort IPVS_DEST_ATTR_ACTIVE_CONNS = 7;
    public const ushort IPVS_DEST_ATTR_INACT_CONNS = 8;
    public const ushort IPVS_DEST_ATTR_PERSIST_CONNS = 9;
    public const ushort IPVS_DEST_ATTR_STATS = 10;
    public const ushort IPVS_DEST_ATTR_ADDR_FAMILY = 11;
    public const ushort IPVS_DEST_ATTR_STATS64 = 12;
    public const ushort IPVS_DEST_ATTR_TUN_TYPE = 13;
    public const ushort IPVS_DEST_ATTR_TUN_PORT = 14;
    public const ushort IPVS_DEST_ATTR_TUN_FLAGS = 15;

    public const ushort IPVS_DAEMON_ATTR_STATE = 1;
    public const ushort IPVS_DAEMON_ATTR_MCAST_IFN = 2;
    public const ushort IPVS_DAEMON_ATTR_SYNC_ID = 3;
    public const ushort IPVS_DAEMON_ATTR_SYNC_MAXLEN = 4;
    public const ushort IPVS_DAEMON_ATTR_MCAST_GROUP = 5;
    public const ushort IPVS_DAEMON_ATTR_MCAST_GROUP6 = 6;
    public const ushort IPVS_DAEMON_ATTR_MCAST_PORT = 7;
    public const ushort IPVS_DAEMON_ATTR_MCAST_TTL = 8;

    public const ushort IPVS_STATS_ATTR_CONNS = 1;
    public const ushort IPVS_STATS_ATTR_INPKTS = 2;
    public const ushort IPVS_STATS_ATTR_OUTPKTS = 3;
    public const ushort IPVS_STATS_ATTR_INBYTES = 4;
    public const ushort IPVS_STATS_ATTR_OUTBYTES = 5;
    public const ushort IPVS_STATS_ATTR_CPS = 6;
    public const ushort IPVS_STATS_ATTR_INPPS = 7;
    public const ushort IPVS_STATS_ATTR_OUTPPS = 8;
    public const ushort IPVS_STATS_ATTR_INBPS = 9;
    public const ushort IPVS_STATS_ATTR_OUTBPS = 10;
    public const ushort IPVS_STATS_ATTR_PAD = 11;

    public const ushort IPVS_INFO_ATTR_VERSION = 1;
    public const ushort IPVS_INFO_ATTR_CONN_TAB_SIZE = 2;

    /// <summary>sizeof(struct ip_vs_flags): { u32 flags; u32 mask; }.</summary>
    public const int SizeOfIpVsFlags = 8;

    /// <summary>sizeof(union nf_inet_addr), the size of IPVS address attributes.</summary>
    public const int SizeOfInetAddr = 16;

    public const ushort IPPROTO_TCP = 6;
    public const ushort IPPROTO_UDP = 17;
    public const ushort IPPROTO_SCTP = 132;
}
