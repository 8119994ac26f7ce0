using System.Text;
using System.Text.Json;
using Lb.Checkers.Options;
using Lb.Netlink.Platform;
using Microsoft.Extensions.Logging;

namespace Lb.Checkers.Journal;

/// <summary>
/// Appends entries to <c>journal.jsonl</c>: one JSON object per line, written and fsynced (<c>Flush(true)</c>) before
/// <see cref="AppendAsync"/> returns. Rotates by size (<c>journal.jsonl</c> → <c>.1</c> → <c>.2</c> …). A torn last line
/// left by a crash is closed with a newline before the next entry, so it never corrupts the entries after it.
/// The file is opened as keepalived opens the files it writes: never through a symbolic link at the path (O_NOFOLLOW,
/// see <see cref="SafeFile"/>). Before each append the path is checked to still name the open file: a journal deleted,
/// renamed (rotated by logrotate) or replaced is reopened at the path, so entries never go to an unlinked inode;
/// <see cref="Reopen"/> (SIGHUP) closes it at once. An entry that cannot be written fails with a
/// <see cref="JournalWriteException"/> that carries the entry, so the caller's log keeps what was lost.
/// </summary>
public sealed class JournalWriter : IJournal, IDisposable
{
    private readonly JournalOptions _options;
    private readonly ILogger? _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private FileStream? _stream;
    private FileIdentity _identity;
    private volatile bool _reopen;
    private volatile bool _disposed;

    /// <summary>Creates a writer; the file (and its directory) is created on the first append.</summary>
    public JournalWriter(JournalOptions options, ILogger? logger = null)
    {
        _options = options;
        _logger = logger;
    }

    /// <summary>The journal file.</summary>
    public string Path => _options.Path;

    /// <summary>Serializes <paramref name="entry"/> as one line (times in UTC with milliseconds).</summary>
    public static string Serialize(JournalEntry entry)
    {
        var utc = entry.Time.ToUniversalTime();
        var normalized = entry with { Time = new DateTimeOffset(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero) };
        return JsonSerializer.Serialize(normalized, JournalJsonContext.Default.JournalEntry);
    }

    /// <inheritdoc/>
    public ValueTask AppendAsync(JournalEntry entry, CancellationToken cancellationToken = default) => AppendBatchAsync([entry], cancellationToken);

    /// <summary>
    /// Appends <paramref name="entries"/> in order, each on its own line, and makes them durable with one fsync before
    /// returning (the checker subsystem journals a whole change set this way before its IPVS batch). Rotation happens
    /// between entries, as for single appends. On failure no entry after the failing one is written; the exception
    /// carries the entries not recorded.
    /// </summary>
    public async ValueTask AppendBatchAsync(IReadOnlyList<JournalEntry> entries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0)
            return;
        var texts = new string[entries.Count];
        for (var i = 0; i < texts.Length; i++)
            texts[i] = Serialize(entries[i]);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var written = 0;
            try
            {
                var stream = Current();
                for (; written < texts.Length; written++)
                {
                    var line = Encoding.UTF8.GetBytes(texts[written] + "\n");
                    if (stream.Length > 0 && stream.Length + line.Length > _options.MaxFileBytes)
                    {
                        // The entries already written to this file are made durable before it is rotated away.
                        Sync(stream);
                        Rotate();
                        stream = Current();
                    }
                    stream.Write(line);
                }
                if (_options.Fsync)
                    Sync(stream);
                else
                    await stream.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The next append starts from a fresh open (a full disk or a removed directory may be fixed by then).
                Close();
                throw new JournalWriteException(_options.Path, string.Join("\n", texts.Skip(written == texts.Length ? 0 : written)), e);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private void Sync(FileStream stream)
    {
        if (!_options.Fsync)
        {
            stream.Flush();
            return;
        }
        // fsync before returning: .NET has no asynchronous fsync (FlushAsync only empties the buffer into the page cache),
        // and Flush(true) is the durability this writer promises.
        stream.Flush(flushToDisk: true);
    }

    /// <summary>
    /// Closes the file so the next entry reopens the path (SIGHUP, after an external rotation). Never waits: if an append
    /// is under way, that append's successor reopens instead.
    /// </summary>
    public void Reopen()
    {
        _reopen = true;
        if (_disposed)
            return;
        try
        {
            if (!_gate.Wait(0))
                return;
        }
        catch (ObjectDisposedException)
        {
            return; // disposed meanwhile: nothing left to reopen
        }
        try
        {
            if (_reopen)
            {
                _reopen = false;
                Close();
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The open journal, reopened when <see cref="Reopen"/> was asked or the path no longer names it.</summary>
    private FileStream Current()
    {
        if (_reopen)
        {
            _reopen = false;
            Close();
        }
        if (_stream is { } open)
        {
            var atPath = SafeFile.StatusOf(_options.Path);
            if (atPath?.Identity == _identity)
                return open;
            _logger?.LogWarning("Journal {Path} was {What} while open; reopening it at its path",
                _options.Path, atPath is null ? "deleted or renamed" : "replaced");
            Close();
        }
        var stream = Open();
        _identity = SafeFile.Status(stream.SafeFileHandle, _options.Path).Identity;
        _stream = stream;
        return stream;
    }

    private FileStream Open()
    {
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(_options.Path));
        if (!string.IsNullOrEmpty(dir))
            Directory.CreateDirectory(dir);
        var fs = SafeFile.OpenRegularStream(_options.Path, SafeFile.DefaultMode, append: true);
        try
        {
            if (fs.Length > 0)
            {
                // A crash may have left a torn last line: terminate it so the next entry starts on its own line.
                fs.Seek(-1, SeekOrigin.End);
                var last = fs.ReadByte();
                if (last != '\n')
                    fs.WriteByte((byte)'\n');
            }
            fs.Seek(0, SeekOrigin.End);
            return fs;
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    private void Close()
    {
        _stream?.Dispose();
        _stream = null;
    }

    private void Rotate()
    {
        Close();
        var max = Math.Max(0, _options.MaxRotatedFiles);
        if (max == 0)
        {
            File.Delete(_options.Path);
            return;
        }
        var oldest = $"{_options.Path}.{max}";
        if (File.Exists(oldest))
            File.Delete(oldest);
        for (var i = max - 1; i >= 1; i--)
        {
            var from = $"{_options.Path}.{i}";
            if (File.Exists(from))
                File.Move(from, $"{_options.Path}.{i + 1}");
        }
        File.Move(_options.Path, $"{_options.Path}.1");
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
            return;
        _gate.Wait();
        try
        {
            if (_disposed)
                return;
            _disposed = true;
            Close();
        }
        finally
        {
            _gate.Release();
        }
        // Appends arriving from now on fail with ObjectDisposedException, as they did before the gate was disposed.
        _gate.Dispose();
    }
}

/// <summary>An entry could not be journalled; the message names the file, the cause and the entry itself.</summary>
public sealed class JournalWriteException : IOException
{
    public JournalWriteException(string path, string entry, Exception inner)
        : base($"cannot write to journal {path}: {inner.Message}; entry not recorded: {entry}", inner)
    {
        Path = path;
        Entry = entry;
    }

    /// <summary>The journal file.</summary>
    public string Path { get; }

    /// <summary>The entry that was not recorded, as its JSON line.</summary>
    public string Entry { get; }
}
