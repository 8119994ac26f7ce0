using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Lb.Checkers.Engine;

/// <summary>
/// One round of a checker: an attempt bounded by its timeout (Polly timeout strategy) and, while the checker is up,
/// up to <c>retry</c> more attempts <c>delay_before_retry</c> apart (Polly retry strategy), all on the injected
/// <see cref="TimeProvider"/>. Pipelines are built once per checker and retry count.
/// </summary>
internal sealed class CheckRound
{
    private readonly ICheck _check;
    private readonly TimeSpan _attemptTimeout;
    private readonly TimeSpan _delayBeforeRetry;
    private readonly TimeProvider _time;
    private readonly Action<string>? _onFailedAttempt;
    private readonly Dictionary<int, ResiliencePipeline<CheckOutcome>> _pipelines = new();

    public CheckRound(ICheck check, TimeSpan attemptTimeout, TimeSpan delayBeforeRetry, TimeProvider time, Action<string>? onFailedAttempt)
    {
        _check = check;
        _attemptTimeout = attemptTimeout;
        _delayBeforeRetry = delayBeforeRetry;
        _time = time;
        _onFailedAttempt = onFailedAttempt;
    }

    public ICheck Check => _check;

    private ResiliencePipeline<CheckOutcome> Pipeline(int retries)
    {
        lock (_pipelines)
        {
            if (_pipelines.TryGetValue(retries, out var p))
                return p;
            var b = new ResiliencePipelineBuilder<CheckOutcome> { TimeProvider = _time };
            if (retries > 0)
            {
                b.AddRetry(new RetryStrategyOptions<CheckOutcome>
                {
                    MaxRetryAttempts = retries,
                    // The wait is done in OnRetry on our TimeProvider (TimerDelay), so a manual clock drives it inline.
                    Delay = TimeSpan.Zero,
                    BackoffType = DelayBackoffType.Constant,
                    UseJitter = false,
                    ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Exception is TimeoutRejectedException || args.Outcome.Result is { Success: false }),
                    OnRetry = async args =>
                    {
                        _onFailedAttempt?.Invoke(args.Outcome.Exception is TimeoutRejectedException ? _check.TimeoutReason(_attemptTimeout) : args.Outcome.Result.Reason);
                        await TimerDelay.DelayAsync(_time, _delayBeforeRetry, args.Context.CancellationToken).ConfigureAwait(false);
                    },
                });
            }
            if (_attemptTimeout > TimeSpan.Zero)
                b.AddTimeout(_attemptTimeout);
            p = b.Build();
            _pipelines[retries] = p;
            return p;
        }
    }

    /// <summary>Runs a round; returns the final outcome and how many retries were made.</summary>
    public async Task<(CheckOutcome Outcome, int Retries)> RunAsync(int retries, CancellationToken cancellationToken)
    {
        var state = new RoundState(_check);
        try
        {
            var outcome = await Pipeline(retries).ExecuteAsync(static async (s, token) =>
            {
                s.Attempts++;
                try
                {
                    return await s.Check.ExecuteAsync(token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !token.IsCancellationRequested)
                {
                    return CheckOutcome.Fail(ex.Message);
                }
            }, state, cancellationToken).ConfigureAwait(false);
            return (outcome, Math.Max(0, state.Attempts - 1));
        }
        catch (TimeoutRejectedException)
        {
            return (CheckOutcome.Fail(_check.TimeoutReason(_attemptTimeout)), Math.Max(0, state.Attempts - 1));
        }
    }

    private sealed class RoundState(ICheck check)
    {
        public ICheck Check { get; } = check;
        public int Attempts { get; set; }
    }
}
