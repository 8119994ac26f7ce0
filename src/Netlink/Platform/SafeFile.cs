using Lb.Netlink.Interop;
using Microsoft.Win32.SafeHandles;

namespace Lb.Netlink.Platform;

/// <summary>
/// Opens the files a root daemon writes at configurable paths (pid files, the journal, lock files, notify FIFOs) the way
/// keepalived does: never through a symbolic link at the path (<c>O_NOFOLLOW</c>, so a link planted in /tmp cannot
/// redirect a write to /etc/…), close-on-exec, and checked after opening (<c>fstat</c> on the descriptor, so what is
/// checked is what is written): a regular file with one link, or a FIFO owned by us or root. Every refusal is a
/// <see cref="SafeFileException"/> naming the path and the errno.
/// </summary>
public static class SafeFile
{
    /// <summary>rw-r--r--: what keepalived creates its pid files and FIFOs with.</summary>
    public const UnixFileMode DefaultMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    // asm-generic/errno-base.h and errno.h (Errno's table names them; checked by a test).
    internal const int ENOTDIR = 20;
    internal const int EMLINK = 31;
    internal const int ELOOP = 40;

    /// <summary>
    /// Opens <paramref name="path"/> for reading and writing, creating it with <paramref name="createMode"/> (less the
    /// umask) when missing (unless <paramref name="create"/> is false). Refuses a symbolic link (ELOOP), anything but a regular file, and a file with more than one
    /// hard link (a planted hard link would redirect the write as a symbolic link would). Nothing is truncated here.
    /// </summary>
    public static SafeFileHandle OpenRegular(string path, UnixFileMode createMode = DefaultMode, bool append = false, bool create = true)
    {
        var flags = OpenFlags.O_RDWR | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC | OpenFlags.O_NOCTTY;
        if (create)
            flags |= OpenFlags.O_CREAT;
        if (append)
            flags |= OpenFlags.O_APPEND;
        var handle = Open(path, flags, createMode);
        try
        {
            var status = Status(handle, path);
            if (status.Kind != FileKind.Regular)
                throw new SafeFileException(path, Errno.EINVAL, $"{path} is a {Describe(status.Kind)}, not a regular file; not writing to it", refused: true);
            if (status.Links > 1)
                throw new SafeFileException(path, EMLINK, $"{path} has {status.Links} hard links; not writing through it (a link elsewhere would be written too)", refused: true);
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary><see cref="OpenRegular"/> as an unbuffered <see cref="FileStream"/>.</summary>
    public static FileStream OpenRegularStream(string path, UnixFileMode createMode = DefaultMode, bool append = false, bool create = true)
    {
        var handle = OpenRegular(path, createMode, append, create);
        try
        {
            return new FileStream(handle, FileAccess.ReadWrite, bufferSize: 0);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Creates the FIFO <paramref name="path"/> when missing (<c>mkfifo</c>, which never follows a link: an existing link is
    /// EEXIST and refused at open). Returns whether it created it (keepalived then removes it on close).
    /// </summary>
    public static bool CreateFifo(string path, UnixFileMode mode = DefaultMode)
    {
        if (Libc.Mkfifo(path, (uint)mode) == 0)
            return true;
        var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        if (errno == Errno.EEXIST)
            return false;
        throw Failure(path, "create FIFO", errno);
    }

    /// <summary>
    /// keepalived's notify FIFO open: <c>O_RDWR|O_NONBLOCK|O_NOFOLLOW|O_CLOEXEC</c> (read-write so opening never waits for a
    /// reader and readers see one stream; non-blocking so a full FIFO drops lines instead of stalling the writer), then
    /// refuses anything that is not a FIFO owned by us or by root. The returned stream's writes throw
    /// <see cref="IOException"/> with <c>HResult</c> EAGAIN when the FIFO is full.
    /// </summary>
    public static FileStream OpenFifo(string path)
    {
        var handle = Open(path, OpenFlags.O_RDWR | OpenFlags.O_NONBLOCK | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC | OpenFlags.O_NOCTTY, 0);
        try
        {
            var status = Status(handle, path);
            if (status.Kind != FileKind.Fifo)
                throw new SafeFileException(path, Errno.EINVAL, $"{path} is a {Describe(status.Kind)}, not a FIFO; not writing to it", refused: true);
            var euid = Libc.GetEuid();
            if (status.Uid != euid && status.Uid != 0)
                throw new SafeFileException(path, Errno.EPERM, $"{path} is a FIFO owned by uid {status.Uid}, not by us (uid {euid}) or root; not using it", refused: true);
            return new FileStream(handle, FileAccess.ReadWrite, bufferSize: 0);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>What the descriptor refers to (<c>fstat</c>).</summary>
    public static FileStatus Status(SafeFileHandle handle, string? pathForErrors = null)
    {
        Span<byte> buffer = stackalloc byte[256];
        int rc;
        unsafe
        {
            fixed (byte* p = buffer)
                rc = Libc.FStat(handle, p);
        }
        if (rc != 0)
            throw Failure(pathForErrors ?? "descriptor", "fstat", System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
        var s = StatLayout.Read(buffer);
        var kind = (s.Mode & StatLayout.S_IFMT) switch
        {
            StatLayout.S_IFREG => FileKind.Regular,
            StatLayout.S_IFIFO => FileKind.Fifo,
            StatLayout.S_IFLNK => FileKind.SymbolicLink,
            _ => FileKind.Other,
        };
        return new FileStatus(new FileIdentity(s.Device, s.Inode), kind, s.Links, s.Uid, s.Size);
    }

    /// <summary>
    /// What <paramref name="path"/> itself names now (a link is not followed: <c>O_PATH|O_NOFOLLOW</c> and <c>fstat</c>);
    /// null when nothing is there. Compared with <see cref="Status"/> of an open descriptor it tells whether the file was
    /// deleted, renamed or replaced since it was opened.
    /// </summary>
    public static FileStatus? StatusOf(string path)
    {
        using var handle = Libc.Open(path, OpenFlags.O_PATH | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC, 0);
        if (handle.IsInvalid)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (errno is Errno.ENOENT or ENOTDIR)
                return null;
            throw Failure(path, "stat", errno);
        }
        return Status(handle, path);
    }

    private static SafeFileHandle Open(string path, int flags, UnixFileMode mode)
    {
        var handle = Libc.Open(path, flags, (uint)mode);
        if (!handle.IsInvalid)
            return handle;
        var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        handle.Dispose();
        throw Failure(path, "open", errno);
    }

    private static SafeFileException Failure(string path, string operation, int errno) => errno == ELOOP
        ? new SafeFileException(path, errno, $"{path} is a symbolic link; not following it (ELOOP)")
        : new SafeFileException(path, errno, $"cannot {operation} {path}: {Errno.GetName(errno)} ({Errno.Describe(errno)})");

    private static string Describe(FileKind kind) => kind switch
    {
        FileKind.Regular => "regular file",
        FileKind.Fifo => "FIFO",
        FileKind.SymbolicLink => "symbolic link",
        _ => "special file or directory",
    };
}

/// <summary>What a file is, as far as <see cref="SafeFile"/> cares.</summary>
public enum FileKind
{
    Regular,
    Fifo,
    SymbolicLink,
    Other,
}

/// <summary>A file's identity: device and inode (the same pair means the same file, whatever its name now).</summary>
public readonly record struct FileIdentity(ulong Device, ulong Inode);

/// <summary>The fields of <c>struct stat</c> Lb uses.</summary>
public sealed record FileStatus(FileIdentity Identity, FileKind Kind, ulong Links, uint Uid, long Size);

/// <summary>A file was refused or could not be opened; <see cref="Errno"/> is the errno (also in <see cref="Exception.HResult"/>).</summary>
public sealed class SafeFileException : IOException
{
    public SafeFileException(string path, int errno, string message, bool refused = false)
        : base(message, errno)
    {
        Path = path;
        Errno = errno;
        Refused = refused || errno == SafeFile.ELOOP;
    }

    /// <summary>The path that was refused.</summary>
    public string Path { get; }

    /// <summary>The errno (ELOOP for a symbolic link).</summary>
    public int Errno { get; }

    /// <summary>
    /// The path names something Lb must not write to (a symbolic link, a hard link, a file of the wrong kind or owner), as
    /// opposed to a file that could not be opened (missing directory, no permission).
    /// </summary>
    public bool Refused { get; }
}
