using Lb.Hosting;
using Lb.Netlink;
using Lb.Netlink.Ipvs;
using Lb.TestSupport;
using Lb.Vrrp.Host;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Lb.Tests.Hosting;

/// <summary>
/// The sync-daemon decisions (keepalived 2.2.7's ipvs_syncd_master/backup, checker start/stop) and the controller applying
/// them through a fake kernel that behaves as the kernel does (one daemon per state: EEXIST when running, ESRCH when not).
/// </summary>
public sealed class LvsSyncControllerTests
{
    private static readonly LvsSyncDaemonOptions Bound = new() { Interface = "eth1", Instance = "VI_1", SyncId = 51, Port = 8849 };
    private static readonly LvsSyncDaemonOptions Unbound = new() { Interface = "eth1" };

    private static VrrpStateChange Change(string name, VrrpState from, VrrpState to) =>
        new(DateTimeOffset.UnixEpoch, VrrpEntityKind.Instance, name, from, to, 100, "test");

    /// <summary>The kernel's sync daemons as the kernel keeps them, and every request in order.</summary>
    private sealed class FakeKernel : ILvsSyncKernel
    {
        public readonly Dictionary<IpvsSyncDaemonState, IpvsSyncDaemon> Daemons = [];
        public readonly List<string> Requests = [];
        public IpvsTimeouts Timeouts = new(900, 120, 300);
        public int? FailStartWith;

        public Task StartSyncDaemonAsync(IpvsSyncDaemon daemon, CancellationToken cancellationToken)
        {
            lock (this)
            {
                Requests.Add($"start {daemon.State}");
                if (FailStartWith is { } errno)
                    throw new NetlinkException($"start IPVS {daemon}", errno);
                if (Daemons.ContainsKey(daemon.State))
                    throw new NetlinkException($"start IPVS {daemon}", Errno.EEXIST);
                Daemons[daemon.State] = daemon;
            }
            return Task.CompletedTask;
        }

        public Task StopSyncDaemonAsync(IpvsSyncDaemonState state, CancellationToken cancellationToken)
        {
            lock (this)
            {
                Requests.Add($"stop {state}");
                if (!Daemons.Remove(state))
                    throw new NetlinkException($"stop IPVS {state} sync daemon", Errno.ESRCH);
            }
            return Task.CompletedTask;
        }

        public Task<IpvsTimeouts> GetTimeoutsAsync(CancellationToken cancellationToken) => Task.FromResult(Timeouts);

        public Task SetTimeoutsAsync(IpvsTimeouts timeouts, CancellationToken cancellationToken)
        {
            lock (this)
            {
                Requests.Add($"timeouts {timeouts.Tcp} {timeouts.TcpFin} {timeouts.Udp}");
                Timeouts = timeouts;
            }
            return Task.CompletedTask;
        }

        public IpvsSyncDaemonState[] States()
        {
            lock (this)
                return Daemons.Keys.Order().ToArray();
        }

        public void Dispose()
        {
        }
    }

    private static LvsSyncController Controller(FakeKernel kernel, LvsSyncOptions options, bool runVrrp = true, bool runCheckers = true) =>
        new(options, runVrrp, runCheckers, _ => Task.FromResult<ILvsSyncKernel>(kernel), NullLogger.Instance);

    private static void Settle(FakeKernel kernel, params IpvsSyncDaemonState[] states) =>
        Assert.True(Wait.Until(() => kernel.States().SequenceEqual(states), TimeSpan.FromSeconds(10), pollMilliseconds: 10),
            $"kernel daemons: [{string.Join(", ", kernel.States())}], wanted [{string.Join(", ", states)}]");

    [Fact]
    public void Wanted_follows_keepalived_master_daemon_only_on_MASTER_backup_otherwise_both_when_unbound()
    {
        var bound = new LvsSyncOptions { SyncDaemon = Bound };
        IpvsSyncDaemonState[] States(LvsSyncOptions o, bool vrrp, bool checkers, VrrpState? s) =>
            LvsSyncPlan.Wanted(o, vrrp, checkers, s).Select(d => d.State).ToArray();
        Assert.Equal([IpvsSyncDaemonState.Backup], States(bound, true, false, null));
        Assert.Equal([IpvsSyncDaemonState.Backup], States(bound, true, false, VrrpState.Backup));
        Assert.Equal([IpvsSyncDaemonState.Master], States(bound, true, false, VrrpState.Master));
        Assert.Equal([IpvsSyncDaemonState.Backup], States(bound, true, false, VrrpState.Fault));
        Assert.Empty(States(bound, false, true, VrrpState.Master));
        var unbound = new LvsSyncOptions { SyncDaemon = Unbound };
        Assert.Equal([IpvsSyncDaemonState.Master, IpvsSyncDaemonState.Backup], States(unbound, false, true, null));
        Assert.Empty(States(unbound, true, false, null));
        Assert.Empty(States(new LvsSyncOptions(), true, true, VrrpState.Master));
    }

    [Fact]
    public void Plan_stops_before_it_starts_and_restarts_a_daemon_whose_settings_changed()
    {
        var backup = Bound.Daemon(IpvsSyncDaemonState.Backup);
        var master = Bound.Daemon(IpvsSyncDaemonState.Master);
        Assert.Equal(["Stop backup sync daemon on eth1 syncid 51", "Start master sync daemon on eth1 syncid 51"],
            LvsSyncPlan.Plan(new Dictionary<IpvsSyncDaemonState, IpvsSyncDaemon> { [IpvsSyncDaemonState.Backup] = backup }, [master])
                .Select(s => $"{s.Action} {s.Daemon}"));
        Assert.Equal([LvsSyncAction.Stop, LvsSyncAction.Start],
            LvsSyncPlan.Plan(new Dictionary<IpvsSyncDaemonState, IpvsSyncDaemon> { [IpvsSyncDaemonState.Backup] = backup }, [backup with { MulticastTtl = 2 }])
                .Select(s => s.Action));
        Assert.Empty(LvsSyncPlan.Plan(new Dictionary<IpvsSyncDaemonState, IpvsSyncDaemon> { [IpvsSyncDaemonState.Backup] = backup }, [backup]));
        Assert.Equal(new IpvsTimeouts(60, 120, 300), LvsSyncPlan.Merge(new IpvsTimeouts(60, 0, 0), new IpvsTimeouts(900, 120, 300)));
    }

    [Fact]
    public async Task A_bound_daemon_swaps_master_and_backup_with_the_instance_and_stops_at_the_end()
    {
        var kernel = new FakeKernel();
        await using var controller = Controller(kernel, new LvsSyncOptions { SyncDaemon = Bound });
        await controller.StartAsync(CancellationToken.None);
        Settle(kernel, IpvsSyncDaemonState.Backup);
        Assert.Equal(Bound.Daemon(IpvsSyncDaemonState.Backup), kernel.Daemons[IpvsSyncDaemonState.Backup]);

        controller.OnStateChanged(Change("VI_1", VrrpState.Backup, VrrpState.Master));
        Settle(kernel, IpvsSyncDaemonState.Master);
        controller.OnStateChanged(Change("VI_2", VrrpState.Master, VrrpState.Backup));   // another instance: no effect
        controller.OnStateChanged(Change("VI_1", VrrpState.Master, VrrpState.Fault));
        Settle(kernel, IpvsSyncDaemonState.Backup);
        controller.OnStateChanged(Change("VI_1", VrrpState.Fault, VrrpState.Stop));      // shutting down: not swapped

        await controller.StopAsync(CancellationToken.None);
        Assert.Empty(kernel.States());
        // The stale-daemon sweep at start, then one swap per transition, then the stop.
        Assert.Equal(["stop Master", "stop Backup", "start Backup", "stop Backup", "start Master", "stop Master", "start Backup", "stop Backup"], kernel.Requests);
    }

    [Fact]
    public async Task An_unbound_daemon_runs_both_with_the_checkers_after_clearing_stale_ones_and_sets_then_restores_timeouts()
    {
        var kernel = new FakeKernel();
        kernel.Daemons[IpvsSyncDaemonState.Master] = new IpvsSyncDaemon(IpvsSyncDaemonState.Master, "old", 9);
        await using var controller = Controller(kernel, new LvsSyncOptions { SyncDaemon = Unbound, Timeouts = new IpvsTimeouts(60, 0, 0) }, runVrrp: false);
        await controller.StartAsync(CancellationToken.None);
        Assert.Equal(new IpvsTimeouts(60, 120, 300), kernel.Timeouts);
        Settle(kernel, IpvsSyncDaemonState.Master, IpvsSyncDaemonState.Backup);
        Assert.Equal(Unbound.Daemon(IpvsSyncDaemonState.Master), kernel.Daemons[IpvsSyncDaemonState.Master]);

        await controller.StopAsync(CancellationToken.None);
        Assert.Empty(kernel.States());
        Assert.Equal(new IpvsTimeouts(900, 120, 300), kernel.Timeouts);
    }

    [Fact]
    public async Task A_reload_restarts_a_changed_daemon_in_the_instance_s_state_and_removing_the_keywords_undoes_them()
    {
        var kernel = new FakeKernel();
        await using var controller = Controller(kernel, new LvsSyncOptions { SyncDaemon = Bound, Timeouts = new IpvsTimeouts(0, 30, 0) });
        await controller.StartAsync(CancellationToken.None);
        controller.OnStateChanged(Change("VI_1", VrrpState.Backup, VrrpState.Master));
        Settle(kernel, IpvsSyncDaemonState.Master);
        Assert.Equal(new IpvsTimeouts(900, 30, 300), kernel.Timeouts);

        var changed = Bound with { Ttl = 4 };
        await controller.ReloadAsync(new LvsSyncOptions { SyncDaemon = changed, Timeouts = new IpvsTimeouts(0, 30, 0) }, CancellationToken.None);
        Assert.Equal(changed.Daemon(IpvsSyncDaemonState.Master), kernel.Daemons[IpvsSyncDaemonState.Master]);

        kernel.Requests.Clear();
        await controller.ReloadAsync(new LvsSyncOptions { SyncDaemon = changed, Timeouts = new IpvsTimeouts(0, 30, 0) }, CancellationToken.None);
        Assert.Empty(kernel.Requests);   // unchanged: nothing sent

        await controller.ReloadAsync(new LvsSyncOptions(), CancellationToken.None);
        Assert.Empty(kernel.States());
        Assert.Equal(new IpvsTimeouts(900, 120, 300), kernel.Timeouts);
    }

    [Fact]
    public async Task A_kernel_refusal_is_logged_and_does_not_stop_the_controller()
    {
        var kernel = new FakeKernel { FailStartWith = 19 };   // ENODEV: no such interface
        var log = new ListLogger();
        await using var controller = new LvsSyncController(new LvsSyncOptions { SyncDaemon = Bound }, true, false, _ => Task.FromResult<ILvsSyncKernel>(kernel), log);
        await controller.StartAsync(CancellationToken.None);
        Assert.Contains(log.Lines, l => l.Contains("start IPVS backup sync daemon on eth1 syncid 51", StringComparison.Ordinal) && l.Contains("ENODEV", StringComparison.Ordinal));
        Assert.Empty(controller.Running);
        kernel.FailStartWith = null;
        controller.OnStateChanged(Change("VI_1", VrrpState.Backup, VrrpState.Master));
        Settle(kernel, IpvsSyncDaemonState.Master);
    }

    private sealed class ListLogger : Microsoft.Extensions.Logging.ILogger
    {
        public readonly List<string> Lines = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines)
                Lines.Add($"{logLevel}: {formatter(state, exception)}");
        }
    }
}
