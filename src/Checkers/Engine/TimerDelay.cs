namespace Lb.Checkers.Engine;

/// <summary>
/// A delay on a <see cref="TimeProvider"/> whose continuation runs on the timer's callback (no hop through the
/// thread pool), so that a manual clock in tests moves the whole checker forward inside its Advance call.
/// </summary>
internal static class TimerDelay
{
    public static Task DelayAsync(TimeProvider time, TimeSpan delay, CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero)
            return cancellationToken.IsCancellationRequested ? Task.FromCanceled(cancellationToken) : Task.CompletedTask;
        if (cancellationToken.IsCancellationRequested)
            return Task.FromCanceled(cancellationToken);
        var state = new DelayState();
        state.Timer = time.CreateTimer(static s => ((DelayState)s!).Tcs.TrySetResult(), state, delay, Timeout.InfiniteTimeSpan);
        if (cancellationToken.CanBeCanceled)
        {
            state.Registration = cancellationToken.Register(static (s, ct) =>
            {
                var d = (DelayState)s!;
                d.Tcs.TrySetCanceled(ct);
            }, state);
        }
        return state.Tcs.Task.ContinueWith(static (t, s) =>
        {
            var d = (DelayState)s!;
            d.Timer?.Dispose();
            // Unregister, not Dispose: Dispose would wait for a running cancellation callback, and this continuation
            // may run inside that very callback (ExecuteSynchronously). The callback only completes the Tcs.
            d.Registration.Unregister();
            return t;
        }, state, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Unwrap();
    }

    private sealed class DelayState
    {
        public TaskCompletionSource Tcs { get; } = new();
        public ITimer? Timer { get; set; }
        public CancellationTokenRegistration Registration { get; set; }
    }
}
