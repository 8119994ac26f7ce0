using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace Lb.Checkers.Journal;

/// <summary>Which entries to read.</summary>
public sealed record JournalQuery
{
    /// <summary>Only entries at or after this time.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Only entries whose virtual server contains this text (case-insensitive).</summary>
    public string? VirtualServer { get; init; }

    /// <summary>Only entries whose real server (or instance) contains this text (case-insensitive).</summary>
    public string? RealServer { get; init; }

    /// <summary>Whether <paramref name="e"/> passes the filters.</summary>
    public bool Matches(JournalEntry e) =>
        (Since is null || e.Time >= Since) &&
        (VirtualServer is null || (e.VirtualServer?.Contains(VirtualServer, StringComparison.OrdinalIgnoreCase) ?? false)) &&
        (RealServer is null || (e.RealServer ?? e.Instance)?.Contains(RealServer, StringComparison.OrdinalIgnoreCase) == true);
}

/// <summary>
/// Reads the journal, rotated files first (oldest to newest). Lines that do not parse — a torn last line after a
/// crash — are skipped and counted in <see cref="SkippedLines"/>, never fatal.
/// </summary>
public sealed class JournalReader
{
    private readonly string _path;

    /// <summary>Reads the journal at <paramref name="path"/> and its rotated files.</summary>
    public JournalReader(string path)
    {
        _path = path;
    }

    /// <summary>Lines skipped because they did not parse.</summary>
    public int SkippedLines { get; private set; }

    /// <summary>Parses one line; null if it is not a complete entry.</summary>
    public static JournalEntry? TryParse(string line)
    {
        if (string.IsNullOrWhiteSpace(line))
            return null;
        try
        {
            return JsonSerializer.Deserialize(line, JournalJsonContext.Default.JournalEntry);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The files to read, oldest first.</summary>
    public IReadOnlyList<string> Files()
    {
        var rotated = new List<(int N, string Path)>();
        var dir = Path.GetDirectoryName(Path.GetFullPath(_path))!;
        var name = Path.GetFileName(_path);
        if (Directory.Exists(dir))
        {
            foreach (var f in Directory.EnumerateFiles(dir, name + ".*"))
            {
                var fileName = Path.GetFileName(f);
                if (fileName.Length > name.Length + 1 && fileName.StartsWith(name + ".", StringComparison.Ordinal) &&
                    int.TryParse(fileName.AsSpan(name.Length + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n))
                    rotated.Add((n, f));
            }
        }
        var files = rotated.OrderByDescending(r => r.N).Select(r => r.Path).ToList();
        if (File.Exists(_path))
            files.Add(_path);
        return files;
    }

    /// <summary>Every entry matching <paramref name="query"/>, oldest first.</summary>
    public IEnumerable<JournalEntry> Read(JournalQuery? query = null)
    {
        query ??= new JournalQuery();
        foreach (var file in Files())
        {
            using var fs = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(fs, Encoding.UTF8);
            while (reader.ReadLine() is { } line)
            {
                var e = TryParse(line);
                if (e is null)
                {
                    if (!string.IsNullOrWhiteSpace(line))
                        SkippedLines++;
                    continue;
                }
                if (query.Matches(e))
                    yield return e;
            }
        }
    }

    /// <summary>
    /// Yields the matching entries already there, then new ones as they are appended, polling every
    /// <paramref name="pollInterval"/> (rotation is followed) until <paramref name="cancellationToken"/> is cancelled.
    /// A line is yielded only once it is complete (ends with a newline).
    /// </summary>
    public async IAsyncEnumerable<JournalEntry> FollowAsync(JournalQuery? query, TimeSpan pollInterval, TimeProvider? timeProvider = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        query ??= new JournalQuery();
        timeProvider ??= TimeProvider.System;
        foreach (var e in Read(query))
            yield return e;
        long position = File.Exists(_path) ? new FileInfo(_path).Length : 0;
        var pending = new StringBuilder();
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(pollInterval, timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
            if (!File.Exists(_path))
                continue;
            var length = new FileInfo(_path).Length;
            if (length < position)
            {
                // Rotated: the live file is new; read it from the start.
                position = 0;
                pending.Clear();
            }
            if (length == position)
                continue;
            string chunk;
            using (var fs = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            {
                fs.Seek(position, SeekOrigin.Begin);
                var toRead = (int)Math.Min(length - position, 16 * 1024 * 1024);
                var buffer = new byte[toRead];
                var read = fs.ReadAtLeast(buffer, toRead, throwOnEndOfStream: false);
                position += read;
                chunk = Encoding.UTF8.GetString(buffer, 0, read);
            }
            pending.Append(chunk);
            var text = pending.ToString();
            var lastNewline = text.LastIndexOf('\n');
            if (lastNewline < 0)
                continue;
            pending.Clear().Append(text, lastNewline + 1, text.Length - lastNewline - 1);
            foreach (var line in text[..lastNewline].Split('\n'))
            {
                var e = TryParse(line);
                if (e is null)
                {
                    if (!string.IsNullOrWhiteSpace(line))
                        SkippedLines++;
                    continue;
                }
                if (query.Matches(e))
                    yield return e;
            }
        }
    }
}
