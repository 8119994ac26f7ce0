using System.Globalization;
using System.Text;
using Lb.Hosting;
using Microsoft.Extensions.Logging;

namespace Lb.Control;

/// <summary>
/// <c>lb reload [--plan]</c> over the control socket. <c>--plan</c> prints the change a SIGHUP would make (VIPs per instance,
/// instances, IPVS services and destinations, checkers) without making it; without it the reload is applied and what it
/// did is printed. Both run in the reloader's loop (<see cref="Reloader.SubmitAsync"/>), one at a time with SIGHUPs, and
/// the reply waits (bounded) for it to finish. A configuration SIGHUP would refuse is refused here too: exit 1, each error
/// with its file and line. The plan is the reload's own decisions (each subsystem plans with the code that applies), so
/// <c>lb reload</c> right after prints the same lines.
/// </summary>
/// <remarks>
/// Registered on the control socket as the noun <c>reload</c> (args <c>[]</c> or <c>["--plan"]</c>) once the control
/// foundation is on main: <c>commands.Register("reload", async (caller, args, ct) =&gt; { var (code, text) = await
/// ReloadControl.RunAsync(reloader, args, caller.Describe(), log, ct); return new ControlReply(code, text); })</c>.
/// </remarks>
public static class ReloadControl
{
    /// <summary>How long the reply waits for the reload (or plan) to finish; a reload still running then goes on.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    public const string Usage = "usage: lb reload [--plan]";

    /// <summary>Runs <c>lb reload</c> with <paramref name="args"/> (<c>[]</c> or <c>["--plan"]</c>) for <paramref name="by"/>: exit code and text.</summary>
    public static async Task<(int ExitCode, string Text)> RunAsync(Reloader reloader, IReadOnlyList<string> args, string by, ILogger log, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(reloader);
        ArgumentNullException.ThrowIfNull(args);
        bool plan;
        if (args.Count == 0)
            plan = false;
        else if (args is ["--plan"])
            plan = true;
        else
            return (1, $"lb reload: unexpected argument '{args.First(a => a != "--plan")}'; {Usage}");

        log.LogInformation("Reload{Plan} requested by {By} (lb reload{Args})", plan ? " plan" : "", by, plan ? " --plan" : "");
        ReloadOutcome outcome;
        try
        {
            outcome = await reloader.SubmitAsync(plan).WaitAsync(Bound, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return (1, $"lb reload: the {(plan ? "plan" : "reload")} did not finish within {Bound.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s; it goes on in the daemon (see its log)");
        }
        return Render(outcome, plan);
    }

    /// <summary>The reply for <paramref name="outcome"/>: exit 0 with the lines (or <c>no change</c>), or exit 1 with why.</summary>
    public static (int ExitCode, string Text) Render(ReloadOutcome outcome, bool plan)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.Failure is { } failure)
            return (1, $"lb reload: {failure}");
        var text = new StringBuilder();
        if (outcome.Refused)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"lb reload: {(plan ? "a reload would be refused" : "reload refused")}: the configuration has {outcome.Errors.Count} error(s); the running configuration {(plan ? "would be" : "is")} kept\n");
            foreach (var e in outcome.Errors)
                text.Append(e).Append('\n');
            return (1, text.ToString());
        }
        if (outcome.Lines.Count == 0)
            text.Append("no change\n");
        foreach (var line in outcome.Lines)
            text.Append(line).Append('\n');
        if (outcome.Errors.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"note: {outcome.Errors.Count} error(s) the running configuration has too, accepted as SIGHUP accepts them:\n");
            foreach (var e in outcome.Errors)
                text.Append("  ").Append(e).Append('\n');
        }
        return (0, text.ToString());
    }
}
