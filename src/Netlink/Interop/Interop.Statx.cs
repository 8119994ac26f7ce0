using System.Runtime.InteropServices;

namespace Lb.Netlink.Interop;

internal static partial class Libc
{
    internal const int AT_FDCWD = -100;
    internal const int AT_SYMLINK_NOFOLLOW = 0x100;

    internal const uint STATX_TYPE = 0x1;
    internal const uint STATX_MODE = 0x2;
    internal const uint STATX_UID = 0x8;
    internal const uint STATX_GID = 0x10;

    /// <summary><c>int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf)</c>. Used instead of
    /// stat(2) because <c>struct statx</c> has one layout on every architecture (256 bytes; uid at 20, gid at 24, mode at 28).</summary>
    [LibraryImport(Name, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int Statx(int dirFd, string path, int flags, uint mask, byte* buffer);
}
