using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Lb.Lb.Tests.Hosting;

/// <summary>
/// Holds another process's <c>open()</c> of files in one directory until the test releases it, through the kernel's
/// fanotify permission events (<c>FAN_OPEN_PERM</c>, root): a daemon's reload (reading its configuration) or dump (creating
/// its temporary file) is held in progress at a point the test controls, with no hook in the daemon. Every other open in
/// the directory is allowed at once. Disposing (or the test process dying) releases everything held.
/// </summary>
internal sealed class OpenGate : IDisposable
{
    private const uint FAN_CLOEXEC = 0x1, FAN_CLASS_CONTENT = 0x4;
    private const uint FAN_MARK_ADD = 0x1;
    private const ulong FAN_OPEN_PERM = 0x10000, FAN_EVENT_ON_CHILD = 0x08000000;
    private const uint FAN_ALLOW = 0x1;
    private const uint O_RDONLY_LARGEFILE_CLOEXEC = 0x8000 | 0x80000;
    private const int MetadataLength = 24;

    private readonly int _fd;
    private readonly Func<string, bool> _match;
    private readonly Thread _thread;
    private readonly Lock _lock = new();
    private readonly List<int> _held = new();
    private volatile bool _stop;
    private bool _holding = true;
    private int _matched;

    /// <param name="directory">The directory whose direct children are watched.</param>
    /// <param name="match">Which opens (by full path) to hold while holding; the others are allowed at once.</param>
    public OpenGate(string directory, Func<string, bool> match)
    {
        _match = match;
        _fd = fanotify_init(FAN_CLOEXEC | FAN_CLASS_CONTENT, O_RDONLY_LARGEFILE_CLOEXEC);
        if (_fd < 0)
            throw new InvalidOperationException($"fanotify_init failed (errno {Marshal.GetLastPInvokeError()}): the gate needs root and CONFIG_FANOTIFY_ACCESS_PERMISSIONS");
        if (fanotify_mark(_fd, FAN_MARK_ADD, FAN_OPEN_PERM | FAN_EVENT_ON_CHILD, -100, directory) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            close(_fd);
            throw new InvalidOperationException($"fanotify_mark on {directory} failed (errno {errno})");
        }
        _thread = new Thread(Loop) { IsBackground = true, Name = "open-gate" };
        _thread.Start();
    }

    /// <summary>Opens matched so far (held or not).</summary>
    public int Matched
    {
        get
        {
            lock (_lock)
                return _matched;
        }
    }

    /// <summary>Opens held right now.</summary>
    public int Held
    {
        get
        {
            lock (_lock)
                return _held.Count;
        }
    }

    /// <summary>Allows every held open and stops holding (later matches are only counted).</summary>
    public void Release()
    {
        lock (_lock)
        {
            _holding = false;
            foreach (var fd in _held)
                Allow(fd);
            _held.Clear();
        }
    }

    private void Loop()
    {
        var buffer = new byte[4096];
        var poll = new PollFd { Fd = _fd, Events = 1 /* POLLIN */ };
        while (!_stop)
        {
            if (poll_(ref poll, 1, 100) <= 0)
                continue;
            var n = (int)read(_fd, buffer, buffer.Length);
            if (n <= 0)
                continue;
            for (var offset = 0; offset + MetadataLength <= n;)
            {
                var span = buffer.AsSpan(offset);
                var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(span);
                var fd = BinaryPrimitives.ReadInt32LittleEndian(span[16..]);
                offset += Math.Max(length, MetadataLength);
                if (fd < 0)
                    continue;
                string path;
                try
                {
                    path = new FileInfo($"/proc/self/fd/{fd}").LinkTarget ?? string.Empty;
                }
                catch (IOException)
                {
                    path = string.Empty;
                }
                lock (_lock)
                {
                    if (_match(path))
                    {
                        _matched++;
                        if (_holding && !_stop)
                        {
                            _held.Add(fd);
                            continue;
                        }
                    }
                    Allow(fd);
                }
            }
        }
    }

    private void Allow(int fd)
    {
        var response = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(response, fd);
        BinaryPrimitives.WriteUInt32LittleEndian(response.AsSpan(4), FAN_ALLOW);
        _ = write(_fd, response, response.Length);
        close(fd);
    }

    public void Dispose()
    {
        Release();
        _stop = true;
        _thread.Join(TimeSpan.FromSeconds(10));
        close(_fd); // anything still pending is allowed by the kernel when the group goes
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int fanotify_init(uint flags, uint eventFlags);

    [DllImport("libc", SetLastError = true)]
    private static extern int fanotify_mark(int fd, uint flags, ulong mask, int dirfd, [MarshalAs(UnmanagedType.LPStr)] string path);

    [DllImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static extern int poll_(ref PollFd fds, ulong count, int timeoutMs);

    [DllImport("libc", SetLastError = true)]
    private static extern nint read(int fd, byte[] buffer, nint count);

    [DllImport("libc", SetLastError = true)]
    private static extern nint write(int fd, byte[] buffer, nint count);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);
}
