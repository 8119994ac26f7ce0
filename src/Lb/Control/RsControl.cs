using System.Globalization;
using Lb.Checkers;
using Lb.Checkers.Operator;
using Lb.Hosting;
using Microsoft.Extensions.Logging;

namespace Lb.Control;

/// <summary>
/// The <c>rs</c> noun of the control socket: <c>lb rs drain VS RS [--timeout S]</c>, <c>lb rs disable VS RS</c>,
/// <c>lb rs enable VS RS</c>, <c>lb rs weight VS RS N</c> (VS: <c>ip:port</c>, <c>[ipv6]:port</c>, <c>fwmark:N</c>,
/// <c>group:NAME</c>; RS: <c>ip:port</c>). The checker subsystem decides and applies (journal kind <c>operator</c> with
/// the caller, then IPVS); the overrides live in the operator-state file, section <c>rs</c>, restored before the first
/// IPVS programming.
/// </summary>
public static class RsControl
{
    /// <summary>The operator-state section of real-server overrides.</summary>
    public const string Section = "rs";

    private const string Usage = "usage: lb rs drain VS RS [--timeout S] | disable VS RS | enable VS RS | weight VS RS N";

    /// <summary>Registers the noun and hooks the checker subsystem's restore and persistence (null <paramref name="checkers"/>: -P, refused).</summary>
    public static void Register(ControlCommands commands, CheckerService? checkers, OperatorStateStore store, ILogger log)
    {
        ArgumentNullException.ThrowIfNull(commands);
        ArgumentNullException.ThrowIfNull(store);
        if (checkers is not null)
        {
            checkers.BeforeStart = subsystem =>
            {
                subsystem.PersistOverride = (key, value) => store.Set(Section, key, value?.ToJson());
                var saved = new Dictionary<string, RealServerOverride>(StringComparer.Ordinal);
                foreach (var (key, element) in store.Section(Section))
                {
                    if (RealServerOverride.FromJson(element) is { } o)
                        saved[key] = o;
                    else
                        log.LogWarning("Operator state {Key}: not a real-server override; ignored", key);
                }
                subsystem.RestoreOverrides(saved);
            };
        }
        commands.Register(Section, (caller, args, ct) => RunAsync(checkers?.Subsystem, caller, args, ct));
    }

    /// <summary>Parses the arguments and runs the command.</summary>
    public static async Task<ControlReply> RunAsync(CheckerSubsystem? subsystem, ControlCaller caller, IReadOnlyList<string> args, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(args);
        if (!TryParse(args, caller.Describe(), out var command, out var error))
            return new ControlReply(1, error);
        if (subsystem is null)
            return new ControlReply(1, "the checkers are not running in this daemon");
        var result = await subsystem.ControlAsync(command, ct).ConfigureAwait(false);
        return new ControlReply(result.Ok ? 0 : 1, result.Text);
    }

    /// <summary>The command line as a command (false: the reason, with the usage).</summary>
    public static bool TryParse(IReadOnlyList<string> args, string by, out RealServerCommand command, out string error)
    {
        command = null!;
        error = Usage;
        if (args.Count < 3)
            return false;
        var action = args[0] switch
        {
            "drain" => RealServerAction.Drain,
            "disable" => RealServerAction.Disable,
            "enable" => RealServerAction.Enable,
            "weight" => RealServerAction.Weight,
            _ => (RealServerAction?)null,
        };
        if (action is null)
        {
            error = $"{args[0]}: unknown verb; {Usage}";
            return false;
        }
        int? weight = null;
        TimeSpan? timeout = null;
        var rest = args.Skip(3).ToList();
        if (action == RealServerAction.Weight)
        {
            if (rest.Count != 1 || !int.TryParse(rest[0], NumberStyles.None, CultureInfo.InvariantCulture, out var w))
            {
                error = $"weight needs one number in [0, 65535]; {Usage}";
                return false;
            }
            weight = w;
        }
        else if (action == RealServerAction.Drain && rest.Count > 0)
        {
            if (rest.Count != 2 || rest[0] != "--timeout" || !double.TryParse(rest[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var s) || s < 0 || s > 604800)
            {
                error = $"drain takes --timeout SECONDS (0 to 604800); {Usage}";
                return false;
            }
            timeout = TimeSpan.FromSeconds(s);
        }
        else if (rest.Count > 0)
        {
            error = $"{args[0]} takes no option '{rest[0]}'; {Usage}";
            return false;
        }
        command = new RealServerCommand
        {
            Action = action.Value,
            VirtualServer = args[1],
            RealServer = args[2],
            Weight = weight,
            Timeout = timeout,
            By = by,
            CommandLine = "lb rs " + string.Join(' ', args),
        };
        return true;
    }
}
