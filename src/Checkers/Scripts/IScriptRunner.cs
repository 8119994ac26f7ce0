namespace Lb.Checkers.Scripts;

/// <summary>How to run one script: argv (never a shell), as whom, and for how long.</summary>
/// <param name="Argv">Program and arguments.</param>
/// <param name="User">User to run as; null: the current user.</param>
/// <param name="Group">Group to run as; null: the user's primary group.</param>
/// <param name="Timeout">Time after which the whole process group/tree is killed.</param>
public sealed record ScriptInvocation(IReadOnlyList<string> Argv, string? User, string? Group, TimeSpan Timeout);

/// <summary>How a script ended.</summary>
/// <param name="ExitCode">Exit status (128+signal when killed by a signal); null when it could not start or timed out.</param>
/// <param name="TimedOut">Killed at the timeout.</param>
/// <param name="Error">Why it could not start, if it could not.</param>
/// <param name="OutputHead">The first bytes of stdout+stderr (bounded), for diagnostics.</param>
/// <param name="OutputBytes">Total bytes the script wrote to stdout+stderr (drained and discarded past the head).</param>
public sealed record ScriptResult(int? ExitCode, bool TimedOut, string? Error, string OutputHead, long OutputBytes);

/// <summary>Runs scripts (MISC_CHECK, notify_up/down, quorum_up/down).</summary>
public interface IScriptRunner
{
    /// <summary>Runs the script to completion or timeout. Cancelling <paramref name="cancellationToken"/> kills it and throws.</summary>
    Task<ScriptResult> RunAsync(ScriptInvocation invocation, CancellationToken cancellationToken);
}
