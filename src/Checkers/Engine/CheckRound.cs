namespace Lb.Checkers.Engine;

/// <summary>
/// One round of a checker: an attempt bounded by its timeout and, while the checker is up, up to <c>retry</c> more
/// attempts <c>delay_before_retry</c> apart, all on the injected <see cref="TimeProvider"/>.
/// </summary>
/// <remarks>
/// This replaced a Polly pipeline (retry + timeout strategies): per attempt Polly rented a context, created a
/// cancellation source and a timer on the TimeProvider and ran the callback through two strategy layers. A checker runs
/// one round at a time, so here one timer and one cancellation source per checker are re-armed for each attempt
/// (<see cref="CancellationTokenSource.TryReset"/>), which makes a check cost its socket work and little else.
/// With a <see cref="CheckPacer"/>, a timeout measured while the process was late is not a verdict:
/// the round ends at once with <see cref="Verdict"/> false and the caller does not count it.
/// </remarks>
internal sealed class CheckRound
{
    private readonly ICheck _check;
    private readonly TimeSpan _attemptTimeout;
    private readonly TimeSpan _delayBeforeRetry;
    private readonly TimeProvider _time;
    private readonly Action<string>? _onFailedAttempt;
    private readonly CheckPacer? _pacer;
    private ITimer? _timer;
    private CancellationTokenSource? _idle;
    private CancellationTokenSource? _armed; // under _gate
    private readonly object _gate = new();
    private long _firedAt;
    private volatile bool _fired;
    private bool _lookedAgain;

    public CheckRound(ICheck check, TimeSpan attemptTimeout, TimeSpan delayBeforeRetry, TimeProvider time, Action<string>? onFailedAttempt, CheckPacer? pacer = null)
    {
        _check = check;
        _attemptTimeout = attemptTimeout;
        _delayBeforeRetry = delayBeforeRetry;
        _time = time;
        _onFailedAttempt = onFailedAttempt;
        _pacer = pacer;
    }

    public ICheck Check => _check;

    /// <summary>
    /// False when the last round ended on a timeout measured while the process was overloaded (see
    /// <see cref="CheckPacer.IgnoreTimeout"/>): its outcome says nothing about the server and must not be counted.
    /// </summary>
    public bool Verdict { get; private set; } = true;

    /// <summary>Runs a round; returns the final outcome and how many retries were made.</summary>
    public async Task<(CheckOutcome Outcome, int Retries)> RunAsync(int retries, CancellationToken cancellationToken)
    {
        Verdict = true;
        var attempts = 0;
        while (true)
        {
            attempts++;
            var (outcome, timedOut, start, lateness) = await AttemptAsync(cancellationToken).ConfigureAwait(false);
            if (timedOut)
            {
                outcome = CheckOutcome.Fail(_check.TimeoutReason(_attemptTimeout));
                if (_pacer is not null && _pacer.IgnoreTimeout(start, lateness))
                {
                    Verdict = false;
                    return (outcome, attempts - 1);
                }
            }
            if (outcome.Success || attempts > retries)
                return (outcome, attempts - 1);
            _onFailedAttempt?.Invoke(outcome.Reason);
            await TimerDelay.DelayAsync(_time, _delayBeforeRetry, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<(CheckOutcome Outcome, bool TimedOut, long Start, TimeSpan Lateness)> AttemptAsync(CancellationToken ct)
    {
        if (_attemptTimeout <= TimeSpan.Zero)
        {
            try
            {
                return (await _check.ExecuteAsync(ct).ConfigureAwait(false), false, 0, TimeSpan.Zero);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                return (CheckOutcome.Fail(ex.Message), false, 0, TimeSpan.Zero);
            }
        }
        ct.ThrowIfCancellationRequested();
#pragma warning disable CA2000 // kept in _idle for the next attempt, disposed in the finally, or (fired by the timer) left to the GC: it owns no timer
        var cts = _idle ?? new CancellationTokenSource();
#pragma warning restore CA2000
        _idle = null;
        var registration = ct.CanBeCanceled ? ct.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), cts) : default;
        var start = _time.GetTimestamp();
        Arm(cts);
        try
        {
            return (await _check.ExecuteAsync(cts.Token).ConfigureAwait(false), false, start, TimeSpan.Zero);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested && !ct.IsCancellationRequested && _fired)
        {
            // The attempt's timer fired: a timeout. How late it fired tells the pacer whether the process was lagging.
            var lateness = _time.GetElapsedTime(start, _firedAt) - _attemptTimeout;
            return (default, true, start, lateness > TimeSpan.Zero ? lateness : TimeSpan.Zero);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cts.IsCancellationRequested)
        {
            return (CheckOutcome.Fail(ex.Message), false, start, TimeSpan.Zero);
        }
        finally
        {
            var disarmed = Disarm(cts);
            // Unregister, not Dispose: this may run inside the token's own cancellation callback.
            registration.Unregister();
            // Reuse the source for the next attempt unless it was cancelled (or its timer is cancelling it right now).
            if (disarmed && cts.TryReset())
                _idle = cts;
            else if (disarmed)
                cts.Dispose();
        }
    }

    private void Arm(CancellationTokenSource cts)
    {
        lock (_gate)
        {
            _fired = false;
            _lookedAgain = false;
            _armed = cts;
            _timer ??= _time.CreateTimer(static s => ((CheckRound)s!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _timer.Change(_attemptTimeout, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// The attempt's time limit passed. A last look first (keepalived decides on the socket's readiness, however late
    /// its loop runs): when the answer is already waiting at the socket, the attempt gets one more time limit to process
    /// it instead of a timeout. Otherwise the attempt is cancelled.
    /// </summary>
    private void Fire()
    {
        CancellationTokenSource? cts;
        lock (_gate)
        {
            cts = _armed;
            if (cts is null)
                return;
            if (!_lookedAgain && _check is IAnswerArrival probe && probe.AnswerArrived())
            {
                _lookedAgain = true;
                _pacer?.AnswerArrivedLate();
                _timer!.Change(_attemptTimeout, Timeout.InfiniteTimeSpan);
                return;
            }
            _armed = null;
            _firedAt = _time.GetTimestamp();
            _fired = true;
        }
        cts.Cancel(); // outside the lock: cancellation runs the attempt's callbacks
    }

    /// <summary>Stops the timer; false when it already fired for <paramref name="cts"/>.</summary>
    private bool Disarm(CancellationTokenSource cts)
    {
        lock (_gate)
        {
            if (_armed != cts)
                return false;
            _armed = null;
            _timer!.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return true;
        }
    }
}
