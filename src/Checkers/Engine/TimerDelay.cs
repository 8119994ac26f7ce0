namespace Lb.Checkers.Engine;

/// <summary>
/// A delay on a <see cref="TimeProvider"/> whose continuation runs on the timer's callback (no hop through the
/// thread pool), so that a manual clock in tests moves the whole checker forward inside its Advance call.
/// One object per delay (the completion source is the state), no continuation task.
/// </summary>
internal static class TimerDelay
{
    public static Task DelayAsync(TimeProvider time, TimeSpan delay, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
            return Task.FromCanceled(cancellationToken);
        if (delay <= TimeSpan.Zero)
            return Task.CompletedTask;
        var state = new DelayState(cancellationToken);
        var timer = time.CreateTimer(static s => ((DelayState)s!).Complete(canceled: false), state, delay, Timeout.InfiniteTimeSpan);
        state.SetTimer(timer);
        if (cancellationToken.CanBeCanceled)
            state.SetRegistration(cancellationToken.UnsafeRegister(static s => ((DelayState)s!).Complete(canceled: true), state));
        return state.Task;
    }

    /// <summary>The completion source of one delay, completed once by the timer or the token.</summary>
    private sealed class DelayState(CancellationToken token) : TaskCompletionSource
    {
        private ITimer? _timer;
        private CancellationTokenRegistration _registration;
        private int _done;

        public void SetTimer(ITimer timer)
        {
            Interlocked.Exchange(ref _timer, timer);
            if (Volatile.Read(ref _done) != 0)
                timer.Dispose();
        }

        public void SetRegistration(CancellationTokenRegistration registration)
        {
            _registration = registration;
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref _done) != 0)
                registration.Unregister();
        }

        public void Complete(bool canceled)
        {
            if (Interlocked.Exchange(ref _done, 1) != 0)
                return;
            _timer?.Dispose();
            // Unregister, not Dispose: Dispose would wait for a running cancellation callback, and this may run inside it.
            _registration.Unregister();
            if (canceled)
                TrySetCanceled(token);
            else
                TrySetResult();
        }
    }
}
