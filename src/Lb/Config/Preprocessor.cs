using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using Lb.Netlink.Platform;

namespace Lb.Config;

/// <summary>
/// One line of configuration text after includes, comments, conditionals, macros and generators, with where it came from.
/// A line that needed no rewriting is a slice of its file's text (no string per line: <c>lb -t</c> on a big file);
/// <see cref="Text"/> makes the string when asked, <see cref="Span"/> reads it in place. Equality compares the text.
/// </summary>
public readonly struct LogicalLine : IEquatable<LogicalLine>
{
    private readonly string _source;
    private readonly int _start;
    private readonly int _length;

    public LogicalLine(string text, SourceLocation location)
        : this(text, 0, text.Length, location)
    {
    }

    internal LogicalLine(string source, int start, int length, SourceLocation location)
    {
        _source = source;
        _start = start;
        _length = length;
        Location = location;
    }

    public string Text => _source is null ? string.Empty
        : _start == 0 && _length == _source.Length ? _source : _source.Substring(_start, _length);

    public ReadOnlySpan<char> Span => _source.AsSpan(_start, _length);

    public SourceLocation Location { get; }

    public bool Equals(LogicalLine other) => Location == other.Location && Span.SequenceEqual(other.Span);

    public override bool Equals(object? obj) => obj is LogicalLine other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(string.GetHashCode(Span, StringComparison.Ordinal), Location);

    public static bool operator ==(LogicalLine left, LogicalLine right) => left.Equals(right);

    public static bool operator !=(LogicalLine left, LogicalLine right) => !left.Equals(right);

    public override string ToString() => $"LogicalLine {{ Text = {Text}, Location = {Location} }}";
}

/// <summary>
/// Limits and inputs of the preprocessor. The limits keep a hostile or broken file from running without bound; every one
/// of them applies to one whole load (the main file and everything it includes, generates and expands), and exceeding one
/// stops the load with a Fatal diagnostic at the line responsible, so <c>lb -t</c> exits 4 and a reload is refused.
/// </summary>
public sealed record PreprocessorOptions
{
    /// <summary>keepalived's config id (<c>-i</c>), compared against <c>@ID</c> lines. Defaults to the short host name.</summary>
    public string ConfigId { get; init; } = DefaultConfigId();

    /// <summary>
    /// When set, every config id an <c>@ID</c>/<c>@^ID</c> line names is added to it as the load reaches the line (lines
    /// skipped because an include or macro was itself conditional are not reached). <c>lb -t</c> uses it to load a file
    /// once per id it defines; it costs one set insertion per conditional line.
    /// </summary>
    public ISet<string>? SeenConfigIds { get; init; }

    /// <summary>Size of one configuration file.</summary>
    public long MaxFileBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>Bytes read from files in one load, summed over every read: a file included 40 times counts 40 times.</summary>
    public long MaxTotalBytes { get; init; } = 32L * 1024 * 1024;

    /// <summary>Logical lines the configuration expands to (after includes, macros and generators).</summary>
    public int MaxLines { get; init; } = 2_000_000;

    /// <summary>Characters of those logical lines, summed.</summary>
    public long MaxExpandedChars { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// Lines processed, counting each line a generator or a multi-line macro produces even when it emits nothing (a
    /// definition, a conditional for another host): the bound that stops <c>~SEQ</c> nested in <c>~SEQ</c> and macros that double.
    /// </summary>
    public long MaxSteps { get; init; } = 5_000_000;

    /// <summary>Wall-clock time of one load, the backstop behind the counted bounds.</summary>
    public TimeSpan MaxDuration { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Clock for <see cref="MaxDuration"/>.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    public int MaxIncludeDepth { get; init; } = 32;

    public int MaxFiles { get; init; } = 1024;

    public int MaxExpandedLineLength { get; init; } = 1024 * 1024;

    public int MaxReplacementsPerLine { get; init; } = 10_000;

    /// <summary>Macros, generators and includes nested in one another, counted together across files.</summary>
    public int MaxNesting { get; init; } = 256;

    /// <summary>Seed for <c>${_RANDOM}</c>; null uses a time-based seed as keepalived does (global <c>random_seed</c> sets it).</summary>
    public int? RandomSeed { get; init; }

    public static string DefaultConfigId()
    {
        var host = Environment.MachineName;
        var dot = host.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 ? host[..dot] : host;
    }
}

[Flags]
internal enum IncludeChecks
{
    None = 0,
    Readable = 1,
    Match = 2,
    WildcardMatch = 4,
    BraceMatch = 8,
    All = Readable | Match | WildcardMatch | BraceMatch,
}

/// <summary>
/// Turns keepalived.conf files into logical lines the way keepalived 2.2.7 reads them: comments (<c>#</c>, <c>!</c>) stripped,
/// <c>include</c> and its strict variants (recognised on the finished line, after <c>@ID</c>, macros and generators, as keepalived
/// does) with glob(3) wildcards and brace expansion relative to the including file, regular files only, <c>@ID</c>/<c>@^ID</c>
/// conditional lines, <c>$NAME=value</c> definitions (multi-line with <c>\</c>) expanded as <c>$NAME</c> or <c>${NAME}</c> at use time,
/// the predefined <c>_PWD _INSTANCE _RANDOM _HASH _BANG</c>, and the <c>~SEQ</c>/<c>~SEQx</c>/<c>~LST</c> line generators.
/// Every load is bounded (see <see cref="PreprocessorOptions"/> and src/Lb/Config/README.md).
/// </summary>
public sealed partial class Preprocessor
{
    // Source-generated: no regex construction or interpretation at start-up (lb -t, NativeAOT).
    [GeneratedRegex(@"^\$([A-Za-z_][A-Za-z0-9_]*)=(.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex Definition { get; }
    private static readonly string[] IncludeKeywords = { "include", "includer", "includem", "includew", "includeb", "includea" };

    private readonly PreprocessorOptions _options;
    private readonly DiagnosticBag _diagnostics;
    private readonly Dictionary<string, string> _definitions = new(StringComparer.Ordinal);
    private readonly List<LogicalLine> _lines = new();
    private readonly List<string> _includeStack = new();
    private readonly List<string> _files = new();
    private readonly Random _random;
    private string _directory = Directory.GetCurrentDirectory();
    private IncludeChecks _checks = IncludeChecks.None;
    private bool _stopped;
    private long _steps;
    private long _bytesRead;
    private long _charsEmitted;
    private long _definitionChars;
    private long _started;
    private int _nesting;

    public Preprocessor(PreprocessorOptions options, DiagnosticBag diagnostics)
    {
        _options = options;
        _diagnostics = diagnostics;
        _random = options.RandomSeed is int seed ? new Random(seed) : new Random();
    }

    /// <summary>Every file read, in order (the main file first).</summary>
    public IReadOnlyList<string> Files => _files;

    /// <summary>Reads <paramref name="path"/> and everything it includes. Problems go to the diagnostic bag; this never throws for bad input.</summary>
    public ImmutableArray<LogicalLine> Run(string path) => [.. Read(path)];

    /// <summary>As <see cref="Run"/>, without copying the lines (the loader hands them straight to the parser).</summary>
    internal IReadOnlyList<LogicalLine> Read(string path)
    {
        _started = _options.Time.GetTimestamp();
        if (Directory.Exists(path))
        {
            _diagnostics.Fatal(new SourceLocation(path, 0), $"'{path}' is a directory, not a configuration file");
            return [];
        }
        if (!File.Exists(path))
        {
            _diagnostics.Fatal(new SourceLocation(path, 0), $"Configuration file '{path}' does not exist");
            return [];
        }
        ReadFile(path, path, SourceLocation.None, IncludeChecks.All);
        return _lines;
    }

    /// <summary>Preprocesses text that did not come from a file (tests, stdin). Includes resolve relative to <paramref name="directory"/>.</summary>
    public ImmutableArray<LogicalLine> RunText(string text, string displayName, string? directory = null)
    {
        _started = _options.Time.GetTimestamp();
        _directory = directory ?? Directory.GetCurrentDirectory();
        _files.Add(displayName);
        ReadLines(text, displayName);
        return _lines.ToImmutableArray();
    }

    /// <summary>Reads one file. <paramref name="checks"/> decides whether a file that is not read is an error (strict include, main file) or a warning.</summary>
    private void ReadFile(string path, string display, SourceLocation from, IncludeChecks checks)
    {
        if (_stopped)
            return;
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or IOException or NotSupportedException)
        {
            _diagnostics.Error(from, $"invalid include path '{path}': {e.Message}");
            return;
        }

        if (_includeStack.Contains(full, StringComparer.Ordinal))
        {
            _diagnostics.Error(from, $"Recursive include of '{display}' ignored (already being read: {string.Join(" -> ", _includeStack.Select(Path.GetFileName))})");
            return;
        }
        if (_includeStack.Count >= _options.MaxIncludeDepth)
        {
            _diagnostics.Fatal(from, $"Includes nested deeper than {_options.MaxIncludeDepth} levels at '{display}'");
            return;
        }
        if (_files.Count >= _options.MaxFiles)
        {
            _diagnostics.Fatal(from, $"More than {_options.MaxFiles} configuration files included; '{display}' not read");
            return;
        }

        var here = from.IsKnown ? from : new SourceLocation(display, 0);
        // The type is looked at before anything opens the file: open() of a FIFO blocks until a writer comes, a device
        // such as /dev/zero never ends, and opening some devices acts (a watchdog starts). keepalived refuses the same.
        if (!FileStatus.TryGet(full, followLinks: true, out var probe, out var errno))
        {
            _diagnostics.Add(checks.HasFlag(IncludeChecks.Readable) ? Severity.Fatal : Severity.Warning, here,
                $"cannot read '{display}': {Lb.Netlink.Errno.GetName(errno)}");
            return;
        }
        if (!probe.IsRegularFile || probe.IsExecutable)
        {
            var what = probe.IsRegularFile ? "an executable file" : $"a {probe.Description}";
            _diagnostics.Add(checks.HasFlag(IncludeChecks.Readable) ? Severity.Fatal : Severity.Warning, here,
                $"Configuration file '{display}' is not a regular non-executable file ({what}) - skipping");
            return;
        }
        if (probe.Size > _options.MaxFileBytes)
        {
            _diagnostics.Fatal(new SourceLocation(display, 0),
                $"file is {probe.Size} bytes, larger than the {_options.MaxFileBytes / (1024 * 1024)} MiB a configuration file may have; not read");
            return;
        }
        if (_bytesRead + probe.Size > _options.MaxTotalBytes)
        {
            Stop(here, $"reading '{display}' ({probe.Size} bytes) would take this load past {_options.MaxTotalBytes / (1024 * 1024)} MiB of configuration files "
                + "(a file included several times counts each time); stopped reading");
            return;
        }

        byte[] buffer;
        int length;
        try
        {
            buffer = ReadBounded(full, Math.Min(_options.MaxFileBytes, _options.MaxTotalBytes - _bytesRead), probe.Size, out length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _diagnostics.Add(checks.HasFlag(IncludeChecks.Readable) ? Severity.Fatal : Severity.Warning, here, $"cannot read '{display}': {e.Message}");
            return;
        }
        _bytesRead += length;
        var bytes = buffer.AsSpan(0, length);

        var nul = bytes.IndexOf((byte)0);
        if (nul >= 0)
        {
            _diagnostics.Fatal(new SourceLocation(display, 0),
                $"'{display}' is a binary file (NUL byte at offset {nul}), not a keepalived configuration; not read");
            return;
        }
        _files.Add(display);
        if (bytes.IndexOfAnyExcept(" \t\n\r"u8) < 0)
            _diagnostics.Warning(new SourceLocation(display, 0), $"configuration file '{display}' is empty");

        var text = Utf8.GetString(bytes);
        var savedDirectory = _directory;
        var savedChecks = _checks;
        _includeStack.Add(full);
        _directory = Path.GetDirectoryName(full) ?? "/";
        try
        {
            ReadLines(text, display);
        }
        finally
        {
            _includeStack.RemoveAt(_includeStack.Count - 1);
            _directory = savedDirectory;
            _checks = savedChecks;
        }
    }

    /// <summary>Invalid sequences become U+FFFD, as before; no byte order mark is added or expected.</summary>
    private static readonly UTF8Encoding Utf8 = new(false, false);

    /// <summary>
    /// Reads at most <paramref name="limit"/> bytes into one buffer sized for what the file held when it was looked at (+1 to
    /// see the end without growing); a file that grew past the limit since is refused, not truncated.
    /// </summary>
    private static byte[] ReadBounded(string path, long limit, long expected, out int length)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
        var buffer = new byte[(int)Math.Min(limit, expected) + 1];
        var n = 0;
        int read;
        while ((read = stream.Read(buffer, n, buffer.Length - n)) > 0)
        {
            n += read;
            if (n > limit)
                throw new IOException($"it grew past {limit} bytes while being read");
            if (n == buffer.Length)
                Array.Resize(ref buffer, (int)Math.Min(limit + 1, buffer.Length * 2L));
        }
        length = n;
        return buffer;
    }

    /// <summary>The lines of a text split on <c>\n</c>, a trailing <c>\r</c> dropped, as ranges of the text (no string per line).</summary>
    private struct LineCursor(string text)
    {
        private int _next;

        public int Number { get; private set; }

        public bool Next(out int start, out int length)
        {
            start = _next;
            length = 0;
            if (_next > text.Length)
                return false;
            var newline = text.AsSpan(_next).IndexOf('\n');
            var end = newline < 0 ? text.Length : _next + newline;
            _next = end + 1;
            length = end - start;
            if (length > 0 && text[end - 1] == '\r')
                length--;
            Number++;
            return true;
        }
    }

    private void ReadLines(string source, string display)
    {
        _lines.EnsureCapacity(Math.Min(_lines.Count + source.AsSpan().Count('\n') + 1, _options.MaxLines));
        var cursor = new LineCursor(source);
        while (cursor.Next(out var lineStart, out var lineLength))
        {
            if (_stopped)
                return;
            var location = new SourceLocation(display, cursor.Number);
            if (ExtensionStatement(source.AsSpan(lineStart, lineLength), location) is { } extension)
            {
                if (extension.Length > 0)
                    ProcessLine(extension, location, 0);
                continue;
            }
            var kept = StripComment(source.AsSpan(lineStart, lineLength), location);
            var (start, length) = TrimRange(source, lineStart, kept);
            if (length == 0)
                continue;
            var span = source.AsSpan(start, length);

            var firstWord = FirstWord(span);
            if (firstWord.StartsWith(ExtensionKeywordPrefix, StringComparison.Ordinal))
            {
                _diagnostics.Error(location, $"'{firstWord}' is an Lb extension keyword: write it as a comment line '{ExtensionLinePrefix} {firstWord[ExtensionKeywordPrefix.Length..]} …' so that keepalived ignores it; line ignored");
                continue;
            }
            if (firstWord is "include_check")
                SetIncludeChecks(span[firstWord.Length..].Trim().ToString(), location);

            // The common line (no @ID, no macro, no generator, no include) is emitted as a slice of the file's text; any
            // other goes the general way below, with a string of its own.
            if (span[0] is not ('@' or '~') && !span.Contains('$') && !firstWord.StartsWith("include", StringComparison.Ordinal))
            {
                if (!Step(location))
                    return;
                if (_nesting >= _options.MaxNesting || !RuntimeHelpers.TryEnsureSufficientExecutionStack())
                {
                    Stop(location, $"macros, generators and includes nested more than {Math.Min(_nesting, _options.MaxNesting)} levels deep together; stopped reading");
                    return;
                }
                Emit(source, start, length, location);
                continue;
            }
            var text = span.ToString();

            // A multi-line definition: "$NAME= \" followed by lines ending in "\" and a last line without it.
            var body = ConditionalBody(text, location);
            if (body is not null && body.StartsWith('$') && body.EndsWith('\\') && Definition.Match(body) is { Success: true } m)
            {
                var value = new StringBuilder();
                var first = m.Groups[2].Value[..^1].Trim();
                if (first.Length > 0)
                    value.Append(first);
                while (cursor.Next(out var nextStart, out var nextLength))
                {
                    var continuation = source.AsSpan(nextStart, StripComment(source.AsSpan(nextStart, nextLength), new SourceLocation(display, cursor.Number))).Trim();
                    var more = continuation.EndsWith('\\');
                    if (more)
                        continuation = continuation[..^1].Trim();
                    if (continuation.Length > 0)
                    {
                        if (value.Length > 0)
                            value.Append('\n');
                        value.Append(continuation);
                    }
                    if (value.Length > _options.MaxExpandedLineLength)
                    {
                        _diagnostics.Error(location, $"definition of ${m.Groups[1].Value} is longer than {_options.MaxExpandedLineLength} characters; ignored");
                        value.Clear();
                        break;
                    }
                    if (!more)
                        break;
                }
                Define(m.Groups[1].Value, value.ToString(), location);
                continue;
            }

            ProcessLine(text, location, 0);
        }
    }

    /// <summary>The range of <c>source[start..start+length]</c> without leading and trailing white space (as <see cref="string.Trim()"/>).</summary>
    private static (int Start, int Length) TrimRange(string source, int start, int length)
    {
        var end = start + length;
        while (start < end && char.IsWhiteSpace(source[start]))
            start++;
        while (end > start && char.IsWhiteSpace(source[end - 1]))
            end--;
        return (start, end - start);
    }

    private static ReadOnlySpan<char> FirstWord(ReadOnlySpan<char> text)
    {
        var end = 0;
        while (end < text.Length && !char.IsWhiteSpace(text[end]))
            end++;
        return text[..end];
    }

    /// <summary>Returns the text after an <c>@ID</c>/<c>@^ID</c> prefix when the line applies to this config id, the text itself when it has no prefix, null when it does not apply.</summary>
    private string? ConditionalBody(string text, SourceLocation location)
    {
        if (text.Length == 0 || text[0] != '@')
            return text;
        var negate = text.Length > 1 && text[1] == '^';
        var start = negate ? 2 : 1;
        var end = start;
        while (end < text.Length && !char.IsWhiteSpace(text[end]))
            end++;
        var id = text[start..end];
        if (id.Length == 0)
        {
            _diagnostics.Error(location, "'@' conditional without a config id");
            return null;
        }
        _options.SeenConfigIds?.Add(id);
        var matches = string.Equals(id, _options.ConfigId, StringComparison.Ordinal);
        return matches != negate ? text[end..].Trim() : null;
    }

    /// <summary>
    /// One line, recursively through macros, generators and includes. The nesting of all three together is bounded (each
    /// include starts its own macro depth, so 32 include levels of 64 macro levels would otherwise be 2048 frames deep),
    /// and the stack itself is checked, so no input overflows it: a stack overflow cannot be caught and would take the
    /// daemon down on SIGHUP.
    /// </summary>
    private void ProcessLine(string text, SourceLocation location, int depth)
    {
        if (!Step(location))
            return;
        if (_nesting >= _options.MaxNesting || !RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            Stop(location, $"macros, generators and includes nested more than {Math.Min(_nesting, _options.MaxNesting)} levels deep together; stopped reading");
            return;
        }
        _nesting++;
        try
        {
            ProcessLineNested(text, location, depth);
        }
        finally
        {
            _nesting--;
        }
    }

    private void ProcessLineNested(string text, SourceLocation location, int depth)
    {
        if (depth > 64)
        {
            _diagnostics.Error(location, "macros and ~SEQ/~LST generators nested deeper than 64 levels; line ignored");
            return;
        }
        var body = ConditionalBody(text.Trim(), location);
        if (string.IsNullOrEmpty(body))
            return;

        if (body[0] == '$' && Definition.Match(body) is { Success: true } def)
        {
            Define(def.Groups[1].Value, def.Groups[2].Value.Trim(), location);
            return;
        }

        if (body.StartsWith("~SEQ", StringComparison.Ordinal) || body.StartsWith("~LST", StringComparison.Ordinal))
        {
            Generate(body, location, depth);
            return;
        }

        var expanded = Expand(body, location, out var multiline);
        if (expanded is null)
            return;
        if (multiline)
        {
            foreach (var line in expanded.Split('\n'))
            {
                ProcessLine(line, location, depth + 1);
                if (_stopped)
                    return;
            }
            return;
        }
        if (!ReferenceEquals(expanded, body) && expanded != body && (expanded.StartsWith('@') || expanded.StartsWith('$') || expanded.StartsWith('~')))
        {
            ProcessLine(expanded, location, depth + 1);
            return;
        }
        // As keepalived, an include is recognised on the finished line: after @ID, macros and generators.
        var first = FirstWord(expanded);
        if (first.StartsWith("include") && Array.IndexOf(IncludeKeywords, first.ToString()) is >= 0 and var k)
        {
            var keyword = IncludeKeywords[k];
            Include(keyword, expanded[keyword.Length..].Trim(), location);
            return;
        }
        Emit(expanded, location);
    }

    private void Emit(string text, SourceLocation location) => Emit(text, 0, text.Length, location);

    /// <summary>Emits <c>source[start..start+length]</c> as one logical line.</summary>
    private void Emit(string source, int start, int length, SourceLocation location)
    {
        if (_stopped)
            return;
        if (_lines.Count >= _options.MaxLines)
        {
            Stop(location, $"configuration expands to more than {_options.MaxLines} lines; stopped reading");
            return;
        }
        if (_charsEmitted + length > _options.MaxExpandedChars)
        {
            Stop(location, $"configuration expands to more than {_options.MaxExpandedChars} characters; stopped reading");
            return;
        }
        _charsEmitted += length;
        _lines.Add(new LogicalLine(source, start, length, location));
    }

    /// <summary>Sets a macro; the characters all macros hold together are bounded like the expanded text (a generator can define millions).</summary>
    private void Define(string name, string value, SourceLocation location)
    {
        if (_stopped)
            return;
        var old = _definitions.TryGetValue(name, out var previous) ? name.Length + previous.Length : 0;
        var total = _definitionChars - old + name.Length + value.Length;
        if (total > _options.MaxExpandedChars)
        {
            Stop(location, $"macro definitions hold more than {_options.MaxExpandedChars} characters; stopped reading");
            return;
        }
        _definitionChars = total;
        _definitions[name] = value;
    }

    /// <summary>Counts one unit of work against the load's step and time bounds; false once the load has been stopped.</summary>
    private bool Step(SourceLocation location)
    {
        if (_stopped)
            return false;
        if (++_steps > _options.MaxSteps)
            return Stop(location, $"configuration needs more than {_options.MaxSteps} preprocessing steps (nested ~SEQ/~LST generators or macros that multiply); stopped reading");
        if (_options.Time.GetElapsedTime(_started) > _options.MaxDuration)
            return Stop(location, $"reading the configuration took longer than {_options.MaxDuration.TotalSeconds:0} s; stopped reading");
        return true;
    }

    /// <summary>Ends the load: one Fatal diagnostic at the line responsible, and every loop unwinds.</summary>
    private bool Stop(SourceLocation location, string message)
    {
        if (!_stopped)
            _diagnostics.Fatal(location, message);
        _stopped = true;
        return false;
    }

    /// <summary>
    /// Replaces <c>$NAME</c> (followed by whitespace or the end) and <c>${NAME}</c> with their values, recursively, at use time.
    /// A multi-line value stops the scan: the caller splits the result and processes each line in turn, so definitions inside it
    /// take effect in order, as keepalived does.
    /// </summary>
    private string? Expand(string text, SourceLocation location, out bool multiline)
    {
        multiline = false;
        var replacements = 0;
        var i = text.IndexOf('$', StringComparison.Ordinal);
        while (i >= 0 && i < text.Length)
        {
            string? value = null;
            var end = i;
            if (i + 1 < text.Length && text[i + 1] == '{')
            {
                var close = text.IndexOf('}', i + 2);
                if (close > 0)
                {
                    var inner = text[(i + 2)..close].Trim();
                    value = Lookup(inner, location);
                    end = close + 1;
                }
            }
            else
            {
                var j = i + 1;
                while (j < text.Length && (char.IsAsciiLetterOrDigit(text[j]) || text[j] == '_'))
                    j++;
                if (j > i + 1 && !char.IsAsciiDigit(text[i + 1]) && (j == text.Length || char.IsWhiteSpace(text[j])))
                {
                    value = Lookup(text[(i + 1)..j], location);
                    end = j;
                }
            }

            if (value is null)
            {
                i = text.IndexOf('$', i + 1);
                continue;
            }

            if (++replacements > _options.MaxReplacementsPerLine)
            {
                _diagnostics.Error(location, $"macro expansion does not terminate (more than {_options.MaxReplacementsPerLine} substitutions); line ignored");
                return null;
            }
            if (value.Contains('\n', StringComparison.Ordinal))
            {
                multiline = true;
                return string.Concat(text.AsSpan(0, i), value, text.AsSpan(end));
            }
            text = string.Concat(text.AsSpan(0, i), value, text.AsSpan(end));
            if (text.Length > _options.MaxExpandedLineLength)
            {
                _diagnostics.Error(location, $"macro expansion grows the line past {_options.MaxExpandedLineLength} characters (does it refer to itself?); line ignored");
                return null;
            }
            // Rescan from the start of the replacement: replacement is recursive.
        }
        return text;
    }

    private string? Lookup(string reference, SourceLocation location)
    {
        var parts = reference.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
            return null;
        var name = parts[0];
        if (_definitions.TryGetValue(name, out var value))
            return value;
        switch (name)
        {
            case "_PWD":
                return _directory;
            case "_INSTANCE":
                return _options.ConfigId;
            case "_HASH":
                return "#";
            case "_BANG":
                return "!";
            case "_RANDOM":
                {
                    long min = 0, max = 32767;
                    if (parts.Length > 1 && !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out min))
                    {
                        _diagnostics.Error(location, $"${{_RANDOM}} minimum '{parts[1]}' is not a non-negative integer");
                        return null;
                    }
                    if (parts.Length > 2 && !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out max))
                    {
                        _diagnostics.Error(location, $"${{_RANDOM}} maximum '{parts[2]}' is not a non-negative integer");
                        return null;
                    }
                    if (max < min)
                        (min, max) = (max, min);
                    return _random.NextInt64(min, max + 1).ToString(CultureInfo.InvariantCulture);
                }
            default:
                return null;
        }
    }

    // ~SEQ(var, [start,] [step,] end) rest  |  ~SEQx(...) rest  |  ~LST(var, v1, v2, ...) rest  |  ~LST({a,b}, {1,2}, {3,4}) rest
    private void Generate(string text, SourceLocation location, int depth)
    {
        var hex = text.StartsWith("~SEQx", StringComparison.Ordinal);
        var isList = text.StartsWith("~LST", StringComparison.Ordinal);
        var open = text.IndexOf('(', StringComparison.Ordinal);
        var close = open < 0 ? -1 : FindClose(text, open);
        if (open < 0 || close < 0)
        {
            _diagnostics.Error(location, $"malformed generator '{Truncate(text)}': expected {(isList ? "~LST(var, value, ...)" : "~SEQ(var, start, step, end)")}");
            return;
        }
        var rest = text[(close + 1)..].Trim();
        var args = SplitTopLevel(text[(open + 1)..close]);
        if (rest.Length == 0)
        {
            _diagnostics.Warning(location, "generator with nothing after it produces no lines");
            return;
        }

        // Expand macros in the arguments so ~SEQ(i, 1, $N) works.
        for (var k = 0; k < args.Count; k++)
            args[k] = Expand(args[k], location, out _) ?? args[k];

        if (isList)
        {
            if (args.Count < 2)
            {
                _diagnostics.Error(location, "~LST needs a variable and at least one value");
                return;
            }
            var names = Unbrace(args[0]);
            foreach (var valueGroup in args.Skip(1))
            {
                var values = Unbrace(valueGroup);
                if (values.Count != names.Count)
                {
                    _diagnostics.Error(location, $"~LST value {{{string.Join(',', values)}}} has {values.Count} values for {names.Count} variables");
                    return;
                }
                for (var k = 0; k < names.Count; k++)
                    Define(names[k], values[k], location);
                ProcessLine(rest, location, depth + 1);
                if (_stopped)
                    return;
            }
            return;
        }

        if (args.Count is < 2 or > 4)
        {
            _diagnostics.Error(location, $"~SEQ needs 2 to 4 arguments (var, [start,] [step,] end), got {args.Count}");
            return;
        }
        var numbers = new long[args.Count - 1];
        for (var k = 1; k < args.Count; k++)
        {
            if (!TryParseInteger(args[k], out numbers[k - 1]))
            {
                _diagnostics.Error(location, $"~SEQ argument '{args[k]}' is not an integer in [{long.MinValue}, {long.MaxValue}]");
                return;
            }
        }
        long endValue = numbers[^1];
        long startValue = numbers.Length >= 2 ? numbers[0] : (endValue >= 0 ? 1 : -1);
        long step = numbers.Length == 3 ? numbers[1] : (endValue >= startValue ? 1 : -1);
        if (step == 0)
        {
            _diagnostics.Error(location, "~SEQ step of 0 would never end");
            return;
        }
        if (hex && (startValue < 0 || endValue < 0))
        {
            _diagnostics.Error(location, $"~SEQx is only valid for positive numbers '{Truncate(text)}'");
            return;
        }
        // Counted in 128 bits so no range, however close to the 64-bit limits, wraps.
        var count = (step > 0 ? startValue <= endValue : startValue >= endValue)
            ? ((Int128)endValue - startValue) / step + 1
            : Int128.Zero;
        if (count > _options.MaxLines)
        {
            Stop(location, $"~SEQ produces {count} values, more than the {_options.MaxLines} lines a configuration may expand to; stopped reading");
            return;
        }
        var variable = args[0].Trim();
        var v = startValue;
        for (var n = Int128.Zero; n < count; n++)
        {
            Define(variable, hex ? v.ToString("x", CultureInfo.InvariantCulture) : v.ToString(CultureInfo.InvariantCulture), location);
            ProcessLine(rest, location, depth + 1);
            if (_stopped)
                return;
            if (n + 1 < count)
                v += step;
        }
        // keepalived 2.2.7 steps on past the last value; when that step leaves the 64-bit range it wraps around and never ends.
        if (count > 0 && ((Int128)v + step > long.MaxValue || (Int128)v + step < long.MinValue))
            _diagnostics.Warning(location, $"~SEQ ends at {v}, next to the 64-bit limit: keepalived 2.2.7 would wrap around there and never stop");
    }

    /// <summary>Decimal or <c>0x</c> hex, optionally negative; false for anything outside the 64-bit signed range.</summary>
    private static bool TryParseInteger(string s, out long value)
    {
        value = 0;
        s = s.Trim();
        var negative = s.StartsWith('-');
        if (negative)
            s = s[1..];
        var ok = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(s[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var magnitude)
            : ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out magnitude);
        if (!ok || magnitude > (negative ? (ulong)long.MaxValue + 1 : long.MaxValue))
            return false;
        value = negative ? (long)(0 - magnitude) : (long)magnitude;
        return true;
    }

    private static int FindClose(string text, int open)
    {
        var depth = 0;
        for (var i = open; i < text.Length; i++)
        {
            if (text[i] is '(' or '{')
                depth++;
            else if (text[i] is ')' or '}')
            {
                depth--;
                if (depth == 0)
                    return text[i] == ')' ? i : -1;
            }
        }
        return -1;
    }

    private static List<string> SplitTopLevel(string s)
    {
        var result = new List<string>();
        var depth = 0;
        var start = 0;
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '{')
                depth++;
            else if (s[i] == '}')
                depth--;
            else if (s[i] == ',' && depth == 0)
            {
                result.Add(s[start..i].Trim());
                start = i + 1;
            }
        }
        result.Add(s[start..].Trim());
        return result;
    }

    private static List<string> Unbrace(string s)
    {
        s = s.Trim();
        if (s.StartsWith('{') && s.EndsWith('}'))
            return s[1..^1].Split(',').Select(x => x.Trim()).ToList();
        return new List<string> { s };
    }

    private static string Truncate(string s) => s.Length > 60 ? s[..60] + "…" : s;

    /// <summary>What starts an extension line: a comment to keepalived, a statement to Lb (<c>#lb: slow_start 30</c>).</summary>
    public const string ExtensionLinePrefix = "#lb:";

    /// <summary>The keyword prefix an extension statement gets in the tree (<c>lb:slow_start</c>).</summary>
    public const string ExtensionKeywordPrefix = "lb:";

    /// <summary>
    /// Lb's extension statements: a line <c>#lb: KEYWORD ARGS</c> is a comment to keepalived and the statement
    /// <c>lb:KEYWORD ARGS</c> to Lb, at that place in the file (so <c>keepalived -t</c> and keepalived itself still read the
    /// file). Null when <paramref name="line"/> is not one; empty when it is one with nothing to read (or refused: one
    /// statement per line, without braces, so the blocks keepalived sees stay as they are).
    /// </summary>
    private string? ExtensionStatement(ReadOnlySpan<char> line, SourceLocation location)
    {
        var text = line.TrimStart();
        if (!text.StartsWith(ExtensionLinePrefix, StringComparison.Ordinal))
            return null;
        text = text[ExtensionLinePrefix.Length..];
        var statement = text[..StripComment(text, location)].Trim();
        if (statement.Length == 0)
            return string.Empty;
        if (statement.ContainsAny('{', '}'))
        {
            _diagnostics.Error(location, $"'{ExtensionLinePrefix}' lines hold one statement without braces (keepalived reads them as comments, so a block opened there would not be one); line ignored");
            return string.Empty;
        }
        return ExtensionKeywordPrefix + statement.ToString();
    }

    /// <summary>The length of <paramref name="line"/> without a <c>#</c> or <c>!</c> comment that is outside quotes. Reports an unterminated quote.</summary>
    private int StripComment(ReadOnlySpan<char> line, SourceLocation location)
    {
        char quote = '\0';
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote != '\0')
            {
                if (c == '\\' && i + 1 < line.Length)
                    i++;
                else if (c == quote)
                    quote = '\0';
            }
            else if (c is '"' or '\'')
                quote = c;
            else if (c is '#' or '!')
                return i;
        }
        if (quote != '\0')
            _diagnostics.Error(location, $"Unterminated quote {quote}{Truncate(line[(line.LastIndexOf(quote) + 1)..].ToString())}");
        return line.Length;
    }

    private void SetIncludeChecks(string args, SourceLocation location)
    {
        if (args.Length == 0)
        {
            _checks = IncludeChecks.All;
            return;
        }
        foreach (var word in args.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            var add = !word.StartsWith('-');
            var name = word.TrimStart('+', '-');
            var flag = name switch
            {
                "readable" => IncludeChecks.Readable,
                "match" => IncludeChecks.Match,
                "wildcard_match" => IncludeChecks.WildcardMatch,
                "brace_match" => IncludeChecks.BraceMatch,
                _ => IncludeChecks.None,
            };
            if (flag == IncludeChecks.None)
            {
                _diagnostics.Error(location, $"Unknown include_check option '{word}'");
                continue;
            }
            // match, wildcard_match and brace_match include the readable check.
            if (add && flag != IncludeChecks.Readable)
                flag |= IncludeChecks.Readable;
            _checks = add ? _checks | flag : _checks & ~flag;
        }
    }

    private void Include(string keyword, string argument, SourceLocation location)
    {
        var checks = _checks | keyword switch
        {
            "includer" => IncludeChecks.Readable,
            "includem" => IncludeChecks.Match | IncludeChecks.Readable,
            "includew" => IncludeChecks.WildcardMatch | IncludeChecks.Readable,
            "includeb" => IncludeChecks.BraceMatch | IncludeChecks.Readable,
            "includea" => IncludeChecks.All,
            _ => IncludeChecks.None,
        };
        var pattern = Unquote(argument);
        if (pattern.Length == 0)
        {
            _diagnostics.Error(location, $"'{keyword}' without a file name");
            return;
        }

        if (_stopped || !Step(location))
            return;

        var expansion = Glob.ExpandBraces(pattern, _options.MaxFiles);
        if (expansion.Error is not null)
        {
            _diagnostics.Fatal(location, $"include '{Truncate(pattern)}': {expansion.Error}; not read");
            return;
        }
        var anyBrace = Glob.HasBrace(pattern);
        foreach (var alternative in expansion.Alternatives)
        {
            if (_stopped)
                return;
            if (Glob.FindProblem(alternative) is { } problem)
                _diagnostics.Warning(location, $"include pattern '{Truncate(alternative)}': {problem}, so it matches nothing");
            var wildcard = Glob.HasWildcard(alternative);
            var found = Glob.Match(alternative, _directory, _options.MaxFiles);
            if (found.Truncated)
            {
                _diagnostics.Fatal(location, $"include '{Truncate(alternative)}' matches more than {_options.MaxFiles} files; not read");
                return;
            }
            if (found.Paths.Count == 0)
            {
                var strict = wildcard ? checks.HasFlag(IncludeChecks.WildcardMatch)
                    : anyBrace ? checks.HasFlag(IncludeChecks.BraceMatch) || checks.HasFlag(IncludeChecks.Match)
                    : checks.HasFlag(IncludeChecks.Match);
                _diagnostics.Add(strict ? Severity.Fatal : Severity.Warning, location, $"Config files missing '{alternative}'.");
                continue;
            }
            foreach (var match in found.Paths)
            {
                if (Directory.Exists(match))
                {
                    _diagnostics.Add(checks.HasFlag(IncludeChecks.Readable) ? Severity.Fatal : Severity.Warning, location, $"Included '{match}' is a directory, not a file");
                    continue;
                }
                ReadFile(match, Path.IsPathRooted(alternative) ? match : Path.GetRelativePath(_directory, match), location, checks);
            }
        }
    }

    private static string Unquote(string s)
    {
        s = s.Trim();
        if (s.Length >= 2 && (s[0] == '"' || s[0] == '\'') && s[^1] == s[0])
            return s[1..^1];
        return s;
    }
}
