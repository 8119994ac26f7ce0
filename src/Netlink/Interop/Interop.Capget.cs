using System.Runtime.InteropServices;

namespace Lb.Netlink.Interop;

internal static partial class Libc
{
    /// <summary><c>int capget(cap_user_header_t hdr, cap_user_data_t data)</c>.</summary>
    [LibraryImport(Name, EntryPoint = "capget", SetLastError = true)]
    internal static unsafe partial int Capget(uint* header, uint* data);
}
