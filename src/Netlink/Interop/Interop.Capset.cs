using System.Runtime.InteropServices;

namespace Lb.Netlink.Interop;

internal static partial class Libc
{
    /// <summary>
    /// <c>int capset(cap_user_header_t hdr, const cap_user_data_t data)</c>: sets the capabilities of the
    /// calling thread only. <paramref name="header"/> is { u32 version, i32 pid }, <paramref name="data"/> two
    /// { u32 effective, u32 permitted, u32 inheritable } for version 3.
    /// </summary>
    [LibraryImport(Name, EntryPoint = "capset", SetLastError = true)]
    internal static unsafe partial int Capset(uint* header, uint* data);
}
