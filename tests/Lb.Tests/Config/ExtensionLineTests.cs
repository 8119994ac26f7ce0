using Lb.Config;
using Lb.TestSupport;
using Xunit;

namespace Lb.Tests.Config;

/// <summary>
/// Lb's extension statements, written as comment lines <c>#lb: KEYWORD ARGS</c> so that keepalived — which reads them
/// as comments — still accepts the file: Lb reads them as <c>lb:KEYWORD</c> statements in place, validates them against
/// the schema, refuses the uncommented form and braces, and warns about unknown ones.
/// </summary>
public sealed class ExtensionLineTests
{
    private const string WithGroup = "global_defs {\n  router_id r1\n  #lb: control_group lbops   # who may run lb rs/vrrp/reload\n}\n";

    [Fact]
    public void An_extension_line_becomes_a_statement_in_its_block_and_is_mapped()
    {
        var loaded = ConfigLoader.LoadText(WithGroup, "t.conf");
        Assert.Empty(loaded.Diagnostics);
        var global = loaded.Nodes.Single(n => n.Keyword == "global_defs");
        Assert.Equal(["router_id r1", "lb:control_group lbops"], global.Children.Take(2).Select(c => c.ToString()));
        Assert.Equal(3, global.Children[1].Location.Line);
        Assert.Equal("lbops", loaded.Options.Control.Group);
        Assert.Null(ConfigLoader.LoadText("global_defs {\n  router_id r1\n}\n", "t.conf").Options.Control.Group);
    }

    [Fact]
    public void The_uncommented_form_is_an_error_naming_the_comment_form()
    {
        var loaded = ConfigLoader.LoadText("global_defs {\n  lb:control_group lbops\n}\n", "t.conf");
        var d = Assert.Single(loaded.Diagnostics);
        Assert.Equal(Severity.Error, d.Severity);
        Assert.Equal(2, d.Location.Line);
        Assert.Contains("#lb: control_group", d.Message, StringComparison.Ordinal);
        Assert.Null(loaded.Options.Control.Group);
    }

    [Fact]
    public void Braces_on_an_extension_line_are_refused()
    {
        var loaded = ConfigLoader.LoadText("global_defs {\n  #lb: control_group { lbops }\n}\n", "t.conf");
        var d = Assert.Single(loaded.Diagnostics);
        Assert.Equal((Severity.Error, 2), (d.Severity, d.Location.Line));
        Assert.Contains("without braces", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_extension_keyword_is_a_warning_not_an_error()
    {
        var loaded = ConfigLoader.LoadText("global_defs {\n  #lb: frobnicate 3\n}\nstatic_ipaddress {\n  #lb: nope\n}\n", "t.conf");
        Assert.Equal(2, loaded.Diagnostics.Length);
        Assert.All(loaded.Diagnostics, d => Assert.Equal(Severity.Warning, d.Severity));
        Assert.Contains("Unknown Lb extension keyword '#lb: frobnicate'", loaded.Diagnostics[0].Message, StringComparison.Ordinal);
        // In a list block an extension line is not taken for a list entry (an address here).
        Assert.Contains("'#lb: nope'", loaded.Diagnostics[1].Message, StringComparison.Ordinal);
        Assert.Equal(0, loaded.ExitCode);
    }

    [Fact]
    public void A_comment_that_only_starts_like_one_is_still_a_comment()
    {
        var loaded = ConfigLoader.LoadText("global_defs {\n  # lb: control_group lbops\n  #lb:\n}\n", "t.conf");
        Assert.Empty(loaded.Diagnostics);
        Assert.Null(loaded.Options.Control.Group);
    }

    [RootFact("keepalived")]
    public void Keepalived_2_2_7_reads_extension_lines_as_comments()
    {
        Prerequisites.Require(Prerequisites.HasCommand("keepalived"), "keepalived 2.2.7 is the oracle");
        var dir = Directory.CreateTempSubdirectory("lb-ext-");
        try
        {
            var path = Path.Combine(dir.FullName, "t.conf");
            File.WriteAllText(path, WithGroup + "virtual_server 10.0.0.10 80 {\n  protocol TCP\n  lb_algo rr\n  lb_kind DR\n  #lb: frobnicate\n  real_server 10.0.0.11 80 {\n    #lb: frobnicate\n  }\n}\n");
            var (code, output) = KeepalivedOracleTests.RunKeepalived(path);
            Assert.Equal(0, code);
            Assert.DoesNotContain("control_group", output, StringComparison.Ordinal);
            Assert.DoesNotContain("Unknown keyword", output, StringComparison.Ordinal);
            // The uncommented form is what keepalived would refuse, which is why Lb refuses it too.
            File.WriteAllText(path, "global_defs {\n  lb:control_group lbops\n}\n");
            Assert.Contains("Unknown keyword 'lb:control_group'", KeepalivedOracleTests.RunKeepalived(path).Text, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
