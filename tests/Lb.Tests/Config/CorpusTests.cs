using System.Text;
using Lb.Config;
using Xunit;

namespace Lb.Tests.Config;

/// <summary>
/// Golden tests: every <c>Corpus/**/*.conf</c> is loaded as <c>lb -t</c> does (interfaces checked, against a fixed list) and its exit code and
/// diagnostics compared with <c>name.expected</c> (exit code on the first line, then one diagnostic per line).
/// Set <c>LB_REGEN_GOLDEN=1</c> to rewrite the golden files (then review every diff by hand).
/// </summary>
public sealed class CorpusTests
{
    public static string CorpusDirectory { get; } = FindCorpus();

    public static IReadOnlyList<string> ConfigFiles() =>
        Directory.EnumerateFiles(CorpusDirectory, "*.conf", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(CorpusDirectory, f).Replace('\\', '/'))
            .OrderBy(f => f, StringComparer.Ordinal)
            .ToList();

    public static TheoryData<string> Configs()
    {
        var data = new TheoryData<string>();
        foreach (var file in ConfigFiles())
            data.Add(file);
        return data;
    }

    /// <summary>The interfaces the corpus is checked against (<c>Corpus/interfaces.txt</c>), so a golden does not change with the
    /// machine it runs on (no eth0, an eth1, a container's veth names); the oracle test gives keepalived a namespace with exactly these.</summary>
    internal static readonly IReadOnlySet<string> GoldenInterfaces = File.ReadLines(Path.Combine(CorpusDirectory, "interfaces.txt"))
        .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToHashSet(StringComparer.Ordinal);

    internal static LoadedConfig LoadForTest(string relative) =>
        ConfigLoader.Load(Path.Combine(CorpusDirectory, relative), new ConfigLoadOptions { CheckInterfaces = true, Interfaces = GoldenInterfaces });

    /// <summary>Exit code and diagnostics, with paths below the corpus directory made relative to it (a golden must not depend
    /// on where the checkout is: the main file is loaded by its absolute path, and positions print the path as given).</summary>
    internal static string Render(LoadedConfig loaded)
    {
        var sb = new StringBuilder();
        sb.Append(loaded.ExitCode).Append('\n');
        var root = CorpusDirectory.TrimEnd('/') + "/";
        foreach (var d in loaded.Diagnostics)
            sb.Append(d.ToString().Replace(root, string.Empty, StringComparison.Ordinal)).Append('\n');
        return sb.ToString();
    }

    [Fact]
    public void CorpusIsFound() => Assert.True(ConfigFiles().Count >= 30, $"corpus at {CorpusDirectory} is too small");

    [Theory]
    [MemberData(nameof(Configs))]
    public void MatchesGolden(string relative)
    {
        var actual = Render(LoadForTest(relative));
        var golden = Path.Combine(CorpusDirectory, Path.ChangeExtension(relative, ".expected"));
        if (Environment.GetEnvironmentVariable("LB_REGEN_GOLDEN") == "1")
        {
            File.WriteAllText(golden, actual);
            return;
        }
        Assert.True(File.Exists(golden), $"missing golden file {golden} (run with LB_REGEN_GOLDEN=1 and review it)");
        Assert.Equal(File.ReadAllText(golden).ReplaceLineEndings("\n"), actual);
    }

    private static string FindCorpus()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "Lb.Tests", "Config", "Corpus");
            if (Directory.Exists(candidate))
                return candidate;
        }
        // Builds with --artifacts-path put the binaries outside the source tree: fall back to where this file was compiled.
        var compiled = Path.Combine(Path.GetDirectoryName(SourceFile())!, "Corpus");
        if (Directory.Exists(compiled))
            return compiled;
        throw new DirectoryNotFoundException($"no tests/Lb.Tests/Config/Corpus above {AppContext.BaseDirectory} nor at {compiled}");
    }

    private static string SourceFile([System.Runtime.CompilerServices.CallerFilePath] string path = "") => path;
}
