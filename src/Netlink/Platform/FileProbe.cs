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
    public static FileProbeResult Stat(string path, bool followLinks = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        return FileStatus.TryGet(path, followLinks, out var status, out var errno)
            ? new FileProbeResult(status.Kind, status.Permissions, status.Size, 0)
            : new FileProbeResult(FileKind.Missing, 0, 0, errno);
    }
}
