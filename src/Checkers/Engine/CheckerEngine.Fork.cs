using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lb.Checkers.Engine;

/// <summary>
/// The dry run of a reload (<c>lb reload --plan</c>): <see cref="Fork"/> copies the running state, and the copy runs the
/// very <see cref="Reload"/> a SIGHUP runs. What it decides (changes, checkers retired and started, the IPVS table it
/// wants) is the plan; the copy is then dropped, with its change set: nothing is journalled, applied, run or logged.
/// </summary>
internal sealed partial class CheckerEngine
{
    private CheckerEngine(CheckerEngine source, ILogger logger)
    {
        _options = source._options;
        _logger = logger;
        _time = source._time;
        _scripts = source._scripts;
        _owned = new HashSet<Lb.Netlink.Ipvs.IpvsServiceKey>(source._owned);
        _views = source._views;
        foreach (var vs in source.VirtualServers)
            VirtualServers.Add(vs.Fork());
    }

    /// <summary>
    /// A copy of the engine that shares no mutable state with it (call under the subsystem's gate): deciding on the copy
    /// leaves this engine as it was. The copy logs nothing; its scripts are never started (the caller drops its change sets).
    /// </summary>
    public CheckerEngine Fork() => new(this, NullLogger.Instance);
}
