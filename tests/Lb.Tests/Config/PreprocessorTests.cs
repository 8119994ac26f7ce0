using Lb.Config;
using Xunit;

namespace Lb.Lb.Tests.Config;

public sealed class PreprocessorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lb-pre-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string relative, string text)
    {
        var path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private static (List<LogicalLine> Lines, List<Diagnostic> Diagnostics) Run(string path, string configId = "main", int? seed = null)
    {
        var bag = new DiagnosticBag();
        var pre = new Preprocessor(new PreprocessorOptions { ConfigId = configId, RandomSeed = seed }, bag);
        var lines = pre.Run(path).ToList();
        return (lines, bag.ToImmutable().ToList());
    }

    private static List<string> Texts(IEnumerable<LogicalLine> lines) => lines.Select(l => l.Text).ToList();

    [Fact]
    public void Comments_hash_and_bang_are_stripped_outside_quotes_only()
    {
        var p = Write("k.conf", "a 1 # comment\n! whole line\nb \"x # y\" ! c\n   \nc 'p!q'\n");
        var (lines, diags) = Run(p);
        Assert.Equal(new[] { "a 1", "b \"x # y\"", "c 'p!q'" }, Texts(lines));
        Assert.Equal(new[] { 1, 3, 5 }, lines.Select(l => l.Location.Line));
        Assert.Empty(diags);
    }

    [Fact]
    public void Conditional_lines_follow_the_config_id()
    {
        var p = Write("k.conf", "@main router_id main_router\n@backup router_id backup_router\n@^main peer 1\n@^backup peer 2\n");
        Assert.Equal(new[] { "router_id main_router", "peer 2" }, Texts(Run(p, "main").Lines));
        Assert.Equal(new[] { "router_id backup_router", "peer 1" }, Texts(Run(p, "backup").Lines));
        Assert.Equal(new[] { "peer 1", "peer 2" }, Texts(Run(p, "other").Lines));
    }

    [Fact]
    public void Definitions_expand_at_use_time_recursively()
    {
        // The example of keepalived.conf(5), "Parameter substitution".
        var p = Write("k.conf", "$ADDRESS_BASE=10.2.${ADDRESS_BASE_SUB}\n$ADDRESS_BASE_SUB=0\n${ADDRESS_BASE}.100/32\n$ADDRESS_BASE_SUB=10\n${ADDRESS_BASE}.100/32\n$P=240\npriority $P\nscript \"$UNDEFINED ${ALSO}\"\n");
        Assert.Equal(new[] { "10.2.0.100/32", "10.2.10.100/32", "priority 240", "script \"$UNDEFINED ${ALSO}\"" }, Texts(Run(p).Lines));
    }

    [Fact]
    public void Definition_combined_with_conditional()
    {
        var p = Write("k.conf", "@main $PRIORITY=240\n@backup $PRIORITY=200\npriority $PRIORITY\n$IF_MAIN=@main\n$IF_MAIN weight 7\n");
        Assert.Equal(new[] { "priority 240", "weight 7" }, Texts(Run(p, "main").Lines));
        Assert.Equal(new[] { "priority 200" }, Texts(Run(p, "backup").Lines));
    }

    [Fact]
    public void Multiline_definitions_expand_line_by_line_with_definitions_taking_effect_in_order()
    {
        var p = Write("k.conf", string.Join('\n',
            "$RS= \\",
            "real_server 192.168.${VS_NUM}.${RS_NUM} 80 { \\",
            "    weight 1 \\",
            "}",
            "$VS= \\",
            "virtual_server 10.0.${VS_NUM}.4 80 { \\",
            "    $RS_NUM=1 \\",
            "    $RS \\",
            "    $RS_NUM=2 \\",
            "    $RS \\",
            "}",
            "$VS_NUM=0",
            "$VS",
            ""));
        var (lines, diags) = Run(p);
        Assert.Empty(diags);
        Assert.Equal(new[]
        {
            "virtual_server 10.0.0.4 80 {",
            "real_server 192.168.0.1 80 {", "weight 1", "}",
            "real_server 192.168.0.2 80 {", "weight 1", "}",
            "}",
        }, Texts(lines));
        Assert.All(lines, l => Assert.Equal(13, l.Location.Line));
    }

    [Fact]
    public void Seq_and_seqx_and_lst_generate_lines()
    {
        var p = Write("k.conf", string.Join('\n',
            "~SEQ(SUBNET, 0, 3) ip_address 10.0.${SUBNET}.1",
            "~SEQx(S, 0x90, 0x10, 0xc0) fe80::20:${S}:1",
            "~LST({IP, IP1}, {10,1},{20,4}) 192.168.${IP}.${IP1}",
            "~LST(A, 1, 2) ~SEQ(B, 5, 6) x${A}.${B}",
            "~SEQ(D, 3) d$D",
            ""));
        var (lines, diags) = Run(p);
        Assert.Empty(diags);
        Assert.Equal(new[]
        {
            "ip_address 10.0.0.1", "ip_address 10.0.1.1", "ip_address 10.0.2.1", "ip_address 10.0.3.1",
            "fe80::20:90:1", "fe80::20:a0:1", "fe80::20:b0:1", "fe80::20:c0:1",
            "192.168.10.1", "192.168.20.4",
            "x1.5", "x1.6", "x2.5", "x2.6",
            "d1", "d2", "d3",
        }, Texts(lines));
    }

    [Fact]
    public void Predefined_definitions()
    {
        var p = Write("sub/k.conf", "a ${_PWD}\nb ${_INSTANCE}\nc x${_HASH}y${_BANG}z\nd ${_RANDOM 5 5}\ne ${_RANDOM 1 3}\n");
        var lines = Texts(Run(p, "node7", seed: 1).Lines);
        Assert.Equal($"a {Path.Combine(_dir, "sub")}", lines[0]);
        Assert.Equal("b node7", lines[1]);
        Assert.Equal("c x#y!z", lines[2]);
        Assert.Equal("d 5", lines[3]);
        Assert.Contains(lines[4], new[] { "e 1", "e 2", "e 3" });
    }

    [Fact]
    public void Includes_resolve_globs_and_braces_relative_to_the_including_file_in_sorted_order()
    {
        Write("conf.d/b.conf", "from_b\n");
        Write("conf.d/a.conf", "from_a\n");
        Write("conf.d/skip.txt", "never\n");
        Write("conf.d/x/one.conf", "from_one\ninclude ../../two.conf\n");
        Write("two.conf", "from_two\n");
        var p = Write("main.conf", "first\ninclude conf.d/*.conf\ninclude conf.d/{x/one,a}.conf\nlast\n");
        var (lines, diags) = Run(p);
        Assert.DoesNotContain(diags, d => d.Severity != Severity.Warning);
        Assert.Equal(new[] { "first", "from_a", "from_b", "from_one", "from_two", "from_a", "last" }, Texts(lines));
        Assert.Equal("one.conf", Path.GetFileName(lines[3].Location.File));
        Assert.Equal(1, lines[3].Location.Line);
    }

    [Fact]
    public void Missing_include_is_a_warning_for_include_and_fatal_for_strict_variants()
    {
        var p = Write("main.conf", "include none.conf\nincluder none*.conf\nincludem missing.conf\nincludea gone*.conf\n");
        var (_, diags) = Run(p);
        Assert.Collection(diags,
            d => { Assert.Equal(Severity.Warning, d.Severity); Assert.Equal(1, d.Location.Line); Assert.Contains("Config files missing 'none.conf'", d.Message, StringComparison.Ordinal); },
            d => { Assert.Equal(Severity.Warning, d.Severity); Assert.Equal(2, d.Location.Line); },
            d => { Assert.Equal(Severity.Fatal, d.Severity); Assert.Equal(3, d.Location.Line); },
            d => { Assert.Equal(Severity.Fatal, d.Severity); Assert.Equal(4, d.Location.Line); });
    }

    [Fact]
    public void Recursive_include_is_reported_and_not_followed()
    {
        Write("a.conf", "in_a\ninclude b.conf\n");
        Write("b.conf", "in_b\ninclude a.conf\n");
        var (lines, diags) = Run(Path.Combine(_dir, "a.conf"));
        Assert.Equal(new[] { "in_a", "in_b" }, Texts(lines));
        var d = Assert.Single(diags);
        Assert.Equal(Severity.Error, d.Severity);
        Assert.Equal("b.conf", Path.GetFileName(d.Location.File));
        Assert.Equal(2, d.Location.Line);
        Assert.Contains("Recursive include", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Self_referencing_macro_is_bounded()
    {
        var p = Write("k.conf", "$A=x $A\nvalue $A\nnext\n");
        var (lines, diags) = Run(p);
        Assert.Equal(new[] { "next" }, Texts(lines));
        var d = Assert.Single(diags);
        Assert.Equal(2, d.Location.Line);
        Assert.Contains("expansion", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Binary_file_is_fatal_with_a_clear_message()
    {
        var p = Path.Combine(_dir, "bin.conf");
        File.WriteAllBytes(p, new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F', 0, 1, 2 });
        var (lines, diags) = Run(p);
        Assert.Empty(lines);
        var d = Assert.Single(diags);
        Assert.Equal(Severity.Fatal, d.Severity);
        Assert.Contains("binary file (NUL byte at offset 4)", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Oversize_file_is_refused_without_reading_it()
    {
        var p = Path.Combine(_dir, "big.conf");
        using (var f = File.Create(p))
            f.SetLength(100L * 1024 * 1024);
        var (lines, diags) = Run(p);
        Assert.Empty(lines);
        Assert.Contains(diags, d => d.Severity == Severity.Fatal && d.Message.Contains("104857600 bytes", StringComparison.Ordinal));
    }

    [Fact]
    public void Generator_explosion_is_bounded()
    {
        var bag = new DiagnosticBag();
        var pre = new Preprocessor(new PreprocessorOptions { ConfigId = "x", MaxLines = 1000 }, bag);
        var lines = pre.RunText("~SEQ(A,1,100) ~SEQ(B,1,100) x$A.$B\n~SEQ(C,1,100000) y$C\n", "k.conf");
        Assert.Equal(1000, lines.Length);
        var d = Assert.Single(bag.ToImmutable(), d => d.Severity == Severity.Fatal);
        Assert.Equal("(k.conf: Line 1) configuration expands to more than 1000 lines; stopped reading", d.ToString());

        // A single generator larger than the bound is refused before it produces anything.
        bag = new DiagnosticBag();
        lines = new Preprocessor(new PreprocessorOptions { ConfigId = "x", MaxLines = 1000 }, bag).RunText("a\n~SEQ(C,1,100000) y$C\n", "k.conf");
        Assert.Equal(new[] { "a" }, Texts(lines));
        Assert.Equal("(k.conf: Line 2) ~SEQ produces 100000 values, more than the 1000 lines a configuration may expand to; stopped reading",
            Assert.Single(bag.ToImmutable()).ToString());
    }

    [Fact]
    public void Empty_file_is_a_warning()
    {
        var p = Write("empty.conf", "\n\n");
        var (lines, diags) = Run(p);
        Assert.Empty(lines);
        Assert.Equal(Severity.Warning, Assert.Single(diags).Severity);
    }

    [Fact]
    public void Missing_main_file_is_fatal()
    {
        var (_, diags) = Run(Path.Combine(_dir, "nope.conf"));
        Assert.Equal(Severity.Fatal, Assert.Single(diags).Severity);
    }
}
