using System.Diagnostics;
using System.Reflection;
using System.Text;
using Lb.Netlink.Generic;
using Lb.Netlink.Ipvs;
using Lb.Netlink.Protocol;
using Lb.Netlink.Route;
using Lb.TestSupport;
using Xunit;

namespace Lb.Netlink.Tests.Headers;

/// <summary>
/// Every constant, struct size and field offset Lb's netlink code uses is checked against the
/// installed kernel and libc headers: a C program is generated from the C# constants (by reflection)
/// plus the layout table below, compiled with gcc (a mismatch is a _Static_assert failure) and run.
/// </summary>
public class KernelHeaderConsistencyTests
{
    /// <summary>C# names whose C spelling differs, or which are a sizeof.</summary>
    private static readonly Dictionary<string, string> CName = new()
    {
        ["SizeOfIpVsFlags"] = "sizeof(struct ip_vs_flags)",
        ["SizeOfInetAddr"] = "sizeof(union nf_inet_addr)",
        ["SizeOfNlmsgerr"] = "sizeof(struct nlmsgerr)",
        ["SizeOfIfinfomsg"] = "sizeof(struct ifinfomsg)",
        ["SizeOfIfaddrmsg"] = "sizeof(struct ifaddrmsg)",
        ["SizeOfRtmsg"] = "sizeof(struct rtmsg)",
        ["SizeOfFibRuleHdr"] = "sizeof(struct fib_rule_hdr)",
        ["SizeOfRtnexthop"] = "sizeof(struct rtnexthop)",
        ["SizeOfSockaddrNl"] = "sizeof(struct sockaddr_nl)",
        ["LINUX_CAPABILITY_VERSION_3"] = "_LINUX_CAPABILITY_VERSION_3",
        ["NLA_TYPE_MASK"] = "(unsigned short)(NLA_TYPE_MASK)",
        ["SizeOfStatx"] = "sizeof(struct statx)",
        ["StatxNlinkOffset"] = "offsetof(struct statx, stx_nlink)",
        ["StatxUidOffset"] = "offsetof(struct statx, stx_uid)",
        ["StatxGidOffset"] = "offsetof(struct statx, stx_gid)",
        ["StatxModeOffset"] = "offsetof(struct statx, stx_mode)",
        ["StatxInoOffset"] = "offsetof(struct statx, stx_ino)",
        ["StatxSizeOffset"] = "offsetof(struct statx, stx_size)",
        ["StatxDevMajorOffset"] = "offsetof(struct statx, stx_dev_major)",
        ["StatxDevMinorOffset"] = "offsetof(struct statx, stx_dev_minor)",
    };

    /// <summary>Field offsets and sizes the encoders/decoders hard-code.</summary>
    private static readonly (string Expression, long Value)[] Layout =
    [
        ("offsetof(struct nlmsghdr, nlmsg_len)", 0),
        ("offsetof(struct nlmsghdr, nlmsg_type)", 4),
        ("offsetof(struct nlmsghdr, nlmsg_flags)", 6),
        ("offsetof(struct nlmsghdr, nlmsg_seq)", 8),
        ("offsetof(struct nlmsghdr, nlmsg_pid)", 12),
        ("sizeof(struct nlmsghdr)", 16),
        ("offsetof(struct nlattr, nla_len)", 0),
        ("offsetof(struct nlattr, nla_type)", 2),
        ("sizeof(struct nlattr)", 4),
        ("offsetof(struct nlmsgerr, error)", 0),
        ("offsetof(struct nlmsgerr, msg)", 4),
        ("offsetof(struct genlmsghdr, cmd)", 0),
        ("offsetof(struct genlmsghdr, version)", 1),
        ("sizeof(struct genlmsghdr)", 4),
        ("offsetof(struct sockaddr_nl, nl_family)", 0),
        ("offsetof(struct sockaddr_nl, nl_pid)", 4),
        ("offsetof(struct sockaddr_nl, nl_groups)", 8),
        ("offsetof(struct ifinfomsg, ifi_family)", 0),
        ("offsetof(struct ifinfomsg, ifi_type)", 2),
        ("offsetof(struct ifinfomsg, ifi_index)", 4),
        ("offsetof(struct ifinfomsg, ifi_flags)", 8),
        ("offsetof(struct ifinfomsg, ifi_change)", 12),
        ("offsetof(struct ifaddrmsg, ifa_family)", 0),
        ("offsetof(struct ifaddrmsg, ifa_prefixlen)", 1),
        ("offsetof(struct ifaddrmsg, ifa_flags)", 2),
        ("offsetof(struct ifaddrmsg, ifa_scope)", 3),
        ("offsetof(struct ifaddrmsg, ifa_index)", 4),
        ("offsetof(struct rtmsg, rtm_family)", 0),
        ("offsetof(struct rtmsg, rtm_dst_len)", 1),
        ("offsetof(struct rtmsg, rtm_src_len)", 2),
        ("offsetof(struct rtmsg, rtm_tos)", 3),
        ("offsetof(struct rtmsg, rtm_table)", 4),
        ("offsetof(struct rtmsg, rtm_protocol)", 5),
        ("offsetof(struct rtmsg, rtm_scope)", 6),
        ("offsetof(struct rtmsg, rtm_type)", 7),
        ("offsetof(struct rtmsg, rtm_flags)", 8),
        ("offsetof(struct rtnexthop, rtnh_len)", 0),
        ("offsetof(struct rtnexthop, rtnh_flags)", 2),
        ("offsetof(struct rtnexthop, rtnh_hops)", 3),
        ("offsetof(struct rtnexthop, rtnh_ifindex)", 4),
        ("offsetof(struct fib_rule_hdr, family)", 0),
        ("offsetof(struct fib_rule_hdr, dst_len)", 1),
        ("offsetof(struct fib_rule_hdr, src_len)", 2),
        ("offsetof(struct fib_rule_hdr, tos)", 3),
        ("offsetof(struct fib_rule_hdr, table)", 4),
        ("offsetof(struct fib_rule_hdr, action)", 7),
        ("offsetof(struct fib_rule_hdr, flags)", 8),
        ("sizeof(struct fib_rule_port_range)", 4),
        ("sizeof(struct fib_rule_uid_range)", 8),
        ("offsetof(struct ip_vs_flags, flags)", 0),
        ("offsetof(struct ip_vs_flags, mask)", 4),
        ("sizeof(struct __user_cap_header_struct)", 8),
        ("sizeof(struct __user_cap_data_struct)", 12),
        ("offsetof(struct __user_cap_data_struct, effective)", 0),
        // Platform/PeerCredentials.cs reads these by offset; Platform/FileStatus.cs its file types.
        ("sizeof(struct ucred)", 12),
        ("offsetof(struct ucred, pid)", 0),
        ("offsetof(struct ucred, uid)", 4),
        ("offsetof(struct ucred, gid)", 8),
        ("S_IFMT", 0xF000),
        ("S_IFREG", 0x8000),
        ("S_IFDIR", 0x4000),
        ("S_IFLNK", 0xA000),
        ("S_IFSOCK", 0xC000),
        ("ENOTDIR", 20),
        // The mh scheduler's flag names are kernel-internal aliases of SCHED1/SCHED2 (as sh's are in the uAPI).
        ("IP_VS_SVC_F_SCHED1", (long)IpvsServiceFlags.MhFallback),
        ("IP_VS_SVC_F_SCHED2", (long)IpvsServiceFlags.MhPort),
        ("IP_VS_SVC_F_SCHED_SH_FALLBACK", (long)IpvsServiceFlags.ShFallback),
        ("IP_VS_SVC_F_SCHED_SH_PORT", (long)IpvsServiceFlags.ShPort),
        ("IP_VS_CONN_F_DROUTE", (long)IpvsForwardingMethod.Route),
        ("IP_VS_CONN_F_MASQ", (long)IpvsForwardingMethod.Masquerade),
        ("IP_VS_CONN_F_TUNNEL", (long)IpvsForwardingMethod.Tunnel),
        ("IP_VS_CONN_F_LOCALNODE", (long)IpvsForwardingMethod.Local),
        ("IP_VS_CONN_F_BYPASS", (long)IpvsForwardingMethod.Bypass),
        ("IP_VS_STATE_MASTER", (long)IpvsSyncDaemonState.Master),
        ("IP_VS_STATE_BACKUP", (long)IpvsSyncDaemonState.Backup),
        ("IP_VS_VERSION_CODE", 0x010201),
    ];

    private static readonly Type[] ConstantClasses =
    [
        typeof(NetlinkConstants),
        typeof(GenericNetlinkConstants),
        typeof(IpvsConstants),
        typeof(RtnetlinkConstants),
        typeof(RtnetlinkRouteConstants),
        typeof(Lb.Netlink.Nftables.NftablesConstants),
        typeof(NetlinkSocket).Assembly.GetType("Lb.Netlink.Interop.Libc", throwOnError: true)!,
    ];

    internal static IEnumerable<(string Name, string CExpression, object Value)> Constants()
    {
        foreach (var type in ConstantClasses)
        {
            foreach (var f in type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
            {
                if (!f.IsLiteral)
                    continue;
                var value = f.GetRawConstantValue()!;
                if (f.Name == "Name" && value is string)
                    continue; // the libc library name, not a header constant
                yield return (f.Name, CName.TryGetValue(f.Name, out var c) ? c : f.Name, value);
            }
        }
        foreach (var (value, name) in Errno.All())
            yield return (name, name, value);
    }

    internal static string GenerateSource()
    {
        var sb = new StringBuilder();
        sb.AppendLine("#define _GNU_SOURCE");
        sb.AppendLine("#include <stddef.h>");
        sb.AppendLine("#include <stdio.h>");
        sb.AppendLine("#include <string.h>");
        sb.AppendLine("#include <errno.h>");
        sb.AppendLine("#include <sched.h>");
        sb.AppendLine("#include <sys/mman.h>");
        sb.AppendLine("#include <sys/socket.h>");
        sb.AppendLine("#include <sys/stat.h>");
        sb.AppendLine("#include <fcntl.h>");
        sb.AppendLine("#include <netinet/in.h>");
        sb.AppendLine("#include <linux/netlink.h>");
        sb.AppendLine("#include <linux/genetlink.h>");
        sb.AppendLine("#include <linux/rtnetlink.h>");
        sb.AppendLine("#include <linux/if_addr.h>");
        sb.AppendLine("#include <linux/fib_rules.h>");
        sb.AppendLine("#include <linux/if_link.h>");
        sb.AppendLine("#include <linux/if.h>");
        sb.AppendLine("#include <linux/netfilter.h>");
        sb.AppendLine("#include <linux/netfilter/nfnetlink.h>");
        sb.AppendLine("#include <linux/netfilter/nf_tables.h>");
        sb.AppendLine("#include <linux/ip_vs.h>");
        sb.AppendLine("#include <linux/capability.h>");
        sb.AppendLine("#include <signal.h>");
        sb.AppendLine("int main(void) {");
        sb.AppendLine("  int bad = 0;");
        var count = 0;
        foreach (var (name, c, value) in Constants())
        {
            if (value is string s)
            {
                sb.AppendLine($"  if (strcmp({c}, \"{s}\") != 0) {{ printf(\"MISMATCH {name}: C \\\"%s\\\" C# \\\"{s}\\\"\\n\", {c}); bad = 1; }}");
            }
            else
            {
                var v = Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
                sb.AppendLine($"  _Static_assert((long long)({c}) == {v}LL, \"{name} is {v} in C# but differs in the headers\");");
            }
            count++;
        }
        foreach (var (expr, v) in Layout)
        {
            sb.AppendLine($"  _Static_assert((long long)({expr}) == {v}LL, \"{expr.Replace("\"", "'", StringComparison.Ordinal)} != {v}\");");
            count++;
        }
        sb.AppendLine($"  printf(\"checked {count}\\n\");");
        sb.AppendLine("  return bad;");
        sb.AppendLine("}");
        return sb.ToString();
    }

    private static (int Exit, string Output) Run(string file, params string[] args)
    {
        var r = ProcessRunner.Run(new ProcessOptions { Timeout = TimeSpan.FromSeconds(120) }, file, args);
        return (r.ExitCode, r.Stdout + r.Stderr);
    }

    [Fact]
    public void Every_constant_and_layout_matches_the_installed_kernel_headers()
    {
        Assert.True(File.Exists("/usr/bin/gcc") || File.Exists("/usr/local/bin/gcc"), "gcc is needed (apt-get install gcc linux-libc-dev)");
        Assert.True(File.Exists("/usr/include/linux/ip_vs.h"), "kernel headers are needed (apt-get install linux-libc-dev)");
        var dir = Directory.CreateTempSubdirectory("lb-headers-");
        try
        {
            var source = Path.Combine(dir.FullName, "check.c");
            File.WriteAllText(source, GenerateSource());
            var exe = Path.Combine(dir.FullName, "check");
            var (cc, ccOut) = Run("gcc", "-std=gnu11", "-Wall", "-Werror", "-o", exe, source);
            Assert.True(cc == 0, $"the generated header check does not compile (a constant differs):\n{ccOut}");
            var (exit, output) = Run(exe);
            Assert.True(exit == 0, $"the header check found mismatches:\n{output}");
            var checkedCount = int.Parse(output.Trim().Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(checkedCount > 250, $"only {checkedCount} checks were generated");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_wrong_constant_is_caught_by_the_generated_check()
    {
        // The check is only worth something if a wrong value fails to compile.
        var dir = Directory.CreateTempSubdirectory("lb-headers-neg-");
        try
        {
            var source = Path.Combine(dir.FullName, "check.c");
            File.WriteAllText(source, GenerateSource().Replace("(IPVS_CMD_FLUSH) == 17LL", "(IPVS_CMD_FLUSH) == 18LL", StringComparison.Ordinal));
            var (cc, output) = Run("gcc", "-std=gnu11", "-o", Path.Combine(dir.FullName, "check"), source);
            Assert.NotEqual(0, cc);
            Assert.Contains("IPVS_CMD_FLUSH", output);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
