using Lb.Checkers.Engine;
using Lb.Checkers.Tests.Support;
using Lb.TestSupport;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Lb.Checkers.Tests.Engine;

/// <summary>The pacer on its own, on a manual clock: lag measured, delay_loop stretched and said so, overload timeouts not counted.</summary>
public class CheckPacerTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    /// <summary>Advances the clock in 10 ms steps until <paramref name="task"/> completes (bounded); returns the time it took.</summary>
    private static TimeSpan AdvanceUntil(ManualTimeProvider time, Task task)
    {
        var start = time.GetUtcNow();
        for (var i = 0; i < 10_000 && !task.IsCompleted; i++)
            ManualClock.Advance(time, 0.01);
        Assert.True(task.IsCompleted, "the delay never completed");
        return time.GetUtcNow() - start;
    }

    [Fact]
    public async Task Rounds_on_time_keep_delay_loop_as_configured()
    {
        var time = new ManualTimeProvider();
        var logs = new ListLogger();
        using var pacer = new CheckPacer(time, logs.CreateLogger("pacer"));
        using var pace = pacer.Track();
        for (var i = 0; i < 5; i++)
        {
            await pace.WaitTurnAsync(CancellationToken.None);
            var took = AdvanceUntil(time, pace.DelayAsync(Second, CancellationToken.None));
            Assert.Equal(Second, took);
        }
        var s = pacer.Snapshot();
        Assert.Equal(1, s.Stretch);
        Assert.False(s.Degraded);
        Assert.Equal(0, s.LateRounds);
        Assert.Empty(logs.Lines);
    }

    [Fact]
    public async Task A_late_round_stretches_delay_loop_says_so_and_recovers()
    {
        var time = new ManualTimeProvider();
        var logs = new ListLogger();
        using var pacer = new CheckPacer(time, logs.CreateLogger("pacer"));
        using var pace = pacer.Track();
        await pace.WaitTurnAsync(CancellationToken.None);
        var delay = pace.DelayAsync(Second, CancellationToken.None);
        ManualClock.Advance(time, 1.5); // due at 1 s, the loop only gets to run at 1.5 s: 500 ms late
        Assert.True(delay.IsCompleted);
        await pace.WaitTurnAsync(CancellationToken.None);

        var s = pacer.Snapshot();
        Assert.True(s.Degraded);
        Assert.Equal(1.5, s.Stretch);
        Assert.Equal(1, s.LateRounds);
        Assert.Equal(500, s.LagMilliseconds);
        Assert.Equal(500, s.MinLagMilliseconds);
        Assert.Equal(1, s.BehindWindows);
        Assert.Contains("Checkers cannot keep up (for 1500 ms every round started at least 500 ms late, up to 500 ms; 0 in flight, 0 waiting): checking every 1.5x delay_loop", logs.Lines);

        // The next round is due 1.5 s later, not 1 s.
        var stretched = AdvanceUntil(time, pace.DelayAsync(Second, CancellationToken.None));
        Assert.Equal(TimeSpan.FromSeconds(1.5), stretched);
        Assert.Equal(1, pacer.Snapshot().StretchedRounds);

        // Rounds on time from then on: the stretch shrinks back to delay_loop and the log says so.
        for (var i = 0; i < 20 && pacer.Stretch > 1; i++)
        {
            await pace.WaitTurnAsync(CancellationToken.None);
            AdvanceUntil(time, pace.DelayAsync(Second, CancellationToken.None));
        }
        await pace.WaitTurnAsync(CancellationToken.None);
        Assert.False(pacer.Snapshot().Degraded);
        Assert.Contains(logs.Lines, l => l.StartsWith("Checkers keep up again: checking every delay_loop as configured", StringComparison.Ordinal));
        Assert.Equal(Second, AdvanceUntil(time, pace.DelayAsync(Second, CancellationToken.None)));
    }

    /// <summary>
    /// Ten checkers due in the same instant, as a thousand are after a start: the process gets to them one after the
    /// other, 0 to 900 ms late, and is through the burst well before the next one. That is keeping up: delay_loop
    /// stays as configured (the largest lag, the signal before, stretched it ×1.5 per second up to 16× here).
    /// </summary>
    [Fact]
    public async Task A_burst_the_process_gets_through_does_not_stretch()
    {
        var time = new ManualTimeProvider();
        var logs = new ListLogger();
        using var pacer = new CheckPacer(time, logs.CreateLogger("pacer"));
        var loops = Enumerable.Range(0, 10).Select(_ => pacer.Track()).ToList();
        try
        {
            foreach (var l in loops)
                await l.WaitTurnAsync(CancellationToken.None);
            for (var cycle = 0; cycle < 8; cycle++)
            {
                var due = loops.Select(l => l.DelayAsync(Second, CancellationToken.None)).ToList(); // all due 1 s from now
                ManualClock.Advance(time, 1);
                Assert.All(due, d => Assert.True(d.IsCompleted));
                foreach (var l in loops)
                {
                    await l.WaitTurnAsync(CancellationToken.None); // started 0, 100, …, 900 ms after it was due
                    ManualClock.Advance(time, 0.1);
                }
            }
            var s = pacer.Snapshot();
            Assert.True(s.LateRounds >= 8 * 6, $"late rounds {s.LateRounds}"); // 300…900 ms late: counted as late…
            Assert.Equal(1, s.Stretch);                                         // …but not a process that is behind
            Assert.False(s.Degraded);
            Assert.Equal(0, s.BehindWindows);
            Assert.Equal(0, s.StretchedRounds);
            Assert.DoesNotContain(logs.Lines, l => l.StartsWith("Checkers cannot keep up", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var l in loops)
                l.Dispose();
        }
    }

    /// <summary>The same ten checkers when the process never gets through: every round of a window starts late, later and later.</summary>
    [Fact]
    public async Task A_backlog_that_never_drains_stretches_and_holds_for_one_stretched_delay_loop()
    {
        var time = new ManualTimeProvider();
        var logs = new ListLogger();
        using var pacer = new CheckPacer(time, logs.CreateLogger("pacer"));
        var loops = Enumerable.Range(0, 10).Select(_ => pacer.Track()).ToList();
        try
        {
            foreach (var l in loops)
                await l.WaitTurnAsync(CancellationToken.None);
            var seen = new List<(double Stretch, long Behind)>();
            for (var cycle = 0; cycle < 3; cycle++)
            {
                var due = loops.Select(l => l.DelayAsync(Second, CancellationToken.None)).ToList();
                for (var i = 0; i < 10_000 && !due.All(d => d.IsCompleted); i++)
                    ManualClock.Advance(time, 0.01);
                ManualClock.Advance(time, 0.4); // nothing starts for 400 ms after the last was due…
                foreach (var l in loops)
                {
                    await l.WaitTurnAsync(CancellationToken.None); // …then each 400 ms after the previous
                    ManualClock.Advance(time, 0.4);
                    seen.Add((pacer.Stretch, pacer.Snapshot().BehindWindows));
                }
            }
            var s = pacer.Snapshot();
            Assert.True(s.Degraded);
            Assert.True(s.MinLagMilliseconds > 250, $"min lag {s.MinLagMilliseconds}");
            Assert.True(s.BehindWindows >= 8, $"behind windows {s.BehindWindows}");
            // The first behind window (closed by the first start, 1.4 s in) stretches ×1.5; the second (closed 1.2 s
            // later) is behind too but comes before one stretched delay_loop (1.5 s) has passed: no second step yet.
            Assert.Equal((1.5, 1L), seen[0]);
            var second = seen.FindIndex(x => x.Behind == 2);
            Assert.True(second > 0, string.Join(" ", seen));
            Assert.Equal(1.5, seen[second].Stretch);
            Assert.True(seen[^1].Stretch > 1.5, string.Join(" ", seen)); // still behind: it went on growing
            Assert.Contains(logs.Lines, l => l.StartsWith("Checkers cannot keep up (for ", StringComparison.Ordinal) && l.EndsWith("checking every 1.5x delay_loop", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var l in loops)
                l.Dispose();
        }
    }

    /// <summary>
    /// Rounds start on time but their answers wait (the socket event thread is behind, not the timers): timeouts that
    /// cannot be counted because of it are the signal — from 1 % of a window's rounds on. One among many is not.
    /// </summary>
    [Theory]
    [InlineData(10, 5, true)]    // half of the rounds timed out while the process was late: behind
    [InlineData(200, 1, false)]  // one in 200 (a dead server during a late burst): not behind
    public async Task Timeouts_not_counted_because_of_lateness_say_the_process_is_behind(int rounds, int ignored, bool stretches)
    {
        var time = new ManualTimeProvider();
        using var pacer = new CheckPacer(time);
        var loops = Enumerable.Range(0, rounds).Select(_ => pacer.Track()).ToList();
        try
        {
            foreach (var l in loops)
                await l.WaitTurnAsync(CancellationToken.None);
            var due = loops.Select(l => l.DelayAsync(Second, CancellationToken.None)).ToList();
            ManualClock.Advance(time, 1);
            Assert.All(due, d => Assert.True(d.IsCompleted));
            var attemptStart = time.GetTimestamp();
            foreach (var l in loops)
                await l.WaitTurnAsync(CancellationToken.None); // every round on time
            ManualClock.Advance(time, 0.5);
            for (var i = 0; i < ignored; i++)
                Assert.True(pacer.IgnoreTimeout(attemptStart, TimeSpan.FromSeconds(1))); // its timer fired 1 s late: not a verdict
            ManualClock.Advance(time, 0.6);
            _ = loops[0].DelayAsync(Second, CancellationToken.None);
            ManualClock.Advance(time, 1);
            await loops[0].WaitTurnAsync(CancellationToken.None); // on time, closes the window
            Assert.Equal(stretches, pacer.Snapshot().Degraded);
            Assert.Equal(stretches ? 1 : 0, pacer.Snapshot().BehindWindows);
        }
        finally
        {
            foreach (var l in loops)
                l.Dispose();
        }
    }

    /// <summary>Waiting for a turn (MaxInFlight) is our own queueing: counted as a late round, never a stretch.</summary>
    [Fact]
    public async Task Waiting_for_a_turn_does_not_stretch()
    {
        var time = new ManualTimeProvider();
        using var pacer = new CheckPacer(time, null, new CheckPacerOptions { MaxInFlight = 1 });
        using var a = pacer.Track();
        using var b = pacer.Track();
        for (var i = 0; i < 5; i++)
        {
            await a.WaitTurnAsync(CancellationToken.None);
            var bTurn = b.WaitTurnAsync(CancellationToken.None).AsTask();
            ManualClock.Advance(time, 2); // a's round holds the only turn for 2 s
            Assert.False(bTurn.IsCompleted);
            _ = a.DelayAsync(Second, CancellationToken.None);
            await bTurn.WaitAsync(TimeSpan.FromSeconds(60));
            _ = b.DelayAsync(Second, CancellationToken.None);
        }
        var s = pacer.Snapshot();
        Assert.Equal(5, s.LateRounds);
        Assert.Equal(1, s.Stretch);
    }

    [Fact]
    public async Task The_stretch_is_bounded()
    {
        var time = new ManualTimeProvider();
        using var pacer = new CheckPacer(time, null, new CheckPacerOptions { MaxStretch = 4 });
        using var pace = pacer.Track();
        for (var i = 0; i < 20; i++)
        {
            await pace.WaitTurnAsync(CancellationToken.None);
            var d = pace.DelayAsync(Second, CancellationToken.None);
            AdvanceUntil(time, d);
            ManualClock.Advance(time, 2); // always 2 s late
        }
        Assert.Equal(4, pacer.Stretch);
    }

    [Fact]
    public async Task Rounds_beyond_max_in_flight_wait_for_a_turn()
    {
        var time = new ManualTimeProvider();
        using var pacer = new CheckPacer(time, null, new CheckPacerOptions { MaxInFlight = 1 });
        using var a = pacer.Track();
        using var b = pacer.Track();
        await a.WaitTurnAsync(CancellationToken.None);
        var bTurn = b.WaitTurnAsync(CancellationToken.None).AsTask();
        Assert.False(bTurn.IsCompleted);
        Assert.Equal((1, 1), (pacer.Snapshot().InFlight, pacer.Snapshot().Waiting));
        _ = a.DelayAsync(Second, CancellationToken.None); // a's round is over: its turn goes to b
        await bTurn.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal((1, 0), (pacer.Snapshot().InFlight, pacer.Snapshot().Waiting));
    }

    /// <summary>A probe that never answers (a blackholed server): only the round's timeout ends it.</summary>
    private sealed class Silent : ICheck
    {
        public async ValueTask<CheckOutcome> ExecuteAsync(CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return CheckOutcome.Ok("never");
        }

        public string TimeoutReason(TimeSpan timeout) => $"connect timeout {timeout.TotalSeconds} s";
    }

    [Fact]
    public async Task A_timeout_while_the_process_lagged_is_not_a_verdict()
    {
        var time = new ManualTimeProvider();
        using var pacer = new CheckPacer(time);
        var round = new CheckRound(new Silent(), TimeSpan.FromSeconds(3), TimeSpan.Zero, time, null, pacer);
        var run = round.RunAsync(0, CancellationToken.None);

        // Meanwhile another checker's round starts 500 ms late: the process is not keeping up.
        using var other = pacer.Track();
        await other.WaitTurnAsync(CancellationToken.None);
        _ = other.DelayAsync(TimeSpan.FromSeconds(0.5), CancellationToken.None);
        ManualClock.Advance(time, 1);
        await other.WaitTurnAsync(CancellationToken.None);

        ManualClock.Advance(time, 2); // the attempt's 3 s are up
        var (outcome, _) = await run.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.False(round.Verdict);
        Assert.Equal("connect timeout 3 s", outcome.Reason);
        Assert.Equal(1, pacer.Snapshot().IgnoredTimeouts);
    }

    [Fact]
    public async Task A_timeout_on_time_is_a_verdict_even_after_an_earlier_overload()
    {
        var time = new ManualTimeProvider();
        using var pacer = new CheckPacer(time);
        using var other = pacer.Track();
        await other.WaitTurnAsync(CancellationToken.None);
        _ = other.DelayAsync(TimeSpan.FromSeconds(0.5), CancellationToken.None);
        ManualClock.Advance(time, 1);
        await other.WaitTurnAsync(CancellationToken.None); // late, but before the attempt below starts
        ManualClock.Advance(time, 0.1);
        var round = new CheckRound(new Silent(), TimeSpan.FromSeconds(3), TimeSpan.Zero, time, null, pacer);
        var run = round.RunAsync(0, CancellationToken.None);
        ManualClock.Advance(time, 3);
        var (outcome, _) = await run.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(round.Verdict);
        Assert.False(outcome.Success);
        Assert.Equal("connect timeout 3 s", outcome.Reason);
        Assert.Equal(0, pacer.Snapshot().IgnoredTimeouts);
    }

    [Fact]
    public void A_timeout_whose_own_timer_fired_late_is_not_a_verdict()
    {
        var time = new ManualTimeProvider();
        using var pacer = new CheckPacer(time);
        var start = time.GetTimestamp();
        ManualClock.Advance(time, 4);
        Assert.False(pacer.IgnoreTimeout(start, TimeSpan.FromMilliseconds(10)));
        Assert.True(pacer.IgnoreTimeout(start, TimeSpan.FromSeconds(1)));
        Assert.Equal(1, pacer.Snapshot().IgnoredTimeouts);
    }

    [Fact]
    public async Task Retries_and_the_timeout_reason_are_kept_without_a_pacer()
    {
        var time = new ManualTimeProvider();
        var failed = new List<string>();
        var round = new CheckRound(new Silent(), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(2), time, failed.Add);
        var run = round.RunAsync(2, CancellationToken.None);
        // Attempts at 0, 5 and 10 s, each ended by its 3 s timeout, 2 s apart: step the clock once a timer is armed.
        for (var i = 0; i < 60 && !run.IsCompleted; i++)
        {
            Assert.True(Wait.Until(() => run.IsCompleted || time.ActiveTimers > 0));
            ManualClock.Advance(time, 1);
        }
        var (outcome, retries) = await run.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(2, retries);
        Assert.Equal("connect timeout 3 s", outcome.Reason);
        Assert.Equal(["connect timeout 3 s", "connect timeout 3 s"], failed);
        Assert.True(round.Verdict);
        Assert.Equal(0, time.ActiveTimers);
    }
}
