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
    private readonly ScriptRunner _scripts;
    private readonly TrackingState _tracking = new();
    // copy-on-write: replaced (never mutated) under the engine lock by a reload, so readers iterate a stable snapshot
    private volatile Dictionary<string, InstanceRuntime> _runtimes = new(StringComparer.Ordinal);
    private readonly Dictionary<VrrpInstanceMachine, InstanceRuntime> _byMachine = new(ReferenceEqualityComparer.Instance);
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly Dictionary<(string, AddressFamily, IPAddress?), SocketEntry> _sockets = new();
    private readonly Dictionary<string, ScriptTracker> _scriptTrackers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, VrrpScriptOptions> _runningScripts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, VrrpTrackFileOptions> _runningFiles = new(StringComparer.Ordinal);
    private readonly Dictionary<string, VrrpTrackProcessOptions> _runningProcesses = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TrackFileReader> _fileReaders = new(StringComparer.Ordinal);
    private volatile VrrpTrackFileOptions[] _polledFiles = [];
    private volatile VrrpTrackProcessOptions[] _polledProcesses = [];
    private ITimer? _filePoller;
    private ITimer? _processPoller;
    private readonly VrrpDropCounters _unattributedDrops = new();
    private readonly RateLimiter _socketDropLog;
    private readonly CancellationTokenSource _cts = new();
    private IGarpSender? _garp;
    private readonly LinkCache _linkCache;
    private readonly VrrpTimerThread? _timerThread;
    private readonly CriticalThreads _critical;
    private readonly GarpScheduler _garps;
    private readonly Func<IGarpSender>? _garpFactory;
    private readonly IVrrpTransportFactory _transports = VrrpSocketFactory.Instance;
    private bool _started;
    private bool _stopped;
    private int _disposed; // 0 live, 1 disposing, 2 disposed

    /// <summary>Creates the subsystem; nothing happens until <see cref="StartAsync"/>.</summary>
    public VrrpSubsystem(VrrpSubsystemOptions options, IAddressTable addresses, ILinkMonitor links, IVrrpEventSink events, ILoggerFactory loggerFactory, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _options = options;
        _addresses = addresses;
        _links = links;
        _events = events;
        _time = timeProvider;
        _logger = loggerFactory.CreateLogger("Lb.Vrrp");
        _socketDropLog = new RateLimiter(timeProvider);
        _linkCache = new LinkCache(links);
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
        _garps = new GarpScheduler(_linkCache, timers, _logger);
        _scripts = new ScriptRunner(() => _options.EnableScriptSecurity, timeProvider);
        _notify = new NotifyDispatcher(options, _scripts, _logger);
        var sink = new ActionSink(this);
        _engine = new VrrpEngine(options, sink, new PriorityForwardingSink(this, events), timers, loggerFactory, (g, s) =>
            _notify.GroupChanged(g.Options, s, g.Members.Count > 0 ? g.Members.Max(m => m.EffectivePriority) : 0));
        foreach (var m in _engine.Instances.Values)
        {
            var rt = new InstanceRuntime(m, TrackingState.BindingsFor(m.Settings.Options, options));
            _runtimes[m.Name] = rt;
            _byMachine[m] = rt;
        }
    }

    /// <summary>Test seam: the GARP/NA sender.</summary>
    internal VrrpSubsystem(VrrpSubsystemOptions options, IAddressTable addresses, ILinkMonitor links, IVrrpEventSink events, ILoggerFactory loggerFactory, TimeProvider timeProvider, Func<IGarpSender>? garpFactory)
        : this(options, addresses, links, events, loggerFactory, timeProvider)
    {
        _garpFactory = garpFactory;
    }

    /// <summary>Test seam: the GARP/NA sender (null: the real one) and the transports of the socket pool.</summary>
    internal VrrpSubsystem(VrrpSubsystemOptions options, IAddressTable addresses, ILinkMonitor links, IVrrpEventSink events, ILoggerFactory loggerFactory, TimeProvider timeProvider, Func<IGarpSender>? garpFactory, IVrrpTransportFactory transports)
        : this(options, addresses, links, events, loggerFactory, timeProvider, garpFactory)
    {
        _transports = transports;
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
        _garps.Sender = _garp;
        _links.LinkChanged += OnLinkChanged;
        _addresses.AddressChanged += OnAddressChanged;
        _notify.StartFifoScript();
        foreach (var rt in _runtimes.Values)
        {
            var o = rt.Machine.Settings.Options;
            if (o.VirtualRoutes.Count + o.VirtualRules.Count > 0)
                _logger.RoutesNotImplemented(o.Name, o.VirtualRoutes.Count + o.VirtualRules.Count);
            await AttachAsync(rt, cancellationToken).ConfigureAwait(false);
            rt.StartWorker(_cts.Token);
        }
        await RemoveLeftoverVipsAsync(cancellationToken).ConfigureAwait(false);
        await StartTrackersAsync(cancellationToken).ConfigureAwait(false);
        lock (_engine.Gate)
        {
            foreach (var rt in _runtimes.Values)
                Reevaluate(rt, "init");
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
        foreach (var t in _scriptTrackers.Values)
            t.Dispose();
        _filePoller?.Dispose();
        _processPoller?.Dispose();
        _engine.StopAll(_options.DontReleaseVrrp);
        foreach (var rt in _runtimes.Values)
        {
            rt.CancelGarps();
            await rt.DrainAsync(cancellationToken).ConfigureAwait(false);
        }
        await _notify.FlushAsync(cancellationToken).ConfigureAwait(false);
        await _cts.CancelAsync().ConfigureAwait(false);
        lock (_sockets)
        {
            foreach (var s in _sockets.Values)
                s.Socket.Dispose();
            _sockets.Clear();
        }
        _garp?.Dispose();
    }

    /// <summary>A snapshot for <c>lb status</c>.</summary>
    public VrrpStatus GetStatus()
    {
        lock (_engine.Gate)
        {
            var inst = _options.Instances.Select(io =>
            {
                var m = _engine.Instances[io.Name];
                return new VrrpInstanceStatus
                {
                    Name = m.Name,
                    State = m.State,
                    BasePriority = m.BasePriority,
                    EffectivePriority = m.EffectivePriority,
                    MasterAddress = m.MasterAddress,
                    SourceAddress = m.SourceAddress,
                    Interface = io.Interface,
                    VirtualRouterId = io.VirtualRouterId,
                    Version = m.Settings.Version,
                    VirtualAddresses = [.. io.VirtualIpAddresses, .. io.VirtualIpAddressesExcluded],
                    VipsSet = m.VipsSet,
                    LastTransition = m.LastTransition,
                    LastReason = m.LastReason,
                    AdvertsReceived = m.AdvertsReceived,
                    AdvertsSent = m.AdvertsSent,
                    LowerPriorityReceived = m.LowerPriorityReceived,
                    Drops = m.Drops.Snapshot(),
                    SyncGroup = m.Group?.Name,
                };
            }).ToArray();
            var groups = _engine.Groups.Values.Select(g => new VrrpSyncGroupStatus(g.Name, g.State, g.Members.Select(m => m.Name).ToArray())).ToArray();
            return new VrrpStatus(inst, groups, _unattributedDrops.Snapshot());
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _notify.DisposeAsync().ConfigureAwait(false);
        foreach (var rt in _runtimes.Values)
            rt.Dispose();
        _cts.Dispose();
        _timerThread?.Dispose();
        // last: from now on StopAsync does nothing, ReloadAsync is refused and StartAsync fails with ObjectDisposedException
        Volatile.Write(ref _disposed, 2);
        _lifecycle.Dispose();
    }

    // ---- sockets and addresses -------------------------------------------------------------

    private async Task AttachAsync(InstanceRuntime rt, CancellationToken ct, bool register = true)
    {
        var s = rt.Machine.Settings;
        var ifname = s.Options.Interface;
        if (ifname is null)
            return;
        var link = _links.GetLink(ifname);
        if (link is null || !link.Exists)
            return;
        // the GARP/NA source of every interface this instance announces on, resolved once here (link events keep it current)
        _linkCache.Resolve(ifname);
        foreach (var dev in AllVips(rt).Select(v => v.Device).OfType<string>().Distinct(StringComparer.Ordinal))
            _linkCache.Resolve(dev);
        var source = s.ConfiguredSource ?? await PrimaryAddressAsync(ifname, s, ct).ConfigureAwait(false);
        lock (_engine.Gate)
            rt.Machine.SourceAddress = source;
        if (source is null)
            return;
        var unicastSrc = s.IsUnicast ? source : null;
        var key = (ifname, s.Family, unicastSrc);
        lock (_sockets)
        {
            if (!_sockets.TryGetValue(key, out var entry))
            {
                try
                {
#pragma warning disable CA2000 // owned by _sockets (through its SocketEntry): closed by StopCoreAsync or CloseUnusedSockets
                    var sock = _transports.Open(ifname, link.Index, s.Family, s.IsUnicast ? null : s.MulticastGroup);
#pragma warning restore CA2000
                    entry = new SocketEntry(sock);
                    _sockets[key] = entry;
                    var captured = entry;
                    entry.Local = unicastSrc;
                    sock.StartReceiving(a => OnAdvert(captured, a), (r, src, vrid) => OnSocketDrop(captured, r, src, vrid), _critical.Register, _critical.Unregister);
                }
                catch (SocketException ex)
                {
                    _logger.ActionFailed(s.Name, $"open VRRP socket on {ifname}", ex.Message);
                    return;
                }
            }
            rt.SocketEntry = entry;
            rt.Socket = entry.Socket;
            if (register)
                entry.ByVrid[(byte)s.Options.VirtualRouterId] = rt.Machine;
        }
    }

    /// <summary>
    /// keepalived 2.2.7 (vrrp_restore_interfaces_startup): at start — not at reload — every configured VIP and
    /// eVIP of every instance is removed before the instances start, whatever state they then enter and whatever
    /// the command line (-X, -V) says: a crashed run may have left them, and a BACKUP holding them would answer
    /// ARP next to the real MASTER. A MASTER adds them back. Runs on each instance's work queue (so it comes
    /// before any later address work) and is awaited with a bound.
    /// </summary>
    private async Task RemoveLeftoverVipsAsync(CancellationToken ct)
    {
        var done = new List<Task>();
        foreach (var rt in _runtimes.Values)
        {
            var vips = AllVips(rt).ToArray();
            if (vips.Length == 0)
                continue;
            rt.Enqueue(async wct =>
            {
                foreach (var group in vips.GroupBy(v => v.Device ?? rt.Machine.Settings.Options.Interface))
                {
                    if (group.Key is not { } dev || _links.GetLink(dev) is not { Exists: true })
                        continue;
                    HashSet<IPAddress>? present = null;
                    try
                    {
                        present = (await _addresses.ListAsync(dev, wct).ConfigureAwait(false)).Select(a => a.Address).ToHashSet();
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        _logger.ActionFailed(rt.Machine.Name, $"list addresses of {dev}", ex.Message);
                    }
                    foreach (var v in group)
                    {
                        // the address list failed: remove blindly, as keepalived does (removing an absent address is not an error)
                        if (present is not null && !present.Contains(v.Address))
                            continue;
                        if (present is not null)
                            _logger.RemovingLeftoverVip(rt.Machine.Name, v.Address, dev);
                        await RemoveOneAsync(rt, v, wct).ConfigureAwait(false);
                    }
                }
            });
            done.Add(rt.Barrier());
        }
        try
        {
            await Task.WhenAll(done).WaitAsync(TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // a stuck address operation must not block start-up; later address work still queues behind it
        }
    }

    private async Task<IPAddress?> PrimaryAddressAsync(string ifname, InstanceSettings s, CancellationToken ct)
    {
        IReadOnlyList<InterfaceAddress> list;
        try
        {
            list = await _addresses.ListAsync(ifname, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.ActionFailed(s.Name, $"list addresses of {ifname}", ex.Message);
            return null;
        }
        var vips = s.Options.VirtualIpAddresses.Concat(s.Options.VirtualIpAddressesExcluded).Select(v => v.Address).ToHashSet();
        if (s.Family == AddressFamily.InterNetwork)
            return list.FirstOrDefault(a => a.Address.AddressFamily == AddressFamily.InterNetwork && !a.Secondary && !vips.Contains(a.Address))?.Address
                ?? list.FirstOrDefault(a => a.Address.AddressFamily == AddressFamily.InterNetwork && !vips.Contains(a.Address))?.Address;
        var ll = list.FirstOrDefault(a => a.Address.IsIPv6LinkLocal && !vips.Contains(a.Address))?.Address;
        return ll is null ? null : new IPAddress(ll.GetAddressBytes());
    }

    private void OnAdvert(SocketEntry entry, ReceivedAdvert a)
    {
        // the packet socket sees every VRRP packet on the link: keep those sent to our group or to us
        if (entry.Local is null ? !a.Destination.Equals(entry.Socket.MulticastGroup) : !a.Destination.Equals(entry.Local))
            return;
        VrrpInstanceMachine? m;
        lock (_sockets)
            entry.ByVrid.TryGetValue(a.Packet.VirtualRouterId, out m);
        if (m is null)
        {
            OnSocketDrop(entry, VrrpDropReason.UnknownVrid, a.Source.ToString(), a.Packet.VirtualRouterId);
            return;
        }
        m.ReceiveAdvert(a.Packet, a.Source, a.Ttl);
    }

    private void OnSocketDrop(SocketEntry entry, VrrpDropReason reason, string source, byte vrid)
    {
        VrrpInstanceMachine? m = null;
        if (reason != VrrpDropReason.UnknownVrid)
        {
            lock (_sockets)
                entry.ByVrid.TryGetValue(vrid, out m);
        }
        if (m is not null)
        {
            m.CountDrop(reason, $"dropped advert from {source}: {reason}");
            return;
        }
        _unattributedDrops.Increment(reason);
        if (_socketDropLog.ShouldLog((int)reason, out var suppressed))
        {
            if (suppressed > 0)
                _logger.DroppedSuppressed(entry.Socket.InterfaceName, suppressed, reason.ToString());
            _logger.SocketDropped(source, entry.Socket.InterfaceName, reason == VrrpDropReason.UnknownVrid ? $"unknown VRID({vrid})" : reason.ToString());
        }
    }

    private void OnAddressChanged(object? sender, AddressChangedEventArgs e)
    {
        foreach (var rt in _runtimes.Values)
        {
            var o = rt.Machine.Settings.Options;
            if (e.Removed)
            {
                foreach (var v in o.VirtualIpAddresses.Concat(o.VirtualIpAddressesExcluded))
                {
                    var dev = v.Device ?? o.Interface;
                    if (!v.NoTrack && v.Address.Equals(e.Address.Address) && dev == e.Address.Interface)
                    {
                        bool set;
                        lock (_engine.Gate)
                            set = rt.Machine.VipsSet && rt.Machine.State == VrrpState.Master;
                        if (set && !rt.IsRemoving(v))
                        {
                            _logger.VipRestoring(o.Name, v.Address, dev!);
                            rt.Enqueue(ct => AddOneAsync(rt, v, ct));
                            GarpNow(rt, 1, [v]);
                        }
                    }
                }
            }
            if (o.Interface == e.Address.Interface && rt.Machine.Settings.ConfiguredSource is null
                && !o.VirtualIpAddresses.Any(v => v.Address.Equals(e.Address.Address)))
            {
                rt.Enqueue(async ct =>
                {
                    var src = await PrimaryAddressAsync(o.Interface!, rt.Machine.Settings, ct).ConfigureAwait(false);
                    if (src is not null)
                    {
                        lock (_engine.Gate)
                            rt.Machine.SourceAddress = src;
                        if (rt.Socket is null)
                            await AttachAsync(rt, ct).ConfigureAwait(false);
                    }
                });
            }
        }
    }

    private void OnLinkChanged(object? sender, LinkInfo link)
    {
        _logger.LinkState(link.Name, link.Exists ? (link.IsUp ? "up" : "down") : "removed");
        _linkCache.OnLinkChanged(link);
        if (!link.Exists)
            DetachInterface(link.Name);
        lock (_engine.Gate)
        {
            foreach (var rt in _runtimes.Values)
            {
                if (rt.Bindings.Any(b => b.Kind == TrackerKind.Interface && b.Name == link.Name))
                    Reevaluate(rt, $"interface {link.Name} {(link.Exists ? (link.IsUp ? "up" : "down") : "removed")}");
                if (rt.Machine.Settings.Options.Interface == link.Name && link.Exists)
                {
                    if (rt.Socket is null)
                        rt.Enqueue(ct => AttachAsync(rt, ct));
                }
            }
        }
    }

    /// <summary>The interface is gone: its sockets are bound to a dead ifindex, close them; they are reopened when it reappears.</summary>
    private void DetachInterface(string ifname)
    {
        lock (_sockets)
        {
            foreach (var key in _sockets.Keys.Where(k => k.Item1 == ifname).ToArray())
            {
                _sockets[key].Socket.Dispose();
                _sockets.Remove(key);
            }
            foreach (var rt in _runtimes.Values)
            {
                if (rt.Machine.Settings.Options.Interface == ifname)
                    rt.Socket = null;
            }
        }
    }

    // ---- tracking --------------------------------------------------------------------------

    private async Task StartTrackersAsync(CancellationToken ct)
    {
        var scripts = _options.Scripts.Where(s => _runtimes.Values.Any(r => r.Bindings.Any(b => b.Kind == TrackerKind.Script && b.Name == s.Name))).ToArray();
        if (!_options.EnableScriptSecurity && (scripts.Length > 0 || _options.Instances.Any(i => i.Notify is not null || i.NotifyMaster is not null || i.NotifyBackup is not null || i.NotifyFault is not null || i.NotifyStop is not null)))
            _logger.InstanceWarning("vrrp", "SECURITY VIOLATION - scripts are being executed but script_security not enabled.");
        var first = await ReadTrackersAsync(_options, ct).ConfigureAwait(false);
        lock (_engine.Gate)
            SyncTrackers(null, _options, null, first);
    }

    /// <summary>Time a start or a reload waits for the first read of a tracked file (wall clock: it bounds I/O, not protocol timing).</summary>
    private static readonly TimeSpan FileReadBound = TimeSpan.FromSeconds(1);

    /// <summary>First values of the track_file and vrrp_track_process trackers <see cref="SyncTrackers"/> will (re)start for <paramref name="next"/>.</summary>
    private sealed record TrackerFirstValues(IReadOnlyDictionary<string, long> Files, IReadOnlyDictionary<string, int> Processes);

    /// <summary>
    /// Reads, off the engine lock, the files and processes of the trackers <paramref name="next"/> starts or restarts
    /// (init_file written first). A file whose read does not return within <see cref="FileReadBound"/> counts as
    /// unreadable (0), as keepalived counts a file it cannot read; its value follows when the read returns.
    /// </summary>
    private async Task<TrackerFirstValues> ReadTrackersAsync(VrrpSubsystemOptions next, CancellationToken ct)
    {
        var used = next.Instances.SelectMany(i => TrackingState.BindingsFor(i, next)).Select(b => (b.Kind, b.Name)).ToHashSet();
        var files = next.TrackFiles.Where(f => used.Contains((TrackerKind.File, f.Name))
            && !(_runningFiles.TryGetValue(f.Name, out var cur) && OptionsComparer.Same(cur, f))).ToArray();
        var procs = next.TrackProcesses.Where(p => used.Contains((TrackerKind.Process, p.Name))
            && !(_runningProcesses.TryGetValue(p.Name, out var cur) && OptionsComparer.Same(cur, p))).ToArray();
        var fileValues = new Dictionary<string, long>(StringComparer.Ordinal);
        if (files.Length > 0)
        {
            var readers = files.Select(f => (File: f, Reader: ReaderFor(f.Path))).ToArray();
            foreach (var (f, r) in readers)
                r.TryStart(f); // a read already in flight for this path (a poll) is waited for instead
            try
            {
                await Task.WhenAll(readers.Select(x => x.Reader.Current)).WaitAsync(FileReadBound, TimeProvider.System, ct).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
            foreach (var (f, r) in readers)
            {
                var t = r.Current;
                if (!t.IsCompleted)
                {
                    if (r.MarkStuck())
                        _logger.TrackFileStuck(f.Name, f.Path);
                    fileValues[f.Name] = 0;
                    continue;
                }
                var read = await t.ConfigureAwait(false);
                fileValues[f.Name] = read.Value ?? 0;
                if (read.Value is null)
                    _logger.TrackFileInvalidNumber(read.Invalid!, f.Path);
            }
        }
        var counts = procs.Length > 0 ? ProcessScanner.Count(procs) : new Dictionary<string, int>();
        return new TrackerFirstValues(fileValues, counts);
    }

    private TrackFileReader ReaderFor(string path)
    {
        lock (_fileReaders)
        {
            if (!_fileReaders.TryGetValue(path, out var r))
                _fileReaders[path] = r = new TrackFileReader(path, OnFileRead);
            return r;
        }
    }

    /// <summary>Test seam: reads of tracked files in flight (at most one per file).</summary>
    internal int TrackFileReadsInFlight
    {
        get
        {
            lock (_fileReaders)
                return _fileReaders.Values.Count(r => r.Busy);
        }
    }

    /// <summary>The file poller (every second): starts one read per file, never blocks, takes no lock across I/O.</summary>
    private void PollFiles()
    {
        if (_stopped)
            return;
        foreach (var path in _polledFiles.Select(f => f.Path).Distinct(StringComparer.Ordinal))
        {
            if (ReaderFor(path).Poll() != TrackFilePoll.BecameStuck)
                continue;
            lock (_engine.Gate)
            {
                foreach (var f in _runningFiles.Values.Where(f => f.Path == path))
                {
                    _logger.TrackFileStuck(f.Name, f.Path);
                    SetFileValueLocked(f, 0);
                }
            }
        }
    }

    /// <summary>A read of <paramref name="path"/> returned (on the reading thread).</summary>
    private void OnFileRead(string path, TrackFileRead read)
    {
        if (_stopped)
            return;
        lock (_engine.Gate)
        {
            foreach (var f in _runningFiles.Values.Where(f => f.Path == path))
            {
                if (read.Value is { } value)
                    SetFileValueLocked(f, value);
                else
                    _logger.TrackFileInvalidNumber(read.Invalid!, path);
            }
        }
    }

    private void SetFileValueLocked(VrrpTrackFileOptions f, long value)
    {
        if (_tracking.FileValue(f.Name) == value)
            return;
        _tracking.SetFileValue(f.Name, value);
        foreach (var rt in _runtimes.Values.Where(r => r.Bindings.Any(b => b.Kind == TrackerKind.File && b.Name == f.Name)))
            Reevaluate(rt, $"track_file {f.Name} = {value}");
    }

    private void PollProcesses(IReadOnlyList<VrrpTrackProcessOptions> procs)
    {
        if (_stopped || procs.Count == 0)
            return;
        var counts = ProcessScanner.Count(procs);
        lock (_engine.Gate)
        {
            foreach (var p in procs)
            {
                var up = counts[p.Name] >= p.Quorum && counts[p.Name] <= p.QuorumMax;
                if (_tracking.IsUp(TrackerKind.Process, p.Name) == up)
                    continue;
                TrackerChangedLocked(TrackerKind.Process, p.Name, up);
            }
        }
    }

    private void TrackerChangedLocked(TrackerKind kind, string name, bool up)
    {
        _tracking.SetUp(kind, name, up);
        var word = kind switch
        {
            TrackerKind.Script => "track_script",
            TrackerKind.Process => "track_process",
            _ => "track",
        };
        foreach (var rt in _runtimes.Values.Where(r => r.Bindings.Any(b => b.Kind == kind && b.Name == name)))
            Reevaluate(rt, $"{word} {name} {(up ? "up" : "down")}");
    }

    private void Reevaluate(InstanceRuntime rt, string reason)
    {
        foreach (var b in rt.Bindings.Where(b => b.Kind == TrackerKind.Interface))
        {
            var link = _links.GetLink(b.Name);
            _tracking.SetUp(TrackerKind.Interface, b.Name, link is { Exists: true, IsUp: true });
        }
        var (faults, delta, first) = _tracking.Evaluate(rt.Bindings);
        rt.Machine.UpdateTracking(faults, delta, faults > 0 && first is not null ? first : reason);
    }

    // ---- actions ---------------------------------------------------------------------------

    private void Execute(VrrpInstanceMachine m, VrrpAction action)
    {
        if (!_byMachine.TryGetValue(m, out var rt))
            return;
        switch (action.Kind)
        {
            case VrrpActionKind.SendAdvert:
                SendAdvert(rt, action.Priority);
                break;
            case VrrpActionKind.AddVips:
            {
                // the list is taken now, under the engine lock: a reload changing it later does not rewrite queued work
                var vips = AllVips(rt).ToArray();
                rt.Enqueue(ct => AddVipsAsync(rt, vips, ct));
                break;
            }
            case VrrpActionKind.RemoveVips:
            {
                var vips = AllVips(rt).ToArray();
                rt.CancelGarps();
                rt.Enqueue(ct => RemoveVipsAsync(rt, vips, ct));
                break;
            }
            case VrrpActionKind.SendGarps:
                QueueGarps(rt, action.Repeat);
                break;
            case VrrpActionKind.Notify:
                _notify.InstanceChanged(m.Settings.Options, action.State, m.EffectivePriority);
                break;
            case VrrpActionKind.NotifyMasterRxLowerPri:
                _notify.MasterRxLowerPri(m.Settings.Options, m.EffectivePriority);
                break;
        }
    }

    private void SendAdvert(InstanceRuntime rt, int priority)
    {
        var m = rt.Machine;
        var s = m.Settings;
        if (rt.Socket is null || m.SourceAddress is null)
            return;
        var packet = new VrrpPacket
        {
            Version = s.Version,
            VirtualRouterId = (byte)s.Options.VirtualRouterId,
            Priority = (byte)priority,
            AuthType = s.Version == 2 ? s.Options.Authentication?.Type ?? VrrpAuthType.None : VrrpAuthType.None,
            AdvertIntervalCentiseconds = (int)(s.AdvertInterval.TotalMilliseconds / 10),
            Family = s.Family,
            Addresses = s.AdvertAddresses,
            AuthData = s.AuthData,
        };
        try
        {
            if (s.IsUnicast)
            {
                foreach (var peer in s.Options.UnicastPeers)
                    rt.Socket.Send(packet, m.SourceAddress, peer.Address, (byte)s.Options.UnicastTtl, s.V3ChecksumAsV2);
            }
            else
            {
                rt.Socket.Send(packet, m.SourceAddress, s.MulticastGroup, 255, s.V3ChecksumAsV2);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            if (_socketDropLog.ShouldLog(-1, out _))
                _logger.ActionFailed(m.Name, $"send advert on {rt.Socket.InterfaceName}", ex.Message);
        }
    }

    private IEnumerable<VirtualAddress> AllVips(InstanceRuntime rt)
        => rt.Machine.Settings.Options.VirtualIpAddresses.Concat(rt.Machine.Settings.Options.VirtualIpAddressesExcluded);

    private async Task AddVipsAsync(InstanceRuntime rt, IReadOnlyList<VirtualAddress> vips, CancellationToken ct)
    {
        foreach (var v in vips)
            await AddOneAsync(rt, v, ct).ConfigureAwait(false);
    }

    private async Task AddOneAsync(InstanceRuntime rt, VirtualAddress v, CancellationToken ct)
    {
        var dev = v.Device ?? rt.Machine.Settings.Options.Interface;
        if (dev is null)
            return;
        try
        {
            await _addresses.AddAsync(dev, v, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.ActionFailed(rt.Machine.Name, $"add {v.Address} on {dev}", ex.Message);
        }
    }

    private async Task RemoveVipsAsync(InstanceRuntime rt, IReadOnlyList<VirtualAddress> vips, CancellationToken ct)
    {
        foreach (var v in vips)
            await RemoveOneAsync(rt, v, ct).ConfigureAwait(false);
    }

    private async Task RemoveOneAsync(InstanceRuntime rt, VirtualAddress v, CancellationToken ct)
    {
        {
            var dev = v.Device ?? rt.Machine.Settings.Options.Interface;
            if (dev is null)
                return;
            rt.MarkRemoving(v, true);
            try
            {
                await _addresses.RemoveAsync(dev, v, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                _logger.ActionFailed(rt.Machine.Name, $"remove {v.Address} from {dev}", ex.Message);
            }
            finally
            {
                rt.MarkRemoving(v, false);
            }
        }
    }

    private void QueueGarps(InstanceRuntime rt, int repeat)
    {
        var vips = AllVips(rt).ToArray();
        foreach (var v in vips)
        {
            var dev = v.Device ?? rt.Machine.Settings.Options.Interface ?? "?";
            if (v.Address.AddressFamily == AddressFamily.InterNetwork)
                _logger.SendingQueueingGarps(rt.Machine.Name, dev, v.Address);
            else
                _logger.SendingQueueingNas(rt.Machine.Name, dev, v.Address);
        }
        GarpNow(rt, repeat, vips);
    }

    /// <summary>
    /// A GARP/NA burst for <paramref name="vips"/>, started now: not queued behind the instance's address work, so it
    /// goes out while the VIP add is still waiting for its netlink ACK (see <see cref="GarpScheduler"/>).
    /// </summary>
    private void GarpNow(InstanceRuntime rt, int repeat, IReadOnlyList<VirtualAddress> vips)
    {
        var targets = new List<GarpTarget>(vips.Count);
        foreach (var v in vips)
        {
            if ((v.Device ?? rt.Machine.Settings.Options.Interface) is { } dev)
                targets.Add(new GarpTarget(dev, v.Address));
        }
        _garps.Burst(rt.Garps, rt.Machine.Name, targets, repeat, _options.GarpInterval, _options.GnaInterval, rt.GarpToken);
    }

    private sealed class ActionSink(VrrpSubsystem owner) : IVrrpActionSink
    {
        public void Execute(VrrpInstanceMachine instance, VrrpAction action) => owner.Execute(instance, action);
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

    private sealed class SocketEntry(IVrrpTransport socket)
    {
        public IVrrpTransport Socket { get; } = socket;

        public Dictionary<byte, VrrpInstanceMachine> ByVrid { get; } = new();

        public IPAddress? Local { get; set; }
    }

    /// <summary>Per-instance runtime: interface facts, socket, and an ordered work queue for address and GARP I/O.</summary>
    private sealed class InstanceRuntime(VrrpInstanceMachine machine, IReadOnlyList<TrackerBinding> bindings) : IDisposable
    {
        private readonly Channel<Func<CancellationToken, Task>> _work = Channel.CreateUnbounded<Func<CancellationToken, Task>>(new UnboundedChannelOptions { SingleReader = true });
        private readonly HashSet<IPAddress> _removing = new();
        private Task? _worker;
        private CancellationTokenSource? _workerCts;
        public GarpBurstState Garps { get; } = new();

        public VrrpInstanceMachine Machine { get; } = machine;

        public IReadOnlyList<TrackerBinding> Bindings { get; set; } = bindings;

        public IVrrpTransport? Socket { get; set; }

        public SocketEntry? SocketEntry { get; set; }

        public void Enqueue(Func<CancellationToken, Task> work) => _work.Writer.TryWrite(work);

        public void MarkRemoving(VirtualAddress v, bool on)
        {
            lock (_removing)
            {
                if (on)
                    _removing.Add(v.Address);
                else
                    _removing.Remove(v.Address);
            }
        }

        public bool IsRemoving(VirtualAddress v)
        {
            lock (_removing)
                return _removing.Contains(v.Address);
        }

        /// <summary>A task completing when everything queued so far has run (or the worker is gone).</summary>
        public Task Barrier()
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_worker is null || !_work.Writer.TryWrite(_ =>
            {
                done.TrySetResult();
                return Task.CompletedTask;
            }))
            {
                return Task.CompletedTask;
            }
            return done.Task;
        }

        public void StartWorker(CancellationToken outer)
        {
            _workerCts = CancellationTokenSource.CreateLinkedTokenSource(outer);
            var ct = _workerCts.Token;
            // The loop observes ct itself; it must start even if ct is already cancelled, so Barrier/DrainAsync complete.
            _worker = Task.Run(async () =>
        {
            try
            {
                await foreach (var w in _work.Reader.ReadAllAsync(ct).ConfigureAwait(false))
                {
                    try
                    {
                        await w(ct).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        // a cancelled GARP burst (left MASTER / stopping)
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // logged by the work item itself where it matters; never kill the queue
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);
        }

        public async Task DrainAsync(CancellationToken ct)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_worker is null || !_work.Writer.TryWrite(_ =>
            {
                done.TrySetResult();
                return Task.CompletedTask;
            }))
            {
                return;
            }
            try
            {
                await done.Task.WaitAsync(TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // a stuck address operation must not block shutdown
            }
        }

        private readonly Lock _garpGate = new();
        private CancellationTokenSource _garpCts = new();
        private bool _disposed;

        /// <summary>Token of the current GARP bursts (cancelled once the runtime is disposed).</summary>
        public CancellationToken GarpToken
        {
            get
            {
                lock (_garpGate)
                    return _disposed ? new CancellationToken(canceled: true) : _garpCts.Token;
            }
        }

        /// <summary>Cancels queued/pacing GARP bursts (keepalived: vrrp_remove_delayed_arp).</summary>
        public void CancelGarps()
        {
            CancellationTokenSource old;
            lock (_garpGate)
            {
                if (_disposed)
                    return;
                old = _garpCts;
                _garpCts = new CancellationTokenSource();
            }
            old.Cancel();
            old.Dispose();
        }

        /// <summary>
        /// Ends the worker and cancels pending GARP bursts: for a runtime retired by a reload (after
        /// <see cref="DrainAsync"/>), one prepared by a failed reload, and every runtime at dispose. Idempotent.
        /// </summary>
        public void Dispose()
        {
            _work.Writer.TryComplete();
            lock (_garpGate)
            {
                if (_disposed)
                    return;
                _disposed = true;
            }
            _workerCts?.Cancel();
            _workerCts?.Dispose();
            _garpCts.Cancel();
            _garpCts.Dispose();
        }
    }
}
