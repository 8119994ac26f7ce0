using Lb.Config.Pair;
using Lb.Lb.Tests.EndToEnd;
using Lb.TestSupport;
using Xunit;

namespace Lb.Lb.Tests.Config;

/// <summary>
/// Issue 12 item 6 through the command line: <c>lb -t</c> over every <c>@ID</c> a file names (the repo's
/// keepalived.conf.example is one file for two directors) and <c>lb -t -f a.conf --peer b.conf</c>, run as users run
/// them (the published <c>lb</c>), with their output and exit codes.
/// </summary>
public sealed class PairCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lb-paircli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string Example = Path.Combine(AppContext.BaseDirectory, "keepalived.conf.example");

    /// <summary>The interfaces the example names, whatever this host has (its own load checks them, as keepalived -t does).</summary>
    private static readonly HashSet<string> ExampleInterfaces = new(StringComparer.Ordinal) { "lo", "eth0" };

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static (int Code, List<string> Lines) ConfigTest(string file, string? id = null, string? peer = null)
    {
        using var stderr = new StringWriter();
        var code = ConfigTestCommand.Run(file, id, peer, stderr, ExampleInterfaces);
        // Positions carry the path as given (keepalived's form): expectations name the file alone.
        var text = stderr.ToString().Replace(Path.GetDirectoryName(file) + "/", string.Empty, StringComparison.Ordinal);
        if (peer is not null)
            text = text.Replace(Path.GetDirectoryName(peer) + "/", string.Empty, StringComparison.Ordinal);
        return (code, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList());
    }

    [Fact]
    public void The_repository_example_is_a_working_pair_for_both_directors()
    {
        // keepalived.conf.example's maintenance weight once was -20: 150 - 20 = 130 stayed above director2's 100 and the VIP
        // never moved (found by this check). With -60, 150 - 60 = 90 < 100: no finding from either director's side.
        Assert.NotEqual("director2", global::Lb.Config.PreprocessorOptions.DefaultConfigId());
        var (code, lines) = ConfigTest(Example);
        Assert.Equal(0, code);
        Assert.Empty(lines);
        var (code2, lines2) = ConfigTest(Example, "director2");
        Assert.Equal(0, code2);
        Assert.Empty(lines2);
    }

    [Fact]
    public void The_example_with_its_old_maintenance_weight_never_moves_the_VIP()
    {
        var old = Write("keepalived.conf.example", File.ReadAllText(Example).Replace("    weight -60\n", "    weight -20\n", StringComparison.Ordinal));
        var (code, lines) = ConfigTest(old);
        Assert.Equal(0, code);
        Assert.Equal(
            "(keepalived.conf.example: Line 23) (VI_WEB) pair: priority gap 50 (@^director2 keepalived.conf.example: Line 27 priority 150, "
            + "@director2 keepalived.conf.example: Line 28 priority 100) >= weight -20 of track_script chk_maintenance (@^director2 keepalived.conf.example: Line 20): "
            + "a failing chk_maintenance never moves the VIP (130 > 100)",
            Assert.Single(lines));
        // The same seen from director2 (-i director2): the other director is then every host but director2.
        var (code2, lines2) = ConfigTest(old, "director2");
        Assert.Equal(0, code2);
        Assert.Contains("(@^director2 keepalived.conf.example: Line 27 priority 150, @director2 keepalived.conf.example: Line 28 priority 100)", Assert.Single(lines2), StringComparison.Ordinal);
    }

    [Fact]
    public void The_example_with_a_smaller_gap_has_no_finding_either()
    {
        var fixedExample = Write("keepalived.conf.example", File.ReadAllText(Example).Replace("@director2 priority 100", "@director2 priority 140", StringComparison.Ordinal));
        var (code, lines) = ConfigTest(fixedExample);
        Assert.Equal(0, code);
        Assert.Empty(lines);
    }

    [Fact]
    public void Another_ids_errors_are_printed_under_its_name_and_leave_keepalived_exit_code_to_this_hosts_load()
    {
        var file = Write("k.conf", """
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 7
                @lb1 priority 200
                @lb2 priority 200
                @lb2 bogus_keyword
                virtual_ipaddress {
                    10.0.0.1
                }
            }

            """);
        var (code, lines) = ConfigTest(file, "lb1");
        Assert.Equal(0, code);
        Assert.Equal([
            "@lb2: (k.conf: Line 6) Unknown keyword 'bogus_keyword'",
            "(k.conf: Line 1) (VI_1) pair: equal priorities 200 (@lb1 k.conf: Line 4 priority 200, @lb2 k.conf: Line 5 priority 200): a tie, "
                + "the VIP goes to whichever director starts first, and to the higher IP address when both are MASTER at once",
            "@lb2: 'lb -t -i lb2' exits 5 (this exit code is keepalived's verdict for -i lb1 only)",
        ], lines);
        // lb2's own verdict is keepalived's for lb2: exit 5.
        Assert.Equal(5, ConfigTest(file, "lb2").Code);
    }

    [Fact]
    public void A_file_without_conditional_lines_is_checked_exactly_as_before()
    {
        var file = Write("k.conf", "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 7\n    bogus_keyword\n    virtual_ipaddress {\n        10.0.0.1\n    }\n}\n");
        var (code, lines) = ConfigTest(file);
        Assert.Equal(5, code);
        Assert.Equal(["(k.conf: Line 4) Unknown keyword 'bogus_keyword'"], lines);
    }

    private const string Director = """
        vrrp_script chk {
            script "/bin/true"
            weight -30
        }
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 7
            priority PRIO
            virtual_ipaddress {
                10.0.0.1
            }
            track_script {
                chk
            }
        }

        """;

    /// <summary>The published lb, run in a namespace that has eth0 (this host's load checks its interfaces, as keepalived -t does).</summary>
    /// <summary>Positions carry the path as given (keepalived's form): expectations name the file alone.</summary>
    private string Strip(string text) => text.Replace(_dir + "/", string.Empty, StringComparison.Ordinal);

    private static ProcessResult RunLb(string ns, params string[] args) =>
        ProcessRunner.Run(new ProcessOptions { Label = "lb " + string.Join(' ', args) }, "ip", ["netns", "exec", ns, LbLab.LbPath, .. args]);

    [RootFact("ip", "keepalived")]
    public void Lb_t_with_peer_runs_the_pair_check_of_two_files()
    {
        using var lab = new NetnsLab();
        var ns = lab.AddHost("d1", $"10.{NetnsLab.NextSubnet()}.0.1/24");
        var a = Write("a.conf", "global_defs {\n    enable_script_security\n    script_user root\n}\n" + Director.Replace("PRIO", "150", StringComparison.Ordinal));
        var b = Write("b.conf", "global_defs {\n    enable_script_security\n    script_user root\n    bogus_keyword\n}\n" + Director.Replace("PRIO", "100", StringComparison.Ordinal));
        var r = RunLb(ns, "-t", "-f", a, "--peer", b);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal([
            "peer: (b.conf: Line 4) Unknown keyword 'bogus_keyword'",
            "(a.conf: Line 9) (VI_1) pair: priority gap 50 (a.conf: Line 12 priority 150, b.conf: Line 13 priority 100) >= weight -30 of track_script chk (a.conf: Line 7): "
                + "a failing chk never moves the VIP (120 > 100)",
            "peer: 'lb -t -f b.conf' exits 5 (this exit code is keepalived's verdict for a.conf only)",
        ], Strip(r.Stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(string.Empty, r.Stdout);

        // The exit code is a.conf's: keepalived's verdict for the -f file.
        var broken = Write("c.conf", File.ReadAllText(a).Replace("priority 150", "priority 150\n    bogus_keyword", StringComparison.Ordinal));
        var r2 = RunLb(ns, "-t", "-f", broken, "--peer", a);
        Assert.Equal(5, r2.ExitCode);
        // keepalived -t agrees on both -f files: the verdict is unchanged by --peer.
        Assert.Equal(0, global::Lb.Tests.Config.KeepalivedOracleTests.RunKeepalived(a, ns).Code);
        Assert.Equal(5, global::Lb.Tests.Config.KeepalivedOracleTests.RunKeepalived(broken, ns).Code);
        Assert.StartsWith("(c.conf: Line 13) Unknown keyword 'bogus_keyword'\n", Strip(r2.Stderr), StringComparison.Ordinal);

        // --peer without -t is refused.
        var r3 = RunLb(ns, "-d", "-f", a, "--peer", b);
        Assert.Equal(1, r3.ExitCode);
        Assert.Contains("--peer is a check of two configurations: it goes with -t (and not -d)", r3.Stderr, StringComparison.Ordinal);
    }

    [RootFact("ip")]
    public void Lb_t_over_a_file_with_ids_runs_as_published()
    {
        using var lab = new NetnsLab();
        var ns = lab.AddHost("d1", $"10.{NetnsLab.NextSubnet()}.0.1/24");
        var file = Write("k.conf", "global_defs {\n    enable_script_security\n    script_user root\n}\n"
            + Director.Replace("    priority PRIO\n", "    @lb1 priority 150\n    @lb2 priority 100\n", StringComparison.Ordinal));
        var r = RunLb(ns, "-t", "-i", "lb2", "-f", file);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("(k.conf: Line 9) (VI_1) pair: priority gap 50 (@lb1 k.conf: Line 12 priority 150, @lb2 k.conf: Line 13 priority 100) >= weight -30 "
            + "of track_script chk (@lb1 k.conf: Line 7): a failing chk never moves the VIP (120 > 100)\n", Strip(r.Stderr));
        var help = RunLb(ns, "--help");
        Assert.Contains("--peer=FILE", help.Stdout, StringComparison.Ordinal);
    }
}
