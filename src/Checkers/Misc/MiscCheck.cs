using Lb.Checkers.Engine;
using Lb.Checkers.Net;
using Lb.Checkers.Options;
using Lb.Scripts;

namespace Lb.Checkers.Misc;

/// <summary>
/// MISC_CHECK: runs misc_path (argv, never a shell) as <c>user</c> or <c>script_user</c>. Exit 0 passes; with
/// misc_dynamic, 2-255 pass and set the weight to code-2; anything else fails. The round's timeout (misc_timeout,
/// default delay_loop) kills the script's process tree and group.
/// </summary>
public sealed class MiscCheck : ICheck
{
    private readonly MiscCheckOptions _options;
    private readonly IReadOnlyList<string> _argv;
    private readonly IScriptRunner _runner;
    private readonly string? _user;
    private readonly string? _group;
    private readonly string? _scriptUser;
    private readonly string? _scriptGroup;
    private readonly TimeSpan _timeout;

    /// <summary>Creates the probe.</summary>
    public MiscCheck(MiscCheckOptions options, EffectiveSettings settings, IScriptRunner runner, string? scriptUser, string? scriptGroup)
    {
        _options = options;
        _argv = options.Argv ?? (ScriptCommandLine.TrySplit(options.Path, out var argv, out var error) ? argv : throw new ArgumentException($"MISC_CHECK misc_path: {error}"));
        _runner = runner;
        _user = options.User;
        _group = options.Group;
        _scriptUser = scriptUser;
        _scriptGroup = scriptGroup;
        _timeout = options.Timeout ?? settings.DelayLoop;
    }

    /// <summary>The argv executed.</summary>
    public IReadOnlyList<string> Argv => _argv;

    /// <inheritdoc/>
    public async ValueTask<CheckOutcome> ExecuteAsync(CancellationToken cancellationToken)
    {
        // The round's timeout cancels the token at misc_timeout; the runner's own limit is a backstop.
        var r = await _runner.RunAsync(ScriptInvocation.Create(_argv, _user, _group, _scriptUser, _scriptGroup, _timeout + _timeout), cancellationToken).ConfigureAwait(false);
        if (r.Error is not null)
            return CheckOutcome.Fail(r.Error);
        if (r.TimedOut || r.ExitCode is null)
            return CheckOutcome.Fail(TimeoutReason(_timeout + _timeout));
        var code = r.ExitCode.Value;
        if (code == 0)
            return CheckOutcome.Ok("exited with status 0");
        if (_options.Dynamic && code >= 2 && code <= 255)
            return new CheckOutcome(true, $"misc_dynamic weight {code - 2}", code - 2);
        if (code > 128 && code < 128 + 65)
            return CheckOutcome.Fail($"exited with status {code} (signal {code - 128})");
        return CheckOutcome.Fail($"exited with status {code}");
    }

    /// <inheritdoc/>
    public string TimeoutReason(TimeSpan timeout) => $"timed out after {SocketConnector.Seconds(timeout)} s (misc_timeout), process tree killed";
}
