using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Lb.Netlink.Interop;

internal static partial class Libc
{
    /// <summary><c>int getsockopt(int fd, int level, int name, void *value, socklen_t *len)</c>.</summary>
    [LibraryImport(Name, EntryPoint = "getsockopt", SetLastError = true)]
    internal static unsafe partial int GetSockOpt(SafeSocketHandle socket, int level, int name, void* value, int* valueLength);
}
