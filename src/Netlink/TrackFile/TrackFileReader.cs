using Lb.Netlink.Platform;

namespace Lb.Netlink.TrackFile;

/// <summary>
/// What one read of a <c>track_file</c> gave: <see cref="Value"/>, or null with <see cref="Invalid"/> (the number
/// read is out of range: keepalived logs "Invalid number … - ignoring" and keeps the previous value).
/// </summary>
/// <param name="Value">The number read (0 for a file that cannot be opened or is empty); null when out of range.</param>
/// <param name="Invalid">The out-of-range number as keepalived logs it.</param>
public readonly record struct TrackFileRead(long? Value, string? Invalid = null);

/// <summary>How a poll found the reader of one file.</summary>
public enum TrackFilePoll
{
    /// <summary>The previous read had returned; a new one was started.</summary>
    Started,

    /// <summary>The read started at an earlier poll has not returned: from now on the file counts as unreadable.</summary>
    BecameStuck,

    /// <summary>Still not returned (already reported).</summary>
    StillStuck,
}

/// <summary>
/// Reads one tracked file, off the engine lock, with at most one read in flight. A read that blocks — a FIFO
/// nobody writes, a hung NFS mount — holds one thread-pool thread until it returns; polls meanwhile start
/// nothing (no thread per poll) and the caller treats the file as unreadable. The read itself follows keepalived
/// 2.2.7 (track_file.c process_track_file): at most 127 bytes, <c>strtol(buf, NULL, 0)</c>; a file that cannot be
/// opened or is empty reads as 0; a number outside [INT32_MIN, INT32_MAX + 1] is ignored. Shared by the VRRP trackers
/// (<c>track_file</c> in a vrrp_instance or sync group) and the checkers (<c>FILE_CHECK</c>): the file is read one way.
/// </summary>
public sealed class TrackFileReader
{
    private const int MaxBytes = 127;
    private readonly object _gate = new();
    private readonly Action<string, TrackFileRead> _onRead;
    private Task<TrackFileRead> _current = Task.FromResult(new TrackFileRead(0));
    private int _pollsWaited;

    /// <param name="path">The file.</param>
    /// <param name="onRead">Called on the reading thread with each completed read (never under a lock of the reader).</param>
    public TrackFileReader(string path, Action<string, TrackFileRead> onRead)
    {
        Path = path;
        _onRead = onRead;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>True while a read is in flight.</summary>
    public bool Busy
    {
        get
        {
            lock (_gate)
                return !_current.IsCompleted;
        }
    }

    /// <summary>The read in flight, or the last one.</summary>
    public Task<TrackFileRead> Current
    {
        get
        {
            lock (_gate)
                return _current;
        }
    }

    /// <summary>
    /// Starts a read unless one is in flight; true when started. <paramref name="init"/>: write <c>init_file</c>'s
    /// value first (when the file is missing, or always with <c>overwrite</c>).
    /// </summary>
    public bool TryStart(TrackFileInit? init = null)
    {
        lock (_gate)
        {
            if (!_current.IsCompleted)
                return false;
            _pollsWaited = 0;
            var path = Path;
            _current = Task.Run(() =>
            {
                var r = ReadNow(path, init);
                _onRead(path, r);
                return r;
            });
            return true;
        }
    }

    /// <summary>A periodic poll: starts a read, or reports that the one started at an earlier poll has not returned.</summary>
    public TrackFilePoll Poll()
    {
        lock (_gate)
        {
            if (TryStart())
                return TrackFilePoll.Started;
            return ++_pollsWaited == 1 ? TrackFilePoll.BecameStuck : TrackFilePoll.StillStuck;
        }
    }

    /// <summary>The caller gave up waiting for the read in flight: true the first time (to report once).</summary>
    public bool MarkStuck()
    {
        lock (_gate)
            return !_current.IsCompleted && ++_pollsWaited == 1;
    }

    /// <summary>One read now, on the calling thread (init_file written first). Blocks as long as the file does.</summary>
    public static TrackFileRead ReadNow(string path, TrackFileInit? init)
    {
        if (init is { } i)
        {
            var v = i.Value;
            try
            {
                // Never through a symbolic link or a second hard link at the path: a link planted there would
                // have root overwrite its target.
                if (i.Overwrite || SafeFile.StatusOf(path) is null)
                {
                    using var fs = SafeFile.OpenRegularStream(path);
                    fs.SetLength(0);
                    fs.Write(System.Text.Encoding.ASCII.GetBytes(v.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n"));
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        }
        Span<byte> buf = stackalloc byte[MaxBytes];
        int n;
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1);
            n = fs.Read(buf);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return new TrackFileRead(0);
        }
        return Parse(buf[..n]);
    }

    /// <summary>keepalived's reading of the file's bytes: <c>strtol(buf, NULL, 0)</c>, then the INT32 range check.</summary>
    public static TrackFileRead Parse(ReadOnlySpan<byte> buf)
    {
        if (buf.IsEmpty)
            return new TrackFileRead(0);
        var i = 0;
        while (i < buf.Length && buf[i] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r')
            i++;
        var negative = false;
        if (i < buf.Length && buf[i] is (byte)'+' or (byte)'-')
        {
            negative = buf[i] == '-';
            i++;
        }
        var radix = 10;
        if (i < buf.Length && buf[i] == '0')
        {
            if (i + 2 < buf.Length && (buf[i + 1] | 0x20) == 'x' && Digit(buf[i + 2], 16) >= 0)
            {
                radix = 16;
                i += 2;
            }
            else
            {
                radix = 8;
            }
        }
        long magnitude = 0;
        var overflow = false;
        for (; i < buf.Length; i++)
        {
            var d = Digit(buf[i], radix);
            if (d < 0)
                break;
            if (magnitude > (long.MaxValue - d) / radix)
                overflow = true;
            else
                magnitude = (magnitude * radix) + d;
        }
        // strtol clamps to LONG_MIN/LONG_MAX with ERANGE; keepalived then logs the clamped value and ignores it
        var value = overflow ? (negative ? long.MinValue : long.MaxValue) : negative ? -magnitude : magnitude;
        if (overflow || value < int.MinValue || value > (long)int.MaxValue + 1)
            return new TrackFileRead(null, value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new TrackFileRead(value);
    }

    private static int Digit(byte c, int radix)
    {
        var d = c switch
        {
            >= (byte)'0' and <= (byte)'9' => c - '0',
            >= (byte)'a' and <= (byte)'z' => c - 'a' + 10,
            >= (byte)'A' and <= (byte)'Z' => c - 'A' + 10,
            _ => -1,
        };
        return d < radix ? d : -1;
    }
}

/// <summary><c>init_file [VALUE] [overwrite]</c> of a <c>track_file</c>: <paramref name="Value"/> is written when the file is missing, or always with <paramref name="Overwrite"/>.</summary>
/// <param name="Value">The value written (keepalived's default 0).</param>
/// <param name="Overwrite"><c>overwrite</c>: written even when the file exists.</param>
public readonly record struct TrackFileInit(long Value, bool Overwrite);
