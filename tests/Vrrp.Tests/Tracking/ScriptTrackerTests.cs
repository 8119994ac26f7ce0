using Lb.TestSupport;
using Lb.Vrrp.Options;
using Lb.Scripts;
using Lb.Vrrp.Tracking;
using Lb.Vrrp.Tests.Support;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Lb.Vrrp.Tests.Tracking;

public class ScriptTrackerTests
{
    private static (ScriptTracker Tracker, List<bool> Changes, ListLogger Logs) Create(int rise, int fall, bool initFail = false)
    {
        var changes = new List<bool>();
        var logs = new ListLogger();
        var opts = new VrrpScriptOptions { Name = "chk", Command = ["/bin/true"], Rise = rise, Fall = fall, InitFail = initFail };
        var t = new ScriptTracker(opts, new VrrpSubsystemOptions(), new ScriptRunner(), new ManualTimeProvider(), logs.CreateLogger("x"), (_, up) => changes.Add(up));
        return (t, changes, logs);
    }

    private static ScriptResult Ok => new(0, false, null, "", 0);

    private static ScriptResult Fail => new(1, false, null, "", 0);

    [Fact]
    public void Fall_consecutive_failures_go_down_and_rise_successes_come_back()
    {
        var (t, changes, logs) = Create(rise: 2, fall: 3);
        t.Report(Fail);
        t.Report(Fail);
        t.Report(Ok);
        t.Report(Fail);
        t.Report(Fail);
        Assert.Empty(changes);
        t.Report(Fail);
        Assert.Equal([false], changes);
        Assert.True(logs.Contains("VRRP_Script(chk) failed (exited with status 1)"));
        t.Report(Ok);
        Assert.Single(changes);
        t.Report(Ok);
        Assert.Equal([false, true], changes);
        Assert.True(logs.Contains("VRRP_Script(chk) succeeded"));
        Assert.True(logs.Contains("Script `chk` now returning 1"));
    }

    [Fact]
    public void Init_fail_starts_down()
    {
        var (t, changes, _) = Create(rise: 1, fall: 1, initFail: true);
        Assert.False(t.Up);
        t.Report(Ok);
        Assert.Equal([true], changes);
    }

    [Fact]
    public void Timeouts_count_as_failures()
    {
        var (t, changes, logs) = Create(rise: 1, fall: 1);
        t.Report(new ScriptResult(null, true, null, "", 0));
        Assert.Equal([false], changes);
        Assert.True(logs.Contains("VRRP_Script(chk) timed_out"));
    }
}

public class ScriptTrackerRunTests
{
    [Fact]
    public async Task A_failing_script_that_leaves_a_background_child_keeps_being_run_and_its_failure_is_seen()
    {
        // vrrp_script "sh -c 'sleep 1000 & exit 1'": the child keeps stdout open; runs must still end at the script's exit.
        var pidFile = Path.Combine(Path.GetTempPath(), $"lb-track-{Guid.NewGuid():N}");
        var changes = new List<bool>();
        var opts = new VrrpScriptOptions { Name = "chk", Command = ["/bin/sh", "-c", $"sleep 1000 & echo $! >> {pidFile}; exit 1"], Rise = 1, Fall = 2 };
        using var t = new ScriptTracker(opts, new VrrpSubsystemOptions(), new ScriptRunner(), new ManualTimeProvider(), new ListLogger().CreateLogger("x"), (_, up) => changes.Add(up));
        try
        {
            await t.RunOnceAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Empty(changes);
            await t.RunOnceAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(2, t.Runs);
            Assert.Equal([false], changes);
            Assert.False(t.Up);
        }
        finally
        {
            foreach (var line in File.Exists(pidFile) ? File.ReadAllLines(pidFile) : [])
            {
                File.WriteAllText(pidFile + ".one", line);
                Notify.NotifyScriptTests.KillPidFile(pidFile + ".one");
                File.Delete(pidFile + ".one");
            }
            File.Delete(pidFile);
        }
    }
}

public class TrackingStateTests
{
    [Theory]
    [InlineData(0, false, true, 0, 0)]
    [InlineData(0, false, false, 1, 0)]
    [InlineData(0, true, true, 1, 0)] // weight 0 reverse: up = FAULT
    [InlineData(10, false, true, 0, 10)] // positive: added while up
    [InlineData(10, false, false, 0, 0)]
    [InlineData(-10, false, false, 0, -10)] // negative: subtracted while down
    [InlineData(-10, false, true, 0, 0)]
    [InlineData(-10, true, false, 0, 10)] // reverse: added while down
    [InlineData(10, true, true, 0, -10)]
    public void Weights_follow_keepalived(int weight, bool reverse, bool up, int faults, int delta)
    {
        var s = new TrackingState();
        s.SetUp(TrackerKind.Script, "chk", up);
        var (f, d, _) = s.Evaluate([new TrackerBinding(TrackerKind.Script, "chk", weight, reverse)]);
        Assert.Equal((faults, delta), (f, d));
    }

    [Fact]
    public void Sync_group_members_have_their_weights_forced_to_zero()
    {
        var g = new VrrpSubsystemOptions
        {
            Scripts = [new VrrpScriptOptions { Name = "chk", Command = ["/bin/true"], Weight = 20 }],
            SyncGroups = [new VrrpSyncGroupOptions { Name = "G", Members = ["VI_1"] }],
        };
        var i = new VrrpInstanceOptions { Name = "VI_1", VirtualRouterId = 1, Interface = "eth0", TrackScripts = [new TrackedReference("chk")] };
        var b = TrackingState.BindingsFor(i, g);
        Assert.Contains(new TrackerBinding(TrackerKind.Interface, "eth0", 0, false), b);
        Assert.Contains(new TrackerBinding(TrackerKind.Script, "chk", 0, false), b);
        var solo = TrackingState.BindingsFor(i, g with { SyncGroups = [] });
        Assert.Contains(new TrackerBinding(TrackerKind.Script, "chk", 20, false), solo);
        var dtp = TrackingState.BindingsFor(i with { DontTrackPrimary = true }, g);
        Assert.DoesNotContain(dtp, x => x.Kind == TrackerKind.Interface);
    }
}
