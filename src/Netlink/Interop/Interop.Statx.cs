using System.Runtime.InteropServices;

namespace Lb.Netlink.Interop;

internal static partial class Libc
{
    /// <summary>
    /// <c>int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf)</c> (glibc 2.28+). Chosen over
    /// <c>stat</c> because <c>struct statx</c> has one layout on every architecture; see <see cref="StatxLayout"/>.
    /// </summary>
    [LibraryImport(Name, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int Statx(int directoryFd, string path, int flags, uint mask, byte* buffer);
}

/// <summary>The parts of <c>struct statx</c> (linux/stat.h) and its flags that Lb reads. Kept out of <see cref="Libc"/> so the
/// header test's reflection over Libc's constants does not need sys/stat.h; <c>StatxLayoutTests</c> checks these instead.</summary>
internal static class StatxLayout
{
    internal const int AT_FDCWD = -100;
    internal const int AT_SYMLINK_NOFOLLOW = 0x100;
    internal const uint STATX_TYPE = 0x1;
    internal const uint STATX_MODE = 0x2;
    internal const uint STATX_SIZE = 0x200;

    internal const int SizeOfStatx = 256;
    internal const int OffsetOfMask = 0;
    internal const int OffsetOfMode = 28;
    internal const int OffsetOfSize = 40;

    internal const int S_IFMT = 0xF000;
    internal const int S_IFSOCK = 0xC000;
    internal const int S_IFLNK = 0xA000;
    internal const int S_IFREG = 0x8000;
    internal const int S_IFBLK = 0x6000;
    internal const int S_IFDIR = 0x4000;
    internal const int S_IFCHR = 0x2000;
    internal const int S_IFIFO = 0x1000;
}
