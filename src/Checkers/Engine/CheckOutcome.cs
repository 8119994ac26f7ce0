namespace Lb.Checkers.Engine;

/// <summary>The result of one check attempt (or of a round of attempts with retries).</summary>
/// <param name="Success">Whether the check passed.</param>
/// <param name="Reason">What happened, in words (<c>HTTP status 503 on /health</c>, <c>connect timeout 3 s</c>).</param>
/// <param name="DynamicWeight">MISC_CHECK with misc_dynamic: the weight the exit code asks for.</param>
public readonly record struct CheckOutcome(bool Success, string Reason, int? DynamicWeight = null)
{
    /// <summary>A success.</summary>
    public static CheckOutcome Ok(string reason) => new(true, reason);

    /// <summary>A failure.</summary>
    public static CheckOutcome Fail(string reason) => new(false, reason);
}

/// <summary>One checker's probe: a single attempt, no retries, no state. Timeouts come from the caller's token.</summary>
public interface ICheck
{
    /// <summary>Runs one attempt. Never throws except <see cref="OperationCanceledException"/> on <paramref name="cancellationToken"/>.</summary>
    ValueTask<CheckOutcome> ExecuteAsync(CancellationToken cancellationToken);

    /// <summary>The reason recorded when an attempt exceeds its time limit (<c>connect timeout 3 s</c>).</summary>
    string TimeoutReason(TimeSpan timeout);
}

/// <summary>
/// A probe that can tell, when its attempt's time limit passes, whether the answer it waits for has already arrived at
/// its socket but not yet been processed (the process is behind on its socket events). The round then waits once more
/// for the attempt instead of calling a timeout.
/// </summary>
public interface IAnswerArrival
{
    /// <summary>True when the attempt in flight has its answer waiting (called on the timer's thread).</summary>
    bool AnswerArrived();
}

/// <summary>Creates the probe for one checker of one real server.</summary>
public interface ICheckFactory
{
    /// <summary>Creates the probe.</summary>
    ICheck Create(CheckTarget target);
}

/// <summary>What a probe needs: its options, the effective settings and where it belongs.</summary>
public sealed record CheckTarget(
    Options.VirtualServerOptions VirtualServer,
    Options.RealServerOptions RealServer,
    Options.CheckerOptions Checker,
    Options.EffectiveSettings Settings);
