using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Lb.Netlink.Interop;

internal static partial class Libc
{
    /// <summary><c>int setns(int fd, int nstype)</c>: moves the calling thread into the namespace <paramref name="namespaceFd"/> refers to.</summary>
    [LibraryImport(Name, EntryPoint = "setns", SetLastError = true)]
    internal static partial int Setns(SafeFileHandle namespaceFd, int namespaceType);
}
