using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>
/// The daemon's rtnetlink link/address monitor (src/Lb/Hosting/RtnetlinkHost.cs feeding the VRRP subsystem), driven by
/// real kernel events: two `lb -n -l -P` processes on a bridge, and the test changes links and addresses with `ip` in the
/// master's namespace. Nothing is raised by the test itself: every event reaches Lb from the kernel.
/// Oracles: `ip addr` in each namespace (the kernel keeps an IPv4 address on a link that goes down, so a VIP gone from a
/// downed eth0 was removed by Lb), and the peer taking over or giving back the VIP.
/// </summary>
public sealed class LinkMonitorTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private const string Vip = "10.0.0.100/24";

    private void Dump(params RunningProcess[] processes)
    {
        foreach (var p in processes)
            output.WriteLine($"----- {p.Label}\n{p.Output}");
    }

    /// <summary>
    /// Two directors, A (150, started first) and B (100); returns once A holds the VIP and B runs as BACKUP. A starts
    /// alone so that no start-up race decides who is master first.
    /// </summary>
    private static (string A, string B, RunningProcess La, RunningProcess Lbb) Start(NetnsLab lab, string extraA = "", Action<string>? prepareA = null)
    {
        var a = lab.AddHost("a", "10.0.0.2/24");
        var b = lab.AddHost("b", "10.0.0.3/24");
        prepareA?.Invoke(a);
        var la = lab.StartLb(a, "lb-a", "-n", "-l", "-P", "-f", lab.WriteFile("a.conf", VrrpFailoverTests.Config("a", 150, extra: extraA)), "--journal", Path.Combine(lab.Directory, "a.jsonl"));
        Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(a, Vip), Bound), "VIP never appeared on the higher-priority node\n" + la.Output);
        var lbb = lab.StartLb(b, "lb-b", "-n", "-l", "-P", "-f", lab.WriteFile("b.conf", VrrpFailoverTests.Config("b", 100)), "--journal", Path.Combine(lab.Directory, "b.jsonl"));
        Assert.True(NetnsLab.WaitFor(() => lbb.OutputContains("Startup complete"), Bound), lbb.Output);
        Assert.False(lab.HasAddress(b, Vip));
        return (a, b, la, lbb);
    }

    /// <summary>The name of host <paramref name="host"/>'s port in the lab's bridge (the far end of its eth0).</summary>
    private static string BridgePort(NetnsLab lab, string host)
    {
        var eth0 = NetnsLab.Run("ip", "-n", host, "-o", "link", "show", "dev", "eth0");
        // "2: eth0@if7: ..." — the peer's ifindex in the switch namespace
        var peerIndex = eth0.Split(':')[1].Trim().Split('@')[1][2..];
        var port = NetnsLab.Run("ip", "-n", lab.Switch, "-o", "link").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Single(l => l.StartsWith(peerIndex + ":", StringComparison.Ordinal));
        return port.Split(':')[1].Trim().Split('@')[0];
    }

    /// <summary>Lines of <paramref name="text"/> after the first line equal to <paramref name="line"/> (exact: "(init)" lines do not count).</summary>
    private static List<string> LinesAfter(string text, string line)
    {
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var i = lines.FindIndex(l => l.EndsWith(line, StringComparison.Ordinal));
        return i < 0 ? [] : lines.Skip(i + 1).ToList();
    }

    /// <summary>
    /// The master's own interface fails three ways: set down (`ip link set eth0 down`), loses carrier (its bridge port set
    /// down: the cable pulled), or is deleted. Lb must go FAULT and take its VIP off (the kernel would keep it on a down
    /// link); B takes over. Repaired (up again / the port up / a new veth with a new ifindex and the same address), A comes
    /// back through BACKUP and preempts B to MASTER (150 > 100): the VIP is on A again and gone from B.
    /// </summary>
    [RootTheory("ip")]
    [InlineData("down")]
    [InlineData("carrier")]
    [InlineData("deleted")]
    public void The_master_interface_failing_faults_the_instance_and_its_repair_brings_it_back(string failure)
    {
        using var lab = new NetnsLab();
        var (a, b, la, lbb) = Start(lab);
        try
        {
            var port = BridgePort(lab, a);
            switch (failure)
            {
                case "down":
                    NetnsLab.Run("ip", "-n", a, "link", "set", "eth0", "down");
                    break;
                case "carrier":
                    NetnsLab.Run("ip", "-n", lab.Switch, "link", "set", port, "down");
                    Assert.True(NetnsLab.WaitFor(() => NetnsLab.Run("ip", "-n", a, "-o", "link", "show", "dev", "eth0").Contains("NO-CARRIER", StringComparison.Ordinal), Bound));
                    break;
                default:
                    NetnsLab.Run("ip", "-n", a, "link", "del", "eth0");
                    break;
            }

            Assert.True(NetnsLab.WaitFor(() => la.OutputContains("(VI_1) Entering FAULT STATE\n"), Bound), $"A did not enter FAULT after its eth0 went {failure}");
            if (failure != "deleted")
            {
                // eth0 still exists and the kernel still holds its 10.0.0.2: only Lb can have taken the VIP off
                Assert.True(NetnsLab.WaitFor(() => !lab.HasAddress(a, Vip), Bound), "A in FAULT kept the VIP on its eth0");
                Assert.True(lab.HasAddress(a, "10.0.0.2/24"));
            }
            Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(b, Vip), Bound), "B did not take over");

            var faultAt = la.Output.Length;
            switch (failure)
            {
                case "down":
                    NetnsLab.Run("ip", "-n", a, "link", "set", "eth0", "up");
                    break;
                case "carrier":
                    NetnsLab.Run("ip", "-n", lab.Switch, "link", "set", port, "up");
                    break;
                default:
                    NetnsLab.Run("ip", "-n", lab.Switch, "link", "add", "a-new", "type", "veth", "peer", "name", "eth0", "netns", a);
                    NetnsLab.Run("ip", "-n", lab.Switch, "link", "set", "a-new", "master", "br0", "up");
                    NetnsLab.Run("ip", "-n", a, "addr", "add", "10.0.0.2/24", "dev", "eth0");
                    NetnsLab.Run("ip", "-n", a, "link", "set", "eth0", "up");
                    break;
            }

            Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(a, Vip) && !lab.HasAddress(b, Vip), Bound), $"A did not take the VIP back after eth0 was repaired ({failure})");
            var after = la.Output[faultAt..].Split('\n').Select(l => l.TrimEnd('\r')).ToList();
            var backup = after.FindIndex(l => l.EndsWith("(VI_1) Entering BACKUP STATE", StringComparison.Ordinal));
            var master = after.FindIndex(l => l.EndsWith("(VI_1) Entering MASTER STATE", StringComparison.Ordinal));
            Assert.True(backup >= 0 && master > backup, "after the repair A must pass through BACKUP, then MASTER");
            Assert.True(NetnsLab.WaitFor(() => LinesAfter(lbb.Output, "(VI_1) Entering MASTER STATE").Any(l => l.Contains("Master received advert from 10.0.0.2 with higher priority 150, ours 100", StringComparison.Ordinal)), Bound),
                "B did not hear A's adverts again after the repair");
        }
        finally
        {
            Dump(la, lbb);
        }
    }

    /// <summary>
    /// A tracked uplink (a veth in A's namespace) goes down and is later deleted while A is MASTER on a healthy
    /// eth0: Lb must go FAULT, remove the VIP and stop advertising, so B, still hearing nothing on a live link, takes over.
    /// Up again (and recreated) A preempts back.
    /// </summary>
    [RootFact("ip")]
    public void A_tracked_interface_down_or_deleted_moves_the_VIP_to_the_peer_and_back()
    {
        using var lab = new NetnsLab();
        var (a, b, la, lbb) = Start(lab, extraA: "track_interface {\n up0\n}", prepareA: AddUplink);
        try
        {
            foreach (var (fail, repair) in new (string[] Fail, string[][] Repair)[]
            {
                (["link", "set", "up0", "down"], [["link", "set", "up0", "up"]]),
                (["link", "del", "up0"], [["link", "add", "up0", "type", "veth", "peer", "name", "up0p"], ["link", "set", "up0p", "up"], ["link", "set", "up0", "up"]]),
            })
            {
                var mark = lbb.Output.Length;
                NetnsLab.Run(["ip", "-n", a, .. fail]);
                Assert.True(NetnsLab.WaitFor(() => !lab.HasAddress(a, Vip), Bound), $"A kept the VIP after `ip {string.Join(' ', fail)}`");
                Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(b, Vip), Bound), $"B did not take over after `ip {string.Join(' ', fail)}`: A kept advertising");
                Assert.Contains("(VI_1) Entering MASTER STATE", lbb.Output[mark..], StringComparison.Ordinal);

                foreach (var r in repair)
                    NetnsLab.Run(["ip", "-n", a, .. r]);
                Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(a, Vip) && !lab.HasAddress(b, Vip), Bound), $"A did not take the VIP back after `ip {string.Join(' ', repair[^1])}`");
            }
        }
        finally
        {
            Dump(la, lbb);
        }
    }

    /// <summary>A's uplink: a veth pair inside A's namespace (this kernel has no dummy driver); up0 is tracked.</summary>
    private static void AddUplink(string a)
    {
        NetnsLab.Run("ip", "-n", a, "link", "add", "up0", "type", "veth", "peer", "name", "up0p");
        NetnsLab.Run("ip", "-n", a, "link", "set", "up0p", "up");
        NetnsLab.Run("ip", "-n", a, "link", "set", "up0", "up");
    }

    /// <summary>
    /// Somebody runs `ip addr del` of the VIP on the MASTER: the kernel's RTM_DELADDR reaches Lb, which puts it back
    /// (keepalived does the same). Oracle: `ip addr` shows the VIP again while B stays BACKUP.
    /// </summary>
    [RootFact("ip")]
    public void A_VIP_deleted_behind_Lbs_back_on_the_master_is_restored()
    {
        using var lab = new NetnsLab();
        var (a, b, la, lbb) = Start(lab);
        try
        {
            for (var round = 0; round < 2; round++)
            {
                NetnsLab.Run("ip", "-n", a, "addr", "del", Vip, "dev", "eth0");
                Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(a, Vip), Bound), $"the VIP deleted behind Lb's back was not restored (round {round})");
            }
            Assert.Contains("(VI_1) VIP 10.0.0.100 removed from eth0 behind our back - restoring", la.Output, StringComparison.Ordinal);
            Assert.False(lab.HasAddress(b, Vip));
        }
        finally
        {
            Dump(la, lbb);
        }
    }
}
