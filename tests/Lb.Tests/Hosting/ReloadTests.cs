using Lb.Lb.Tests.EndToEnd;
using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.Hosting;

/// <summary>
/// SIGHUP on a running `lb -P` in network namespaces: validated first, applied as a diff, a MASTER stays MASTER, a bad file
/// changes nothing and names its line, a storm of signals leaves the daemon serving.
/// </summary>
public sealed class ReloadTests(ITestOutputHelper output)
{
    private const string ExtraVip = "10.0.0.101/24";

    private static int Count(string text, string what) => text.Split(what).Length - 1;

    /// <summary>Liveness bound from starting a director to its first MASTER (.NET start-up plus master-down), for a loaded host.</summary>
    private static readonly TimeSpan StartBound = DaemonLab.Bound * 3;

    /// <summary>
    /// Observation window of the negative claims after a reload ("no transition, no GARP, no journal line", "the VIP was not
    /// touched"): 4 s is longer than the master-down interval (3 x advert_int 1 s + skew = 3.4 s), the advert interval and
    /// vrrp_garp_master_delay (1 s), so a reload that reset the instance would have re-entered MASTER and sent its GARPs inside it.
    /// </summary>
    private static readonly TimeSpan QuietWindow = TimeSpan.FromSeconds(4);

    private static bool WaitLog(RunningProcess p, string text, int occurrences) =>
        NetnsLab.WaitFor(() => Count(p.Output, text) >= occurrences, DaemonLab.Bound);

    [RootFact("ip")]
    public void Reload_without_change_touches_nothing_and_a_new_vip_is_added_without_a_transition()
    {
        using var lab = new DaemonLab();
        var a = lab.Lab.AddHost("a", "10.0.0.2/24");
        var b = lab.Lab.AddHost("b", "10.0.0.3/24");
        // a is started alone and becomes MASTER (the VIP per `ip addr`) before b starts: no start-up race decides the roles.
        var la = lab.StartVrrp(a, "a", 150);
        RunningProcess? lbb = null;
        try
        {
            Assert.True(NetnsLab.WaitFor(() => lab.Lab.HasAddress(a, DaemonLab.Vip), StartBound), "a never became master");
            lbb = lab.StartVrrp(b, "b", 100);
            // b follows a (the init line "Entering BACKUP STATE (init)" is printed before any advert was heard).
            lab.WaitStatus("b", s => s.VrrpInstances.Count == 1 && s.VrrpInstances[0].State == "BACKUP" && s.VrrpInstances[0].MasterAddress == "10.0.0.2" && s.VrrpInstances[0].AdvertsReceived > 0, lbb);
            // Let the master's scheduled GARP bursts (5 at MASTER, 5 garp_master_delay 1 s later) finish first.
            Assert.True(WaitLog(la, "Sending gratuitous ARP", 10));
            var journal = Path.Combine(lab.Dir, "a.jsonl");
            var journalBefore = File.ReadAllLines(journal).Length;
            var masterLines = Count(la.Output, "Entering MASTER STATE");
            var garps = Count(la.Output, "Sending gratuitous ARP");

            la.Signal("HUP");
            Assert.True(WaitLog(la, "Reload complete", 1), "reload did not complete");
            Assert.Contains("VRRP reload: no change", la.Output, StringComparison.Ordinal);
            Thread.Sleep(QuietWindow); // observation window of a negative claim, not synchronisation (see QuietWindow)
            Assert.Equal(masterLines, Count(la.Output, "Entering MASTER STATE"));
            Assert.Equal(garps, Count(la.Output, "Sending gratuitous ARP"));
            Assert.Equal(journalBefore, File.ReadAllLines(journal).Length);
            Assert.Equal("MASTER", lab.WaitStatus("a", s => s.VrrpInstances.Count == 1, la).VrrpInstances[0].State);

            // Add a VIP: it appears on the master only; no state change.
            File.WriteAllText(Path.Combine(lab.Dir, "a.conf"), DaemonLab.Config("a", 150).Replace($"{DaemonLab.Vip} dev eth0", $"{DaemonLab.Vip} dev eth0\n        {ExtraVip} dev eth0", StringComparison.Ordinal));
            la.Signal("HUP");
            Assert.True(WaitLog(la, "Reload complete", 2), "second reload did not complete");
            Assert.True(NetnsLab.WaitFor(() => lab.Lab.HasAddress(a, ExtraVip), DaemonLab.Bound), "the new VIP was not added on the master");
            Assert.True(lab.Lab.HasAddress(a, DaemonLab.Vip));
            Assert.False(lab.Lab.HasAddress(b, ExtraVip));
            Assert.Equal(masterLines, Count(la.Output, "Entering MASTER STATE"));
        }
        finally
        {
            output.WriteLine(la.Output);
            output.WriteLine(lbb?.Output);
        }
    }

    [RootFact("ip")]
    public void Reload_of_a_broken_file_keeps_the_running_configuration_and_reports_the_line()
    {
        using var lab = new DaemonLab();
        var a = lab.Lab.AddHost("a", "10.0.0.2/24");
        var la = lab.StartVrrp(a, "a", 150);
        try
        {
            Assert.True(NetnsLab.WaitFor(() => lab.Lab.HasAddress(a, DaemonLab.Vip), StartBound), "never became master");
            var broken = DaemonLab.Config("a", 150).Replace("priority 150", "priority 300", StringComparison.Ordinal).Replace($"{DaemonLab.Vip} dev eth0", "10.0.0.199/24 dev eth0", StringComparison.Ordinal);
            var line = broken.Split('\n').ToList().FindIndex(l => l.Contains("priority 300", StringComparison.Ordinal)) + 1;
            File.WriteAllText(Path.Combine(lab.Dir, "a.conf"), broken);
            la.Signal("HUP");
            Assert.True(WaitLog(la, "Reload refused", 1), "broken reload was not refused");
            Assert.Contains($"({Path.Combine(lab.Dir, "a.conf")}: Line {line}) number '300' outside range [1, 255]", la.Output, StringComparison.Ordinal);
            Thread.Sleep(QuietWindow); // observation window of a negative claim, not synchronisation (see QuietWindow)
            Assert.True(lab.Lab.HasAddress(a, DaemonLab.Vip), "the running VIP was touched by a refused reload");
            Assert.False(lab.Lab.HasAddress(a, "10.0.0.199/24"));

            // The file disappears: refused as well.
            File.Delete(Path.Combine(lab.Dir, "a.conf"));
            la.Signal("HUP");
            Assert.True(WaitLog(la, "Reload refused", 2), "reload of a missing file was not refused");
            Assert.True(lab.Lab.HasAddress(a, DaemonLab.Vip));
            Assert.False(la.HasExited);
        }
        finally
        {
            output.WriteLine(la.Output);
        }
    }

    [RootFact("ip")]
    public void Hundred_sighups_during_a_reload_coalesce_into_one_and_leave_the_daemon_serving_the_last_configuration()
    {
        using var lab = new DaemonLab();
        var a = lab.Lab.AddHost("a", "10.0.0.2/24");
        var la = lab.StartVrrp(a, "a", 150);
        try
        {
            Assert.True(NetnsLab.WaitFor(() => lab.Lab.HasAddress(a, DaemonLab.Vip), StartBound), "never became master");
            var conf = Path.Combine(lab.Dir, "a.conf");
            File.WriteAllText(conf, DaemonLab.Config("a", 150).Replace($"{DaemonLab.Vip} dev eth0", $"{DaemonLab.Vip} dev eth0\n        {ExtraVip} dev eth0", StringComparison.Ordinal));
            // The first reload is held in progress where it opens the configuration (fanotify); 100 SIGHUP are delivered one
            // by one (each taken by the daemon before the next: the kernel merges none); then the reload is released.
            // "A signal only raises a flag; one loop reloads": exactly one reload is left pending, not a hundred. (One more
            // is tolerated: the runtime runs a delivered signal's handler on the thread pool, and one run after the second
            // reload started raises the flag again.)
            int reloads;
            using (var gate = new OpenGate(lab.Dir, p => p == conf))
            {
                SignalDelivery.Send(la.Pid, SignalDelivery.SIGHUP);
                Assert.True(NetnsLab.WaitFor(() => gate.Held == 1, DaemonLab.Bound), "the reload did not start");
                for (var i = 0; i < 100; i++)
                    SignalDelivery.SendAndWaitTaken(la.Pid, SignalDelivery.SIGHUP, DaemonLab.Bound);
                Assert.Equal(0, Count(la.Output, "Reload complete"));
                gate.Release();
                Assert.True(WaitLog(la, "Reload complete", 2), "the held reload and the pending one did not both complete");
                // Then quiet: a queue would run the rest back to back; watch for a while.
                NetnsLab.WaitFor(() => Count(la.Output, "Reload complete") > 3, TimeSpan.FromSeconds(3));
                reloads = Count(la.Output, "Reload complete");
                output.WriteLine($"reloads for 1 + 100 SIGHUP: {reloads}; configuration reads: {gate.Matched}");
                Assert.InRange(reloads, 2, 3);
            }
            Assert.True(NetnsLab.WaitFor(() => lab.Lab.HasAddress(a, ExtraVip), DaemonLab.Bound), "the last configuration was not applied");
            var status = lab.WaitStatus("a", s => s.VrrpInstances.Count == 1 && s.VrrpInstances[0].State == "MASTER", la);
            Assert.Equal(150, status.VrrpInstances[0].EffectivePriority);
            Assert.False(la.HasExited);
            // None half-done: every start has its end.
            Assert.Equal(reloads, Count(la.Output, ": Reloading"));
            Assert.Equal(0, Count(la.Output, "Reload refused") + Count(la.Output, "Reload failed"));
            Assert.Equal(1, Count(la.Output, "Entering MASTER STATE"));
        }
        finally
        {
            output.WriteLine(la.Output);
        }
    }
}
