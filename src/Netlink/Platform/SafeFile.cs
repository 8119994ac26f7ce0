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
#pragma warning disable CA2000 // the handle is owned by the returned stream, or disposed in the catch below
        var handle = OpenRegular(path, createMode, append, create);
#pragma warning restore CA2000
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
#pragma warning disable CA2000 // the handle is owned by the returned stream, or disposed in the catch below
        var handle = Open(path, OpenFlags.O_RDWR | OpenFlags.O_NONBLOCK | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC | OpenFlags.O_NOCTTY, 0);
#pragma warning restore CA2000
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
        if (!FileStatus.TryGet(handle, out var status, out var errno))
            throw Failure(pathForErrors ?? "descriptor", "fstat", errno);
        return status;
    }

    /// <summary>
    /// What <paramref name="path"/> itself names now (a link is not followed); null when nothing is there. Compared with
    /// <see cref="Status"/> of an open descriptor it tells whether the file was deleted, renamed or replaced since it was opened.
    /// </summary>
    public static FileStatus? StatusOf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (FileStatus.TryGet(path, followLinks: false, out var status, out var errno))
            return status;
        if (errno is Errno.ENOENT or ENOTDIR)
            return null;
        throw Failure(path, "stat", errno);
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
