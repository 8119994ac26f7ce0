using System.Text.RegularExpressions;
using Xunit;

namespace Lb.Scripts.Tests;

/// <summary>
/// The rules of tests/README.md, checked over the test sources: a test that depends on its
/// environment goes through the TestSupport attributes ([RootFact], [KernelFact], …), which skip
/// with a reason outside CI and fail under CI=true. A static <c>Skip = "…"</c> on a test, or an early
/// <c>return</c> on a <c>Prerequisites</c> check, would pass silently wherever it is true.
/// </summary>
public class TestRulesTests
{
    private static readonly Regex StaticSkip = new(@"\[\s*(?:\w+\.)*\w*(?:Fact|Theory|Data)(?:Attribute)?\s*\([^\]]*\bSkip\s*=", RegexOptions.Compiled);
    private static readonly Regex EarlyReturn = new(@"if\s*\(\s*!?\s*(?:[\w.]+\.)?Prerequisites\.\w+[^\n]*\)\s*(?://[^\n]*\n)?\s*(?:\{\s*)?return\b", RegexOptions.Compiled);

    [Fact]
    public void The_scan_sees_the_test_sources_and_recognises_both_patterns()
    {
        Assert.True(Sources().Count >= 50, $"only {Sources().Count} test sources under {TestsDirectory()}");
        Assert.Matches(StaticSkip, "[Fact(Skip = \"flaky\")]");
        Assert.Matches(StaticSkip, "[RootTheory(\"ip\", Skip=\"later\")]");
        Assert.DoesNotMatch(StaticSkip, "[RootFact(\"ip\")]");
        Assert.Matches(StaticSkip, "[InlineData(1, Skip = \"later\")]");
        Assert.Matches(EarlyReturn, "if (Prerequisites.HasIpvs)\n            return; // covered elsewhere");
        Assert.Matches(EarlyReturn, "if (!Prerequisites.IsRoot)\n    return;");
        Assert.Matches(EarlyReturn, "if (!Lb.TestSupport.Prerequisites.IsRoot) return;");
        Assert.Matches(EarlyReturn, "if (!Prerequisites.HasCommand(\"ip\"))\n{\n    return;");
        Assert.DoesNotMatch(EarlyReturn, "Prerequisites.Require(Prerequisites.IsRoot, \"needs root\");");
    }

    [Fact]
    public void No_test_skips_itself_statically_or_returns_early_on_its_environment()
    {
        var offences = new List<string>();
        foreach (var file in Sources())
        {
            var text = File.ReadAllText(file).ReplaceLineEndings("\n");
            foreach (var (rule, what) in new[] { (StaticSkip, "a static Skip (use the TestSupport attributes)"), (EarlyReturn, "an early return on a Prerequisites check (use the TestSupport attributes)") })
            {
                foreach (Match m in rule.Matches(text))
                {
                    var line = text.AsSpan(0, m.Index).Count('\n') + 1;
                    offences.Add($"{Path.GetRelativePath(TestsDirectory(), file)}:{line}: {what}");
                }
            }
        }
        Assert.True(offences.Count == 0, string.Join("\n", offences));
    }

    private static List<string> Sources() => Directory
        .EnumerateFiles(TestsDirectory(), "*.cs", SearchOption.AllDirectories)
        .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
            && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
            && !f.Contains($"{Path.DirectorySeparatorChar}TestSupport{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
            && Path.GetFileName(f) != "TestRulesTests.cs")
        .ToList();

    /// <summary>tests/ of the source tree this file was compiled from (also right for --artifacts-path builds).</summary>
    private static string TestsDirectory([System.Runtime.CompilerServices.CallerFilePath] string self = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(self)!, ".."));
}
