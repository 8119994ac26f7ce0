using Lb.Vrrp.Diagnostics;
using Lb.Vrrp.Host;
using Lb.Vrrp.Tracking;
using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.Reload;

/// <summary>The changes a reload applied, as it applies them: each logged and passed to <see cref="IVrrpEventSink.OnReloadApplied"/>.</summary>
internal sealed class ReloadJournal(IVrrpEventSink events, ILogger logger)
{
    private readonly List<VrrpReloadChange> _changes = new();

    /// <summary>The time every change of this reload carries (taken when the engine lock is taken).</summary>
    public DateTimeOffset At { get; set; }

    public IReadOnlyList<VrrpReloadChange> Changes => _changes;

    public void Add(VrrpReloadObject obj, string name, VrrpReloadAction action, IReadOnlyList<string> fields)
    {
        var c = new VrrpReloadChange(At, obj, name, action, fields);
        _changes.Add(c);
        logger.ReloadApplied(c.ToString());
        try
        {
            events.OnReloadApplied(c);
        }
        catch (Exception ex)
        {
            logger.ActionFailed("vrrp", "journal reload change", ex.Message);
        }
    }

    public void Add(GroupPlan g) => Add(VrrpReloadObject.SyncGroup, g.Name, g.Action, g.Fields);

    public void Add(TrackerChange c) => Add(
        c.Kind switch
        {
            TrackerKind.Script => VrrpReloadObject.Script,
            TrackerKind.File => VrrpReloadObject.TrackFile,
            _ => VrrpReloadObject.TrackProcess,
        },
        c.Name,
        c.Action,
        c.Fields);
}
