using System.Collections.Concurrent;
using Lb.Checkers;
using Lb.Checkers.Options;

namespace Lb.Metrics;

/// <summary>
/// Counts checker rounds from <see cref="CheckerSubsystem.CheckCompleted"/> and estimates their duration. The event carries
/// no duration, but a checker's loop is "round, then delay_loop, then round": the time between two completions of one
/// checker minus its effective delay_loop is the second round's duration (connect + retries + delay_before_retry).
/// The first round of each checker has no predecessor and is counted but not timed.
/// </summary>
public sealed class CheckStatistics
{
    /// <summary>Upper bounds of the duration histogram, in seconds.</summary>
    public static readonly double[] Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly Dictionary<(string Vs, string Rs, int Index), TimeSpan> _delayLoops = new();
    private readonly ConcurrentDictionary<(string Vs, string Rs, int Index), long> _lastCompletion = new();
    private readonly ConcurrentDictionary<(string Vs, string Rs, int Index), (long Rounds, long Failures)> _perChecker = new();
    private readonly ConcurrentDictionary<(string Kind, bool Success), long> _rounds = new();
    private readonly ConcurrentDictionary<string, Histogram> _durations = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public CheckStatistics(CheckerSubsystemOptions options, TimeProvider time)
    {
        _time = time;
        foreach (var vs in options.VirtualServers)
        {
            foreach (var rs in vs.RealServers)
            {
                for (var i = 0; i < rs.Checkers.Count; i++)
                    _delayLoops[(Format.VirtualServer(vs), Format.RealServer(vs, rs), i)] = EffectiveSettings.Resolve(vs, rs, rs.Checkers[i]).DelayLoop;
            }
        }
    }

    public void OnCheckCompleted(CheckCompletedEvent e)
    {
        var key = (e.VirtualServer, e.RealServer, e.Index);
        _rounds.AddOrUpdate((e.Kind, e.Success), 1, (_, n) => n + 1);
        _perChecker.AddOrUpdate(key, (1, e.Success ? 0 : 1), (_, v) => (v.Rounds + 1, v.Failures + (e.Success ? 0 : 1)));
        var now = _time.GetTimestamp();
        if (_lastCompletion.TryGetValue(key, out var last) && _delayLoops.TryGetValue(key, out var delay))
        {
            var duration = _time.GetElapsedTime(last, now) - delay;
            _durations.GetOrAdd(e.Kind, _ => new Histogram()).Observe(Math.Max(0, duration.TotalSeconds));
        }
        _lastCompletion[key] = now;
    }

    public (long Rounds, long Failures) ForChecker(string vs, string rs, int index) => _perChecker.TryGetValue((vs, rs, index), out var v) ? v : (0, 0);

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
