using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Lb.Vrrp.Addresses;
using Lb.Vrrp.Diagnostics;
using Lb.Vrrp.Engine;
using Lb.Vrrp.Host;
using Lb.Vrrp.Notify;
using Lb.Vrrp.Options;
using Lb.Vrrp.Protocol;
using Lb.Scripts;
using Lb.Vrrp.Reload;
using Lb.Vrrp.Runtime;
using Lb.Vrrp.Tracking;
using Lb.Vrrp.Transport;
using Microsoft.Extensions.Logging;

namespace Lb.Vrrp;

/// <summary>
/// The VRRP subsystem the host runs: every <c>vrrp_instance</c> with its sockets, VIPs, GARPs,
/// trackers and notifies. Addresses and links come from the host (<see cref="IAddressTable"/>,
/// <see cref="ILinkMonitor"/>), state changes go to <see cref="IVrrpEventSink"/>.
/// </summary>
public sealed partial class VrrpSubsystem : IAsyncDisposable
{
    private VrrpSubsystemOptions _options;
    private readonly IAddressTable _addresses;
    private readonly ILinkMonitor _links;
    private readonly IVrrpEventSink _events;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly VrrpEngine _engine;
    private readonly NotifyDispatcher _notify;
    private readonly SocketPool _pool;
    private readonly VipManager _vips;
    private readonly RouteManager _routes;
    private readonly TrackerHost _trackers;
    private readonly VmacManager _vmacs;
    private readonly InstanceServices _services;
    private readonly SplitBrain.SplitBrainMonitor _splitBrain;
    // copy-on-write: replaced (never mutated) under the engine lock by a reload, so readers iterate a stable snapshot
    private volatile Dictionary<string, InstanceRuntime> _runtimes = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly CancellationTokenSource _cts = new();
    private readonly VrrpTimerThread? _timerThread;
    private readonly CriticalThreads _critical;
    private readonly Func<IGarpSender>? _garpFactory;
    private IGarpSender? _garp;
    private bool _started;
    private bool _stopped;
    private int _disposed; // 0 live, 1 disposing, 2 disposed

    /// <summary>Creates the subsystem; nothing happens until <see cref="StartAsync"/>.</summary>
    public VrrpSubsystem(VrrpSubsystemOptions options, IAddressTable addresses, ILinkMonitor links, IVrrpEventSink events, ILoggerFactory loggerFactory, TimeProvider timeProvider)
        : this(options, addresses, links, events, loggerFactory, timeProvider, null, VrrpSocketFactory.Instance)
    {
    }

    /// <summary>Test seam: the GARP/NA sender.</summary>
    internal VrrpSubsystem(VrrpSubsystemOptions options, IAddressTable addresses, ILinkMonitor links, IVrrpEventSink events, ILoggerFactory loggerFactory, TimeProvider timeProvider, Func<IGarpSender>? garpFactory)
        : this(options, addresses, links, events, loggerFactory, timeProvider, garpFactory, VrrpSocketFactory.Instance)
    {
    }

    /// <summary>Test seam: the GARP/NA sender (null: the real one) and the transports of the socket pool.</summary>
    internal VrrpSubsystem(VrrpSubsystemOptions options, IAddressTable addresses, ILinkMonitor links, IVrrpEventSink events, ILoggerFactory loggerFactory, TimeProvider timeProvider, Func<IGarpSender>? garpFactory, IVrrpTransportFactory transports, Func<IProbeTransport>? probes = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _options = options;
        _addresses = addresses;
        _links = links;
        _events = events;
        _time = timeProvider;
        _garpFactory = garpFactory;
        _logger = loggerFactory.CreateLogger("Lb.Vrrp");
        // protocol timers (advert, master-down, GARP pacing) on their own thread when running on the real clock; a
        // test's manual clock drives them itself
        _critical = new CriticalThreads(options, _logger);
        var timers = timeProvider;
        if (ReferenceEquals(timeProvider, TimeProvider.System))
        {
            var lateThreshold = options.MaxAutoPriority > 0 && options.MinAutoPriorityDelay < TimeSpan.FromMilliseconds(1) ? options.MinAutoPriorityDelay : TimeSpan.FromMilliseconds(1);
            timers = _timerThread = new VrrpTimerThread(onStart: _critical.Register, lateThreshold: lateThreshold);
            _timerThread.Late += _critical.OnLate;
        }
        _pool = new SocketPool(transports, _critical, timeProvider, _logger);
        _vips = new VipManager(addresses, links, timers, _logger, () => _options);
        // routes and rules go through the address table when it can also install them (the host's rtnetlink table does)
        _routes = new RouteManager(addresses as IRouteTable, addresses, _logger);
        var scripts = new ScriptRunner(() => _options.EnableScriptSecurity, timeProvider);
        _notify = new NotifyDispatcher(options, scripts, _logger, events);
        _engine = new VrrpEngine(options, new PriorityForwardingSink(this, events), timers, loggerFactory, (g, s) => _notify.GroupChanged(g.Options, s));
        _trackers = new TrackerHost(_engine.Gate, links, scripts, timeProvider, _logger, () => _options, () => _runtimes.Values);
        _vmacs = new VmacManager(links, _logger);
        _splitBrain = new SplitBrain.SplitBrainMonitor(() => _options, links, _vips.Links, timeProvider, _logger, events, 
            probes ?? (garpFactory is null ? () => new ProbeSocket() : () => new NullProbeTransport()),
            rt => _vips.Announce(rt, [.. VipManager.AllVips(rt.Machine.Settings.Options)], rt.Machine.Settings.GarpMasterRepeat));
        _services = new InstanceServices(_engine, _pool, _vips, _notify, links, _logger, _vmacs) { Routes = _routes, SplitBrain = _splitBrain };
        _vips.Firewall = new AcceptModeFirewall(() => _options, AcceptModeFirewall.CommitWithNewSocketAsync, _logger);
        foreach (var io in options.Instances)
        {
            var rt = new InstanceRuntime(_services, InstanceSettings.Resolve(io, options), TrackingState.BindingsFor(io, options));
            _engine.Add(rt.Machine);
            _runtimes[rt.Name] = rt;
        }
        foreach (var g in options.SyncGroups)
            _engine.CreateGroup(g);
    }

    /// <summary>Test seam: where accept mode's nf_tables transactions go (set before <see cref="StartAsync"/>).</summary>
    internal Func<IReadOnlyList<Lb.Netlink.NetlinkRequest>, CancellationToken, Task> AcceptModeCommit
    {
        set
        {
            _vips.Firewall?.Dispose();
            _vips.Firewall = new AcceptModeFirewall(() => _options, value, _logger);
        }
    }

    /// <summary>FIFO lines written so far (most recent 256), for diagnostics and tests.</summary>
    public IReadOnlyList<string> RecentNotifyLines
    {
        get
        {
            lock (_notify.RecentFifoLines)
                return _notify.RecentFifoLines.ToArray();
        }
    }

    /// <summary>Opens sockets, starts trackers and every instance (INIT → BACKUP/MASTER/FAULT).</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await StartCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        if (_started)
            return;
        _started = true;
        _critical.Start();
        try
        {
            if (_garpFactory is not null)
                _garp = _garpFactory();
            else
                _garp = new GarpSender();
        }
        catch (SocketException ex)
        {
            _logger.ActionFailed("vrrp", "open AF_PACKET socket (gratuitous ARP disabled)", ex.Message);
        }
        _vips.Sender = _garp;
        _links.LinkChanged += OnLinkChanged;
        _addresses.AddressChanged += OnAddressChanged;
        if (_addresses is IRouteTable routing)
            routing.RoutingChanged += OnRoutingChanged;
        else if (_options.Instances.Sum(o => o.VirtualRoutes.Count + o.VirtualRules.Count) + _options.StaticRoutes.Count + _options.StaticRules.Count is > 0 and var n)
            _logger.NoRouteTable(n);
        foreach (var rt in _runtimes.Values)
        {
            await rt.AttachAsync(cancellationToken).ConfigureAwait(false);
            rt.StartWorker(_cts.Token);
        }
        await _vips.RemoveLeftoversAsync(_runtimes.Values, cancellationToken).ConfigureAwait(false);
        await _routes.StartStaticAsync(_options, cancellationToken).ConfigureAwait(false);
        await _trackers.StartAsync(cancellationToken).ConfigureAwait(false);
        lock (_engine.Gate)
        {
            foreach (var rt in _runtimes.Values)
                _trackers.Reevaluate(rt, "init");
        }
        if (_options.StartupDelay > TimeSpan.Zero)
            await Task.Delay(_options.StartupDelay, _time, cancellationToken).ConfigureAwait(false);
        _engine.StartAll();
    }

    /// <summary>Sends priority-0 adverts and removes the VIPs of every MASTER (unless <c>--dont-release-vrrp</c>), runs notify_stop, closes sockets.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) == 2)
            return; // disposed: nothing left to stop (and the lifecycle gate is gone)
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await StopCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    private async Task StopCoreAsync(CancellationToken cancellationToken)
    {
        if (!_started || _stopped)
            return;
        _stopped = true;
        _links.LinkChanged -= OnLinkChanged;
        _addresses.AddressChanged -= OnAddressChanged;
        if (_addresses is IRouteTable routing)
            routing.RoutingChanged -= OnRoutingChanged;
        _trackers.Stop();
        _engine.StopAll(_options.DontReleaseVrrp);
        foreach (var rt in _runtimes.Values)
        {
            rt.CancelGarps();
            await rt.DrainAsync(cancellationToken).ConfigureAwait(false);
        }
        foreach (var rt in _runtimes.Values)
            await _vmacs.ReleaseAsync(rt, cancellationToken).ConfigureAwait(false);
        await _routes.StopStaticAsync(cancellationToken).ConfigureAwait(false);
        await _notify.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (_vips.Firewall is { } firewall)
            await firewall.StopAsync(cancellationToken).ConfigureAwait(false);
        await _cts.CancelAsync().ConfigureAwait(false);
        _splitBrain.Dispose();
        _pool.CloseAll();
        _garp?.Dispose();
    }

    /// <summary>A snapshot for <c>lb status</c>.</summary>
    public VrrpStatus GetStatus() => _splitBrain.Decorate(_engine.GetStatus(_pool.UnattributedDrops));

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _notify.DisposeAsync().ConfigureAwait(false);
        _routes.Dispose();
        foreach (var rt in _runtimes.Values)
            rt.Dispose();
        _cts.Dispose();
        _vmacs.Dispose();
        _vips.Firewall?.Dispose();
        _timerThread?.Dispose();
        // last: from now on StopAsync does nothing, ReloadAsync is refused and StartAsync fails with ObjectDisposedException
        Volatile.Write(ref _disposed, 2);
        _lifecycle.Dispose();
    }

    // ---- host events -----------------------------------------------------------------------

    private void OnAddressChanged(object? sender, AddressChangedEventArgs e)
    {
        foreach (var rt in _runtimes.Values)
            rt.OnAddressChanged(e);
        _routes.OnAddressChanged(e);
    }

    private void OnRoutingChanged(object? sender, RoutingChangedEventArgs e) =>
        _routes.OnRoutingChanged(e, _runtimes.Values, rt =>
        {
            lock (_engine.Gate)
                return rt.Machine.VipsSet && rt.Machine.State == VrrpState.Master;
        });

    private void OnLinkChanged(object? sender, LinkInfo link)
    {
        _logger.LinkState(link.Name, link.Exists ? (link.IsUp ? "up" : "down") : "removed");
        _vips.OnLinkChanged(link);
        if (!link.Exists)
            _pool.CloseInterface(link.Name, _runtimes.Values); // bound to a dead ifindex: reopened when it reappears
        lock (_engine.Gate)
        {
            foreach (var rt in _runtimes.Values)
            {
                if (rt.Bindings.Any(b => b.Kind == TrackerKind.Interface && b.Name == link.Name))
                    _trackers.Reevaluate(rt, $"interface {link.Name} {(link.Exists ? (link.IsUp ? "up" : "down") : "removed")}");
                if (rt.Machine.Settings.Options.Interface == link.Name && link.Exists)
                {
                    if (rt.Socket is null)
                        rt.Enqueue(ct => rt.AttachAsync(ct));
                }
                else if (rt.Vmac?.Name == link.Name && !link.Exists)
                {
                    // keepalived re-creates a VMAC of its own deleted behind its back (when its base is still there)
                    _logger.VmacRecreating(rt.Name, link.Name);
                    rt.Enqueue(ct => rt.AttachAsync(ct));
                }
            }
        }
    }

    private sealed class PriorityForwardingSink(VrrpSubsystem owner, IVrrpEventSink inner) : IVrrpEventSink
    {
        public void OnStateChanged(VrrpStateChange change) => inner.OnStateChanged(change);

        public void OnPriorityChanged(string instance, int oldPriority, int newPriority)
        {
            inner.OnPriorityChanged(instance, oldPriority, newPriority);
            if (owner._runtimes.TryGetValue(instance, out var rt) && rt.Machine.Settings.NotifyPriorityChanges)
                owner._notify.PriorityChanged(rt.Machine.Settings.Options, rt.Machine.State, newPriority);
        }
    }
}
