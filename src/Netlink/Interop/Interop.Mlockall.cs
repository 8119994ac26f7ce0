using System.Runtime.InteropServices;

namespace Lb.Netlink.Interop;

internal static partial class Libc
{
    internal const int MCL_CURRENT = 1;
    internal const int MCL_FUTURE = 2;
    internal const int MCL_ONFAULT = 4;

    /// <summary><c>int mlockall(int flags)</c>.</summary>
    [LibraryImport(Name, EntryPoint = "mlockall", SetLastError = true)]
    internal static partial int MlockAll(int flags);
}
