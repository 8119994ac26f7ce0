namespace Lb.Netlink.Route;

/// <summary>Constants of linux/rtnetlink.h and linux/fib_rules.h for routes and policy rules (checked against the headers by a test).</summary>
public static class RtnetlinkRouteConstants
{
    public const ushort RTM_NEWROUTE = 24;
    public const ushort RTM_DELROUTE = 25;
    public const ushort RTM_GETROUTE = 26;
    public const ushort RTM_NEWRULE = 32;
    public const ushort RTM_DELRULE = 33;
    public const ushort RTM_GETRULE = 34;

    public const uint RTNLGRP_IPV4_ROUTE = 7;
    public const uint RTNLGRP_IPV4_RULE = 8;
    public const uint RTNLGRP_IPV6_ROUTE = 11;
    public const uint RTNLGRP_IPV6_RULE = 19;

    /// <summary>sizeof(struct rtmsg).</summary>
    public const int SizeOfRtmsg = 12;
    /// <summary>sizeof(struct fib_rule_hdr).</summary>
    public const int SizeOfFibRuleHdr = 12;
    /// <summary>sizeof(struct rtnexthop).</summary>
    public const int SizeOfRtnexthop = 8;

    public const ushort RTA_DST = 1;
    public const ushort RTA_SRC = 2;
    public const ushort RTA_IIF = 3;
    public const ushort RTA_OIF = 4;
    public const ushort RTA_GATEWAY = 5;
    public const ushort RTA_PRIORITY = 6;
    public const ushort RTA_PREFSRC = 7;
    public const ushort RTA_METRICS = 8;
    public const ushort RTA_MULTIPATH = 9;
    public const ushort RTA_FLOW = 11;
    public const ushort RTA_TABLE = 15;
    public const ushort RTA_PREF = 20;
    public const ushort RTA_EXPIRES = 23;
    public const ushort RTA_TTL_PROPAGATE = 26;

    public const ushort RTAX_LOCK = 1;
    public const ushort RTAX_MTU = 2;
    public const ushort RTAX_WINDOW = 3;
    public const ushort RTAX_RTT = 4;
    public const ushort RTAX_RTTVAR = 5;
    public const ushort RTAX_SSTHRESH = 6;
    public const ushort RTAX_CWND = 7;
    public const ushort RTAX_ADVMSS = 8;
    public const ushort RTAX_REORDERING = 9;
    public const ushort RTAX_HOPLIMIT = 10;
    public const ushort RTAX_INITCWND = 11;
    public const ushort RTAX_FEATURES = 12;
    public const ushort RTAX_RTO_MIN = 13;
    public const ushort RTAX_INITRWND = 14;
    public const ushort RTAX_QUICKACK = 15;
    public const ushort RTAX_CC_ALGO = 16;
    public const ushort RTAX_FASTOPEN_NO_COOKIE = 17;

    public const byte RTNH_F_ONLINK = 4;

    public const byte RTN_UNICAST = 1;
    public const byte RTN_LOCAL = 2;
    public const byte RTN_BLACKHOLE = 6;
    public const byte RTN_UNREACHABLE = 7;
    public const byte RTN_PROHIBIT = 8;

    public const byte RTPROT_UNSPEC = 0;
    public const byte RTPROT_BOOT = 3;
    public const byte RTPROT_STATIC = 4;
    public const byte RTPROT_KEEPALIVED = 18;

    public const byte RT_TABLE_UNSPEC = 0;
    public const byte RT_TABLE_MAIN = 254;
    public const byte RT_TABLE_LOCAL = 255;

    public const ushort FRA_DST = 1;
    public const ushort FRA_SRC = 2;
    public const ushort FRA_IIFNAME = 3;
    public const ushort FRA_GOTO = 4;
    public const ushort FRA_PRIORITY = 6;
    public const ushort FRA_FWMARK = 10;
    public const ushort FRA_FLOW = 11;
    public const ushort FRA_TUN_ID = 12;
    public const ushort FRA_SUPPRESS_IFGROUP = 13;
    public const ushort FRA_SUPPRESS_PREFIXLEN = 14;
    public const ushort FRA_TABLE = 15;
    public const ushort FRA_FWMASK = 16;
    public const ushort FRA_OIFNAME = 17;
    public const ushort FRA_L3MDEV = 19;
    public const ushort FRA_UID_RANGE = 20;
    public const ushort FRA_PROTOCOL = 21;
    public const ushort FRA_IP_PROTO = 22;
    public const ushort FRA_SPORT_RANGE = 23;
    public const ushort FRA_DPORT_RANGE = 24;

    public const byte FR_ACT_UNSPEC = 0;
    public const byte FR_ACT_TO_TBL = 1;
    public const byte FR_ACT_GOTO = 2;
    public const byte FR_ACT_NOP = 3;
    public const byte FR_ACT_BLACKHOLE = 6;
    public const byte FR_ACT_UNREACHABLE = 7;
    public const byte FR_ACT_PROHIBIT = 8;

    public const uint FIB_RULE_INVERT = 2;
}
