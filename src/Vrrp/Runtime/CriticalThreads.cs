using System.Globalization;
using Lb.Netlink.Platform;
using Lb.Vrrp.Diagnostics;
using Lb.Vrrp.Options;
using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.Runtime;

/// <summary>
/// The threads VRRP timing depends on (the timer thread, each socket's receive thread) and their scheduling, as
/// keepalived schedules its VRRP process (lib/process.c): <c>vrrp_rt_priority</c> puts them in SCHED_RR from start;
/// <c>max_auto_priority</c> raises them when a timer runs later than <c>min_auto_priority_delay</c> (SCHED_RR at the
/// lowest priority first, then one more per late expiry, up to the maximum); <c>vrrp_no_swap</c> locks the process
/// in memory. Only these threads: checker probes and scripts keep normal scheduling (SCHED_RESET_ON_FORK for the
/// children). A missing capability is a warning, never a failure.
/// </summary>
internal sealed class CriticalThreads(VrrpSubsystemOptions options, ILogger logger)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<int, string> _threads = new();
    private int _priority;
    private bool _warned;

    /// <summary>The SCHED_RR priority applied (0: normal scheduling).</summary>
    public int Priority
    {
        get
        {
            lock (_gate)
                return _priority;
        }
    }

    /// <summary>Runs first on a critical thread: records it and gives it the current policy.</summary>
    public void Register()
    {
        if (!OperatingSystem.IsLinux())
            return;
        var tid = RealtimeScheduling.CurrentThreadId();
        var name = Thread.CurrentThread.Name ?? tid.ToString(CultureInfo.InvariantCulture);
        lock (_gate)
        {
            _threads[tid] = name;
            if (_priority > 0)
                Apply(tid, name, _priority);
        }
    }

    /// <summary>Forgets a thread that ended (its socket closed).</summary>
    public void Unregister()
    {
        if (!OperatingSystem.IsLinux())
            return;
        var tid = RealtimeScheduling.CurrentThreadId();
        lock (_gate)
            _threads.Remove(tid);
    }

    /// <summary>At subsystem start: memory lock and the configured realtime priority.</summary>
    public void Start()
    {
        if (!OperatingSystem.IsLinux())
            return;
        if (options.NoSwap && RealtimeScheduling.TryLockMemory() is { } error)
            logger.CannotLockMemory(error);
        if (options.RealtimePriority > 0)
            SetAll(Math.Min(options.RealtimePriority, RealtimeScheduling.MaxPriority));
    }

    /// <summary>The timer thread ran an expiry <paramref name="late"/> after it was due.</summary>
    public void OnLate(TimeSpan late)
    {
        if (options.MaxAutoPriority <= 0 || late <= options.MinAutoPriorityDelay)
            return;
        logger.TimerExpiredLate(late.TotalSeconds.ToString("0.000000", CultureInfo.InvariantCulture));
        int next;
        lock (_gate)
        {
            var max = Math.Min(options.MaxAutoPriority, RealtimeScheduling.MaxPriority);
            if (_priority >= max)
                return;
            next = _priority == 0 ? RealtimeScheduling.MinPriority : _priority + 1;
        }
        if (SetAll(next))
            logger.SetRealtimePriority(next);
    }

    private bool SetAll(int priority)
    {
        lock (_gate)
        {
            var ok = false;
            foreach (var (tid, name) in _threads.ToArray())
                ok |= Apply(tid, name, priority);
            if (ok || _threads.Count == 0)
                _priority = priority;
            return ok;
        }
    }

    private bool Apply(int tid, string name, int priority)
    {
        if (RealtimeScheduling.TrySetRoundRobin(tid, priority) is not { } error)
            return true;
        if (!_warned)
        {
            _warned = true;
            logger.CannotRaisePriority(name, priority, error);
        }
        return false;
    }
}
