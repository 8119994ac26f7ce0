using System.Runtime.InteropServices;

namespace Lb.Netlink.Interop;

internal static partial class Libc
{
    /// <summary><c>uid_t geteuid(void)</c> (never fails).</summary>
    [LibraryImport(Name, EntryPoint = "geteuid", SetLastError = true)]
    internal static partial uint GetEuid();
}
