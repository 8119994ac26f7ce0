using System.Collections.Concurrent;
using Lb.Vrrp.Engine;
using Lb.Vrrp.Host;

namespace Lb.Vrrp.Tests.Support;

/// <summary>Records every action a machine emits, with the instance name.</summary>
internal sealed class RecordingActionSink : IVrrpActionSink
{
    public List<(string Instance, VrrpAction Action)> Actions { get; } = new();

    public void Execute(VrrpInstanceMachine instance, VrrpAction action) => Actions.Add((instance.Name, action));

    public IEnumerable<VrrpAction> For(string instance) => Actions.Where(a => a.Instance == instance).Select(a => a.Action);

    public void Clear() => Actions.Clear();
}

/// <summary>Records state changes (the journal).</summary>
internal sealed class RecordingEventSink : IVrrpEventSink
{
    public ConcurrentQueue<VrrpStateChange> Changes { get; } = new();

    public ConcurrentQueue<(string Instance, int Old, int New)> Priorities { get; } = new();

    public void OnStateChanged(VrrpStateChange change) => Changes.Enqueue(change);

    public void OnPriorityChanged(string instance, int oldPriority, int newPriority) => Priorities.Enqueue((instance, oldPriority, newPriority));
}
