using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Lb.Netlink.Interop;

internal static partial class Libc
{
    /// <summary><c>int setsockopt(int fd, int level, int name, const void *value, socklen_t len)</c>.</summary>
    [LibraryImport(Name, EntryPoint = "setsockopt", SetLastError = true)]
    internal static unsafe partial int SetSockOpt(SafeSocketHandle socket, int level, int name, void* value, int valueLength);
}
