using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>
/// `lb -n -l -P` processes in network namespaces on a bridge, checked with `ip addr` in each namespace (the oracle), and the
/// real keepalived 2.2.7 in the same virtual router.
/// </summary>
public sealed class VrrpFailoverTests(ITestOutputHelper output)
{
    /// <summary>Liveness bound for a takeover or an output line (not a timing claim): generous, a loaded host or TCG is slow.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(Prerequisites.InKernelVm ? 120 : 60);

    /// <summary>Liveness bound from starting a director to its first MASTER: .NET start-up plus the master-down interval.</summary>
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(Prerequisites.InKernelVm ? 240 : 90);
    private const string Vip = "10.0.0.100/24";

    internal static string Config(string routerId, int priority, string state = "BACKUP", int version = 2, string auth = "", string extra = "", string advert = "1", string globalExtra = "") => $$"""
        global_defs {
            router_id {{routerId}}
            vrrp_garp_master_delay 1
            {{globalExtra}}
        }
        vrrp_instance VI_1 {
            state {{state}}
            interface eth0
            virtual_router_id 51
            priority {{priority}}
            advert_int {{advert}}
            version {{version}}
            {{auth}}
            virtual_ipaddress {
                {{Vip}} dev eth0
            }
            {{extra}}
        }
        """;

    private const string Pass = "authentication {\n auth_type PASS\n auth_pass s3cret\n}";

    /// <summary>The init line: printed when the instance starts in BACKUP, before any advert was heard. It starts the
    /// master-down timer, so it is the moment a "did not take over" window is measured from.</summary>
    private const string BackupInit = "(VI_1) Entering BACKUP STATE (init)";

    /// <summary>advert_int 1, priority 100: master_down_interval = 3 x 1 s + (256 - 100) / 256 s = 3.61 s.</summary>
    private static readonly TimeSpan MasterDown = TimeSpan.FromSeconds(3 + (256 - 100) / 256.0);

    /// <summary>True when <paramref name="condition"/> held at every check (every 250 ms) over <paramref name="window"/>.</summary>
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

    /// <summary>Twice the master-down interval plus 2 s: a backup that ignored the master's adverts would have taken over
    /// well inside it (checked from the backup's start, which is when its master-down timer starts).</summary>
    private static readonly TimeSpan NoTakeoverWindow = MasterDown * 2 + TimeSpan.FromSeconds(2);

    private void Dump(params RunningProcess?[] processes)
    {
        foreach (var p in processes)
        {
            if (p is not null)
                output.WriteLine($"----- {p.Label}\n{p.Output}");
        }
    }

    /// <summary>
    /// The start order is fixed, so neither director can win a start-up race: the intended master is started alone and
    /// waited for until `ip addr` shows the VIP on it; only then is the backup started, and waited for until it printed
    /// its init line (its master-down timer starts there) — at which point it must not hold the VIP.
    /// </summary>
    private static RunningProcess StartBackupOnceMasterHoldsVip(NetnsLab lab, string masterNs, string backupNs, Func<RunningProcess> startBackup, string who)
    {
        Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(masterNs, Vip), StartBound), $"VIP never appeared on the higher-priority node ({who}) started alone");
        var backup = startBackup();
        Assert.True(NetnsLab.WaitFor(() => backup.OutputContains(BackupInit), StartBound), $"the backup never printed {BackupInit}");
        Assert.False(lab.HasAddress(backupNs, Vip), "the backup already holds the VIP at start-up");
        return backup;
    }

    [RootFact("ip")]
    public void Master_killed_with_SIGKILL_the_backup_takes_the_VIP()
    {
        using var lab = new NetnsLab();
        var a = lab.AddHost("a", "10.0.0.2/24");
        var b = lab.AddHost("b", "10.0.0.3/24");
        var la = lab.StartLb(a, "lb-a", "-n", "-l", "-P", "-f", lab.WriteFile("a.conf", Config("a", 150)), "--journal", Path.Combine(lab.Directory, "a.jsonl"));
        RunningProcess? lbb = null;
        try
        {
            lbb = StartBackupOnceMasterHoldsVip(lab, a, b, () => lab.StartLb(b, "lb-b", "-n", "-l", "-P", "-f", lab.WriteFile("b.conf", Config("b", 100)), "--journal", Path.Combine(lab.Directory, "b.jsonl")), "lb-a");
            // b is a real backup (it hears a's adverts) only if it stays without the VIP past its master-down interval.
            Assert.True(HoldsThroughout(() => !lab.HasAddress(b, Vip) && lab.HasAddress(a, Vip), NoTakeoverWindow), "b took the VIP while a was master");

            la.Signal("KILL");
            Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(b, Vip), Bound), "backup did not take over after the master was killed");
            Assert.Contains("(VI_1) Entering MASTER STATE", lbb.Output, StringComparison.Ordinal);
            var journal = File.ReadAllLines(Path.Combine(lab.Directory, "b.jsonl"));
            Assert.Contains(journal, l => l.Contains("\"VI_1\"", StringComparison.Ordinal) && l.Contains("\"MASTER\"", StringComparison.Ordinal));
        }
        finally
        {
            Dump(la, lbb);
        }
    }

    [RootFact("ip")]
    public void Graceful_stop_sends_priority_0_and_removes_the_VIP()
    {
        using var lab = new NetnsLab();
        var a = lab.AddHost("a", "10.0.0.2/24");
        var b = lab.AddHost("b", "10.0.0.3/24");
        // A long advert interval: without the priority-0 advert the backup would wait 3 x 10 s; with it, skew time (< 1 s).
        var la = lab.StartLb(a, "lb-a", "-n", "-l", "-P", "-f", lab.WriteFile("a.conf", Config("a", 150, advert: "10")), "--journal", Path.Combine(lab.Directory, "a.jsonl"));
        RunningProcess? lbb = null;
        try
        {
            // advert_int 10: a alone becomes MASTER after 3 x 10 s + skew, on top of its start-up.
            lbb = StartBackupOnceMasterHoldsVip(lab, a, b, () => lab.StartLb(b, "lb-b", "-n", "-l", "-P", "-f", lab.WriteFile("b.conf", Config("b", 100, advert: "10")), "--journal", Path.Combine(lab.Directory, "b.jsonl")), "lb-a");
            la.Signal("TERM");
            Assert.True(la.WaitForExit(Bound), "lb did not stop on SIGTERM");
            Assert.False(lab.HasAddress(a, Vip), "the stopped node kept the VIP");
            // Well under 3 x advert_int: the takeover came from the priority-0 advert, not from the master-down timer.
            Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(b, Vip), TimeSpan.FromSeconds(10)), "backup did not take over on the priority-0 advert");
            Assert.Contains("(VI_1) Backup received priority 0 advertisement", lbb.Output, StringComparison.Ordinal);
        }
        finally
        {
            Dump(la, lbb);
        }
    }

    [RootFact("ip")]
    public void Failing_vrrp_script_moves_the_VIP_by_weight_and_back()
    {
        using var lab = new NetnsLab();
        var a = lab.AddHost("a", "10.0.0.2/24");
        var b = lab.AddHost("b", "10.0.0.3/24");
        var flag = Path.Combine(lab.Directory, "a-healthy");
        File.WriteAllText(flag, "ok");
        var script = $$"""
            vrrp_script chk {
                script "/usr/bin/test -e {{flag}}"
                interval 1
                fall 1
                rise 1
                weight -60
            }
            """;
        var la = lab.StartLb(a, "lb-a", "-n", "-l", "-P", "-f", lab.WriteFile("a.conf", script + "\n" + Config("a", 150, extra: "track_script {\n chk\n}", globalExtra: "enable_script_security\n script_user root")), "--journal", Path.Combine(lab.Directory, "a.jsonl"));
        RunningProcess? lbb = null;
        try
        {
            lbb = StartBackupOnceMasterHoldsVip(lab, a, b, () => lab.StartLb(b, "lb-b", "-n", "-l", "-P", "-f", lab.WriteFile("b.conf", Config("b", 100)), "--journal", Path.Combine(lab.Directory, "b.jsonl")), "lb-a");
            File.Delete(flag);
            Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(b, Vip) && !lab.HasAddress(a, Vip), Bound), "VIP did not move when the script failed (150-60 < 100)");
            Assert.Contains("(VI_1) Changing effective priority from 150 to 90", la.Output, StringComparison.Ordinal);
            File.WriteAllText(flag, "ok");
            Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(a, Vip) && !lab.HasAddress(b, Vip), Bound), "VIP did not come back (preempt) when the script recovered");
        }
        finally
        {
            Dump(la, lbb);
        }
    }

    /// <summary>VRRP version, PASS authentication, and the wire: a bridge, and the padding switch (short frames padded to 60 bytes as on a physical network).</summary>
    public static TheoryData<int, bool, LabWire> Versions => new() { { 2, true, LabWire.Bridge }, { 3, false, LabWire.Bridge }, { 2, true, LabWire.PaddingSwitch }, { 3, false, LabWire.PaddingSwitch } };

    [RootTheory("ip", "keepalived")]
    [MemberData(nameof(Versions))]
    public void Lb_and_keepalived_share_a_virtual_router_both_ways(int version, bool pass, LabWire wire)
    {
        using var lab = new NetnsLab(wire);
        var k = lab.AddHost("k", "10.0.0.2/24");
        var l = lab.AddHost("l", "10.0.0.3/24");
        var auth = pass ? Pass : string.Empty;

        // keepalived master, Lb backup: Lb must stay BACKUP (it accepts keepalived's adverts), then take over when keepalived dies.
        var ka = lab.StartKeepalived(k, "keepalived", lab.WriteFile("k.conf", Config("k", 150, version: version, auth: auth)));
        RunningProcess? lb = null;
        try
        {
            lb = StartBackupOnceMasterHoldsVip(lab, k, l, () => lab.StartLb(l, "lb", "-n", "-l", "-P", "-f", lab.WriteFile("l.conf", Config("l", 100, version: version, auth: auth)), "--journal", Path.Combine(lab.Directory, "l.jsonl")), "keepalived");
            // Lb must not take over while keepalived advertises: watched well past Lb's master-down interval.
            Assert.True(HoldsThroughout(() => !lab.HasAddress(l, Vip), NoTakeoverWindow), "Lb took the VIP although keepalived (higher priority) is master");
            ka.Signal("KILL");
            Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(l, Vip), Bound), "Lb did not take over from keepalived");

            // Now keepalived comes back with the higher priority and preempts Lb: Lb must accept and release the VIP.
            var ka2 = lab.StartKeepalived(k, "keepalived-2", lab.WriteFile("k2.conf", Config("k", 150, version: version, auth: auth)));
            Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(k, Vip) && !lab.HasAddress(l, Vip), Bound), "keepalived did not preempt Lb");
            Assert.Contains("Master received advert from 10.0.0.2 with higher priority 150, ours 100", lb.Output, StringComparison.Ordinal);
            ka2.Signal("KILL");
            PaddedWire.AssertCarried(lab, "k");
        }
        finally
        {
            Dump(ka, lb);
        }

        // Lb master, keepalived backup: keepalived must accept Lb's adverts, then take over when Lb dies.
        using var lab2 = new NetnsLab(wire);
        var k2 = lab2.AddHost("k", "10.0.0.2/24");
        var l2 = lab2.AddHost("l", "10.0.0.3/24");
        var lbm = lab2.StartLb(l2, "lb", "-n", "-l", "-P", "-f", lab2.WriteFile("l.conf", Config("l", 150, version: version, auth: auth)), "--journal", Path.Combine(lab2.Directory, "l.jsonl"));
        RunningProcess? kb = null;
        try
        {
            // keepalived starts in milliseconds, Lb in seconds: started together, keepalived could win the start-up race.
            kb = StartBackupOnceMasterHoldsVip(lab2, l2, k2, () => lab2.StartKeepalived(k2, "keepalived", lab2.WriteFile("k.conf", Config("k", 100, version: version, auth: auth))), "lb");
            Assert.True(HoldsThroughout(() => !lab2.HasAddress(k2, Vip), NoTakeoverWindow), "keepalived took the VIP although Lb (higher priority) is master: it does not accept Lb's adverts");
            Assert.DoesNotContain("bad checksum", kb.Output, StringComparison.OrdinalIgnoreCase);
            lbm.Signal("KILL");
            Assert.True(NetnsLab.WaitFor(() => lab2.HasAddress(k2, Vip), Bound), "keepalived did not take over from Lb");
            PaddedWire.AssertCarried(lab2, "l");
        }
        finally
        {
            Dump(lbm, kb);
        }
    }
}
