using System.Net;
using Lb.TestSupport;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Tests.Support;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Lb.Vrrp.Tests.Subsystem;

/// <summary>
/// The subsystem wired to in-memory fakes of the host's address table and link monitor. The
/// instance's VRRP socket is the in-memory transport (the unit tier has no interface to bind; the real
/// sockets are exercised by the Netns tests): nobody delivers an advert, so the instance becomes MASTER on its own timer.
/// </summary>
public class VrrpSubsystemTests
{
    private const string If = "lbnone0";
    private static readonly IPAddress Vip = IPAddress.Parse("10.0.0.100");
    private static readonly IPAddress Evip = IPAddress.Parse("10.0.1.100");

    private sealed class Rig : IAsyncDisposable
    {
        public ManualTimeProvider Time { get; } = new();
        public FakeAddressTable Addresses { get; } = new();
        public FakeLinkMonitor Links { get; } = new();
        public RecordingEventSink Events { get; } = new();
        public ListLogger Logs { get; } = new();
        public InMemoryTransportFactory Transports { get; } = new();
        public VrrpSubsystem Subsystem { get; }

        /// <summary>The notify FIFO as the host wires it (src/Lb/Alerts): the subsystem's notifications written to a <see cref="Lb.Scripts.NotifyFifo"/>.</summary>
        private readonly Lb.Scripts.NotifyFifo? _fifo;

        public Rig(Func<VrrpInstanceOptions, VrrpInstanceOptions>? with = null, Func<VrrpSubsystemOptions, VrrpSubsystemOptions>? globals = null, string? fifo = null, NotifyScript? fifoScript = null)
        {
            Links.Set(If, up: true);
            Links.Set("eth9", up: true);
            Addresses.Static.Add(new InterfaceAddress(If, 7, IPAddress.Parse("10.0.0.5"), 24));
            var inst = new VrrpInstanceOptions
            {
                Name = "VI_1",
                Interface = If,
                VirtualRouterId = 51,
                VirtualIpAddresses = [new VirtualAddress { Address = Vip, PrefixLength = 24, Label = If + ":1" }],
                VirtualIpAddressesExcluded = [new VirtualAddress { Address = Evip, PrefixLength = 32, Device = "eth9" }],
                TrackInterfaces = [new TrackedInterface("eth9")],
            };
            var o = new VrrpSubsystemOptions { Instances = [with is null ? inst : with(inst)] };
            IVrrpEventSink events = Events;
            if (fifo is not null)
            {
                _fifo = new Lb.Scripts.NotifyFifo(fifo, "notify_fifo", (a, e) => Logs.CreateLogger("fifo").LogWarning("({Fifo}) action {Action} failed: {Error}", "notify_fifo", a, e));
                if (fifoScript is not null)
                    _fifo.StartScript(new Lb.Scripts.ScriptRunner(), new Lb.Scripts.ScriptInvocation([.. fifoScript.Command, fifo], null, null, Timeout.InfiniteTimeSpan));
                events = new FifoSink(Events, _fifo);
            }
            Subsystem = new VrrpSubsystem(globals is null ? o : globals(o), Addresses, Links, events, Logs, Time, garpFactory: null, Transports);
        }

        private sealed class FifoSink(RecordingEventSink inner, Lb.Scripts.NotifyFifo fifo) : IVrrpEventSink
        {
            public void OnStateChanged(VrrpStateChange change) => inner.OnStateChanged(change);

            public void OnNotification(Lb.Vrrp.Notify.VrrpNotification notification) => fifo.Write(notification.FifoLine);
        }

        public VrrpInstanceStatus Status => Subsystem.GetStatus().Instances[0];

        public async ValueTask DisposeAsync()
        {
            await Subsystem.DisposeAsync();
            if (_fifo is not null)
                await _fifo.DisposeAsync();
        }
    }

    [Fact]
    public async Task Master_installs_vips_and_evips_with_their_attributes_and_stop_removes_them()
    {
        await using var r = new Rig();
        await r.Subsystem.StartAsync(CancellationToken.None);
        Assert.Equal(VrrpState.Backup, r.Status.State);
        Assert.Equal(IPAddress.Parse("10.0.0.5"), r.Status.SourceAddress);
        r.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(VrrpState.Master, r.Status.State);
        Assert.True(Wait.Until(() => r.Addresses.Vips.Count == 2));
        Assert.Contains($"add 10.0.0.100/24 dev {If} label {If}:1", r.Addresses.Calls);
        Assert.Contains("add 10.0.1.100/32 dev eth9", r.Addresses.Calls);
        Assert.True(r.Logs.Contains($"(VI_1) Sending/queueing gratuitous ARPs on {If} for 10.0.0.100"));

        await r.Subsystem.StopAsync(CancellationToken.None);
        Assert.Empty(r.Addresses.Vips);
        Assert.Equal(VrrpState.Stop, r.Status.State);
        Assert.True(Wait.Until(() => r.Subsystem.RecentNotifyLines.Contains("INSTANCE \"VI_1\" STOP 100")));
        Assert.Equal(["INSTANCE \"VI_1\" BACKUP 100", "INSTANCE \"VI_1\" MASTER 100", "INSTANCE \"VI_1\" STOP 100"], r.Subsystem.RecentNotifyLines);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task Vips_left_by_a_crashed_run_are_removed_at_start_whatever_the_command_line(bool releaseVips, bool dontReleaseVrrp)
    {
        // keepalived 2.2.7 (vrrp_restore_interfaces_startup) removes them unconditionally; -X and -V do not keep them
        await using var r = new Rig(globals: g => g with { ReleaseVips = releaseVips, DontReleaseVrrp = dontReleaseVrrp });
        await r.Addresses.AddAsync(If, new VirtualAddress { Address = Vip, PrefixLength = 24 }, CancellationToken.None);
        await r.Addresses.AddAsync("eth9", new VirtualAddress { Address = Evip, PrefixLength = 32 }, CancellationToken.None);
        r.Addresses.Calls.Clear();
        await r.Subsystem.StartAsync(CancellationToken.None);
        Assert.Equal(VrrpState.Backup, r.Status.State);
        Assert.Empty(r.Addresses.Vips);
        Assert.Equal([$"del 10.0.0.100/24 dev {If}", "del 10.0.1.100/32 dev eth9"], r.Addresses.Calls);
        Assert.True(r.Logs.Contains($"(VI_1) removing VIP 10.0.0.100 left on {If} by a previous run"));
        Assert.False(r.Status.VipsSet);
    }

    [Fact]
    public async Task No_leftover_removal_when_nothing_was_left()
    {
        await using var r = new Rig();
        await r.Subsystem.StartAsync(CancellationToken.None);
        Assert.Empty(r.Addresses.Calls);
        r.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(VrrpState.Master, r.Status.State);
        Assert.True(Wait.Until(() => r.Addresses.Vips.Count == 2));
    }

    [Fact]
    public async Task Dont_release_vrrp_keeps_the_vips_on_stop()
    {
        await using var r = new Rig(globals: g => g with { DontReleaseVrrp = true });
        await r.Subsystem.StartAsync(CancellationToken.None);
        r.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.True(Wait.Until(() => r.Addresses.Vips.Count == 2));
        await r.Subsystem.StopAsync(CancellationToken.None);
        Assert.Equal(2, r.Addresses.Vips.Count);
    }

    /// <summary>
    /// The subsystem's decision alone (restore unless no_track), with the fake raising the RTM_DELADDR event. The daemon's
    /// real rtnetlink monitor delivering that event from the kernel is tested by
    /// tests/Lb.Tests/EndToEnd/LinkMonitorTests.A_VIP_deleted_behind_Lbs_back_on_the_master_is_restored.
    /// </summary>
    [Fact]
    public async Task A_vip_deleted_behind_our_back_is_restored_unless_no_track()
    {
        await using var r = new Rig(with: o => o with { VirtualIpAddressesExcluded = [new VirtualAddress { Address = Evip, PrefixLength = 32, Device = "eth9", NoTrack = true }] });
        await r.Subsystem.StartAsync(CancellationToken.None);
        r.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.True(Wait.Until(() => r.Addresses.Vips.Count == 2));
        r.Addresses.DeleteBehindOurBack(If, Vip);
        r.Addresses.DeleteBehindOurBack("eth9", Evip);
        Assert.True(Wait.Until(() => r.Addresses.Has(If, Vip)));
        Assert.True(r.Logs.Contains($"(VI_1) VIP 10.0.0.100 removed from {If} behind our back - restoring"));
        Assert.False(r.Addresses.Has("eth9", Evip));
        Assert.Equal(VrrpState.Master, r.Status.State);
    }

    [Fact]
    public async Task Tracked_interface_down_faults_the_instance_and_up_brings_it_back()
    {
        await using var r = new Rig();
        await r.Subsystem.StartAsync(CancellationToken.None);
        r.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.True(Wait.Until(() => r.Addresses.Vips.Count == 2));
        r.Links.Set("eth9", up: false);
        Assert.Equal(VrrpState.Fault, r.Status.State);
        Assert.Equal("track_interface eth9 down", r.Status.LastReason);
        Assert.True(Wait.Until(() => r.Addresses.Vips.Count == 0));
        r.Links.Set("eth9", up: true);
        Assert.Equal(VrrpState.Backup, r.Status.State);
        r.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(VrrpState.Master, r.Status.State);
    }

    [Fact]
    public async Task The_instance_interface_vanishing_faults_the_instance()
    {
        await using var r = new Rig();
        await r.Subsystem.StartAsync(CancellationToken.None);
        r.Links.Set(If, up: false, exists: false);
        Assert.Equal(VrrpState.Fault, r.Status.State);
        r.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(VrrpState.Fault, r.Status.State);
        Assert.Contains(r.Events.Changes, c => c.NewState == VrrpState.Fault && c.Name == "VI_1");
    }

    [Fact]
    public async Task Weighted_track_interface_changes_priority_instead_of_faulting()
    {
        await using var r = new Rig(with: o => o with { TrackInterfaces = [new TrackedInterface("eth9", -30)] });
        await r.Subsystem.StartAsync(CancellationToken.None);
        r.Links.Set("eth9", up: false);
        Assert.Equal(VrrpState.Backup, r.Status.State);
        Assert.Equal(70, r.Status.EffectivePriority);
        Assert.True(r.Logs.Contains("(VI_1) Changing effective priority from 100 to 70"));
    }

    [Fact]
    public async Task Track_file_value_times_weight_moves_priority_and_init_file_writes_it()
    {
        var path = Path.Combine(Path.GetTempPath(), $"lb-track-{Guid.NewGuid():N}");
        try
        {
            await using var r = new Rig(
                with: o => o with { TrackFiles = [new TrackedReference("f1", Weight: -10)] },
                globals: g => g with { TrackFiles = [new VrrpTrackFileOptions { Name = "f1", Path = path, InitFileValue = 0 }] });
            await r.Subsystem.StartAsync(CancellationToken.None);
            Assert.Equal("0\n", File.ReadAllText(path));
            Assert.Equal(100, r.Status.EffectivePriority);
            // the poller starts a read each second; the value is applied when the read returns
            File.WriteAllText(path, "3\n");
            r.Time.Advance(TimeSpan.FromSeconds(1));
            Assert.True(Wait.Until(() => r.Status.EffectivePriority == 70));
            File.WriteAllText(path, "30\n");
            r.Time.Advance(TimeSpan.FromSeconds(1));
            Assert.True(Wait.Until(() => r.Status.State == VrrpState.Fault));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_track_file_nobody_writes_blocks_neither_start_nor_status_and_polls_add_no_threads()
    {
        // a FIFO without a writer: open() blocks, as a file on a hung NFS mount does
        var fifo = Path.Combine(Path.GetTempPath(), $"lb-fifo-{Guid.NewGuid():N}");
        ProcessRunner.Check("mkfifo", fifo);
        var r = new Rig(
            with: o => o with { TrackFiles = [new TrackedReference("f1", Weight: 0)] },
            globals: g => g with { TrackFiles = [new VrrpTrackFileOptions { Name = "f1", Path = fifo }] });
        try
        {
            // the unfixed engine read the file inside StartAsync, under the engine lock: start never returned
            await r.Subsystem.StartAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(VrrpState.Backup, r.Status.State);
            Assert.True(r.Logs.Contains($"Track file f1: reading {fifo} has not returned - counting it as unreadable (0) until it does"));

            // unreadable counts as 0 (keepalived), so weight 0 is no fault: the instance goes MASTER and advertises
            r.Time.Advance(TimeSpan.FromSeconds(4));
            Assert.Equal(VrrpState.Master, r.Status.State);
            Assert.True(r.Status.AdvertsSent > 0);

            // Threads of this process blocked opening a FIFO (the kernel's wait_for_partner): one read in flight
            // holds at most one. Counted by what each thread waits on, not by the process's thread count, which
            // the test classes running beside this one change.
            // The runtime's debugger transport (thread ".NET DebugPipe") waits on a FIFO of its own: not ours.
            static int BlockedInFifoOpen() => Directory.GetDirectories("/proc/self/task").Count(t =>
            {
                try
                {
                    return File.ReadAllText(Path.Combine(t, "wchan")).Trim() == "wait_for_partner"
                        && File.ReadAllText(Path.Combine(t, "comm")).Trim() != ".NET DebugPipe";
                }
                catch (IOException)
                {
                    return false; // the thread exited meanwhile
                }
            });
            for (var i = 0; i < 100; i++)
                r.Time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(1, r.Subsystem.TrackFileReadsInFlight);
            // a read per poll would have queued 100 blocking opens; give the thread pool time to start some of them
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.True(BlockedInFifoOpen() <= 1, $"{BlockedInFifoOpen()} threads blocked opening the FIFO after 100 polls");
            Assert.True(r.Status.AdvertsSent > 100);
            Assert.Single(r.Logs.Lines, l => l.StartsWith("Track file f1:", StringComparison.Ordinal));

            // a writer comes: the blocked read returns what it wrote (non-zero with weight 0: FAULT)
            await Task.Run(() =>
            {
                using var w = new FileStream(fifo, FileMode.Open, FileAccess.Write);
                w.Write("5\n"u8);
            }).WaitAsync(TimeSpan.FromSeconds(20));
            Assert.True(Wait.Until(() => r.Status.State == VrrpState.Fault));
            // the value is applied on the reading thread just before its task completes
            Assert.True(Wait.Until(() => r.Subsystem.TrackFileReadsInFlight == 0));
        }
        finally
        {
            await r.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
            File.Delete(fifo);
        }
    }

    [Fact]
    public async Task Notify_scripts_run_with_keepalived_arguments_in_order()
    {
        var log = Path.Combine(Path.GetTempPath(), $"lb-notify-{Guid.NewGuid():N}");
        try
        {
            var script = NotifyScript.Parse($"/bin/sh -c 'echo \"$0 $*\" >> {log}' notify");
            var master = NotifyScript.Parse($"/bin/sh -c 'echo master-$0 >> {log}' x");
            await using var r = new Rig(with: o => o with { Notify = script, NotifyMaster = master });
            await r.Subsystem.StartAsync(CancellationToken.None);
            r.Time.Advance(TimeSpan.FromSeconds(4));
            await r.Subsystem.StopAsync(CancellationToken.None);
            Assert.Equal(
                ["notify INSTANCE VI_1 BACKUP 100", "master-x", "notify INSTANCE VI_1 MASTER 100", "notify INSTANCE VI_1 STOP 100"],
                File.ReadAllLines(log));
        }
        finally
        {
            File.Delete(log);
        }
    }

    [Fact]
    public async Task Notify_fifo_script_reads_the_fifo_it_is_given()
    {
        var dir = Directory.CreateTempSubdirectory("lb-fifo-").FullName;
        var fifo = Path.Combine(dir, "notify.fifo");
        var output = Path.Combine(dir, "out");
        try
        {
            await using (var r = new Rig(fifo: fifo, fifoScript: NotifyScript.Parse($"/bin/sh -c 'while read l; do echo \"$l\" >> {output}; done < \"$0\"'")))
            {
                await r.Subsystem.StartAsync(CancellationToken.None);
                r.Time.Advance(TimeSpan.FromSeconds(4));
                Assert.True(Wait.Until(() => File.Exists(output) && File.ReadAllText(output).Contains("INSTANCE \"VI_1\" MASTER 100", StringComparison.Ordinal)));
            }
            // the script is killed at dispose, possibly before it reads STOP: only the first two are certain
            Assert.Equal(["INSTANCE \"VI_1\" BACKUP 100", "INSTANCE \"VI_1\" MASTER 100"], File.ReadAllLines(output)[..2]);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task Notify_fifo_receives_keepalived_lines()
    {
        var fifo = Path.Combine(Path.GetTempPath(), $"lb-fifo-{Guid.NewGuid():N}");
        Assert.Equal(0, ProcessRunner.Run("mkfifo", fifo).ExitCode);
        try
        {
            var lines = new List<string>();
            var reader = Task.Run(() =>
            {
                using var sr = new StreamReader(fifo);
                string? l;
                while ((l = sr.ReadLine()) is not null)
                {
                    lock (lines)
                        lines.Add(l);
                }
            });
            await using var r = new Rig(fifo: fifo);
            await r.Subsystem.StartAsync(CancellationToken.None);
            r.Time.Advance(TimeSpan.FromSeconds(4));
            Assert.True(Wait.Until(() =>
            {
                lock (lines)
                    return lines.Contains("INSTANCE \"VI_1\" MASTER 100");
            }));
            lock (lines)
                Assert.Equal("INSTANCE \"VI_1\" BACKUP 100", lines[0]);
        }
        finally
        {
            File.Delete(fifo);
        }
    }
}

public class GarpPacingTests
{
    private sealed class RecordingGarp(ManualTimeProvider time) : Lb.Vrrp.Transport.IGarpSender
    {
        public List<(TimeSpan At, IPAddress Vip)> Sent { get; } = new();

        private readonly DateTimeOffset _start = time.GetUtcNow();

        public void Send(int interfaceIndex, ReadOnlySpan<byte> mac, IPAddress vip)
        {
            lock (Sent)
                Sent.Add((time.GetUtcNow() - _start, vip));
        }

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task Garp_interval_spaces_the_packets_of_a_burst_and_the_delayed_burst_repeats_it()
    {
        var time = new ManualTimeProvider();
        var garp = new RecordingGarp(time);
        var links = new FakeLinkMonitor();
        links.Set("lbnone0", up: true);
        var addrs = new FakeAddressTable();
        addrs.Static.Add(new InterfaceAddress("lbnone0", 7, IPAddress.Parse("10.0.0.5"), 24));
        var options = new VrrpSubsystemOptions
        {
            GarpInterval = TimeSpan.FromMilliseconds(500),
            GarpMasterRepeat = 2,
            GarpMasterDelay = TimeSpan.FromSeconds(5),
            Instances =
            [
                new VrrpInstanceOptions
                {
                    Name = "VI_1",
                    Interface = "lbnone0",
                    VirtualRouterId = 1,
                    VirtualIpAddresses = [new VirtualAddress { Address = IPAddress.Parse("10.0.0.100") }, new VirtualAddress { Address = IPAddress.Parse("10.0.0.101") }],
                },
            ],
        };
        await using var s = new VrrpSubsystem(options, addrs, links, new RecordingEventSink(), new ListLogger(), time, () => garp, new InMemoryTransportFactory());
        await s.StartAsync(default);
        // Exactly to the master-down time (3 × advert_int + (256 − 100)/256 s): the burst's pacing timer is armed at the
        // clock's "now" whenever its continuation runs; a clock already past the transition (e.g. at 4 s) made the second
        // packet's time depend on the thread pool (flaky under load).
        time.Advance(TimeSpan.FromSeconds(3.609375));
        Assert.True(Wait.Until(() => garp.Sent.Count == 1));
        for (var i = 0; i < 3; i++)
        {
            var n = garp.Sent.Count;
            // the burst is pacing: its delay timer (beside the advert and garp_master_delay timers) must exist before the clock moves
            Assert.True(Wait.Until(() => time.ActiveTimers >= 3));
            time.Advance(TimeSpan.FromMilliseconds(500));
            Assert.True(Wait.Until(() => garp.Sent.Count == n + 1));
        }
        var first = garp.Sent[0].At;
        Assert.Equal([first, first + TimeSpan.FromMilliseconds(500), first + TimeSpan.FromSeconds(1), first + TimeSpan.FromMilliseconds(1500)], garp.Sent.Select(x => x.At));
        Assert.Equal(["10.0.0.100", "10.0.0.101", "10.0.0.100", "10.0.0.101"], garp.Sent.Select(x => x.Vip.ToString()));
        Assert.True(Wait.Until(() => time.ActiveTimers >= 3));
        time.Advance(TimeSpan.FromSeconds(3.5)); // garp_master_delay 5 s after becoming master
        Assert.True(Wait.Until(() => garp.Sent.Count == 5));
    }
}
