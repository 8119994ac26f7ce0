using System.Text.Json;
using Lb.Checkers.Engine;
using Lb.Status;
using Lb.TestSupport;
using Xunit;

namespace Lb.Lb.Tests.Hosting;

/// <summary>
/// <c>lb status</c> says how often the checkers check: "degrade by checking less often and say so". The pacer is the real
/// one, driven on a manual clock (a process that really is behind cannot be produced on demand without timing).
/// </summary>
public sealed class StatusPacingTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private static void Advance(ManualTimeProvider time, double seconds) => ManualClock.Advance(time, seconds);

    /// <summary>A pacer whose only checker was let to start <paramref name="lateSeconds"/> after it was due, once.</summary>
    private static async Task<CheckPacerSnapshot> PacerAfterOneRound(double lateSeconds)
    {
        var time = new ManualTimeProvider();
        using var pacer = new CheckPacer(time);
        using var pace = pacer.Track();
        await pace.WaitTurnAsync(CancellationToken.None);
        var delay = pace.DelayAsync(Second, CancellationToken.None);
        Advance(time, 1 + lateSeconds);
        Assert.True(delay.IsCompleted);
        await pace.WaitTurnAsync(CancellationToken.None);
        return pacer.Snapshot();
    }

    private static StatusReport With(CheckPacerSnapshot pacing) => DaemonUnitTests.Report() with { CheckerPacing = CheckerPacingReport.From(pacing) };

    [Fact]
    public async Task A_stretched_delay_loop_is_shown_as_degraded_in_status_tables_stats_and_json()
    {
        var r = With(await PacerAfterOneRound(0.6));

        var tables = StatusText.Tables(r);
        Assert.Contains("Checks: DEGRADED, every 1.5x delay_loop (the process cannot keep up: every round started at least 600 ms late, up to 600 ms; 1 rounds started late, 0 timeouts not counted)",
            tables, StringComparison.Ordinal);
        Assert.DoesNotContain("on schedule", tables, StringComparison.Ordinal);
        Assert.Contains("Checks: DEGRADED, every 1.5x delay_loop", StatusText.Stats(r), StringComparison.Ordinal);

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(r, StatusJsonContext.Default.StatusReport));
        var pacing = json.RootElement.GetProperty("checker_pacing");
        Assert.Equal(1.5, pacing.GetProperty("stretch").GetDouble());
        Assert.True(pacing.GetProperty("degraded").GetBoolean());
        Assert.Equal(1, pacing.GetProperty("behind_windows").GetInt64());
    }

    [Fact]
    public async Task Checks_on_time_are_shown_on_schedule()
    {
        var r = With(await PacerAfterOneRound(0.05));
        var tables = StatusText.Tables(r);
        Assert.Contains("Checks: on schedule, every delay_loop as configured (0 rounds started late, 0 timeouts not counted)", tables, StringComparison.Ordinal);
        Assert.DoesNotContain("DEGRADED", tables, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_checkers_there_is_no_pacing_line()
    {
        var r = DaemonUnitTests.Report() with { Daemon = DaemonUnitTests.Report().Daemon with { CheckersRunning = false } };
        Assert.DoesNotContain("Checks:", StatusText.Tables(r), StringComparison.Ordinal);
    }
}
