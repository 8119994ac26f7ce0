using Lb.Vrrp.Diagnostics;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Reload;
using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.Engine;

/// <summary>The pure core: every instance machine and sync group, under one lock.</summary>
internal sealed class VrrpEngine
{
    private readonly Dictionary<string, VrrpInstanceMachine> _instances = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SyncGroupCoordinator> _groups = new(StringComparer.Ordinal);

    private readonly IVrrpActionSink? _sink;
    private readonly IVrrpEventSink _events;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action<SyncGroupCoordinator, VrrpState> _groupNotify;

    public VrrpEngine(VrrpSubsystemOptions options, IVrrpActionSink sink, IVrrpEventSink events, TimeProvider time, ILoggerFactory loggers, Action<SyncGroupCoordinator, VrrpState>? groupNotify = null)
    {
        Options = options;
        _sink = sink;
        _events = events;
        _time = time;
        _logger = loggers.CreateLogger("Lb.Vrrp");
        _groupNotify = groupNotify ?? ((_, _) => { });
        foreach (var io in options.Instances)
            _instances[io.Name] = CreateMachine(InstanceSettings.Resolve(io, options));
        foreach (var g in options.SyncGroups)
            _groups[g.Name] = CreateGroup(g);
    }

    /// <summary>
    /// An engine with no instance and no group yet, whose machines each get their own action sink (see
    /// <see cref="CreateMachine(InstanceSettings, IVrrpActionSink)"/>): the caller adds them, then creates the groups.
    /// </summary>
    public VrrpEngine(VrrpSubsystemOptions options, IVrrpEventSink events, TimeProvider time, ILoggerFactory loggers, Action<SyncGroupCoordinator, VrrpState>? groupNotify = null)
    {
        Options = options;
        _events = events;
        _time = time;
        _logger = loggers.CreateLogger("Lb.Vrrp");
        _groupNotify = groupNotify ?? ((_, _) => { });
    }

    /// <summary>A machine wired to this engine's lock and sinks, not yet registered (see <see cref="Add"/>).</summary>
    public VrrpInstanceMachine CreateMachine(InstanceSettings settings)
        => CreateMachine(settings, _sink ?? throw new InvalidOperationException("this engine has no shared action sink"));

    /// <summary>A machine wired to this engine's lock and events, executing its actions on <paramref name="sink"/>; not yet registered.</summary>
    public VrrpInstanceMachine CreateMachine(InstanceSettings settings, IVrrpActionSink sink) => new(settings, Gate, sink, _events, _time, _logger) { Holds = Holds };

    /// <summary>The operator's holds, by instance name (they outlive a reload that restarts or re-adds an instance). Under <see cref="Gate"/>.</summary>
    public OperatorHolds Holds { get; } = new();

    /// <summary>Registers a machine (reload: added or restarted instance). Caller holds <see cref="Gate"/>.</summary>
    public void Add(VrrpInstanceMachine machine) => _instances[machine.Name] = machine;

    /// <summary>Unregisters a machine (reload: removed or restarted instance; stop it first). Caller holds <see cref="Gate"/>.</summary>
    public void Remove(VrrpInstanceMachine machine)
    {
        if (_instances.TryGetValue(machine.Name, out var m) && m == machine)
            _instances.Remove(machine.Name);
    }

    /// <summary>A sync group over the currently registered members named in <paramref name="g"/>, registered. Caller holds <see cref="Gate"/>.</summary>
    public SyncGroupCoordinator CreateGroup(VrrpSyncGroupOptions g)
    {
        var members = g.Members.Where(_instances.ContainsKey).Select(n => _instances[n]).ToArray();
        var group = new SyncGroupCoordinator(g, members, _events, _time, _logger, _groupNotify);
        _groups[g.Name] = group;
        return group;
    }

    /// <summary>Unregisters a sync group and detaches its members. Caller holds <see cref="Gate"/>.</summary>
    public void RemoveGroup(SyncGroupCoordinator group)
    {
        group.SetMembers([]);
        _groups.Remove(group.Name);
    }

    /// <summary>
    /// A reload's sync group changes (<see cref="GroupPlan"/>), in order: removed groups are stopped (when
    /// <paramref name="running"/>) and unregistered; added ones are created over the registered members (to start);
    /// changed ones take their options, and new members (to resync). Each change is passed to <paramref name="journal"/>.
    /// Caller holds <see cref="Gate"/>.
    /// </summary>
    public (List<SyncGroupCoordinator> ToStart, List<SyncGroupCoordinator> ToResync) ApplyGroups(IReadOnlyList<GroupPlan> plans, bool running, Action<GroupPlan> journal)
    {
        var toStart = new List<SyncGroupCoordinator>();
        var toResync = new List<SyncGroupCoordinator>();
        foreach (var gp in plans)
        {
            if (gp.Action == VrrpReloadAction.Removed)
            {
                var g = _groups[gp.Name];
                if (running)
                    g.Stopped();
                RemoveGroup(g);
            }
            else if (gp.Action == VrrpReloadAction.Added)
            {
                toStart.Add(CreateGroup(gp.Options!));
            }
            else
            {
                var g = _groups[gp.Name];
                g.Options = gp.Options!;
                if (gp.MembersChanged)
                {
                    g.SetMembers(gp.Options!.Members.Where(_instances.ContainsKey).Select(n => _instances[n]).ToArray());
                    toResync.Add(g);
                }
            }
            journal(gp);
        }
        return (toStart, toResync);
    }

    /// <summary>A snapshot for <c>lb status</c>; <paramref name="unattributed"/>: the socket drops no instance owns.</summary>
    public VrrpStatus GetStatus(VrrpDropCounters unattributed)
    {
        lock (Gate)
        {
            var inst = Options.Instances.Select(io =>
            {
                var m = _instances[io.Name];
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
                    Operator = OperatorActions.Describe(m),
                };
            }).ToArray();
            var groups = _groups.Values.Select(g => new VrrpSyncGroupStatus(g.Name, g.State, g.Members.Select(m => m.Name).ToArray())).ToArray();
            return new VrrpStatus(inst, groups, unattributed.Snapshot());
        }
    }

    public object Gate { get; } = new();

    public VrrpSubsystemOptions Options { get; internal set; }

    public IReadOnlyDictionary<string, VrrpInstanceMachine> Instances => _instances;

    public IReadOnlyDictionary<string, SyncGroupCoordinator> Groups => _groups;

    public void StartAll()
    {
        lock (Gate)
        {
            foreach (var m in _instances.Values)
                m.Start();
            foreach (var g in _groups.Values)
                g.Started();
        }
    }

    public void StopAll(bool keepVips = false)
    {
        lock (Gate)
        {
            foreach (var m in _instances.Values)
                m.Stop(keepVips);
            foreach (var g in _groups.Values)
                g.Stopped();
        }
    }
}
