using System.Collections.Immutable;

namespace Lb.Config;

/// <summary>
/// A place in a configuration file and a 1-based line. <see cref="File"/> is the path as keepalived 2.2.7 prints it: the
/// main file as given to <c>-f</c>, an included file as its include pattern matched it (relative to the including file's
/// directory unless the pattern is absolute: <c>include sub/*.conf</c> gives <c>sub/a.conf</c>).
/// </summary>
public readonly record struct SourceLocation(string File, int Line)
{
    public static readonly SourceLocation None = new(string.Empty, 0);

    public bool IsKnown => Line > 0 && File.Length > 0;

    public override string ToString() => IsKnown ? $"{File}: Line {Line}" : File;
}

/// <summary>How bad a diagnostic is. Decides <c>lb -t</c>'s exit status the way keepalived 2.2.7 does.</summary>
public enum Severity
{
    /// <summary>Informational: the configuration is fine but the user should know (e.g. a keyword Lb does not implement yet).</summary>
    Warning,

    /// <summary>A configuration error keepalived would still run with (exit 5 under -t).</summary>
    Error,

    /// <summary>Scripts would run without <c>enable_script_security</c> (keepalived's SECURITY VIOLATION; exit 6 under -t).</summary>
    Security,

    /// <summary>The configuration cannot be run at all (exit 4 under -t).</summary>
    Fatal,
}

/// <summary>One message about the configuration, formatted as keepalived does: <c>(keepalived.conf: Line 42) message</c>.</summary>
public sealed record Diagnostic(Severity Severity, SourceLocation Location, string Message)
{
    public override string ToString() => Location.IsKnown
        ? $"({Location}) {Message}"
        : Location.File.Length > 0 ? $"({Location.File}) {Message}" : Message;
}

/// <summary>Collects every diagnostic of a run instead of stopping at the first one. Bounded so a hostile file cannot exhaust memory.</summary>
public sealed class DiagnosticBag
{
    public const int Limit = 10_000;
    private readonly List<Diagnostic> _items = new();
    private int _dropped;

    public void Add(Severity severity, SourceLocation location, string message)
    {
        if (_items.Count >= Limit)
        {
            _dropped++;
            if (severity == Severity.Fatal)
                _items[^1] = new Diagnostic(severity, location, message);
            return;
        }
        _items.Add(new Diagnostic(severity, location, message));
    }

    public void Warning(SourceLocation location, string message) => Add(Severity.Warning, location, message);

    public void Error(SourceLocation location, string message) => Add(Severity.Error, location, message);

    public void Fatal(SourceLocation location, string message) => Add(Severity.Fatal, location, message);

    public int Count => _items.Count;

    public bool HasErrors => _items.Any(d => d.Severity >= Severity.Error);

    public bool HasFatal => _items.Any(d => d.Severity == Severity.Fatal);

    public bool Any(Func<Diagnostic, bool> predicate) => _items.Any(predicate);

    public ImmutableArray<Diagnostic> ToImmutable()
    {
        if (_dropped == 0)
            return _items.ToImmutableArray();
        var b = _items.ToImmutableArray().ToBuilder();
        b.Add(new Diagnostic(Severity.Warning, SourceLocation.None, $"{_dropped} further diagnostics not shown"));
        return b.ToImmutable();
    }
}
