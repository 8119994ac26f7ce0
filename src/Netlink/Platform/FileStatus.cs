using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Lb.Netlink.Interop;

namespace Lb.Netlink.Platform;

/// <summary>What stat(2) says about one file: type and permission bits, owner, group, identity.</summary>
/// <param name="Mode">st_mode: file type and permission bits.</param>
/// <param name="Uid">Owner.</param>
/// <param name="Gid">Group.</param>
/// <param name="Device">Device (major &lt;&lt; 32 | minor).</param>
/// <param name="Inode">Inode number.</param>
/// <param name="Size">Size in bytes.</param>
/// <param name="Links">Number of hard links.</param>
public readonly record struct FileStatus(uint Mode, uint Uid, uint Gid, ulong Device, ulong Inode, long Size, uint Links)
{
    /// <summary>Device and inode: the same pair means the same file, whatever its name now.</summary>
    public FileIdentity Identity => new(Device, Inode);

    private const uint TypeMask = 0xF000;

    /// <summary>A directory.</summary>
    public bool IsDirectory => (Mode & TypeMask) == 0x4000;

    /// <summary>A regular file.</summary>
    public bool IsRegularFile => (Mode & TypeMask) == 0x8000;

    /// <summary>A symbolic link (only seen by <see cref="GetLink"/>).</summary>
    public bool IsSymbolicLink => (Mode & TypeMask) == 0xA000;

    /// <summary>The file type.</summary>
    public FileKind Kind => (Mode & TypeMask) switch
    {
        0x8000 => FileKind.Regular,
        0x4000 => FileKind.Directory,
        0x2000 => FileKind.CharacterDevice,
        0x6000 => FileKind.BlockDevice,
        0x1000 => FileKind.Fifo,
        0xC000 => FileKind.Socket,
        0xA000 => FileKind.SymbolicLink,
        _ => FileKind.Unknown,
    };

    /// <summary>Any execute bit set.</summary>
    public bool IsExecutable => (Permissions & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;

    /// <summary>"character device", "FIFO", …: for messages.</summary>
    public string Description => Kind switch
    {
        FileKind.Regular => "regular file",
        FileKind.Directory => "directory",
        FileKind.CharacterDevice => "character device",
        FileKind.BlockDevice => "block device",
        FileKind.Fifo => "FIFO",
        FileKind.Socket => "socket",
        FileKind.SymbolicLink => "symbolic link",
        _ => "special file",
    };

    /// <summary>A Unix-domain socket.</summary>
    public bool IsSocket => (Mode & TypeMask) == 0xC000;

    /// <summary>The permission bits (with setuid, setgid, sticky).</summary>
    public UnixFileMode Permissions => (UnixFileMode)(Mode & 0xFFF);

    /// <summary>stat(2): follows symbolic links. Throws <see cref="ErrnoException"/> (ENOENT, EACCES, ELOOP, ENOTDIR …).</summary>
    public static FileStatus Get(string path) => Query(path, 0, "stat");

    /// <summary>lstat(2): a symbolic link itself. Throws <see cref="ErrnoException"/>.</summary>
    public static FileStatus GetLink(string path) => Query(path, Libc.AT_SYMLINK_NOFOLLOW, "lstat");

    /// <summary>lstat(2) of a path that may not exist: null on ENOENT or ENOTDIR; any other error throws <see cref="ErrnoException"/>.</summary>
    public static FileStatus? TryGetLink(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (TryGet(path, followLinks: false, out var status, out var errno))
            return status;
        if (errno is Errno.ENOENT or Errno.ENOTDIR)
            return null;
        throw new ErrnoException($"lstat {path}", errno);
    }

    /// <summary><see cref="Get"/> or <see cref="GetLink"/> without throwing: the errno on failure.</summary>
    public static bool TryGet(string path, bool followLinks, out FileStatus status, out int errno)
    {
        Span<byte> buffer = stackalloc byte[Libc.SizeOfStatx];
        buffer.Clear();
        return Result(Libc.Statx(Libc.AT_FDCWD, path, followLinks ? 0 : Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, buffer), buffer, out status, out errno);
    }

    private static FileStatus Read(ReadOnlySpan<byte> buffer) => new(
        BinaryPrimitives.ReadUInt16LittleEndian(buffer[Libc.StatxModeOffset..]),
        BinaryPrimitives.ReadUInt32LittleEndian(buffer[Libc.StatxUidOffset..]),
        BinaryPrimitives.ReadUInt32LittleEndian(buffer[Libc.StatxGidOffset..]),
        ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(buffer[Libc.StatxDevMajorOffset..]) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(buffer[Libc.StatxDevMinorOffset..]),
        BinaryPrimitives.ReadUInt64LittleEndian(buffer[Libc.StatxInoOffset..]),
        (long)BinaryPrimitives.ReadUInt64LittleEndian(buffer[Libc.StatxSizeOffset..]),
        BinaryPrimitives.ReadUInt32LittleEndian(buffer[Libc.StatxNlinkOffset..]));

    /// <summary>What an open descriptor refers to (fstat(2), as statx with AT_EMPTY_PATH): the errno on failure.</summary>
    public static bool TryGet(Microsoft.Win32.SafeHandles.SafeFileHandle handle, out FileStatus status, out int errno)
    {
        ArgumentNullException.ThrowIfNull(handle);
        Span<byte> buffer = stackalloc byte[Libc.SizeOfStatx];
        buffer.Clear();
        return Result(Libc.Statx(handle, "", Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, buffer), buffer, out status, out errno);
    }

    private static bool Result(int rc, ReadOnlySpan<byte> buffer, out FileStatus status, out int errno)
    {
        if (rc != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            status = default;
            return false;
        }
        errno = 0;
        status = Read(buffer);
        return true;
    }

    /// <summary>Symbolic links followed in one resolution before ELOOP (the kernel's limit).</summary>
    public const int MaxSymbolicLinks = 40;

    /// <summary>realpath(3) without libc: an absolute path with ".", ".." and every symbolic link resolved.</summary>
    public static string? RealPath(string path, out string? error)
    {
        error = null;
        var pending = new Stack<string>();
        var start = path.StartsWith('/') ? path : Path.Join(Directory.GetCurrentDirectory(), path);
        foreach (var part in start.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse())
            pending.Push(part);
        var resolved = new List<string>();
        var links = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part == ".")
                continue;
            if (part == "..")
            {
                if (resolved.Count > 0)
                    resolved.RemoveAt(resolved.Count - 1);
                continue;
            }
            var candidate = "/" + string.Join('/', resolved.Append(part));
            if (!FileStatus.TryGet(candidate, false, out var st, out var errno))
            {
                error = errno switch { 2 => "No such file or directory", 13 => "Permission denied", 20 => "Not a directory", _ => $"errno {errno}" };
                return null;
            }
            if (pending.Count > 0 && !st.IsDirectory && !st.IsSymbolicLink)
            {
                error = "Not a directory";
                return null;
            }
            if (!st.IsSymbolicLink)
            {
                resolved.Add(part);
                continue;
            }
            if (++links > MaxSymbolicLinks)
            {
                error = "Too many levels of symbolic links";
                return null;
            }
            string? target;
            try
            {
                target = new FileInfo(candidate).LinkTarget;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                error = ex.Message;
                return null;
            }
            if (string.IsNullOrEmpty(target))
            {
                error = "No such file or directory";
                return null;
            }
            if (target.StartsWith('/'))
                resolved.Clear();
            foreach (var t in target.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse())
                pending.Push(t);
        }
        return "/" + string.Join('/', resolved);
    }

    private static FileStatus Query(string path, int flags, string operation)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!TryGet(path, flags == 0, out var status, out var errno))
            throw new ErrnoException($"{operation} {path}", errno);
        return status;
    }
}

/// <summary>A file's identity: device and inode (the same pair means the same file, whatever its name now).</summary>
public readonly record struct FileIdentity(ulong Device, ulong Inode);

/// <summary>What kind of object a path names, from its inode (<c>S_IFMT</c>).</summary>
public enum FileKind
{
    Regular,
    Directory,
    CharacterDevice,
    BlockDevice,
    Fifo,
    Socket,
    SymbolicLink,
    Unknown,
}
