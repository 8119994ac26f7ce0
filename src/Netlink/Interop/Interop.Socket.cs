using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Lb.Netlink.Interop;

internal static partial class Libc
{
    /// <summary><c>int socket(int domain, int type, int protocol)</c>; the descriptor is owned by the returned handle.</summary>
    [LibraryImport(Name, EntryPoint = "socket", SetLastError = true)]
    internal static partial SafeSocketHandle Socket(int domain, int type, int protocol);
}
