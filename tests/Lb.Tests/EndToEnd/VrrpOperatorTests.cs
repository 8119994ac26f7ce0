using System.Globalization;
using Lb.Lb.Tests.Hosting;
using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>
/// `lb vrrp maintenance` and `lb vrrp failover` on the real binary in network namespaces, with keepalived 2.2.7 as the peer.
/// Oracles: `ip addr` in each namespace (where the VIP is), a tcpdump capture read by tshark (the priority-0 advert on the
/// wire, or no advert at all), keepalived's own log, and `lb status` / the journal / the operator state file.
/// </summary>
public sealed class VrrpOperatorTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(Prerequisites.InKernelVm ? 120 : 60);
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(Prerequisites.InKernelVm ? 240 : 90);
    private const string Vip = "10.0.0.100/24";
    private const string LbAddress = "10.0.0.2";

    /// <summary>advert_int 1, priority 150: 3 x 1 s + (256 - 150) / 256 s; a node that would take over does so well inside twice that plus 2 s.</summary>
    private static readonly TimeSpan NoTakeoverWindow = TimeSpan.FromSeconds(2 * (3 + (106 / 256.0)) + 2);

    private void Dump(params RunningProcess?[] processes)
    {
        foreach (var p in processes)
        {
            if (p is not null)
                output.WriteLine($"----- {p.Label}\n{p.Output}");
        }
    }

    private static bool HoldsThroughout(Func<bool> condition, TimeSpan window)
    {
        var end = DateTime.UtcNow + window;
        while (DateTime.UtcNow < end)
        {
            if (!condition())
                return false;
            Thread.Sleep(250);
        }
        return condition();
    }

    private static RunningProcess StartLb(DaemonLab lab, string ns, string name, string config) =>
        lab.StartLb(ns, "lb-" + name, null, "-n", "-l", "-D", "-P", "-f", config, "--journal", Path.Combine(lab.Dir, name + ".jsonl"), "-p", lab.PidFile(name));

    /// <summary>`lb vrrp ARGS --socket` of the daemon <paramref name="name"/>.</summary>
    private (int Code, string Stdout, string Stderr) Vrrp(DaemonLab lab, string name, params string[] args)
    {
        var r = DaemonLab.RunLb(["vrrp", .. args, "--socket", lab.Socket(name)]);
        output.WriteLine($"$ lb vrrp {string.Join(' ', args)} -> {r.Code}: {r.Stdout}{r.Stderr}");
        return r;
    }

    private static string StatusTable(DaemonLab lab, string name)
    {
        var (code, text, err) = DaemonLab.RunLb("status", "--socket", lab.Socket(name));
        Assert.True(code == 0, err);
        return text;
    }

    /// <summary>tcpdump on eth0 of <paramref name="ns"/>, VRRP only, written packet by packet to <paramref name="pcap"/>.</summary>
    private static RunningProcess Capture(NetnsLab lab, string ns, string pcap)
    {
        var p = lab.Start(ns, "tcpdump", "tcpdump", "-i", "eth0", "--immediate-mode", "-U", "-n", "-w", pcap, "ip", "proto", "112");
        Assert.True(p.WaitForOutput("listening on eth0", Bound), "tcpdump did not start: " + p.Output);
        return p;
    }

    /// <summary>(source, priority) of every VRRP advert in the capture, decoded by tshark.</summary>
    private static List<(string Source, int Priority)> Adverts(string pcap)
    {
        var text = ProcessRunner.Run(new ProcessOptions { Timeout = Bound, Label = "tshark" }, "tshark", ["-r", pcap, "-Y", "vrrp", "-T", "fields", "-e", "ip.src", "-e", "vrrp.prio"]).Stdout;
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('\t'))
            .Where(f => f.Length == 2)
            .Select(f => (f[0], int.Parse(f[1], CultureInfo.InvariantCulture)))
            .ToList();
    }

    private static string[] OperatorJournal(DaemonLab lab, string name) =>
        File.ReadAllLines(Path.Combine(lab.Dir, name + ".jsonl")).Where(l => l.Contains("\"kind\":\"operator\"", StringComparison.Ordinal)).ToArray();

    [RootFact("ip", "keepalived", "tcpdump", "tshark")]
    public void Maintenance_hands_the_VIP_to_keepalived_with_priority_0_never_takes_over_and_preempts_once_off()
    {
        using var lab = new DaemonLab();
        var a = lab.Lab.AddHost("vcha", LbAddress + "/24");
        var k = lab.Lab.AddHost("vchk", "10.0.0.3/24");
        var la = StartLb(lab, a, "a", lab.Lab.WriteFile("a.conf", VrrpFailoverTests.Config("a", 150)));
        RunningProcess? ka = null;
        RunningProcess? ka2 = null;
        try
        {
            Assert.True(NetnsLab.WaitFor(() => lab.Lab.HasAddress(a, Vip), StartBound), "lb never became MASTER");
            ka = lab.Lab.StartKeepalived(k, "keepalived", lab.Lab.WriteFile("k.conf", VrrpFailoverTests.Config("k", 100)));
            Assert.True(ka.WaitForOutput("(VI_1) Entering BACKUP STATE", Bound), "keepalived did not start as BACKUP");
            var pcap = Path.Combine(lab.Dir, "k.pcap");
            Capture(lab.Lab, k, pcap);

            var (code, stdout, stderr) = Vrrp(lab, "a", "maintenance", "VI_1", "on");
            Assert.True(code == 0, stderr);
            Assert.Equal("VI_1: maintenance on: was MASTER, sent priority 0, now BACKUP", stdout.Trim());
            Assert.True(NetnsLab.WaitFor(() => lab.Lab.HasAddress(k, Vip) && !lab.Lab.HasAddress(a, Vip), Bound), "the VIP did not move to keepalived");
            Assert.True(ka.WaitForOutput("(VI_1) Backup received priority 0 advertisement", Bound), "keepalived did not see a priority-0 advert");
            Assert.True(NetnsLab.WaitFor(() => Adverts(pcap).Contains((LbAddress, 0)), Bound), "no priority-0 advert from lb in the capture");
            Assert.Matches(@"VI_1\s+BACKUP \(maintenance\)\s+150\s+150", StatusTable(lab, "a"));
            Assert.Contains("\"maintenance\"", File.ReadAllText(Path.Combine(lab.Dir, "operator-state.json")), StringComparison.Ordinal);

            // the peer dies: a node in maintenance must not take over
            ka.Signal("KILL");
            Assert.True(la.WaitForOutput("(VI_1) In maintenance: no master heard, not taking over", Bound), "lb's master-down timer never ran out");
            Assert.True(HoldsThroughout(() => !lab.Lab.HasAddress(a, Vip), NoTakeoverWindow), "lb took the VIP while in maintenance");

            // keepalived back (it takes the VIP: nobody else has it), then maintenance off: lb (150, preempt) takes MASTER back
            ka2 = lab.Lab.StartKeepalived(k, "keepalived-2", lab.Lab.WriteFile("k2.conf", VrrpFailoverTests.Config("k", 100)));
            Assert.True(NetnsLab.WaitFor(() => lab.Lab.HasAddress(k, Vip), Bound), "keepalived did not become MASTER");
            (code, stdout, stderr) = Vrrp(lab, "a", "maintenance", "VI_1", "off");
            Assert.True(code == 0, stderr);
            Assert.Equal("VI_1: maintenance off: BACKUP, may become MASTER again (priority 150, preempt)", stdout.Trim());
            Assert.True(NetnsLab.WaitFor(() => lab.Lab.HasAddress(a, Vip) && !lab.Lab.HasAddress(k, Vip), Bound), "lb did not take MASTER back once maintenance was off");
            Assert.Matches(@"VI_1\s+MASTER\s+150", StatusTable(lab, "a"));

            var journal = OperatorJournal(lab, "a");
            Assert.Equal(2, journal.Length);
            Assert.Contains("\"old\":\"normal\",\"new\":\"maintenance\"", journal[0], StringComparison.Ordinal);
            Assert.Contains("\"new\":\"normal\"", journal[1], StringComparison.Ordinal);
            Assert.All(journal, l => Assert.Contains("\"by\":\"root (uid 0", l, StringComparison.Ordinal));
            Assert.DoesNotContain("VI_1", File.ReadAllText(Path.Combine(lab.Dir, "operator-state.json")), StringComparison.Ordinal);
        }
        finally
        {
            Dump(la, ka, ka2);
        }
    }

    [RootFact("ip", "keepalived", "tcpdump", "tshark")]
    public void Failover_hands_master_to_keepalived_and_does_not_preempt_back_while_it_advertises()
    {
        using var lab = new DaemonLab();
        var a = lab.Lab.AddHost("vcha", LbAddress + "/24");
        var k = lab.Lab.AddHost("vchk", "10.0.0.3/24");
        var la = StartLb(lab, a, "a", lab.Lab.WriteFile("a.conf", VrrpFailoverTests.Config("a", 150)));
        RunningProcess? ka = null;
        try
        {
            Assert.True(NetnsLab.WaitFor(() => lab.Lab.HasAddress(a, Vip), StartBound), "lb never became MASTER");
            ka = lab.Lab.StartKeepalived(k, "keepalived", lab.Lab.WriteFile("k.conf", VrrpFailoverTests.Config("k", 100)));
            Assert.True(ka.WaitForOutput("(VI_1) Entering BACKUP STATE", Bound), "keepalived did not start as BACKUP");
            var pcap = Path.Combine(lab.Dir, "k.pcap");
            Capture(lab.Lab, k, pcap);

            // keepalived as BACKUP is silent: lb has heard no other router, so a plain failover is refused
            var (code, stdout, stderr) = Vrrp(lab, "a", "failover", "VI_1");
            Assert.Equal(1, code);
            Assert.StartsWith("VI_1: failover refused: no other VRRP router heard since start", stderr, StringComparison.Ordinal);
            Assert.True(lab.Lab.HasAddress(a, Vip));

            (code, stdout, stderr) = Vrrp(lab, "a", "failover", "VI_1", "--force");
            Assert.True(code == 0, stderr);
            Assert.Equal("VI_1: failover: was MASTER, sent priority 0, now BACKUP; stays BACKUP while a master is heard", stdout.Trim());
            Assert.True(NetnsLab.WaitFor(() => lab.Lab.HasAddress(k, Vip) && !lab.Lab.HasAddress(a, Vip), Bound), "the VIP did not move to keepalived");
            Assert.True(NetnsLab.WaitFor(() => Adverts(pcap).Contains((LbAddress, 0)), Bound), "no priority-0 advert from lb in the capture");
            // keepalived (100) advertises; lb (150, preempt) would take MASTER back within its master-down interval: it must not
            Assert.True(HoldsThroughout(() => !lab.Lab.HasAddress(a, Vip) && lab.Lab.HasAddress(k, Vip), NoTakeoverWindow), "lb preempted back after the failover");
            Assert.True(Adverts(pcap).Count(x => x.Source == "10.0.0.3" && x.Priority == 100) >= 3, "keepalived was not advertising as MASTER");
            Assert.Matches(@"VI_1\s+BACKUP \(failover\)\s+150", StatusTable(lab, "a"));

            // a second failover: refused, lb is not MASTER
            (code, _, stderr) = Vrrp(lab, "a", "failover", "VI_1");
            Assert.Equal(1, code);
            Assert.StartsWith("VI_1: failover refused: not MASTER (BACKUP, master 10.0.0.3)", stderr, StringComparison.Ordinal);

            // keepalived dies: no master heard, lb becomes MASTER by its master-down timer and the hold ends
            ka.Signal("KILL");
            Assert.True(NetnsLab.WaitFor(() => lab.Lab.HasAddress(a, Vip), Bound), "lb did not take over when the peer died");
            Assert.Matches(@"VI_1\s+MASTER\s+150", StatusTable(lab, "a"));
            var journal = OperatorJournal(lab, "a");
            Assert.Single(journal);
            Assert.Contains("\"old\":\"normal\",\"new\":\"failover\"", journal[0], StringComparison.Ordinal);
            Assert.Contains("\"reason\":\"lb vrrp failover VI_1 --force\"", journal[0], StringComparison.Ordinal);
        }
        finally
        {
            Dump(la, ka);
        }
    }

    [RootFact("ip", "tcpdump", "tshark")]
    public void A_node_restarted_in_maintenance_never_becomes_master_not_even_an_address_owner()
    {
        using var lab = new DaemonLab();
        var a = lab.Lab.AddHost("vcha", LbAddress + "/24");
        // priority 255 + state MASTER: the address owner becomes MASTER at once at start (no master-down wait)
        var config = lab.Lab.WriteFile("a.conf", VrrpFailoverTests.Config("a", 255, state: "MASTER"));
        var la = StartLb(lab, a, "a", config);
        RunningProcess? la2 = null;
        try
        {
            Assert.True(NetnsLab.WaitFor(() => lab.Lab.HasAddress(a, Vip), StartBound), "lb never became MASTER");
            var (code, _, stderr) = Vrrp(lab, "a", "maintenance", "VI_1", "on");
            Assert.True(code == 0, stderr);
            Assert.True(NetnsLab.WaitFor(() => !lab.Lab.HasAddress(a, Vip), Bound), "the VIP stayed");
            la.Signal("TERM");
            Assert.True(la.WaitForExit(Bound), "lb did not stop");

            var pcap = Path.Combine(lab.Dir, "a.pcap");
            Capture(lab.Lab, a, pcap);
            la2 = StartLb(lab, a, "a", config);
            var status = lab.WaitStatus("a", s => s.VrrpInstances.Count == 1 && s.VrrpInstances[0].State == "BACKUP", la2);
            Assert.Equal("maintenance", status.VrrpInstances[0].Operator);
            Assert.True(HoldsThroughout(() => !lab.Lab.HasAddress(a, Vip), NoTakeoverWindow), "the restarted node took the VIP");

            // a reload keeps it, even one that restarts the instance (authentication changed: a hard change)
            File.WriteAllText(config, VrrpFailoverTests.Config("a", 255, state: "MASTER", auth: "authentication {\n auth_type PASS\n auth_pass s3cret\n}"));
            la2.Signal("HUP");
            Assert.True(la2.WaitForOutput("Reload complete", Bound), "no reload line");
            Assert.Contains("Instance VI_1 Restarted", la2.Output, StringComparison.Ordinal);
            Assert.True(HoldsThroughout(() => !lab.Lab.HasAddress(a, Vip), NoTakeoverWindow), "the node took the VIP after SIGHUP");
            Assert.Matches(@"VI_1\s+BACKUP \(maintenance\)\s+255", StatusTable(lab, "a"));
            // not one advert since the restart: it was never MASTER, not even briefly
            Assert.DoesNotContain(Adverts(pcap), x => x.Source == LbAddress);

            (code, _, stderr) = Vrrp(lab, "a", "maintenance", "VI_1", "off");
            Assert.True(code == 0, stderr);
            Assert.True(NetnsLab.WaitFor(() => lab.Lab.HasAddress(a, Vip), Bound), "the node did not become MASTER once maintenance was off");
            Assert.True(NetnsLab.WaitFor(() => Adverts(pcap).Any(x => x.Source == LbAddress && x.Priority == 255), Bound), "no advert as MASTER after maintenance off");
        }
        finally
        {
            Dump(la, la2);
        }
    }

    [RootFact("ip")]
    public void Invalid_vrrp_commands_are_refused_with_a_reason()
    {
        using var lab = new DaemonLab();
        var a = lab.Lab.AddHost("vcha", LbAddress + "/24");
        var la = StartLb(lab, a, "a", lab.Lab.WriteFile("a.conf", VrrpFailoverTests.Config("a", 150)));
        try
        {
            lab.WaitStatus("a", s => s.VrrpInstances.Count == 1, la);
            var (code, _, stderr) = Vrrp(lab, "a", "maintenance", "VI_9", "on");
            Assert.Equal(1, code);
            Assert.Equal("VI_9: no such vrrp_instance (configured: VI_1)", stderr.Trim());
            (code, _, stderr) = Vrrp(lab, "a", "maintenance", "VI_1", "maybe");
            Assert.Equal(1, code);
            Assert.Contains("usage: lb vrrp maintenance INSTANCE on|off", stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(lab.Dir, "operator-state.json")) && File.ReadAllText(Path.Combine(lab.Dir, "operator-state.json")).Contains("VI_", StringComparison.Ordinal));
        }
        finally
        {
            Dump(la);
        }
    }
}
