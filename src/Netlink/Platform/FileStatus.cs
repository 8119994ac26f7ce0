using Lb.Netlink.Interop;

namespace Lb.Netlink.Platform;

/// <summary>The kind of a file system entry, from the S_IFMT bits.</summary>
public enum FileKind
{
    Other,
    Regular,
    Directory,
    SymbolicLink,
    Socket,
}

/// <summary>
/// Owner, permission bits and kind of a path, not following a final symbolic link (statx with AT_SYMLINK_NOFOLLOW) —
/// what .NET's <see cref="File.GetUnixFileMode(string)"/> does not tell: who owns it.
/// </summary>
public readonly record struct FileStatus(FileKind Kind, UnixFileMode Mode, uint Uid, uint Gid)
{
    private const int ENOTDIR = 20;

    /// <summary>The status of <paramref name="path"/>; null when it does not exist (ENOENT, ENOTDIR).</summary>
    public static unsafe FileStatus? TryGet(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var buffer = stackalloc byte[256];
        if (Libc.Statx(Libc.AT_FDCWD, path, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_TYPE | Libc.STATX_MODE | Libc.STATX_UID | Libc.STATX_GID, buffer) != 0)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (errno is Errno.ENOENT or ENOTDIR)
                return null;
            throw new ErrnoException($"statx {path}", errno);
        }
        var uid = *(uint*)(buffer + 20);
        var gid = *(uint*)(buffer + 24);
        var mode = *(ushort*)(buffer + 28);
        var kind = (mode & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0xA000 => FileKind.SymbolicLink,
            0xC000 => FileKind.Socket,
            _ => FileKind.Other,
        };
        return new FileStatus(kind, (UnixFileMode)(mode & 0xFFF), uid, gid);
    }
}
