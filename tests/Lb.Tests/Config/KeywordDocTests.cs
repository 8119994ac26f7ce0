using System.Collections.Frozen;
using System.Text;
using Lb.Config.Schema;
using Xunit;

namespace Lb.Lb.Tests.Config;

/// <summary>
/// What Lb implements and what it only warns about is written once, in the schema's marks; docs/keywords.md is
/// generated from them (set <c>LB_REGEN_GOLDEN=1</c> to rewrite it, then review the diff), and every keyword Lb does not
/// implement carries the reason its warning gives.
/// </summary>
public sealed class KeywordDocTests
{
    private static IEnumerable<(string Block, KeywordSpec Spec)> Walk(FrozenDictionary<string, KeywordSpec> specs, string block)
    {
        foreach (var spec in specs.Values.OrderBy(s => s.Line.Number))
        {
            if (spec.AliasOf is not null || spec.Name == "*")
                continue;
            yield return (block, spec);
            foreach (var inner in Walk(spec.Children, spec.Name))
                yield return inner;
        }
    }

    [Fact]
    public void Every_keyword_Lb_does_not_implement_says_why()
    {
        var silent = Walk(KeywordSchema.Default.Root, "top level")
            .Where(k => !k.Spec.Implemented && k.Spec.NoEffect is null)
            .Select(k => $"{k.Block}/{k.Spec.Name} (keywords.schema line {k.Spec.Line.Number})")
            .ToList();
        Assert.True(silent.Count == 0, "keywords warned without a reason (add @impl or @noeffect \"why\"):\n" + string.Join('\n', silent));
    }

    [Fact]
    public void Docs_keywords_md_is_generated_from_the_schema()
    {
        var path = Path.Combine(RepoRoot(), "docs", "keywords.md");
        var text = Generate();
        if (Environment.GetEnvironmentVariable("LB_REGEN_GOLDEN") == "1")
            File.WriteAllText(path, text);
        Assert.True(File.Exists(path), $"missing {path} (run with LB_REGEN_GOLDEN=1 and review it)");
        Assert.Equal(text, File.ReadAllText(path));
    }

    internal static string Generate()
    {
        var all = Walk(KeywordSchema.Default.Root, "top level").ToList();
        var warned = all.Where(k => !k.Spec.Implemented).ToList();
        var implemented = all.Where(k => k.Spec.Implemented).ToList();
        var sb = new StringBuilder();
        sb.Append("# keepalived.conf keywords in Lb\n\n");
        sb.Append("Generated from `src/Lb/Config/Schema/keywords.schema` by `KeywordDocTests` (tests/Lb.Tests/Config): do not edit;\n");
        sb.Append("change the schema's marks and run the test with `LB_REGEN_GOLDEN=1`. Every keyword of keepalived 2.2.7 (and the\n");
        sb.Append("newer ones Lb accepts) is either implemented — the mappers read it and a test names it (`KeywordCoverageTests`) —\n");
        sb.Append("or accepted with a warning that says why it has no effect, which `lb -t` prints and does not count as an error.\n\n");
        sb.Append($"{implemented.Count} keywords implemented, {warned.Count} accepted with a warning.\n\n");
        sb.Append("## Accepted with a warning\n\n| where | keyword | why it has no effect in Lb |\n|---|---|---|\n");
        foreach (var (block, spec) in warned)
            sb.Append($"| {block} | `{spec.Name}` | {(spec.NoEffect ?? "(no reason given)").Replace("|", "\\|", StringComparison.Ordinal)} |\n");
        sb.Append("\n## Implemented\n\n| where | keywords |\n|---|---|\n");
        foreach (var group in implemented.GroupBy(k => k.Block))
            sb.Append($"| {group.Key} | {string.Join(", ", group.Select(k => $"`{k.Spec.Name}`"))} |\n");
        return sb.ToString();
    }

    private static string RepoRoot([System.Runtime.CompilerServices.CallerFilePath] string self = "")
        => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(self)!, "..", "..", ".."));
}
