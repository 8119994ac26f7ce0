using System.Runtime.InteropServices;

namespace Lb.Netlink.Interop;

internal static partial class Libc
{
    internal const int SIGKILL = 9;

    /// <summary><c>int kill(pid_t pid, int sig)</c>; a negative pid signals the process group -pid.</summary>
    [LibraryImport(Name, EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int signal);
}
