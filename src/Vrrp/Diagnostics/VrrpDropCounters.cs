using Lb.Vrrp.Protocol;

namespace Lb.Vrrp.Diagnostics;

/// <summary>Per-reason counters of dropped adverts (thread-safe), exposed for metrics.</summary>
public sealed class VrrpDropCounters
{
    private readonly long[] _counts = new long[Enum.GetValues<VrrpDropReason>().Length];

    /// <summary>Adds one drop for <paramref name="reason"/>; returns the new count.</summary>
    public long Increment(VrrpDropReason reason) => Interlocked.Increment(ref _counts[(int)reason]);

    /// <summary>Count for <paramref name="reason"/>.</summary>
    public long this[VrrpDropReason reason] => Interlocked.Read(ref _counts[(int)reason]);

    /// <summary>Total drops.</summary>
    public long Total
    {
        get
        {
            long t = 0;
            for (var i = 1; i < _counts.Length; i++)
                t += Interlocked.Read(ref _counts[i]);
            return t;
        }
    }

    /// <summary>A snapshot of the non-zero counters.</summary>
    public IReadOnlyDictionary<VrrpDropReason, long> Snapshot()
    {
        var d = new Dictionary<VrrpDropReason, long>();
        for (var i = 1; i < _counts.Length; i++)
        {
            var v = Interlocked.Read(ref _counts[i]);
            if (v != 0)
                d[(VrrpDropReason)i] = v;
        }
        return d;
    }
}

/// <summary>Bounded-rate logging: the first <c>burst</c> events of a kind are logged, then at most one summary per interval.</summary>
internal sealed class RateLimiter
{
    private readonly TimeProvider _time;
    private readonly int _burst;
    private readonly TimeSpan _interval;
    private readonly Dictionary<int, (int Logged, long WindowStart, long Suppressed)> _state = new();
    private readonly object _gate = new();

    public RateLimiter(TimeProvider time, int burst = 10, TimeSpan? interval = null)
    {
        _time = time;
        _burst = burst;
        _interval = interval ?? TimeSpan.FromSeconds(60);
    }

    /// <summary>True when this event should be logged. <paramref name="suppressed"/> is the number of events not logged since the last logged one of this kind (to report).</summary>
    public bool ShouldLog(int key, out long suppressed)
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            _state.TryGetValue(key, out var s);
            if (s.Logged == 0 && s.WindowStart == 0)
                s.WindowStart = now;
            if (s.Logged < _burst)
            {
                s.Logged++;
                suppressed = 0;
                _state[key] = s;
                return true;
            }
            if (_time.GetElapsedTime(s.WindowStart, now) >= _interval)
            {
                suppressed = s.Suppressed;
                s.Suppressed = 0;
                s.WindowStart = now;
                _state[key] = s;
                return true;
            }
            s.Suppressed++;
            _state[key] = s;
            suppressed = 0;
            return false;
        }
    }
}
