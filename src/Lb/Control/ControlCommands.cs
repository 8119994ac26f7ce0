using System.Text.Json.Serialization;

namespace Lb.Control;

/// <summary>Who sent a control command: the client's credentials as the kernel recorded them (SO_PEERCRED), and its user name.</summary>
/// <param name="Uid">The client's uid.</param>
/// <param name="Gid">The client's primary gid.</param>
/// <param name="Pid">The client's process id.</param>
/// <param name="User">The user name of <paramref name="Uid"/> (/etc/passwd), or the number.</param>
public sealed record ControlCaller(uint Uid, uint Gid, int Pid, string User)
{
    /// <summary>For journal entries and log lines: <c>root (uid 0, pid 1234)</c>.</summary>
    public string Describe() => $"{User} (uid {Uid}, pid {Pid})";
}

/// <summary>The answer to one control command.</summary>
/// <param name="ExitCode">The CLI's exit code (<see cref="ControlCommands.Done"/>, <see cref="ControlCommands.Refused"/>, …).</param>
/// <param name="Text">What the CLI prints: on stdout when the exit code is 0, on stderr otherwise.</param>
public sealed record ControlReply(int ExitCode, string Text)
{
    public static ControlReply Ok(string text) => new(ControlCommands.Done, text);

    public static ControlReply Refused(string text) => new(ControlCommands.Refused, text);
}

/// <summary>One noun's handler: gets the arguments after the noun (<c>lb rs drain A B</c> → <c>["drain", "A", "B"]</c>).</summary>
public delegate Task<ControlReply> ControlVerb(ControlCaller caller, IReadOnlyList<string> args, CancellationToken ct);

/// <summary>
/// The daemon's control commands (<c>lb rs …</c>, <c>lb vrrp …</c>, <c>lb reload …</c>), by noun. The status socket
/// carries them (<see cref="Status.StatusRequestHandler"/>): the CLI forwards its argv, the caller is authorised there
/// (<see cref="ControlAccess"/>), and the verb registered for the first word answers. A subsystem that does not run
/// registers nothing, so its nouns are refused with a reason.
/// </summary>
public sealed class ControlCommands
{
    /// <summary>Exit code: done.</summary>
    public const int Done = 0;

    /// <summary>Exit code: refused or invalid (the text names the object and the reason; for reload, the config errors).</summary>
    public const int Refused = 1;

    /// <summary>Exit code (set by the client): the daemon could not be reached.</summary>
    public const int Unreachable = 3;

    /// <summary>Exit code: the caller may not control this daemon.</summary>
    public const int PermissionDenied = 5;

    /// <summary>Bound on one command in the daemon (a verb that waits, e.g. a reload under emulation, ends by then).</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(5);

    private readonly Dictionary<string, ControlVerb> _verbs = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Registers the handler of <paramref name="noun"/> (one per noun).</summary>
    public void Register(string noun, ControlVerb verb)
    {
        lock (_gate)
        {
            if (!_verbs.TryAdd(noun, verb))
                throw new InvalidOperationException($"control noun '{noun}' is registered twice");
        }
    }

    /// <summary>The nouns this daemon answers.</summary>
    public IReadOnlyList<string> Nouns
    {
        get
        {
            lock (_gate)
                return [.. _verbs.Keys.Order(StringComparer.Ordinal)];
        }
    }

    /// <summary>Runs <paramref name="argv"/> (noun first) for an authorised <paramref name="caller"/>, within <see cref="CommandTimeout"/>.</summary>
    public async Task<ControlReply> DispatchAsync(ControlCaller caller, IReadOnlyList<string> argv, CancellationToken ct)
    {
        if (argv.Count == 0)
            return ControlReply.Refused("empty command");
        ControlVerb? verb;
        lock (_gate)
            _verbs.TryGetValue(argv[0], out verb);
        if (verb is null)
        {
            return ControlReply.Refused(ControlUsage.Nouns.Contains(argv[0])
                ? $"this daemon does not run what 'lb {argv[0]}' controls (started with -P or -C, or nothing of it configured)"
                : $"unknown command '{argv[0]}' (commands: {string.Join(", ", ControlUsage.Nouns)})");
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(CommandTimeout);
        try
        {
            return await verb(caller, argv.Skip(1).ToArray(), timeout.Token).WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            return ControlReply.Refused($"'lb {string.Join(' ', argv)}' did not finish within {CommandTimeout.TotalSeconds:0} s");
        }
    }
}

/// <summary>The usage lines of the control commands (the CLI's <c>--help</c> and <c>lb --help</c>).</summary>
public static class ControlUsage
{
    /// <summary>The nouns a daemon may answer.</summary>
    public static readonly IReadOnlyList<string> Nouns = ["rs", "vrrp", "announce", "reload"];

    /// <summary>The usage lines of <paramref name="noun"/>.</summary>
    public static IReadOnlyList<string> Of(string noun) => noun switch
    {
        "rs" =>
        [
            "lb rs drain VS RS [--timeout SECONDS]   weight 0 now; removed from IPVS when its active connections reach 0 or at the deadline",
            "lb rs disable VS RS                     out of service until enabled (health checks cannot bring it back)",
            "lb rs enable VS RS                      back to what its health checks say (slow start applies)",
            "lb rs weight VS RS WEIGHT               set its IPVS weight until enabled again",
        ],
        "vrrp" =>
        [
            "lb vrrp maintenance INSTANCE on|off     on: leave MASTER with a priority-0 advert and stay BACKUP; off: back to normal",
            "lb vrrp failover INSTANCE               hand MASTER to the peer",
        ],
        "announce" =>
        [
            "lb announce [status]                    each announced VIP: announced or withdrawn, and why",
            "lb announce maintenance on|off          on: withdraw every VIP's route (the routers stop sending here); off: announce the healthy ones",
            "lb announce withdraw [--journal PATH]   lb not running (a crash; the unit's ExecStopPost): delete the announce routes it left",
        ],
        "reload" =>
        [
            "lb reload [--plan]                      apply the configuration file now and print what changed (--plan: print only)",
        ],
        _ => [],
    };

    /// <summary>Options every control command takes (read by the client).</summary>
    public const string CommonOptions = "[--socket PATH | -p PIDFILE] [-s NAMESPACE]";

    /// <summary>How VS and RS are written.</summary>
    public const string AddressForms = "VS and RS: IP:PORT, [IPV6]:PORT, or fwmark:N for a VS";
}

/// <summary>A control request on the wire: one JSON line <c>{"argv":[...]}</c>.</summary>
public sealed record ControlRequestMessage([property: JsonPropertyName("argv")] IReadOnlyList<string> Argv);

/// <summary>A control reply on the wire: one JSON line <c>{"exit":0,"text":"..."}</c>.</summary>
public sealed record ControlReplyMessage([property: JsonPropertyName("exit")] int Exit, [property: JsonPropertyName("text")] string Text);

/// <summary>Source-generated JSON of the control messages.</summary>
[JsonSerializable(typeof(ControlRequestMessage))]
[JsonSerializable(typeof(ControlReplyMessage))]
internal sealed partial class ControlJsonContext : JsonSerializerContext
{
}
