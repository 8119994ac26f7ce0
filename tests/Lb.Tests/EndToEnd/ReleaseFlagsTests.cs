using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>
/// keepalived's VIP release flags through the binary, in network namespaces on a bridge, with <c>ip addr</c> as the oracle. Each
/// case runs the same scenario against <c>lb</c> and against the real keepalived 2.2.7, so the flag's meaning is keepalived's:
/// <list type="bullet">
/// <item><c>-V, --dont-release-vrrp</c> "Don't remove VRRP VIPs and VROUTEs on daemon stop": a MASTER stopped with SIGTERM keeps
/// its VIP; without the flag the VIP is removed.</item>
/// <item><c>-X, --release-vips</c> "Drop VIP on transition from signal": keepalived removes the VIPs on leaving MASTER even when it
/// did not set them in this run. Lb always removes its configured VIPs on leaving MASTER and any left by a crashed run at
/// start, so the flag changes nothing observable: with and without it, a leftover VIP is removed at start, the VIP is
/// removed on leaving MASTER for a higher-priority peer, and on SIGTERM.</item>
/// </list>
/// </summary>
public sealed class ReleaseFlagsTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(45);
    private const string Vip = "10.0.0.100/24";

    private static RunningProcess StartNode(NetnsLab lab, string ns, string implementation, string label, string config, params string[] flags)
    {
        var path = lab.WriteFile(label + ".conf", config);
        if (implementation == "lb")
            return lab.StartLb(ns, label, ["-n", "-l", "-P", "-f", path, "--journal", Path.Combine(lab.Directory, label + ".jsonl"),
                "--socket", Path.Combine(lab.Directory, label + ".sock"), .. flags]);
        var pid = Path.Combine(lab.Directory, label);
        return lab.Start(ns, label, ["keepalived", "-n", "-l", "-D", "-f", path, "--vrrp", "-p", pid + ".pid", "-r", pid + ".vrrp.pid",
            "-c", pid + ".chk.pid", .. flags]);
    }

    private void Dump(params RunningProcess?[] processes)
    {
        foreach (var p in processes)
        {
            if (p is not null)
                output.WriteLine($"----- {p.Label}\n{p.Output}");
        }
    }

    public static TheoryData<string, bool> Cases => new() { { "lb", true }, { "lb", false }, { "keepalived", true }, { "keepalived", false } };

    [RootTheory("ip", "keepalived")]
    [MemberData(nameof(Cases))]
    public void Dont_release_vrrp_keeps_the_VIP_after_SIGTERM_and_without_it_the_VIP_is_removed(string implementation, bool dontReleaseVrrp)
    {
        using var lab = new NetnsLab();
        var a = lab.AddHost("a", "10.0.0.2/24");
        var node = StartNode(lab, a, implementation, "a", VrrpFailoverTests.Config("a", 150), dontReleaseVrrp ? ["-V"] : []);
        try
        {
            Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(a, Vip), Bound), "the VIP never appeared on the only node");
            node.Signal("TERM");
            Assert.True(node.WaitForExit(Bound), implementation + " did not stop on SIGTERM");
            Assert.Equal(dontReleaseVrrp, lab.HasAddress(a, Vip));
        }
        finally
        {
            Dump(node);
        }
    }

    [RootTheory("ip", "keepalived")]
    [MemberData(nameof(Cases))]
    public void Release_vips_a_leftover_VIP_is_removed_at_start_and_the_VIP_on_leaving_master_and_on_stop(string implementation, bool releaseVips)
    {
        using var lab = new NetnsLab();
        var a = lab.AddHost("a", "10.0.0.2/24");
        var k = lab.AddHost("k", "10.0.0.3/24");
        RunningProcess? peer = null, peer2 = null, node = null;
        try
        {
            // The higher-priority peer (the real keepalived) is MASTER.
            peer = lab.StartKeepalived(k, "k1", lab.WriteFile("k1.conf", VrrpFailoverTests.Config("k", 200)));
            Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(k, Vip), Bound), "the peer never became MASTER");

            // A VIP this node's previous run left on eth0 (kill -9): removed at start, the node being BACKUP.
            NetnsLab.Run("ip", "-n", a, "addr", "add", Vip, "dev", "eth0");
            node = StartNode(lab, a, implementation, "a", VrrpFailoverTests.Config("a", 150), releaseVips ? ["-X"] : []);
            Assert.True(NetnsLab.WaitFor(() => !lab.HasAddress(a, Vip), Bound), "the leftover VIP stayed on the BACKUP node");
            Assert.True(lab.HasAddress(k, Vip));

            // The peer stops: this node becomes MASTER and sets the VIP.
            peer.Signal("TERM");
            Assert.True(peer.WaitForExit(Bound), "keepalived did not stop on SIGTERM");
            Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(a, Vip) && !lab.HasAddress(k, Vip), Bound), "the node did not take the VIP over");

            // The peer comes back and preempts: this node leaves MASTER and removes the VIP.
            peer2 = lab.StartKeepalived(k, "k2", lab.WriteFile("k2.conf", VrrpFailoverTests.Config("k", 200)));
            Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(k, Vip) && !lab.HasAddress(a, Vip), Bound), "the VIP did not leave the node for the preempting peer");

            // Stopped as BACKUP: no VIP left behind.
            node.Signal("TERM");
            Assert.True(node.WaitForExit(Bound), implementation + " did not stop on SIGTERM");
            Assert.False(lab.HasAddress(a, Vip));
        }
        finally
        {
            Dump(node, peer, peer2);
        }
    }
}
