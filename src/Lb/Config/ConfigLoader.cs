using System.Collections.Immutable;
using Lb.Config.Schema;

namespace Lb.Config;

/// <summary>The result of reading a keepalived.conf: the effective tree, every diagnostic, and the files read.</summary>
public sealed record LoadedConfig(
    ImmutableArray<ConfigNode> Nodes,
    ImmutableArray<Diagnostic> Diagnostics,
    ImmutableArray<string> Files)
{
    public bool HasErrors => Diagnostics.Any(d => d.Severity >= Severity.Error);

    public bool HasFatal => Diagnostics.Any(d => d.Severity == Severity.Fatal);

    /// <summary>
    /// <c>lb -t</c>'s exit status, as keepalived 2.2.7's: 0 clean, 5 errors it would still run with, 4 cannot run,
    /// 6 scripts configured without <c>enable_script_security</c>.
    /// </summary>
    public int ExitCode => HasFatal ? 4
        : Diagnostics.Any(d => d.Severity == Severity.Security) ? 6
        : Diagnostics.Any(d => d.Severity == Severity.Error) ? 5
        : 0;

    public IEnumerable<ConfigNode> All(string keyword) => Nodes.Where(n => n.Keyword == keyword);
}

public sealed record ConfigLoadOptions
{
    public PreprocessorOptions Preprocessor { get; init; } = new();

    public KeywordSchema Schema { get; init; } = KeywordSchema.Default;

    /// <summary>Check that interfaces named in the configuration exist on this host, as keepalived -t does.</summary>
    public bool CheckInterfaces { get; init; }

    /// <summary>The interface names <see cref="CheckInterfaces"/> checks against; null means this host's interfaces (checking a
    /// configuration meant for another machine, or a golden test that must not depend on the machine it runs on).</summary>
    public IReadOnlySet<string>? Interfaces { get; init; }
}

/// <summary>Reads keepalived.conf: preprocess → statement tree → schema validation and defaults → semantic checks.</summary>
public static class ConfigLoader
{
    public static LoadedConfig Load(string path, ConfigLoadOptions? options = null)
    {
        options ??= new ConfigLoadOptions();
        var diagnostics = new DiagnosticBag();
        var pre = new Preprocessor(options.Preprocessor, diagnostics);
        var lines = pre.Read(path);
        return Finish(lines, pre.Files, diagnostics, options);
    }

    public static LoadedConfig LoadText(string text, string displayName = "keepalived.conf", ConfigLoadOptions? options = null, string? directory = null)
    {
        options ??= new ConfigLoadOptions();
        var diagnostics = new DiagnosticBag();
        var pre = new Preprocessor(options.Preprocessor, diagnostics);
        var lines = pre.RunText(text, displayName, directory);
        return Finish(lines, pre.Files, diagnostics, options);
    }

    private static LoadedConfig Finish(IReadOnlyList<LogicalLine> lines, IReadOnlyList<string> files, DiagnosticBag diagnostics, ConfigLoadOptions options)
    {
        var tree = new ConfigTreeParser(diagnostics).Parse(lines);
        var effective = new SchemaValidator(options.Schema, diagnostics).Validate(tree);
        effective = SemanticChecks.Run(effective, diagnostics, options);
        effective = AdvertIntervalChecks.Run(effective, diagnostics);
        var fileOrder = files.Select((f, i) => (f, i)).GroupBy(x => x.f, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().i, StringComparer.Ordinal);
        var all = diagnostics.ToImmutable()
            .Select((d, i) => (d, i))
            .OrderBy(x => x.d.Location.IsKnown ? 0 : 1)
            .ThenBy(x => fileOrder.TryGetValue(x.d.Location.File, out var f) ? f : int.MaxValue)
            .ThenBy(x => x.d.Location.Line)
            .ThenBy(x => x.i)
            .Select(x => x.d)
            .ToImmutableArray();
        return new LoadedConfig(effective, all, files.ToImmutableArray());
    }
}
