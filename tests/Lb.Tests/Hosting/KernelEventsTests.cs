using System.Globalization;
using Lb.Lb.Tests.EndToEnd;
using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.Hosting;

/// <summary>
/// The daemon runs one kernel-events service (src/Lb/Hosting/KernelEvents.cs): one rtnetlink socket joined to the link
/// and address groups, whichever subsystems use it. Oracle: the kernel's own list of the netlink sockets of the daemon's
/// network namespace (<c>/proc/PID/net/netlink</c>: protocol, joined groups, inode) matched with the daemon's open
/// descriptors (<c>/proc/PID/fd</c> → <c>socket:[inode]</c>). Before the service was shared, a daemon running VRRP and
/// <c>ha_suspend</c> checkers held two such sockets.
/// </summary>
[Collection(KernelLabCollection.Name)]
public sealed class KernelEventsTests(ITestOutputHelper output)
{
    /// <summary>
    /// The one monitor socket's groups as the bit mask /proc shows (bit = group - 1): RTNLGRP_LINK (1),
    /// RTNLGRP_IPV4_IFADDR (5), RTNLGRP_IPV6_IFADDR (9), and for virtual/static routes and rules RTNLGRP_IPV4_ROUTE (7),
    /// RTNLGRP_IPV4_RULE (8), RTNLGRP_IPV6_ROUTE (11), RTNLGRP_IPV6_RULE (19).
    /// </summary>
    private const uint LinkAndAddressGroups = 1u << 0 | 1u << 4 | 1u << 8 | 1u << 6 | 1u << 7 | 1u << 10 | 1u << 18;

    /// <summary>The rtnetlink (protocol 0) sockets of process <paramref name="pid"/> that joined a group: their group masks.</summary>
    internal static List<uint> RtnetlinkMonitorSockets(int pid)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fd in Directory.GetFiles($"/proc/{pid}/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
                    inodes.Add(target["socket:[".Length..^1]);
            }
            catch (IOException)
            {
                // closed meanwhile
            }
        }
        // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
        return File.ReadAllLines($"/proc/{pid}/net/netlink").Skip(1)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 10 && f[1] == "0" && inodes.Contains(f[9]))
            .Select(f => uint.Parse(f[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture))
            .Where(groups => groups != 0)
            .ToList();
    }

    private static int Pid(DaemonLab lab, string name) => int.Parse(File.ReadAllText(lab.PidFile(name)).Trim(), CultureInfo.InvariantCulture);

    /// <summary>A VRRP daemon (`lb -P`) that is MASTER holds exactly one rtnetlink socket joined to groups: link and addresses.</summary>
    [RootFact("ip")]
    public void A_VRRP_daemon_runs_exactly_one_rtnetlink_monitor_socket()
    {
        using var lab = new DaemonLab();
        var a = lab.Lab.AddHost("a", "10.0.0.2/24");
        var lb = lab.StartVrrp(a, "a", 150, "MASTER");
        try
        {
            lab.WaitStatus("a", s => s.VrrpInstances.Count == 1 && s.VrrpInstances[0].State == "MASTER", lb);
            Assert.True(NetnsLab.WaitFor(() => lab.Lab.HasAddress(a, DaemonLab.Vip), DaemonLab.Bound));
            var sockets = RtnetlinkMonitorSockets(Pid(lab, "a"));
            Assert.Equal([LinkAndAddressGroups], sockets);
        }
        finally
        {
            output.WriteLine(lb.Output);
        }
    }

    /// <summary>
    /// One process running both consumers of kernel events — a VRRP instance (links, VIPs) and a virtual server with
    /// <c>ha_suspend</c> (local addresses) — holds exactly one rtnetlink monitor socket, and both consumers work through
    /// it: the instance becomes MASTER and adds its VIP, and the checker, suspended while the VIP was not local, resumes
    /// and finds its real server up. Needs IPVS: runs in the kernel VM.
    /// </summary>
    [KernelFact]
    public void A_daemon_running_VRRP_and_ha_suspend_checkers_shares_one_rtnetlink_monitor_socket()
    {
        using var lab = new DaemonLab();
        var director = lab.Lab.AddHost("dir", "10.0.0.2/24");
        var rs1 = lab.Lab.AddHost("rs1", "10.0.0.11/24");
        var root = Path.Combine(lab.Dir, "www");
        Directory.CreateDirectory(root);
        lab.Lab.Start(rs1, "web1", "busybox", "httpd", "-f", "-p", "10.0.0.11:80", "-h", root);
        var config = DaemonLab.Config("dir", 150, "MASTER") + """

            virtual_server 10.0.0.100 80 {
                delay_loop 1
                lb_algo rr
                lb_kind DR
                protocol TCP
                ha_suspend
                real_server 10.0.0.11 80 {
                    weight 1
                    TCP_CHECK {
                        connect_timeout 1
                        retry 0
                    }
                }
            }
            """;
        var lb = lab.StartLb(director, "lb", null, "-n", "-l", "-D", "-f", lab.Lab.WriteFile("lb.conf", config),
            "--journal", Path.Combine(lab.Dir, "j.jsonl"), "-p", lab.PidFile("lb"));
        try
        {
            lab.WaitStatus("lb", s => s.VrrpInstances.Count == 1 && s.VrrpInstances[0].State == "MASTER" && s.VirtualServers.Count == 1
                && s.VirtualServers[0].RealServers[0].Checkers[0].HasRun && s.VirtualServers[0].RealServers[0].Up, lb);
            Assert.True(lab.Lab.HasAddress(director, DaemonLab.Vip));
            var sockets = RtnetlinkMonitorSockets(Pid(lab, "lb"));
            Assert.Equal([LinkAndAddressGroups], sockets);
        }
        finally
        {
            output.WriteLine(lb.Output);
        }
    }
}
