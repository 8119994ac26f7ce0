using System.Runtime.InteropServices;
using Lb.Netlink.Interop;

namespace Lb.Netlink.Platform;

/// <summary>
/// Realtime scheduling and memory locking as keepalived applies them to its VRRP process (lib/process.c):
/// <c>sched_setscheduler(SCHED_RR | SCHED_RESET_ON_FORK)</c> — children (scripts) start with normal scheduling —
/// and <c>mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)</c>. Each call says why it failed instead of throwing:
/// the caller warns and goes on (no CAP_SYS_NICE / CAP_IPC_LOCK, a container without realtime budget).
/// </summary>
public static class RealtimeScheduling
{
    /// <summary>The kernel thread id of the calling thread (what <c>/proc/self/task/&lt;tid&gt;</c> names).</summary>
    public static int CurrentThreadId() => Libc.GetTid();

    /// <summary>The lowest SCHED_RR priority (1 on Linux).</summary>
    public static int MinPriority => Math.Max(1, Libc.SchedGetPriorityMin(Libc.SCHED_RR));

    /// <summary>The highest SCHED_RR priority (99 on Linux).</summary>
    public static int MaxPriority => Libc.SchedGetPriorityMax(Libc.SCHED_RR) is var p and > 0 ? p : 99;

    /// <summary>Puts thread <paramref name="threadId"/> (0: the calling thread) in SCHED_RR at <paramref name="priority"/>; null on success, else the error.</summary>
    public static unsafe string? TrySetRoundRobin(int threadId, int priority)
    {
        var param = priority;
        if (Libc.SchedSetScheduler(threadId, Libc.SCHED_RR | Libc.SCHED_RESET_ON_FORK, &param) == 0)
            return null;
        return Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
    }

    /// <summary>Locks the process's pages in memory as they are touched (MCL_ONFAULT: the reserved but unused address space stays unlocked); null on success, else the error.</summary>
    public static string? TryLockMemory()
    {
        if (Libc.MlockAll(Libc.MCL_CURRENT | Libc.MCL_FUTURE | Libc.MCL_ONFAULT) == 0)
            return null;
        return Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
    }
}
