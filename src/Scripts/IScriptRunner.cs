namespace Lb.Scripts;

/// <summary>How to run one script: argv (never a shell), as whom, and for how long.</summary>
/// <param name="Argv">Program and arguments (split once at configuration time by <see cref="ScriptCommandLine"/>).</param>
/// <param name="User">User to run as; null: keepalived's default (<see cref="ScriptIdentity.Resolve"/>).</param>
/// <param name="Group">Group to run as; null: the user's primary group.</param>
/// <param name="Timeout">Time after which the script's process group is killed; zero or infinite: none.</param>
public sealed record ScriptInvocation(IReadOnlyList<string> Argv, string? User, string? Group, TimeSpan Timeout)
{
    /// <summary>
    /// The one identity rule: the script's own <c>username [groupname]</c>, else <c>script_user username [groupname]</c>;
    /// a script that names a user but no group runs under that user's primary group, never <c>script_user</c>'s group.
    /// </summary>
    public static ScriptInvocation Create(IReadOnlyList<string> argv, string? user, string? group, string? scriptUser, string? scriptGroup, TimeSpan timeout)
        => user is not null ? new(argv, user, group, timeout) : new(argv, scriptUser, scriptUser is null ? null : scriptGroup, timeout);
}

/// <summary>How a script ended.</summary>
/// <param name="ExitCode">Exit status (128+signal when killed by a signal); null when it could not start or timed out.</param>
/// <param name="TimedOut">Killed at the timeout.</param>
/// <param name="Error">Why it could not start (or was refused), if it did not.</param>
/// <param name="OutputHead">The first bytes of stdout+stderr (bounded), for diagnostics.</param>
/// <param name="OutputBytes">Bytes read from stdout+stderr (the rest is discarded past the head).</param>
public sealed record ScriptResult(int? ExitCode, bool TimedOut, string? Error, string OutputHead, long OutputBytes)
{
    /// <summary>Exit status 0.</summary>
    public bool Succeeded => ExitCode == 0 && !TimedOut && Error is null;

    /// <summary>It wrote more than <see cref="ScriptRunner.OutputHeadBytes"/>.</summary>
    public bool OutputTruncated => OutputBytes > ScriptRunner.OutputHeadBytes;
}

/// <summary>Runs scripts (vrrp_script, VRRP notify, MISC_CHECK, notify_up/down, quorum_up/down).</summary>
public interface IScriptRunner
{
    /// <summary>Runs the script to completion or timeout. Cancelling <paramref name="cancellationToken"/> kills it and throws.</summary>
    Task<ScriptResult> RunAsync(ScriptInvocation invocation, CancellationToken cancellationToken);
}
