using Lb.Config;
using Xunit;

namespace Lb.Lb.Tests.Config;

public sealed class DumpTests
{
    /// <summary>A file of the repository: searched upwards from the test binaries, then from this source file.</summary>
    internal static string RepoFile(string relative, [System.Runtime.CompilerServices.CallerFilePath] string source = "")
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(source) ?? "/" })
        {
            var dir = new DirectoryInfo(start);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, relative)))
                dir = dir.Parent;
            if (dir is not null)
                return Path.Combine(dir.FullName, relative);
        }
        throw new FileNotFoundException(relative);
    }

    private static List<ConfigNode> Tree(string text)
    {
        var bag = new DiagnosticBag();
        var lines = new Preprocessor(new PreprocessorOptions { ConfigId = "x" }, bag).RunText(text, "t.conf");
        var nodes = new ConfigTreeParser(bag).Parse(lines).ToList();
        Assert.False(bag.HasErrors, string.Join("\n", bag.ToImmutable()));
        return nodes;
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("with space")]
    [InlineData("hash#inside")]
    [InlineData("bang!inside")]
    [InlineData("dollar $NAME and ${NAME}")]
    [InlineData("quote\" and 'single'")]
    [InlineData("back\\slash")]
    [InlineData("{")]
    [InlineData("}")]
    [InlineData("value}")]
    [InlineData("@looks_conditional")]
    [InlineData("~SEQ(a,1,2)")]
    [InlineData("")]
    [InlineData("tab\tnewline\n")]
    public void Quoted_words_read_back_unchanged(string word)
    {
        var text = ConfigDumper.ToText(new[]
        {
            new ConfigNode("block", System.Collections.Immutable.ImmutableArray.Create("x"), System.Collections.Immutable.ImmutableArray.Create(
                new ConfigNode("key", System.Collections.Immutable.ImmutableArray.Create(word, "tail"), null, SourceLocation.None)), SourceLocation.None),
        });
        var back = Tree(text).Single().Children.Single();
        Assert.Equal(new[] { word, "tail" }, back.Args);
    }

    [Fact]
    public void Effective_configuration_of_the_example_round_trips()
    {
        var first = ConfigLoader.Load(RepoFile("keepalived.conf.example"), new ConfigLoadOptions { Preprocessor = new PreprocessorOptions { ConfigId = "director1" } });
        Assert.Equal(0, first.ExitCode);
        var text = ConfigDumper.ToText(first.Nodes, showSecrets: true);
        var second = ConfigLoader.LoadText(text, "dump.conf", new ConfigLoadOptions { Preprocessor = new PreprocessorOptions { ConfigId = "director1" } });
        Assert.Equal(0, second.ExitCode);
        Assert.Null(FirstDifference(first.Nodes, second.Nodes, "/"));
        // Defaults are explicit in the dump: dumping again gives the same text.
        Assert.Equal(text, ConfigDumper.ToText(second.Nodes, showSecrets: true));
    }

    private const string WithSecret = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n authentication {\n  auth_type PASS\n  auth_pass s3cr3t\n }\n virtual_ipaddress {\n  10.1.1.1/32\n }\n}\n";

    [Fact]
    public void Dump_masks_auth_pass_unless_secrets_are_asked_for()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("lb-dump-").FullName, "s.conf");
        File.WriteAllText(path, WithSecret);
        foreach (var json in new[] { false, true })
        {
            string[] args = json ? ["-d", "--json", "-f", path] : ["-d", "-f", path];
            var (code, masked) = Run(args);
            Assert.NotEqual(4, code); // -d prints the effective configuration of any file that can be run
            Assert.DoesNotContain("s3cr3t", masked, StringComparison.Ordinal);
            Assert.Contains(json ? "\"********\"" : "auth_pass ********\n", masked, StringComparison.Ordinal);
            var (shownCode, shown) = Run([.. args, "--show-secrets"]);
            Assert.Equal(code, shownCode);
            Assert.Contains(json ? "\"s3cr3t\"" : "auth_pass s3cr3t\n", shown, StringComparison.Ordinal);
            Assert.DoesNotContain("********", shown, StringComparison.Ordinal);
        }
        Assert.Contains("--show-secrets", CliOptions.HelpText, StringComparison.Ordinal);
    }

    private static (int Code, string Stdout) Run(string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = Cli.Run(args, stdout, stderr);
        return (code, stdout.ToString());
    }

    private static string? FirstDifference(IReadOnlyList<ConfigNode> a, IReadOnlyList<ConfigNode> b, string path)
    {
        for (var i = 0; i < Math.Max(a.Count, b.Count); i++)
        {
            if (i >= a.Count || i >= b.Count)
                return $"{path}: {a.Count} vs {b.Count} statements";
            var (x, y) = (a[i], b[i]);
            var here = $"{path}{x}";
            if (x.Keyword != y.Keyword || !x.Args.SequenceEqual(y.Args) || x.IsBlock != y.IsBlock)
                return $"{here} (block {x.IsBlock}) vs {y} (block {y.IsBlock})";
            if (FirstDifference(x.Children, y.Children, here + "/") is string d)
                return d;
        }
        return null;
    }

    [Fact]
    public void Dump_has_defaults_filled_in_and_macros_expanded()
    {
        var config = ConfigLoader.LoadText("$VRID=42\nvrrp_instance VI_1 {\n interface lo\n virtual_router_id $VRID\n virtual_ipaddress {\n  10.1.1.1/32\n }\n}\n", "m.conf");
        var vi = config.Nodes.Single(n => n.Keyword == "vrrp_instance");
        Assert.Equal("42", vi.Last("virtual_router_id")!.Arg0);
        var priority = vi.Last("priority");
        Assert.NotNull(priority);
        Assert.Equal("100", priority.Arg0);
        Assert.False(priority.Location.IsKnown);
        Assert.Contains("\"default\": true", ConfigDumper.ToJson(config), StringComparison.Ordinal);
    }
}
