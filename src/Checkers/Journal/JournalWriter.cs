using System.Text;
using System.Text.Json;
using Lb.Checkers.Options;

namespace Lb.Checkers.Journal;

/// <summary>
/// Appends entries to <c>journal.jsonl</c>: one JSON object per line, written and fsynced (<c>Flush(true)</c>) before
/// <see cref="AppendAsync"/> returns. Rotates by size (<c>journal.jsonl</c> → <c>.1</c> → <c>.2</c> …). A torn last line
/// left by a crash is closed with a newline before the next entry, so it never corrupts the entries after it.
/// </summary>
public sealed class JournalWriter : IJournal, IDisposable
{
    private readonly JournalOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private FileStream? _stream;
    private bool _disposed;

    /// <summary>Creates a writer; the file (and its directory) is created on the first append.</summary>
    public JournalWriter(JournalOptions options)
    {
        _options = options;
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
    public async ValueTask AppendAsync(JournalEntry entry, CancellationToken cancellationToken = default)
    {
        var line = Encoding.UTF8.GetBytes(Serialize(entry) + "\n");
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var stream = _stream ??= Open();
            if (stream.Length > 0 && stream.Length + line.Length > _options.MaxFileBytes)
            {
                Rotate();
                stream = _stream = Open();
            }
            stream.Write(line);
            stream.Flush(flushToDisk: _options.Fsync);
        }
        finally
        {
            _gate.Release();
        }
    }

    private FileStream Open()
    {
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(_options.Path));
        if (!string.IsNullOrEmpty(dir))
            Directory.CreateDirectory(dir);
        var fs = new FileStream(_options.Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
        if (fs.Length > 0)
        {
            // A crash may have left a torn last line: terminate it so the next entry starts on its own line.
            fs.Seek(-1, SeekOrigin.End);
            var last = fs.ReadByte();
            fs.Seek(0, SeekOrigin.End);
            if (last != '\n')
                fs.WriteByte((byte)'\n');
        }
        return fs;
    }

    private void Rotate()
    {
        _stream?.Dispose();
        _stream = null;
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
        _gate.Wait();
        try
        {
            _disposed = true;
            _stream?.Dispose();
            _stream = null;
        }
        finally
        {
            _gate.Release();
        }
    }
}
