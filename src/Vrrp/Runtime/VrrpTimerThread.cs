using System.Diagnostics;

namespace Lb.Vrrp.Runtime;

/// <summary>
/// A <see cref="TimeProvider"/> whose timers fire on one dedicated thread, not on the shared thread pool: the
/// advert, master-down and GARP timers of every instance. A callback runs on that thread (the engine lock is held
/// briefly, the advert is sent by a non-blocking <c>sendto</c>), so an expiry never queues behind pool work (checker
/// probes, script runs). Clock values come from <see cref="TimeProvider.System"/>. The thread measures how late each
/// expiry runs (<see cref="Late"/>): keepalived's "A thread timer expired … ago" check behind <c>max_auto_priority</c>.
/// </summary>
internal sealed class VrrpTimerThread : TimeProvider, IDisposable
{
    private readonly object _gate = new();
    private readonly PriorityQueue<(Timer Timer, long Generation), long> _queue = new();
    private readonly Thread _thread;
    private readonly Action? _onStart;
    private readonly long _lateThreshold;
    private bool _disposed;

    /// <summary>
    /// Starts the thread named <paramref name="name"/>; <paramref name="onStart"/> runs first on it (scheduling policy);
    /// <see cref="Late"/> reports expiries later than <paramref name="lateThreshold"/> (default 1 ms).
    /// </summary>
    public VrrpTimerThread(string name = "lb-vrrp-timer", Action? onStart = null, TimeSpan? lateThreshold = null)
    {
        _onStart = onStart;
        _lateThreshold = Ticks(lateThreshold ?? TimeSpan.FromMilliseconds(1));
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Called on the timer thread when an expiry ran later than its due time: the lateness.</summary>
    public event Action<TimeSpan>? Late;

    /// <summary>True on the timer thread itself.</summary>
    public bool IsCurrentThread => Thread.CurrentThread == _thread;

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow();

    public override long GetTimestamp() => Stopwatch.GetTimestamp();

    public override long TimestampFrequency => Stopwatch.Frequency;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var t = new Timer(this, callback, state);
        t.Change(dueTime, period);
        return t;
    }

    private static long Ticks(TimeSpan t) => (long)(t.TotalSeconds * Stopwatch.Frequency);

    private void Schedule(Timer t, TimeSpan due, TimeSpan period)
    {
        lock (_gate)
        {
            t.Generation++;
            t.Period = period;
            if (_disposed || t.Disposed || due == Timeout.InfiniteTimeSpan)
                return;
            if (due < TimeSpan.Zero)
                due = TimeSpan.Zero;
            _queue.Enqueue((t, t.Generation), Stopwatch.GetTimestamp() + Ticks(due));
            Monitor.Pulse(_gate);
        }
    }

    private void Cancel(Timer t)
    {
        lock (_gate)
        {
            t.Generation++;
            t.Disposed = true;
        }
    }

    private void Run()
    {
        try
        {
            _onStart?.Invoke();
        }
        catch (Exception)
        {
            // the policy hook logs its own failures; the thread runs without it
        }
        var lateLimit = _lateThreshold;
        while (true)
        {
            Timer timer;
            long due;
            lock (_gate)
            {
                while (true)
                {
                    if (_disposed)
                        return;
                    if (!_queue.TryPeek(out var head, out due))
                    {
                        Monitor.Wait(_gate);
                        continue;
                    }
                    if (head.Generation != head.Timer.Generation)
                    {
                        _queue.Dequeue(); // changed or disposed since it was queued
                        continue;
                    }
                    var now = Stopwatch.GetTimestamp();
                    if (due > now)
                    {
                        // whole milliseconds, rounded up: never early
                        var ms = (int)Math.Min(int.MaxValue, ((due - now) * 1000 + Stopwatch.Frequency - 1) / Stopwatch.Frequency);
                        Monitor.Wait(_gate, ms);
                        continue;
                    }
                    _queue.Dequeue();
                    timer = head.Timer;
                    if (timer.Period > TimeSpan.Zero && timer.Period != Timeout.InfiniteTimeSpan)
                        _queue.Enqueue((timer, timer.Generation), Math.Max(due + Ticks(timer.Period), now));
                    break;
                }
            }
            var late = Stopwatch.GetTimestamp() - due;
            try
            {
                timer.Fire();
            }
            catch (Exception)
            {
                // a callback's failure must not stop the other instances' timers (the machines log their own)
            }
            if (late > lateLimit && Late is { } handler)
            {
                try
                {
                    handler(TimeSpan.FromSeconds((double)late / Stopwatch.Frequency));
                }
                catch (Exception)
                {
                }
            }
        }
    }

    /// <summary>Stops the thread (pending timers never fire) and waits a bounded time for it.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            Monitor.PulseAll(_gate);
        }
        if (Thread.CurrentThread != _thread)
            _thread.Join(TimeSpan.FromSeconds(2));
    }

    private sealed class Timer(VrrpTimerThread owner, TimerCallback callback, object? state) : ITimer
    {
        internal long Generation;
        internal TimeSpan Period;
        internal bool Disposed;

        internal void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (Disposed)
                return false;
            owner.Schedule(this, dueTime, period);
            return true;
        }

        public void Dispose() => owner.Cancel(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
