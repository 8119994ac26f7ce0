namespace Lb.TestSupport;

/// <summary>Advancing a <see cref="ManualTimeProvider"/> so that awaits resumed by its timers complete inside the call.</summary>
public static class ManualClock
{
    public static void Advance(ManualTimeProvider time, double seconds)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            time.Advance(seconds);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }
}
