using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Lb.Netlink.Interop;

internal static partial class Libc
{
    /// <summary><c>int bind(int fd, const struct sockaddr *addr, socklen_t len)</c>.</summary>
    [LibraryImport(Name, EntryPoint = "bind", SetLastError = true)]
    internal static unsafe partial int Bind(SafeSocketHandle socket, byte* address, int addressLength);
}
