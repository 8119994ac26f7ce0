using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Lb.Netlink.Interop;

internal static partial class Libc
{
    /// <summary>
    /// <c>int open(const char *path, int flags, mode_t mode)</c>; the descriptor is owned by the returned handle (invalid on
    /// failure, errno in the last P/Invoke error). <paramref name="mode"/> applies only with <see cref="OpenFlags.O_CREAT"/>.
    /// </summary>
    [LibraryImport(Name, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial SafeFileHandle Open(string path, int flags, uint mode);
}

/// <summary>open(2) flags (asm-generic/fcntl.h, x86_64 and arm64 alike; checked against the headers by a test).</summary>
internal static class OpenFlags
{
    internal const int O_RDONLY = 0;
    internal const int O_WRONLY = 1;
    internal const int O_RDWR = 2;
    internal const int O_CREAT = 0x40;
    internal const int O_EXCL = 0x80;
    internal const int O_NOCTTY = 0x100;
    internal const int O_TRUNC = 0x200;
    internal const int O_APPEND = 0x400;
    internal const int O_NONBLOCK = 0x800;
    internal const int O_NOFOLLOW = 0x20000;
    internal const int O_CLOEXEC = 0x80000;
    internal const int O_PATH = 0x200000;
}
