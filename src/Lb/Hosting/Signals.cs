using System.Runtime.InteropServices;

namespace Lb.Hosting;

/// <summary>Signal numbers .NET's <see cref="PosixSignal"/> does not name. On Linux a raw signal number cast to
/// <see cref="PosixSignal"/> is accepted by <see cref="PosixSignalRegistration.Create"/>.</summary>
public static class Signals
{
    /// <summary>SIGUSR1 (10 on Linux): the data dump.</summary>
    public const PosixSignal SIGUSR1 = (PosixSignal)10;

    /// <summary>SIGUSR2 (12 on Linux): the statistics.</summary>
    public const PosixSignal SIGUSR2 = (PosixSignal)12;

    /// <summary>glibc's SIGRTMIN is 34 (it keeps 32 and 33 for threads), so keepalived's JSON signal SIGRTMIN+2 is 36
    /// (<c>kill -s RTMIN+2</c>).</summary>
    public const int JsonDumpNumber = 36;

    /// <summary>SIGRTMIN+2: the JSON dump.</summary>
    public const PosixSignal JsonDump = (PosixSignal)JsonDumpNumber;
}

/// <summary>
/// The daemon's signal handling, installed first thing in Main. Until a process catches SIGHUP its default action kills it,
/// and start-up (configuration, host, sockets) takes seconds under emulation, so a reload sent by configuration management
/// right after start used to kill Lb. The router catches SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGUSR2 and SIGRTMIN+2 from the
/// start; a signal with no route yet is remembered (signals coalesce: one pending per kind) and delivered when its route is
/// set — the daemon routes SIGHUP only once start-up has completed, so a reload that arrived during start is applied then.
/// Handlers run on the runtime's signal thread and must not block.
/// </summary>
public sealed class SignalRouter : IDisposable
{
    /// <summary>What the router catches.</summary>
    public static readonly IReadOnlyList<PosixSignal> Handled =
        [PosixSignal.SIGHUP, PosixSignal.SIGTERM, PosixSignal.SIGINT, Signals.SIGUSR1, Signals.SIGUSR2, Signals.JsonDump];

    private readonly Lock _gate = new();
    private readonly Dictionary<PosixSignal, Action> _routes = new();
    private readonly HashSet<PosixSignal> _pending = new();
    private readonly List<PosixSignalRegistration> _registrations = new();

    private SignalRouter()
    {
    }

    public static SignalRouter Install()
    {
        var router = new SignalRouter();
        foreach (var signal in Handled)
        {
            router._registrations.Add(PosixSignalRegistration.Create(signal, ctx =>
            {
                ctx.Cancel = true;
                router.Deliver(ctx.Signal);
            }));
        }
        return router;
    }

    /// <summary>True when <paramref name="signal"/> arrived and has not been delivered to a route yet.</summary>
    public bool IsPending(PosixSignal signal)
    {
        lock (_gate)
            return _pending.Contains(signal);
    }

    /// <summary>Delivers <paramref name="signal"/> to <paramref name="action"/> from now on (one arrived before is delivered now,
    /// on this thread) until the returned handle is disposed; after that the signal is remembered again.</summary>
    public IDisposable Route(PosixSignal signal, Action action)
    {
        bool pending;
        lock (_gate)
        {
            _routes[signal] = action;
            pending = _pending.Remove(signal);
        }
        if (pending)
            action();
        return new Unroute(this, signal, action);
    }

    private void Deliver(PosixSignal signal)
    {
        Action? action;
        lock (_gate)
        {
            if (!_routes.TryGetValue(signal, out action))
            {
                _pending.Add(signal);
                return;
            }
        }
        action();
    }

    public void Dispose()
    {
        foreach (var r in _registrations)
            r.Dispose();
        _registrations.Clear();
    }

    private sealed class Unroute(SignalRouter router, PosixSignal signal, Action action) : IDisposable
    {
        public void Dispose()
        {
            lock (router._gate)
            {
                if (router._routes.TryGetValue(signal, out var current) && current == action)
                    router._routes.Remove(signal);
            }
        }
    }
}
