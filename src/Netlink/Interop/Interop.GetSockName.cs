using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Lb.Netlink.Interop;

internal static partial class Libc
{
    /// <summary><c>int getsockname(int fd, struct sockaddr *addr, socklen_t *len)</c>.</summary>
    [LibraryImport(Name, EntryPoint = "getsockname", SetLastError = true)]
    internal static unsafe partial int GetSockName(SafeSocketHandle socket, byte* address, int* addressLength);
}
