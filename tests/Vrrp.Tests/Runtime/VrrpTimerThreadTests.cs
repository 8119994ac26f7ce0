using System.Collections.Concurrent;
using Lb.TestSupport;
using Lb.Vrrp.Runtime;
using Xunit;

namespace Lb.Vrrp.Tests.Runtime;

/// <summary>The protocol timers' own thread: expiries run there, never on the shared thread pool.</summary>
public class VrrpTimerThreadTests
{
    [Fact]
    public void A_timer_fires_on_the_dedicated_thread_not_on_the_pool()
    {
        using var timers = new VrrpTimerThread("lb-test-timer");
        var seen = new ConcurrentQueue<(string? Name, bool Pool, bool Dedicated)>();
        using var t = timers.CreateTimer(_ => seen.Enqueue((Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread, timers.IsCurrentThread)), null, TimeSpan.FromMilliseconds(5), Timeout.InfiniteTimeSpan);
        Assert.True(Wait.Until(() => !seen.IsEmpty));
        Assert.Equal(("lb-test-timer", false, true), seen.Single());
    }

    [Fact]
    public void A_changed_timer_fires_once_at_its_new_time_a_disposed_one_never_and_a_periodic_one_repeats()
    {
        using var timers = new VrrpTimerThread("lb-test-timer");
        var fired = new ConcurrentQueue<string>();
        using var moved = timers.CreateTimer(_ => fired.Enqueue("moved"), null, TimeSpan.FromHours(1), Timeout.InfiniteTimeSpan);
        var gone = timers.CreateTimer(_ => fired.Enqueue("gone"), null, TimeSpan.FromMilliseconds(30), Timeout.InfiniteTimeSpan);
        gone.Dispose();
        Assert.False(gone.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan));
        moved.Change(TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
        using var periodic = timers.CreateTimer(_ => fired.Enqueue("tick"), null, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(2));
        Assert.True(Wait.Until(() => fired.Count(f => f == "tick") >= 3));
        periodic.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        // an expiry already taken when Change ran may still come; after a later one, nothing more can
        using var fence = timers.CreateTimer(_ => fired.Enqueue("fence"), null, TimeSpan.FromMilliseconds(50), Timeout.InfiniteTimeSpan);
        Assert.True(Wait.Until(() => fired.Contains("fence")));
        var ticks = fired.Count(f => f == "tick");
        using var fence2 = timers.CreateTimer(_ => fired.Enqueue("fence2"), null, TimeSpan.FromMilliseconds(50), Timeout.InfiniteTimeSpan);
        Assert.True(Wait.Until(() => fired.Contains("fence2")));
        Assert.Equal(ticks, fired.Count(f => f == "tick"));
        Assert.Single(fired, f => f == "moved");
        Assert.DoesNotContain("gone", fired);
    }

    [Fact]
    public void A_late_expiry_is_reported_with_its_lateness()
    {
        using var timers = new VrrpTimerThread("lb-test-timer");
        var late = new ConcurrentQueue<TimeSpan>();
        timers.Late += late.Enqueue;
        var fired = false;
        // the scenario: a callback that holds the thread for 20 ms of clock (a slow callback, a GC pause) while the
        // next expiry falls due 1 ms in
        using var slow = timers.CreateTimer(_ =>
        {
            var start = timers.GetTimestamp();
            while (timers.GetElapsedTime(start) < TimeSpan.FromMilliseconds(20))
                Thread.SpinWait(100);
        }, null, TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        using var victim = timers.CreateTimer(_ => Volatile.Write(ref fired, true), null, TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
        Assert.True(Wait.Until(() => Volatile.Read(ref fired)));
        Assert.True(Wait.Until(() => !late.IsEmpty));
        Assert.True(late.Max() > TimeSpan.FromMilliseconds(1), string.Join(", ", late));
    }
}
