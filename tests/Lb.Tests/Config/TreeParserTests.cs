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
    public void Braces_glued_to_words_or_to_each_other_are_braces_as_keepalived_splits_them()
    {
        // keepalived 2.2.7 (read_line) cuts a line before and after every '{' and '}' outside double quotes; verified with
        // keepalived -t: each form below is accepted (exit 0).
        var (nodes, diags) = Parse(
            "virtual_server 10.0.0.1 80{\n" +
            "  real_server 1.2.3.4 80 {weight 1}\n" +
            "  real_server 1.2.3.5 80 {\n" +
            "    TCP_CHECK{\n" +
            "      connect_timeout 3}}\n" +
            "  real_server 1.2.3.6 80 {\n" +
            "    TCP_CHECK {\n" +
            "      connect_timeout 4\n" +
            "  } }\n" +
            "  notify_up \"/bin/echo {up}\"\n" +
            "}\n" +
            "unicast_peer{\n  10.0.0.2}\n");
        Assert.Empty(diags);
        Assert.Equal(new[] { "virtual_server", "unicast_peer" }, nodes.Select(n => n.Keyword));
        var vs = nodes[0];
        Assert.Equal(new[] { "10.0.0.1", "80" }, vs.Args);
        Assert.Equal(new[] { "real_server", "real_server", "real_server", "notify_up" }, vs.Children.Select(c => c.Keyword));
        var weight = Assert.Single(vs.Children[0].Children);
        Assert.Equal("weight 1", $"{weight.Keyword} {string.Join(' ', weight.Args)}");
        Assert.Equal("3", vs.Children[1].Children.Single().Children.Single().Arg0);
        Assert.Equal("4", vs.Children[2].Children.Single().Children.Single().Arg0);
        Assert.Equal("/bin/echo {up}", vs.Children[3].Arg0);
        Assert.Equal("10.0.0.2", nodes[1].Children.Single().Keyword);
    }

    [Fact]
    public void A_brace_glued_to_a_word_still_counts_for_the_balance()
    {
        var (_, diags) = Parse("a {\n b 1}}\nc {\n d 2\n");
        Assert.Collection(diags,
            d => { Assert.Equal(2, d.Location.Line); Assert.Equal("Extra '}' found", d.Message); },
            d => { Assert.Equal(4, d.Location.Line); Assert.Equal("There are 1 missing '}'s or extra '{'s", d.Message); });
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

    [Fact]
    public void Lines_after_a_parse_stopped_by_nesting_are_still_checked_and_the_parsers_diagnostics_come_after_the_tokenizers()
    {
        // The parser tokenizes each line when it reaches it; what a parse that stops early never reaches is tokenized all
        // the same (line 71's quote), and the bag holds the diagnostics in the order of the former two-pass parser:
        // preprocessor, tokenizer (every line), parser.
        var text = string.Concat(Enumerable.Repeat("a {\n", 70)) + "b \"open\n";
        var (_, diags) = Parse(text);
        Assert.Collection(diags,
            d => { Assert.Equal(71, d.Location.Line); Assert.Equal("Unterminated quote \"open", d.Message); },
            d => { Assert.Equal(71, d.Location.Line); Assert.Equal("Unmatched quote: '\"open'", d.Message); },
            d => { Assert.Equal((Severity.Fatal, 65), (d.Severity, d.Location.Line)); Assert.Equal("blocks nested deeper than 64 levels", d.Message); },
            d => { Assert.Equal(71, d.Location.Line); Assert.Equal("There are 63 missing '}'s or extra '{'s", d.Message); });
    }

    [Fact]
    public void A_line_is_its_text_wherever_it_was_cut_from()
    {
        var bag = new DiagnosticBag();
        var lines = new Preprocessor(new PreprocessorOptions { ConfigId = "x" }, bag).RunText("  weight 1  # comment\r\n\tweight 1\n", "t.conf");
        Assert.Equal(new[] { "weight 1", "weight 1" }, lines.Select(l => l.Text));
        Assert.Equal(new LogicalLine("weight 1", new SourceLocation("t.conf", 1)), lines[0]);
        Assert.NotEqual(lines[0], lines[1]); // same text, another line
        Assert.Equal(new LogicalLine("weight 1", new SourceLocation("t.conf", 2)).GetHashCode(), lines[1].GetHashCode());
    }
}
