using Lb.Checkers.Engine;

namespace Lb.Checkers.Tests.Support;

/// <summary>Runs one probe as the subsystem does: a round bounded by its timeout on the system clock.</summary>
public static class Rounds
{
    public static async Task<CheckOutcome> RunAsync(ICheck check, double timeoutSeconds, int retries = 0, double delayBeforeRetry = 0)
    {
        var round = new CheckRound(check, TimeSpan.FromSeconds(timeoutSeconds), TimeSpan.FromSeconds(delayBeforeRetry), TimeProvider.System, null);
        var (outcome, _) = await round.RunAsync(retries, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        return outcome;
    }
}
