using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Lb.Vrrp.Addresses;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Protocol;
using Lb.Vrrp.Runtime;
using Lb.Vrrp.Transport;
using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.SplitBrain;

/// <summary>
/// Split-brain detection (Lb's own; keepalived has none). While an instance is MASTER with its VIPs set it probes each
/// VIP on the VIP's interface every <c>#lb: split_brain_probe</c> seconds (default 2, ±20 % jitter): an ARP probe for
/// IPv4, a neighbour solicitation for IPv6 (<see cref="ProbeFrames"/>). Only another host holding the VIP answers; an
/// answer from a MAC that is not ours (the VIP's interface, the instance's interface, its VMAC, any interface of this
/// namespace) means a second MASTER. One answer makes it a suspect: the VIPs are probed again one advert interval later
/// (an advert of a legitimately preempting peer has been handled by then, and we have left MASTER); an answer to that
/// probe confirms it. A confirmed detection starts an episode — counted, journalled through
/// <see cref="IVrrpEventSink.OnSplitBrain"/>, logged as a warning, and answered by an immediate GARP/NA burst of
/// <c>garp_master_repeat</c> — which lasts while answers keep coming (each within three probe intervals of the last)
/// and the instance stays MASTER. Another MASTER using the same VMAC (<c>use_vmac</c>, same VRID) answers with our own
/// MAC and cannot be told from us: undetectable by this probe.
/// </summary>
internal sealed class SplitBrainMonitor : IDisposable
{
    /// <summary>An episode lasts while answers come within this many probe intervals of each other.</summary>
    internal const int EpisodeProbes = 3;

    /// <summary>How often an instance whose probe is off looks again (a reload may have turned it on).</summary>
    private static readonly TimeSpan OffRecheck = TimeSpan.FromSeconds(5);

    private readonly Func<VrrpSubsystemOptions> _options;
    private readonly ILinkMonitor _links;
    private readonly LinkCache _cache;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IVrrpEventSink _events;
    private readonly Func<IProbeTransport> _transportFactory;
    private readonly Action<InstanceRuntime> _garpBurst;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Probe> _probes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ProbeFrameDrop, long> _drops = new();
    private IProbeTransport? _transport;
    private bool _transportFailed;
    private bool _disposed;

    /// <param name="options">The current global options (the default interval), read at each probe round.</param>
    /// <param name="links">Every interface's MAC (ours are never "another master").</param>
    /// <param name="cache">Interface index and MAC of the VIP's interface (the GARP path's cache: no name lookup per probe).</param>
    /// <param name="time">Probe timers and timestamps.</param>
    /// <param name="logger">Log.</param>
    /// <param name="events">Where a detection goes (the host journals it).</param>
    /// <param name="transportFactory">Opens the probe socket (on first use).</param>
    /// <param name="garpBurst">Sends the instance's GARP/NA burst (the existing GARP path).</param>
    public SplitBrainMonitor(Func<VrrpSubsystemOptions> options, ILinkMonitor links, LinkCache cache, TimeProvider time, ILogger logger, IVrrpEventSink events,
        Func<IProbeTransport> transportFactory, Action<InstanceRuntime> garpBurst)
    {
        _options = options;
        _links = links;
        _cache = cache;
        _time = time;
        _logger = logger;
        _events = events;
        _transportFactory = transportFactory;
        _garpBurst = garpBurst;
    }

    /// <summary>The instance became MASTER and its VIPs are being added: probing starts one (jittered) interval later.</summary>
    public void Start(InstanceRuntime rt)
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            if (!_probes.TryGetValue(rt.Name, out var p))
                _probes[rt.Name] = p = new Probe(rt.Name);
            p.Runtime = rt;
            p.Active = true;
            p.SuspectAt = null;
            p.EpisodeActive = false;
            p.Timer?.Dispose();
            var interval = SplitBrainProbeInterval.Of(rt.Machine.Settings.Options, _options());
            p.Timer = _time.CreateTimer(_ => Tick(p), null, interval > TimeSpan.Zero ? Jitter(interval) : OffRecheck, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The instance leaves MASTER (its VIPs are being removed) or stops: probing ends, so does any episode.</summary>
    public void Stop(InstanceRuntime rt)
    {
        lock (_gate)
        {
            if (!_probes.TryGetValue(rt.Name, out var p) || !ReferenceEquals(p.Runtime, rt))
                return;
            p.Active = false;
            p.EpisodeActive = false;
            p.SuspectAt = null;
            p.Targets = [];
            p.Timer?.Dispose();
            p.Timer = null;
        }
    }

    /// <summary>Adds the split-brain counters and the current detection to a status snapshot.</summary>
    public VrrpStatus Decorate(VrrpStatus status)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            var instances = status.Instances.Select(i => _probes.TryGetValue(i.Name, out var p)
                ? i with
                {
                    SplitBrainDetected = p.Detections,
                    SplitBrainLastSeen = p.LastSeen,
                    SplitBrain = p.Active && p.EpisodeActive && p.LastSeen is { } seen && now - seen <= Window(p) ? p.Current : null,
                }
                : i).ToArray();
            return status with { Instances = instances, ProbeDrops = new Dictionary<ProbeFrameDrop, long>(_drops) };
        }
    }

    private TimeSpan Window(Probe p)
    {
        var interval = p.Runtime is { } rt ? SplitBrainProbeInterval.Of(rt.Machine.Settings.Options, _options()) : TimeSpan.Zero;
        return interval * EpisodeProbes + TimeSpan.FromMilliseconds(500);
    }

    private static TimeSpan Jitter(TimeSpan interval) => interval * (0.8 + (Random.Shared.NextDouble() * 0.4));

    // ---- probing ------------------------------------------------------------------------------

    private void Tick(Probe p)
    {
        InstanceRuntime rt;
        TimeSpan interval;
        lock (_gate)
        {
            if (!p.Active || _disposed || p.Runtime is null)
                return;
            rt = p.Runtime;
            interval = SplitBrainProbeInterval.Of(rt.Machine.Settings.Options, _options());
            if (interval <= TimeSpan.Zero)
            {
                p.Targets = [];
                p.Timer?.Change(OffRecheck, Timeout.InfiniteTimeSpan);
                return;
            }
            if (p.EpisodeActive && p.LastSeen is { } seen && _time.GetUtcNow() - seen > Window(p))
            {
                p.EpisodeActive = false;
                _logger.SplitBrainOver(rt.Name, EpisodeProbes);
            }
        }
        var transport = Transport();
        var targets = transport is null ? [] : Targets(rt);
        var sentAny = false;
        var frame = new byte[128];
        foreach (var t in targets)
        {
            try
            {
                int n;
                if (t.Vip.AddressFamily == AddressFamily.InterNetwork)
                {
                    n = ProbeFrames.WriteArpProbe(frame, t.Mac, t.Vip);
                }
                else
                {
                    var source = t.Device == rt.Machine.Settings.Options.Interface && rt.Machine.SourceAddress is { IsIPv6LinkLocal: true } ll ? ll : IPAddress.IPv6Any;
                    n = ProbeFrames.WriteNeighborSolicitation(frame, t.Mac, new IPAddress(source.GetAddressBytes()), t.Vip);
                }
                transport!.Send(t.Index, frame.AsSpan(0, n));
                sentAny = true;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                if (!p.SendFailureLogged)
                {
                    p.SendFailureLogged = true;
                    _logger.ProbeSendFailed(rt.Name, t.Vip, t.Device, ex.Message);
                }
            }
        }
        lock (_gate)
        {
            if (!p.Active || !ReferenceEquals(p.Runtime, rt))
                return;
            p.Targets = targets;
            if (sentAny)
                p.LastSentAt = _time.GetUtcNow();
            p.Timer?.Change(Jitter(interval), Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Every VIP of the instance with the ifindex and MAC of the interface it is on, and the MACs that are ours.</summary>
    private List<Target> Targets(InstanceRuntime rt)
    {
        var o = rt.Machine.Settings.Options;
        var ours = new HashSet<string>(StringComparer.Ordinal);
        foreach (var l in _links.GetLinks())
        {
            if (l.MacAddress is { } m)
                ours.Add(MacText(m.GetAddressBytes()));
        }
        if (rt.Vmac is { } vmac)
            ours.Add(MacText(vmac.Mac.GetAddressBytes()));
        var baseLink = o.Interface is { } ifname ? _cache.Get(ifname) ?? _cache.Resolve(ifname) : null;
        if (baseLink is not null)
            ours.Add(MacText(baseLink.Mac));
        var list = new List<Target>();
        foreach (var v in VipManager.AllVips(o))
        {
            if (VmacManager.DeviceOf(rt, v) is not { } dev || (_cache.Get(dev) ?? _cache.Resolve(dev)) is not { Mac.Length: 6 } link)
                continue;
            ours.Add(MacText(link.Mac));
            list.Add(new Target(dev, link.Index, baseLink?.Index ?? link.Index, link.Mac, v.Address, ours));
        }
        return list;
    }

    private IProbeTransport? Transport()
    {
        lock (_gate)
        {
            if (_transport is not null || _transportFailed || _disposed)
                return _transport;
            try
            {
                _transport = _transportFactory();
                _transport.StartReceiving(OnFrame);
            }
            catch (SocketException ex)
            {
                _transportFailed = true;
                _transport?.Dispose();
                _transport = null;
                _logger.ProbeSocketFailed(ex.Message);
            }
            return _transport;
        }
    }

    // ---- answers ------------------------------------------------------------------------------

    /// <summary>One frame from the probe socket (its receive thread).</summary>
    internal void OnFrame(int interfaceIndex, ReadOnlySpan<byte> frame)
    {
        if (!ProbeFrames.TryParseAnswer(frame, out var answer, out var drop))
        {
            if (drop != ProbeFrameDrop.NotAnAnswer)
                _drops.AddOrUpdate(drop, 1, (_, n) => n + 1);
            return;
        }
        var mac = MacText(answer.Mac);
        var now = _time.GetUtcNow();
        List<(InstanceRuntime Rt, VrrpSplitBrain Detection)>? detected = null;
        lock (_gate)
        {
            foreach (var p in _probes.Values)
            {
                if (!p.Active || p.Runtime is not { } rt)
                    continue;
                var t = p.Targets.FirstOrDefault(t => t.Vip.Equals(answer.Address) && (t.Index == interfaceIndex || t.BaseIndex == interfaceIndex));
                if (t is null || t.Ours.Contains(mac))
                    continue;
                var window = Window(p);
                if (p.EpisodeActive && p.LastSeen is { } seen && now - seen <= window)
                {
                    p.LastSeen = now; // the episode goes on
                    continue;
                }
                if (p.SuspectAt is { } suspect && p.LastSentAt > suspect && now - suspect <= window)
                {
                    // confirmed: an answer to a probe sent after the first one
                    p.SuspectAt = null;
                    p.EpisodeActive = true;
                    p.LastSeen = now;
                    p.Detections++;
                    p.Current = new VrrpSplitBrain(now, rt.Name, t.Vip, t.Device, mac, MacText(t.Mac), p.Detections);
                    (detected ??= []).Add((rt, p.Current));
                    continue;
                }
                if (p.SuspectAt is { } pending && p.LastSentAt <= pending && now - pending <= window)
                    continue; // another answer to the same round: still waiting for the confirming probe
                p.SuspectAt = now;
                p.LastSeen = now;
                _logger.SplitBrainSuspected(rt.Name, t.Vip, t.Device, mac);
                var confirmAfter = rt.Machine.Settings.AdvertInterval;
                p.Timer?.Change(confirmAfter < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : confirmAfter, Timeout.InfiniteTimeSpan);
            }
        }
        if (detected is null)
            return;
        foreach (var (rt, d) in detected)
        {
            _logger.SplitBrainDetected(d.Instance, d.Vip, d.Interface, d.OtherMac, d.OurMac);
            try
            {
                _events.OnSplitBrain(d);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _logger.LogWarning("({Instance}) split brain: event sink failed: {Error}", d.Instance, ex.Message);
            }
            _garpBurst(rt);
        }
    }

    /// <summary>aa:bb:cc:dd:ee:ff.</summary>
    public static string MacText(ReadOnlySpan<byte> mac) => Convert.ToHexStringLower(mac) is var hex && hex.Length == 12
        ? string.Join(':', Enumerable.Range(0, 6).Select(i => hex.Substring(i * 2, 2)))
        : hex;

    /// <inheritdoc/>
    public void Dispose()
    {
        IProbeTransport? transport;
        lock (_gate)
        {
            _disposed = true;
            foreach (var p in _probes.Values)
            {
                p.Active = false;
                p.Timer?.Dispose();
                p.Timer = null;
            }
            transport = _transport;
            _transport = null;
        }
        transport?.Dispose();
    }

    /// <summary>One VIP probed: where, from which MAC, and the MACs that are ours.</summary>
    private sealed record Target(string Device, int Index, int BaseIndex, byte[] Mac, IPAddress Vip, HashSet<string> Ours);

    /// <summary>Per-instance probe state (kept across MASTER terms and reloads for the counters).</summary>
    private sealed class Probe(string name)
    {
        public string Name { get; } = name;

        public InstanceRuntime? Runtime;
        public bool Active;
        public ITimer? Timer;
        public IReadOnlyList<Target> Targets = [];
        public DateTimeOffset LastSentAt = DateTimeOffset.MinValue;
        public DateTimeOffset? SuspectAt;
        public DateTimeOffset? LastSeen;
        public bool EpisodeActive;
        public long Detections;
        public VrrpSplitBrain? Current;
        public bool SendFailureLogged;
    }
}
