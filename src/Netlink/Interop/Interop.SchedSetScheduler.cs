using System.Runtime.InteropServices;

namespace Lb.Netlink.Interop;

internal static partial class Libc
{
    internal const int SCHED_OTHER = 0;
    internal const int SCHED_RR = 2;
    internal const int SCHED_RESET_ON_FORK = 0x40000000;

    /// <summary><c>int sched_setscheduler(pid_t pid, int policy, const struct sched_param *param)</c>; pid is a thread id (0: the calling thread). struct sched_param is one int.</summary>
    [LibraryImport(Name, EntryPoint = "sched_setscheduler", SetLastError = true)]
    internal static unsafe partial int SchedSetScheduler(int pid, int policy, int* param);

    /// <summary><c>int sched_get_priority_min(int policy)</c>.</summary>
    [LibraryImport(Name, EntryPoint = "sched_get_priority_min", SetLastError = true)]
    internal static partial int SchedGetPriorityMin(int policy);

    /// <summary><c>int sched_get_priority_max(int policy)</c>.</summary>
    [LibraryImport(Name, EntryPoint = "sched_get_priority_max", SetLastError = true)]
    internal static partial int SchedGetPriorityMax(int policy);

    /// <summary><c>pid_t gettid(void)</c>: the kernel thread id of the calling thread.</summary>
    [LibraryImport(Name, EntryPoint = "gettid")]
    internal static partial int GetTid();
}
