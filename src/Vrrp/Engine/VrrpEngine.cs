using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.Engine;

/// <summary>The pure core: every instance machine and sync group, under one lock.</summary>
internal sealed class VrrpEngine
{
    private readonly Dictionary<string, VrrpInstanceMachine> _instances = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SyncGroupCoordinator> _groups = new(StringComparer.Ordinal);

    public VrrpEngine(VrrpSubsystemOptions options, IVrrpActionSink sink, IVrrpEventSink events, TimeProvider time, ILoggerFactory loggers, Action<SyncGroupCoordinator, VrrpState>? groupNotify = null)
    {
        Options = options;
        var logger = loggers.CreateLogger("Lb.Vrrp");
        foreach (var io in options.Instances)
        {
            var settings = InstanceSettings.Resolve(io, options);
            _instances[io.Name] = new VrrpInstanceMachine(settings, Gate, sink, events, time, logger);
        }
        foreach (var g in options.SyncGroups)
        {
            var members = g.Members.Where(_instances.ContainsKey).Select(n => _instances[n]).ToArray();
            _groups[g.Name] = new SyncGroupCoordinator(g, members, events, time, logger, groupNotify ?? ((_, _) => { }));
        }
    }

    public object Gate { get; } = new();

    public VrrpSubsystemOptions Options { get; }

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
