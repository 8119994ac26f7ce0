using Lb.Netlink.Interop;

namespace Lb.Netlink.Platform;

/// <summary>What kind of object a path names, from its inode (<c>S_IFMT</c>).</summary>
public enum FileKind
{
    Missing,
    Regular,
    Directory,
    CharacterDevice,
    BlockDevice,
    Fifo,
    Socket,
    SymbolicLink,
    Unknown,
}

/// <summary>The type, permission bits and size of a path, read with <c>statx</c> and without opening it.</summary>
public readonly record struct FileProbeResult(FileKind Kind, UnixFileMode Mode, long Size, int Errno)
{
    public bool IsRegular => Kind == FileKind.Regular;

    public bool IsExecutable => (Mode & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;

    /// <summary>"character device", "FIFO", …: for messages.</summary>
    public string Description => Kind switch
    {
        FileKind.Missing => "missing",
        FileKind.Regular => "regular file",
        FileKind.Directory => "directory",
        FileKind.CharacterDevice => "character device",
        FileKind.BlockDevice => "block device",
        FileKind.Fifo => "FIFO",
        FileKind.Socket => "socket",
        FileKind.SymbolicLink => "symbolic link",
        _ => "special file",
    };
}

/// <summary>
/// Looks at a path without opening it. Opening is what must not happen before the type is known: <c>open()</c> of a FIFO
/// blocks until a writer appears, and opening some devices has side effects (a watchdog starts its timer). Managed
/// <see cref="FileSystemInfo"/> does not tell a FIFO or device from a regular file on Unix, hence <c>statx</c>.
/// </summary>
public static class FileProbe
{
    /// <summary>Follows symbolic links (as <c>stat</c>); a missing path or an unreadable directory gives <see cref="FileKind.Missing"/> with its errno.</summary>
    public static unsafe FileProbeResult Stat(string path, bool followLinks = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte* buffer = stackalloc byte[StatxLayout.SizeOfStatx];
        new Span<byte>(buffer, StatxLayout.SizeOfStatx).Clear();
        var flags = followLinks ? 0 : StatxLayout.AT_SYMLINK_NOFOLLOW;
        if (Libc.Statx(StatxLayout.AT_FDCWD, path, flags, StatxLayout.STATX_TYPE | StatxLayout.STATX_MODE | StatxLayout.STATX_SIZE, buffer) != 0)
            return new FileProbeResult(FileKind.Missing, 0, 0, System.Runtime.InteropServices.Marshal.GetLastSystemError());
        var span = new ReadOnlySpan<byte>(buffer, StatxLayout.SizeOfStatx);
        // Native byte order, as the kernel wrote it.
        int mode = BitConverter.ToUInt16(span[StatxLayout.OffsetOfMode..]);
        var size = (long)BitConverter.ToUInt64(span[StatxLayout.OffsetOfSize..]);
        var kind = (mode & StatxLayout.S_IFMT) switch
        {
            StatxLayout.S_IFREG => FileKind.Regular,
            StatxLayout.S_IFDIR => FileKind.Directory,
            StatxLayout.S_IFCHR => FileKind.CharacterDevice,
            StatxLayout.S_IFBLK => FileKind.BlockDevice,
            StatxLayout.S_IFIFO => FileKind.Fifo,
            StatxLayout.S_IFSOCK => FileKind.Socket,
            StatxLayout.S_IFLNK => FileKind.SymbolicLink,
            _ => FileKind.Unknown,
        };
        return new FileProbeResult(kind, (UnixFileMode)(mode & 0xFFF), size, 0);
    }
}
