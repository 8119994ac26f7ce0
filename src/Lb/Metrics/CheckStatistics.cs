using System.Collections.Concurrent;
using Lb.Checkers;
using Lb.Checkers.Journal;

namespace Lb.Metrics;

/// <summary>
/// Counts checker rounds from <see cref="CheckerSubsystem.CheckCompleted"/> and their durations as the subsystem measured
/// them (connect, retries and delay_before_retry; <see cref="CheckCompletedEvent.Duration"/>), by checker kind and per
/// real server (with each checker's last result and when it came), and the real servers' up/down transitions from
/// <see cref="CheckerSubsystem.StateChanged"/>.
/// </summary>
public sealed class CheckStatistics(TimeProvider? time = null)
{
    /// <summary>Upper bounds of the duration histogram, in seconds.</summary>
    public static readonly double[] Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ConcurrentDictionary<(string Kind, bool Success), long> _rounds = new();
    private readonly ConcurrentDictionary<string, Histogram> _durations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string VirtualServer, string RealServer, string Kind), Histogram> _serverDurations = new();
    private readonly ConcurrentDictionary<(string VirtualServer, string RealServer, int Index), LastCheck> _last = new();
    private readonly ConcurrentDictionary<(string VirtualServer, string RealServer, bool Up), long> _transitions = new();

    public void OnCheckCompleted(CheckCompletedEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var seconds = Math.Max(0, e.Duration.TotalSeconds);
        _rounds.AddOrUpdate((e.Kind, e.Success), 1, (_, n) => n + 1);
        _durations.GetOrAdd(e.Kind, _ => new Histogram()).Observe(seconds);
        _serverDurations.GetOrAdd((e.VirtualServer, e.RealServer, e.Kind), _ => new Histogram()).Observe(seconds);
        _last[(e.VirtualServer, e.RealServer, e.Index)] = new LastCheck(e.Kind, e.Success, _time.GetUtcNow());
    }

    /// <summary>Counts a real server going up or down (journal kind <c>real_server</c>, new state <c>up</c>/<c>down</c>).</summary>
    public void OnStateChanged(JournalEntry e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.Kind != "real_server" || e.VirtualServer is not { } vs || e.RealServer is not { } rs || e.NewState is not ("up" or "down"))
            return;
        _transitions.AddOrUpdate((vs, rs, e.NewState == "up"), 1, (_, n) => n + 1);
    }

    public IReadOnlyList<KeyValuePair<(string Kind, bool Success), long>> Rounds => _rounds.OrderBy(k => k.Key.Kind, StringComparer.Ordinal).ThenBy(k => k.Key.Success).ToList();

    public IReadOnlyList<KeyValuePair<string, Histogram>> Durations => _durations.OrderBy(k => k.Key, StringComparer.Ordinal).ToList();

    /// <summary>The round-duration histogram of one real server's checkers of one kind, or null before its first round.</summary>
    public Histogram? ServerDuration(string virtualServer, string realServer, string kind) =>
        _serverDurations.TryGetValue((virtualServer, realServer, kind), out var h) ? h : null;

    /// <summary>The last round of the real server's checker at <paramref name="index"/>, or null before its first round.</summary>
    public LastCheck? Last(string virtualServer, string realServer, int index) =>
        _last.TryGetValue((virtualServer, realServer, index), out var l) ? l : null;

    /// <summary>How often the real server went up (<paramref name="up"/>) or down since start.</summary>
    public long Transitions(string virtualServer, string realServer, bool up) =>
        _transitions.TryGetValue((virtualServer, realServer, up), out var n) ? n : 0;

    /// <summary>One checker's last round: its kind, result and when it ended.</summary>
    public sealed record LastCheck(string Kind, bool Success, DateTimeOffset At);

    /// <summary>A cumulative Prometheus histogram.</summary>
    public sealed class Histogram
    {
        private readonly long[] _counts = new long[Buckets.Length];
        private long _count;
        private double _sum;

        public void Observe(double seconds)
        {
            lock (_counts)
            {
                for (var i = 0; i < Buckets.Length; i++)
                {
                    if (seconds <= Buckets[i])
                        _counts[i]++;
                }
                _count++;
                _sum += seconds;
            }
        }

        public (long[] Cumulative, long Count, double Sum) Read()
        {
            lock (_counts)
                return ((long[])_counts.Clone(), _count, _sum);
        }
    }
}
