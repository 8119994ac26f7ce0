using Lb.Config;
using Xunit;

namespace Lb.Lb.Tests.Config;

public sealed class TreeParserTests
{
    private static (List<ConfigNode> Nodes, List<Diagnostic> Diagnostics) Parse(string text)
    {
        var bag = new DiagnosticBag();
        var lines = new Preprocessor(new PreprocessorOptions { ConfigId = "x" }, bag).RunText(text, "t.conf");
        var nodes = new ConfigTreeParser(bag).Parse(lines).ToList();
        return (nodes, bag.ToImmutable().ToList());
    }

    [Fact]
    public void Braces_on_the_same_line_or_the_next()
    {
        var (nodes, diags) = Parse("vrrp_instance VI_1\n{\n  state MASTER\n  virtual_ipaddress {\n    10.0.0.1/24 dev eth0\n  }\n}\n");
        Assert.Empty(diags);
        var vi = Assert.Single(nodes);
        Assert.Equal("vrrp_instance", vi.Keyword);
        Assert.Equal(new[] { "VI_1" }, vi.Args);
        Assert.True(vi.IsBlock);
        Assert.Equal(new[] { "state", "virtual_ipaddress" }, vi.Children.Select(c => c.Keyword));
        var vip = vi.Children[1].Children.Single();
        Assert.Equal("10.0.0.1/24", vip.Keyword);
        Assert.Equal(new[] { "dev", "eth0" }, vip.Args);
        Assert.Equal(5, vip.Location.Line);
    }

    [Fact]
    public void Whole_block_on_one_line()
    {
        var (nodes, diags) = Parse("authentication { auth_type PASS } \nvirtual_ipaddress { 10.0.0.1/24}\nnext 1\n");
        Assert.Empty(diags);
        Assert.Equal(new[] { "authentication", "virtual_ipaddress", "next" }, nodes.Select(n => n.Keyword));
        Assert.Equal("auth_type", nodes[0].Children.Single().Keyword);
        Assert.Equal("10.0.0.1/24", nodes[1].Children.Single().Keyword);
    }

    [Fact]
    public void Quoted_strings_keep_whitespace_and_unescape()
    {
        var (nodes, _) = Parse("script \"/bin/check --name 'a b'\" 'x y' abc\"d e\"f \"tab\\there\\x41\\101\"\n");
        Assert.Equal(new[] { "/bin/check --name 'a b'", "x y", "abcd ef", "tab\there" + "AA" }, nodes[0].Args);
    }

    [Fact]
    public void Unbalanced_braces_are_reported_with_positions()
    {
        var (_, diags) = Parse("a {\n b 1\n}\n}\nc {\n d 2\n");
        Assert.Collection(diags,
            d => { Assert.Equal(4, d.Location.Line); Assert.Equal("Extra '}' found", d.Message); },
            d => { Assert.Equal(6, d.Location.Line); Assert.Equal("There are 1 missing '}'s or extra '{'s", d.Message); });
    }

    [Fact]
    public void Deep_nesting_is_bounded()
    {
        var text = string.Concat(Enumerable.Repeat("a {\n", 500));
        var (_, diags) = Parse(text);
        Assert.Contains(diags, d => d.Severity == Severity.Fatal && d.Message.Contains("nested deeper", StringComparison.Ordinal));
    }
}
