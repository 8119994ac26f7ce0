using System.Collections.Concurrent;
using Lb.Checkers;

namespace Lb.Metrics;

/// <summary>
/// Counts checker rounds from <see cref="CheckerSubsystem.CheckCompleted"/> and their durations as the subsystem measured
/// them (connect, retries and delay_before_retry; <see cref="CheckCompletedEvent.Duration"/>), by checker kind.
/// </summary>
public sealed class CheckStatistics
{
    /// <summary>Upper bounds of the duration histogram, in seconds.</summary>
    public static readonly double[] Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly ConcurrentDictionary<(string Kind, bool Success), long> _rounds = new();
    private readonly ConcurrentDictionary<string, Histogram> _durations = new(StringComparer.Ordinal);

    public void OnCheckCompleted(CheckCompletedEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        _rounds.AddOrUpdate((e.Kind, e.Success), 1, (_, n) => n + 1);
        _durations.GetOrAdd(e.Kind, _ => new Histogram()).Observe(Math.Max(0, e.Duration.TotalSeconds));
    }

    public IReadOnlyList<KeyValuePair<(string Kind, bool Success), long>> Rounds => _rounds.OrderBy(k => k.Key.Kind, StringComparer.Ordinal).ThenBy(k => k.Key.Success).ToList();

    public IReadOnlyList<KeyValuePair<string, Histogram>> Durations => _durations.OrderBy(k => k.Key, StringComparer.Ordinal).ToList();

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
