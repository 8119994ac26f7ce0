using System.Runtime.InteropServices;

namespace Lb.Netlink.Interop;

internal static partial class Libc
{
    internal const int AT_FDCWD = -100;
    internal const int AT_SYMLINK_NOFOLLOW = 0x100;
    internal const int AT_EMPTY_PATH = 0x1000;
    internal const uint STATX_BASIC_STATS = 0x7ff;

    /// <summary><c>sizeof(struct statx)</c>: the same on every architecture, which is why statx is used rather than stat.</summary>
    internal const int SizeOfStatx = 256;

    /// <summary>Offsets in <c>struct statx</c> (linux/stat.h).</summary>
    internal const int StatxNlinkOffset = 16;
    internal const int StatxUidOffset = 20;
    internal const int StatxGidOffset = 24;
    internal const int StatxModeOffset = 28;
    internal const int StatxInoOffset = 32;
    internal const int StatxSizeOffset = 40;
    internal const int StatxDevMajorOffset = 136;
    internal const int StatxDevMinorOffset = 140;

    /// <summary><c>int statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *buf)</c>.</summary>
    [LibraryImport(Name, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Statx(int dirFd, string path, int flags, uint mask, Span<byte> buffer);

    /// <summary><c>statx(fd, "", AT_EMPTY_PATH, …)</c>: what an open descriptor refers to (fstat).</summary>
    [LibraryImport(Name, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Statx(Microsoft.Win32.SafeHandles.SafeFileHandle fd, string path, int flags, uint mask, Span<byte> buffer);
}
