using System.Collections.Concurrent;
using System.Net;
using Lb.TestSupport;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Protocol;
using Lb.Vrrp.Reload;
using Lb.Vrrp.Tests.Support;
using Xunit;

namespace Lb.Vrrp.Tests.Subsystem;

/// <summary>
/// <see cref="VrrpSubsystem.ReloadAsync"/> against the in-memory host: what a reload touches and,
/// above all, what it leaves alone. Options are rebuilt from scratch for every reload (new lists,
/// new records), as the parser produces them. Sockets are the in-memory transport (no interface to bind here).
/// </summary>
public class ReloadTests
{
    private const string If = "lbnone0";
    private static readonly IPAddress Peer = IPAddress.Parse("10.0.0.9");

    private sealed class JournalSink : IVrrpEventSink
    {
        public ConcurrentQueue<VrrpStateChange> Changes { get; } = new();

        public ConcurrentQueue<VrrpReloadChange> Reloads { get; } = new();

        public ConcurrentQueue<(string Instance, int Old, int New)> Priorities { get; } = new();

        public void OnStateChanged(VrrpStateChange change) => Changes.Enqueue(change);

        public void OnPriorityChanged(string instance, int oldPriority, int newPriority) => Priorities.Enqueue((instance, oldPriority, newPriority));

        public void OnReloadApplied(VrrpReloadChange change) => Reloads.Enqueue(change);
    }

    private sealed class RecordingGarp : Lb.Vrrp.Transport.IGarpSender
    {
        private readonly ConcurrentQueue<IPAddress> _sent = new();

        public IReadOnlyList<IPAddress> Sent => _sent.ToArray();

        public void Send(int interfaceIndex, ReadOnlySpan<byte> mac, IPAddress vip) => _sent.Enqueue(vip);

        public void Dispose()
        {
        }
    }

    private static VrrpInstanceOptions Instance(string name = "VI_1", int vrid = 51, int priority = 100, params string[] vips) => new()
    {
        Name = name,
        Interface = If,
        VirtualRouterId = vrid,
        Priority = priority,
        VirtualIpAddresses = (vips.Length == 0 ? ["10.0.0.100"] : vips).Select(v => new VirtualAddress { Address = IPAddress.Parse(v), PrefixLength = 24 }).ToArray(),
        TrackInterfaces = [new TrackedInterface("eth9")],
    };

    private static VrrpSubsystemOptions Config(params VrrpInstanceOptions[] instances) => new() { GarpMasterDelay = TimeSpan.Zero, Instances = instances };

    private sealed class Rig : IAsyncDisposable
    {
        public ManualTimeProvider Time { get; } = new();
        public FakeAddressTable Addresses { get; } = new();
        public FakeLinkMonitor Links { get; } = new();
        public JournalSink Events { get; } = new();
        public ListLogger Logs { get; } = new();
        public RecordingGarp Garp { get; } = new();
        public InMemoryTransportFactory Transports { get; } = new();
        public VrrpSubsystem Subsystem { get; }

        public Rig(VrrpSubsystemOptions options)
        {
            Links.Set(If, up: true);
            Links.Set("eth9", up: true);
            Addresses.Static.Add(new InterfaceAddress(If, 7, IPAddress.Parse("10.0.0.5"), 24));
            Subsystem = new VrrpSubsystem(options, Addresses, Links, Events, Logs, Time, () => Garp, Transports);
        }

        public VrrpInstanceStatus Status(string name = "VI_1") => Subsystem.GetStatus().Instances.Single(i => i.Name == name);

        public string[] Calls()
        {
            lock (Addresses.Calls)
                return [.. Addresses.Calls];
        }

        /// <summary>An advert from <see cref="Peer"/> as the instance expects it.</summary>
        public void Advert(string instance, int priority)
        {
            var m = Subsystem.MachineOf(instance);
            var s = m.Settings;
            m.ReceiveAdvert(new VrrpPacket
            {
                Version = s.Version,
                VirtualRouterId = (byte)s.Options.VirtualRouterId,
                Priority = (byte)priority,
                AdvertIntervalCentiseconds = (int)(s.AdvertInterval.TotalMilliseconds / 10),
                Family = s.Family,
                Addresses = s.AdvertAddresses,
                AuthData = s.AuthData.ToArray(),
            }, Peer, 255);
        }

        public async Task StartMasterAsync(int vips)
        {
            await Subsystem.StartAsync(CancellationToken.None);
            Time.Advance(TimeSpan.FromSeconds(4));
            Assert.True(Wait.Until(() => Addresses.Vips.Count == vips));
            Assert.True(Wait.Until(() => Subsystem.RecentNotifyLines.Any(l => l.Contains("MASTER", StringComparison.Ordinal))));
        }

        public ValueTask DisposeAsync() => Subsystem.DisposeAsync();
    }

    [Fact]
    public async Task A_reload_with_no_change_touches_nothing_on_a_master()
    {
        await using var r = new Rig(Config(Instance()));
        await r.StartMasterAsync(1);
        Assert.True(Wait.Until(() => r.Garp.Sent.Count == 5));
        var calls = r.Calls();
        var events = r.Events.Changes.Count;
        var notifies = r.Subsystem.RecentNotifyLines;
        var adverts = r.Status().AdvertsSent;
        var machine = r.Subsystem.MachineOf("VI_1");

        var result = await r.Subsystem.ReloadAsync(Config(Instance()), CancellationToken.None);

        Assert.True(result.NothingChanged);
        Assert.Equal(["VI_1"], result.Kept);
        Assert.Empty(r.Events.Reloads);
        Assert.Same(machine, r.Subsystem.MachineOf("VI_1"));
        r.Time.Advance(TimeSpan.FromSeconds(10));
        // The adverts due in those 10 s are sent asynchronously: wait (bounded) for them, then the count must be exact.
        Assert.True(Wait.Until(() => r.Status().AdvertsSent >= adverts + 10), $"{r.Status().AdvertsSent - adverts} adverts sent in 10 s");
        Assert.Equal(adverts + 10, r.Status().AdvertsSent); // the normal schedule: one a second, no burst
        Assert.Equal(calls, r.Calls());
        Assert.Equal(events, r.Events.Changes.Count);
        Assert.Equal(notifies, r.Subsystem.RecentNotifyLines);
        Assert.Equal(5, r.Garp.Sent.Count);
        Assert.Empty(r.Events.Priorities);
        Assert.Equal(VrrpState.Master, r.Status().State);
        Assert.True(r.Logs.Contains("Reload: no change"));
    }

    [Fact]
    public async Task An_added_instance_starts_as_at_start_up_and_the_others_are_untouched()
    {
        await using var r = new Rig(Config(Instance()));
        await r.StartMasterAsync(1);
        var calls = r.Calls();
        var adverts = r.Status().AdvertsSent;
        var vi1Events = r.Events.Changes.Count(c => c.Name == "VI_1");

        var result = await r.Subsystem.ReloadAsync(Config(Instance(), Instance("VI_2", 52, 100, "10.0.0.200")), CancellationToken.None);

        Assert.Equal(["VI_2"], result.Added);
        Assert.Equal(["VI_1"], result.Kept);
        Assert.Equal(VrrpState.Backup, r.Status("VI_2").State);
        Assert.Contains(r.Events.Reloads, c => c is { Object: VrrpReloadObject.Instance, Name: "VI_2", Action: VrrpReloadAction.Added });
        r.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(VrrpState.Master, r.Status("VI_2").State);
        Assert.True(Wait.Until(() => r.Addresses.Has(If, IPAddress.Parse("10.0.0.200"))));
        Assert.Equal([.. calls, $"add 10.0.0.200/24 dev {If}"], r.Calls());
        Assert.Equal(adverts + 4, r.Status().AdvertsSent);
        Assert.Equal(vi1Events, r.Events.Changes.Count(c => c.Name == "VI_1"));
    }

    [Fact]
    public async Task A_removed_master_sends_priority_0_removes_its_vips_and_runs_notify_stop()
    {
        await using var r = new Rig(Config(Instance(), Instance("VI_2", 52, 100, "10.0.0.200")));
        await r.StartMasterAsync(2);
        var vi2 = r.Subsystem.MachineOf("VI_2");
        var calls = r.Calls();

        var result = await r.Subsystem.ReloadAsync(Config(Instance()), CancellationToken.None);

        Assert.Equal(["VI_2"], result.Removed);
        Assert.Equal(["VI_1"], result.Kept);
        Assert.Equal(1, vi2.PriorityZeroSent);
        Assert.Equal(VrrpState.Stop, vi2.State);
        // ReloadAsync returns after the removed instance's address work ran
        Assert.Equal([.. calls, $"del 10.0.0.200/24 dev {If}"], r.Calls());
        Assert.True(r.Addresses.Has(If, IPAddress.Parse("10.0.0.100")));
        Assert.Contains(r.Events.Changes, c => c is { Name: "VI_2", OldState: VrrpState.Master, NewState: VrrpState.Stop });
        Assert.Contains(r.Events.Reloads, c => c is { Name: "VI_2", Action: VrrpReloadAction.Removed });
        Assert.True(Wait.Until(() => r.Subsystem.RecentNotifyLines.Contains("INSTANCE \"VI_2\" STOP 100")));
        Assert.Equal(["VI_1"], r.Subsystem.GetStatus().Instances.Select(i => i.Name));
        Assert.Equal(VrrpState.Master, r.Status().State);
    }

    [Fact]
    public async Task A_vip_added_to_a_master_is_the_only_address_added_and_the_only_one_announced()
    {
        await using var r = new Rig(Config(Instance()));
        await r.StartMasterAsync(1);
        Assert.True(Wait.Until(() => r.Garp.Sent.Count == 5));
        var calls = r.Calls();
        var events = r.Events.Changes.Count;
        var notifies = r.Subsystem.RecentNotifyLines;

        var result = await r.Subsystem.ReloadAsync(Config(Instance(vips: ["10.0.0.100", "10.0.0.101"])), CancellationToken.None);

        Assert.Equal(["VI_1"], result.ChangedSoft);
        Assert.Contains(nameof(VrrpInstanceOptions.VirtualIpAddresses), result.Changes.Single(c => c.Name == "VI_1").Fields);
        Assert.True(Wait.Until(() => r.Garp.Sent.Count == 10));
        Assert.Equal([.. calls, $"add 10.0.0.101/24 dev {If}"], r.Calls());
        Assert.All(r.Garp.Sent.Skip(5), a => Assert.Equal(IPAddress.Parse("10.0.0.101"), a));
        Assert.Equal(events, r.Events.Changes.Count);
        Assert.Equal(notifies, r.Subsystem.RecentNotifyLines);
        Assert.Equal(VrrpState.Master, r.Status().State);
        Assert.Equal(2, r.Status().VirtualAddresses.Count);

        // and dropping it again removes only it, announcing nothing
        await r.Subsystem.ReloadAsync(Config(Instance()), CancellationToken.None);
        Assert.True(Wait.Until(() => r.Calls().Length == calls.Length + 2));
        Assert.Equal($"del 10.0.0.101/24 dev {If}", r.Calls()[^1]);
        Assert.Equal(10, r.Garp.Sent.Count);
        Assert.True(r.Addresses.Has(If, IPAddress.Parse("10.0.0.100")));
        Assert.False(r.Addresses.Has(If, IPAddress.Parse("10.0.0.101")));
    }

    [Fact]
    public async Task A_higher_priority_makes_a_preempting_backup_take_over_by_the_protocol()
    {
        await using var r = new Rig(Config(Instance()));
        await r.Subsystem.StartAsync(CancellationToken.None);
        for (var i = 0; i < 10; i++)
        {
            r.Advert("VI_1", 150);
            r.Time.Advance(TimeSpan.FromSeconds(1));
        }
        Assert.Equal(VrrpState.Backup, r.Status().State);

        var result = await r.Subsystem.ReloadAsync(Config(Instance(priority: 200)), CancellationToken.None);

        Assert.Equal(["VI_1"], result.ChangedSoft);
        Assert.Equal(VrrpState.Backup, r.Status().State); // no transition at reload time
        Assert.Equal(200, r.Status().EffectivePriority);
        Assert.Contains(("VI_1", 100, 200), r.Events.Priorities);
        // the MASTER's adverts (150) are now lower: discarded, the master-down timer runs out
        for (var i = 0; i < 4 && r.Status().State == VrrpState.Backup; i++)
        {
            r.Advert("VI_1", 150);
            r.Time.Advance(TimeSpan.FromSeconds(1));
        }
        Assert.Equal(VrrpState.Master, r.Status().State);
        Assert.Equal("advertisement timeout", r.Status().LastReason);
    }

    [Fact]
    public async Task A_higher_priority_with_nopreempt_does_not_take_over()
    {
        await using var r = new Rig(Config(Instance()));
        await r.Subsystem.StartAsync(CancellationToken.None);
        r.Advert("VI_1", 150);
        await r.Subsystem.ReloadAsync(Config(Instance(priority: 200) with { Preempt = false }), CancellationToken.None);
        for (var i = 0; i < 10; i++)
        {
            r.Advert("VI_1", 150);
            r.Time.Advance(TimeSpan.FromSeconds(1));
        }
        Assert.Equal(VrrpState.Backup, r.Status().State);
    }

    [Fact]
    public async Task A_lower_priority_makes_a_master_yield_to_the_next_higher_advert()
    {
        await using var r = new Rig(Config(Instance()));
        await r.StartMasterAsync(1);
        r.Advert("VI_1", 80);
        Assert.Equal(VrrpState.Master, r.Status().State);

        await r.Subsystem.ReloadAsync(Config(Instance(priority: 50)), CancellationToken.None);
        Assert.Equal(VrrpState.Master, r.Status().State);
        r.Advert("VI_1", 80);

        Assert.Equal(VrrpState.Backup, r.Status().State);
        Assert.True(Wait.Until(() => r.Addresses.Vips.Count == 0));
    }

    [Fact]
    public async Task Maintenance_survives_a_reload_that_restarts_the_instance()
    {
        await using var r = new Rig(Config(Instance()));
        await r.StartMasterAsync(1);
        var on = r.Subsystem.SetMaintenance("VI_1", on: true);
        Assert.Equal("maintenance on: was MASTER, sent priority 0, now BACKUP", on.Text);
        Assert.True(Wait.Until(() => r.Addresses.Vips.Count == 0));

        var result = await r.Subsystem.ReloadAsync(Config(Instance(vrid: 60)), CancellationToken.None);
        Assert.Equal(["VI_1"], result.ChangedHard);
        r.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(VrrpState.Backup, r.Status().State);
        Assert.Equal("maintenance", r.Status().Operator);
        Assert.Empty(r.Addresses.Vips);

        r.Subsystem.SetMaintenance("VI_1", on: false);
        r.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.True(Wait.Until(() => r.Addresses.Vips.Count == 1));
        Assert.Equal(VrrpState.Master, r.Status().State);
        Assert.Null(r.Status().Operator);
    }

    [Fact]
    public async Task A_new_vrid_restarts_only_that_instance()
    {
        await using var r = new Rig(Config(Instance(), Instance("VI_2", 52, 100, "10.0.0.200")));
        await r.StartMasterAsync(2);
        var vi1 = r.Subsystem.MachineOf("VI_1");
        var vi1Events = r.Events.Changes.Count(c => c.Name == "VI_1");
        var vi1Adverts = r.Status().AdvertsSent;
        var calls = r.Calls();

        var result = await r.Subsystem.ReloadAsync(Config(Instance(), Instance("VI_2", 60, 100, "10.0.0.200")), CancellationToken.None);

        Assert.Equal(["VI_2"], result.ChangedHard);
        Assert.Equal(["VI_1"], result.Kept);
        Assert.Contains(nameof(VrrpInstanceOptions.VirtualRouterId), result.Changes.Single(c => c.Name == "VI_2").Fields);
        Assert.Same(vi1, r.Subsystem.MachineOf("VI_1"));
        Assert.Equal(60, r.Status("VI_2").VirtualRouterId);
        Assert.Equal(VrrpState.Backup, r.Status("VI_2").State);
        Assert.Equal([.. calls, $"del 10.0.0.200/24 dev {If}"], r.Calls());
        var vi2 = r.Events.Changes.Where(c => c.Name == "VI_2").Select(c => (c.OldState, c.NewState)).ToArray();
        Assert.Equal([(VrrpState.Master, VrrpState.Stop), (VrrpState.Init, VrrpState.Backup)], vi2[^2..]);

        r.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(VrrpState.Master, r.Status("VI_2").State);
        Assert.True(Wait.Until(() => r.Addresses.Has(If, IPAddress.Parse("10.0.0.200"))));
        Assert.Equal(vi1Events, r.Events.Changes.Count(c => c.Name == "VI_1"));
        Assert.Equal(vi1Adverts + 4, r.Status().AdvertsSent);
        Assert.DoesNotContain(r.Calls().Skip(calls.Length), c => c.Contains("10.0.0.100", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_same_options_twice_make_the_second_reload_a_no_op()
    {
        await using var r = new Rig(Config(Instance()));
        await r.StartMasterAsync(1);
        var first = await r.Subsystem.ReloadAsync(Config(Instance(priority: 120, vips: ["10.0.0.100", "10.0.0.101"])), CancellationToken.None);
        var second = await r.Subsystem.ReloadAsync(Config(Instance(priority: 120, vips: ["10.0.0.100", "10.0.0.101"])), CancellationToken.None);
        Assert.Equal(["VI_1"], first.ChangedSoft);
        Assert.True(second.NothingChanged);
        Assert.True(Wait.Until(() => r.Addresses.Vips.Count == 2));
        Assert.Single(r.Calls(), c => c.StartsWith("add 10.0.0.101", StringComparison.Ordinal));
    }

    [Fact]
    public async Task One_hundred_concurrent_alternating_reloads_neither_lose_nor_double_apply_a_change()
    {
        await using var r = new Rig(Config(Instance()));
        await r.StartMasterAsync(1);
        var events = r.Events.Changes.Count;
        var a = () => Config(Instance());
        var b = () => Config(Instance(vips: ["10.0.0.100", "10.0.0.101"]));

        // a signal storm: every SIGHUP handler fires its reload at once
        var tasks = Enumerable.Range(0, 100).Select(i => Task.Run(async () => (ToB: i % 2 == 0, Result: await r.Subsystem.ReloadAsync(i % 2 == 0 ? b() : a(), CancellationToken.None)))).ToArray();
        var results = await Task.WhenAll(tasks);

        var adds = results.Count(x => x.ToB && !x.Result.NothingChanged);
        var dels = results.Count(x => !x.ToB && !x.Result.NothingChanged);
        Assert.All(results, x => Assert.True(x.Result.NothingChanged || x.Result.ChangedSoft.SequenceEqual(["VI_1"])));
        Assert.True(adds - dels is 0 or 1);
        Assert.True(Wait.Until(() => r.Calls().Count(c => c.Contains("10.0.0.101", StringComparison.Ordinal)) == adds + dels));
        Assert.Equal(adds, r.Calls().Count(c => c.StartsWith("add 10.0.0.101", StringComparison.Ordinal)));
        Assert.Equal(dels, r.Calls().Count(c => c.StartsWith("del 10.0.0.101", StringComparison.Ordinal)));
        Assert.Single(r.Calls(), c => c.StartsWith("add 10.0.0.100", StringComparison.Ordinal));
        // the table matches the configuration that won
        var configured = r.Status().VirtualAddresses.Select(v => v.Address).OrderBy(x => x.ToString()).ToArray();
        Assert.Equal(configured, r.Addresses.Vips.Select(v => v.Address.Address).OrderBy(x => x.ToString()).ToArray());
        Assert.Equal(adds - dels == 1 ? 2 : 1, configured.Length);
        Assert.Equal(events, r.Events.Changes.Count);
        Assert.Equal(VrrpState.Master, r.Status().State);
    }

    [Fact]
    public async Task One_hundred_sequential_alternating_reloads_apply_each_change_once()
    {
        await using var r = new Rig(Config(Instance()));
        await r.StartMasterAsync(1);
        for (var i = 0; i < 100; i++)
        {
            var res = await r.Subsystem.ReloadAsync(i % 2 == 0 ? Config(Instance(vips: ["10.0.0.100", "10.0.0.101"])) : Config(Instance()), CancellationToken.None);
            Assert.Equal(["VI_1"], res.ChangedSoft);
        }
        Assert.True(Wait.Until(() => r.Calls().Count(c => c.Contains("10.0.0.101", StringComparison.Ordinal)) == 100));
        Assert.Equal(50, r.Calls().Count(c => c.StartsWith("add 10.0.0.101", StringComparison.Ordinal)));
        Assert.Equal(50, r.Calls().Count(c => c.StartsWith("del 10.0.0.101", StringComparison.Ordinal)));
        Assert.Equal([IPAddress.Parse("10.0.0.100")], r.Addresses.Vips.Select(v => v.Address.Address));
        Assert.Equal(VrrpState.Master, r.Status().State);
    }

    [Fact]
    public async Task Reloads_racing_with_incoming_adverts_lose_no_advert_and_cause_no_transition()
    {
        await using var r = new Rig(Config(Instance()));
        await r.Subsystem.StartAsync(CancellationToken.None);
        r.Advert("VI_1", 200);
        var machine = r.Subsystem.MachineOf("VI_1");
        var events = r.Events.Changes.Count;
        var received = r.Status().AdvertsReceived;
        using var stop = new CancellationTokenSource();
        var feeder = Task.Run(() =>
        {
            var n = 0;
            while (!stop.IsCancellationRequested || n < 400)
            {
                r.Advert("VI_1", 200);
                r.Time.Advance(TimeSpan.FromMilliseconds(500));
                n++;
            }
            return n;
        });
        for (var i = 0; i < 100; i++)
            await r.Subsystem.ReloadAsync(Config(Instance(priority: i % 2 == 0 ? 120 : 100) with { GarpMasterRepeat = i % 3 }), CancellationToken.None);
        stop.Cancel();
        var fed = await feeder;

        Assert.Same(machine, r.Subsystem.MachineOf("VI_1"));
        Assert.Equal(received + fed, r.Status().AdvertsReceived);
        Assert.Equal(events, r.Events.Changes.Count);
        Assert.Equal(VrrpState.Backup, r.Status().State);
        Assert.Equal(100, r.Status().EffectivePriority);
        Assert.Empty(r.Calls());
    }

    [Fact]
    public async Task An_unchanged_track_file_keeps_its_value_and_a_changed_one_restarts()
    {
        var path = Path.Combine(Path.GetTempPath(), $"lb-reload-{Guid.NewGuid():N}");
        try
        {
            File.WriteAllText(path, "3\n");
            VrrpSubsystemOptions Cfg(int weight, int priority = 100) => Config(Instance(priority: priority) with { TrackFiles = [new TrackedReference("f1")] }) with
            {
                TrackFiles = [new VrrpTrackFileOptions { Name = "f1", Path = path, Weight = weight }],
            };
            await using var r = new Rig(Cfg(-10));
            await r.Subsystem.StartAsync(CancellationToken.None);
            Assert.Equal(70, r.Status().EffectivePriority);

            var kept = await r.Subsystem.ReloadAsync(Cfg(-10, priority: 110), CancellationToken.None);
            Assert.DoesNotContain(kept.Changes, c => c.Object == VrrpReloadObject.TrackFile);
            Assert.Equal(80, r.Status().EffectivePriority);

            var changed = await r.Subsystem.ReloadAsync(Cfg(-20, priority: 110), CancellationToken.None);
            Assert.Contains(changed.Changes, c => c is { Object: VrrpReloadObject.TrackFile, Name: "f1", Action: VrrpReloadAction.Restarted });
            Assert.Equal(["VI_1"], changed.ChangedSoft);
            Assert.Equal(50, r.Status().EffectivePriority);

            var removed = await r.Subsystem.ReloadAsync(Config(Instance(priority: 110)), CancellationToken.None);
            Assert.Contains(removed.Changes, c => c is { Object: VrrpReloadObject.TrackFile, Name: "f1", Action: VrrpReloadAction.Removed });
            Assert.Equal(110, r.Status().EffectivePriority);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Sync_group_membership_changes_and_an_unchanged_group_keeps_its_state()
    {
        var group = new VrrpSyncGroupOptions { Name = "G1", Members = ["VI_1"] };
        await using var r = new Rig(Config(Instance(), Instance("VI_2", 52, 100, "10.0.0.200")) with { SyncGroups = [group] });
        await r.StartMasterAsync(2);
        var groupEvents = r.Events.Changes.Count(c => c.Kind == VrrpEntityKind.Group);

        var same = await r.Subsystem.ReloadAsync(Config(Instance(), Instance("VI_2", 52, 100, "10.0.0.200")) with { SyncGroups = [group with { Members = ["VI_1"] }] }, CancellationToken.None);
        Assert.True(same.NothingChanged);

        var grown = await r.Subsystem.ReloadAsync(Config(Instance(), Instance("VI_2", 52, 100, "10.0.0.200")) with { SyncGroups = [group with { Members = ["VI_1", "VI_2"] }] }, CancellationToken.None);
        Assert.Contains(grown.Changes, c => c is { Object: VrrpReloadObject.SyncGroup, Name: "G1", Action: VrrpReloadAction.ChangedInPlace });
        Assert.Equal(["G1"], r.Subsystem.GetStatus().SyncGroups.Select(g => g.Name));
        Assert.Equal(["VI_1", "VI_2"], r.Subsystem.GetStatus().SyncGroups[0].Members);
        Assert.Equal("G1", r.Status("VI_2").SyncGroup);
        Assert.Equal(groupEvents, r.Events.Changes.Count(c => c.Kind == VrrpEntityKind.Group));
        Assert.Equal(VrrpState.Master, r.Status("VI_1").State);
        Assert.Equal(VrrpState.Master, r.Status("VI_2").State);

        var gone = await r.Subsystem.ReloadAsync(Config(Instance(), Instance("VI_2", 52, 100, "10.0.0.200")), CancellationToken.None);
        Assert.Contains(gone.Changes, c => c is { Object: VrrpReloadObject.SyncGroup, Name: "G1", Action: VrrpReloadAction.Removed });
        Assert.Null(r.Status("VI_2").SyncGroup);
        Assert.Equal(VrrpState.Master, r.Status("VI_1").State);
    }

    [Fact]
    public async Task A_global_that_needs_a_restart_is_logged_as_a_warning()
    {
        await using var r = new Rig(Config(Instance()));
        await r.StartMasterAsync(1);
        var result = await r.Subsystem.ReloadAsync(Config(Instance()) with { StartupDelay = TimeSpan.FromSeconds(7) }, CancellationToken.None);
        Assert.Single(result.Warnings);
        Assert.True(r.Logs.Contains("Reload: StartupDelay changed - vrrp_startup_delay only applies at start-up"));
        Assert.Equal(["VI_1"], result.Kept);
    }

    [Fact]
    public async Task Reload_after_stop_is_refused()
    {
        var r = new Rig(Config(Instance()));
        await r.Subsystem.StartAsync(CancellationToken.None);
        await r.Subsystem.DisposeAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => r.Subsystem.ReloadAsync(Config(Instance()), CancellationToken.None));
    }
}
