using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.Engine;

/// <summary>The pure core: every instance machine and sync group, under one lock.</summary>
internal sealed class VrrpEngine
{
    private readonly Dictionary<string, VrrpInstanceMachine> _instances = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SyncGroupCoordinator> _groups = new(StringComparer.Ordinal);

    private readonly IVrrpActionSink _sink;
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

    /// <summary>A machine wired to this engine's lock and sinks, not yet registered (see <see cref="Add"/>).</summary>
    public VrrpInstanceMachine CreateMachine(InstanceSettings settings) => new(settings, Gate, _sink, _events, _time, _logger);

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
