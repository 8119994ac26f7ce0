using System.Text;
using System.Text.Json;
using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>
/// Quorum (with hysteresis, alpha and omega), the sorry server and the real-server notify scripts of `lb -n -l -C`, against
/// the real kernel's IPVS (inside the tests/kernel VM): busybox httpd real servers in network namespaces, checked by
/// TCP_CHECK, killed and restarted; the table read back with the real `ipvsadm -Sn` in the director's namespace; the
/// notify scripts are real shell scripts (root-owned, under enable_script_security) that append their argv to a file,
/// which is the oracle for "ran, with this argv, this many times".
/// </summary>
[Collection(KernelLabCollection.Name)]
public sealed class CheckerQuorumKernelTests(ITestOutputHelper output)
{
    // Liveness bounds, not timing claims: under software emulation (TCG) .NET start-up alone takes tens of seconds, and on
    // the shared 2-core machine with another VM running, lb once needed more than 300 s to parse its configuration.
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(600);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    // Generous per-attempt timeout and retries: a check must fail because the server is gone (connection refused, at
    // once), never because the emulated guest stalled; exact script counts depend on it.
    private const string Check = """
                TCP_CHECK {
                    connect_timeout 5
                    retry 2
                    delay_before_retry 1
                }
        """;

    /// <summary>The table as a sorted set of `ipvsadm -Sn` lines (ipvsadm sorts too; sorting here keeps the assertion order-free).</summary>
    private static List<string> Table(NetnsLab lab, string ns) =>
        lab.Exec(ns, "ipvsadm", "-Sn").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()).Order(StringComparer.Ordinal).ToList();

    private static bool TableIs(NetnsLab lab, string ns, params string[] expected) =>
        Table(lab, ns).SequenceEqual(expected.Order(StringComparer.Ordinal));

    private static RunningProcess Httpd(NetnsLab lab, string ns, string ip, string label)
    {
        var root = Path.Combine(lab.Directory, "www-" + label);
        Directory.CreateDirectory(root);
        return lab.Start(ns, label, "busybox", "httpd", "-f", "-p", ip + ":80", "-h", root);
    }

    /// <summary>
    /// A real notify script: appends one line per run to the file named by its first argument (in the lab directory),
    /// a timestamp then every further argument in brackets, so the argv Lb split from the configuration is visible
    /// word by word. Root-owned, mode 0755, in the root-owned 0700 lab directory: secure for enable_script_security.
    /// </summary>
    private static string NotifyScript(NetnsLab lab)
    {
        var path = lab.WriteFile("notify.sh", $$"""
            #!/bin/sh
            PATH=/usr/bin:/bin
            log="{{lab.Directory}}/$1"
            shift
            line="$(date +%s.%N) "
            for a in "$@"; do line="$line[$a]"; done
            echo "$line" >> "$log"

            """);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return path;
    }

    /// <summary>The argv (without the timestamp) of every run logged in <paramref name="name"/>, in order of the runs.</summary>
    private static List<string> Runs(NetnsLab lab, string name)
    {
        var path = Path.Combine(lab.Directory, name);
        if (!File.Exists(path))
            return new List<string>();
        return File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => l[(l.IndexOf(' ', StringComparison.Ordinal) + 1)..]).ToList();
    }

    private static List<JsonElement> Journal(string path) =>
        File.Exists(path) ? File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement).ToList() : new List<JsonElement>();

    private static string Global => """
        global_defs {
            router_id director
            enable_script_security
            script_user root
        }

        """;

    private static string RealServer(string ip, int weight, string extra) => $$"""
            real_server {{ip}} 80 {
                weight {{weight}}
        {{extra}}
        {{Check}}
            }

        """;

    /// <summary>
    /// keepalived's quorum (ipwrapper.c update_quorum_state): the quorum is the summed weight of the alive real servers;
    /// when up it is lost below quorum − hysteresis, when down it is gained at quorum + hysteresis. quorum_down runs once
    /// at the loss, quorum_up once at start-up (all servers alive, not alpha) and once at the regain. Without a sorry
    /// server the alive real servers stay in IPVS. omega: at shutdown quorum_down and the alive servers' notify_down run.
    /// </summary>
    [KernelFact]
    public void Quorum_is_lost_and_regained_across_the_hysteresis_band_running_each_script_once()
    {
        using var lab = new NetnsLab();
        var director = lab.AddHost("dir", "10.0.0.2/24");
        var hosts = Enumerable.Range(1, 4).Select(i => lab.AddHost($"rs{i}", $"10.0.0.1{i}/24")).ToArray();
        var webs = Enumerable.Range(1, 4).Select(i => Httpd(lab, hosts[i - 1], $"10.0.0.1{i}", $"web{i}")).ToArray();
        var script = NotifyScript(lab);
        var config = new StringBuilder(Global).Append($$"""
            virtual_server 10.0.0.100 80 {
                delay_loop 1
                lb_algo rr
                lb_kind DR
                protocol TCP
                quorum 3
                hysteresis 1
                omega
                quorum_up "{{script}} quorum.log QUORUM UP"
                quorum_down "{{script}} quorum.log QUORUM DOWN"

            """);
        for (var i = 1; i <= 4; i++)
            config.Append(RealServer($"10.0.0.1{i}", 1, $"""
                        notify_up "{script} rs.log UP rs{i}"
                        notify_down "{script} rs.log DOWN rs{i}"
                """));
        config.Append("}\n");
        var journal = Path.Combine(lab.Directory, "journal.jsonl");
        var lb = lab.StartLb(director, "lb", "-n", "-l", "-C", "-f", lab.WriteFile("lb.conf", config.ToString()), "--journal", journal);
        try
        {
            const string svc = "-A -t 10.0.0.100:80 -s rr";
            static string D(int i) => $"-a -t 10.0.0.100:80 -r 10.0.0.1{i}:80 -g -w 1";
            string Now() => string.Join(" | ", Table(lab, director)) + " || quorum.log: " + string.Join(", ", Runs(lab, "quorum.log")) + " || rs.log: " + string.Join(", ", Runs(lab, "rs.log"));
            bool RsRan(string argv) => Runs(lab, "rs.log").Contains(argv);

            Assert.True(NetnsLab.WaitFor(() => TableIs(lab, director, svc, D(1), D(2), D(3), D(4)), StartBound), "initial table: " + Now());
            // Start-up with all four alive (weight 4 >= 3+1): quorum gained, quorum_up once.
            Assert.True(NetnsLab.WaitFor(() => Runs(lab, "quorum.log").Count == 1, Bound), "quorum_up at start-up: " + Now());
            Assert.Equal(["[QUORUM][UP]"], Runs(lab, "quorum.log"));

            // Down to weight 3, then 2: still >= 3-1 = 2, the quorum holds (hysteresis), no quorum script.
            webs[0].Signal("KILL");
            Assert.True(NetnsLab.WaitFor(() => TableIs(lab, director, svc, D(2), D(3), D(4)) && RsRan("[DOWN][rs1]"), Bound), "after stopping web1: " + Now());
            webs[1].Signal("KILL");
            Assert.True(NetnsLab.WaitFor(() => TableIs(lab, director, svc, D(3), D(4)) && RsRan("[DOWN][rs2]"), Bound), "after stopping web2: " + Now());
            Assert.Equal(["[QUORUM][UP]"], Runs(lab, "quorum.log"));

            // Weight 1 < 2: quorum lost, quorum_down once; no sorry server, so the one alive server stays in IPVS.
            webs[2].Signal("KILL");
            Assert.True(NetnsLab.WaitFor(() => Runs(lab, "quorum.log").Count >= 2 && RsRan("[DOWN][rs3]"), Bound), "quorum_down after stopping web3: " + Now());
            Assert.True(NetnsLab.WaitFor(() => TableIs(lab, director, svc, D(4)), Bound), "after stopping web3: " + Now());
            Assert.Equal(["[QUORUM][UP]", "[QUORUM][DOWN]"], Runs(lab, "quorum.log"));

            // Back to weight 2, then 3: below 3+1 = 4, the quorum stays down (hysteresis), no quorum script.
            Httpd(lab, hosts[0], "10.0.0.11", "web1b");
            Assert.True(NetnsLab.WaitFor(() => TableIs(lab, director, svc, D(1), D(4)) && RsRan("[UP][rs1]"), Bound), "after restarting web1: " + Now());
            Httpd(lab, hosts[1], "10.0.0.12", "web2b");
            Assert.True(NetnsLab.WaitFor(() => TableIs(lab, director, svc, D(1), D(2), D(4)) && RsRan("[UP][rs2]"), Bound), "after restarting web2: " + Now());
            Assert.Equal(["[QUORUM][UP]", "[QUORUM][DOWN]"], Runs(lab, "quorum.log"));

            // Weight 4: quorum regained, quorum_up once more.
            Httpd(lab, hosts[2], "10.0.0.13", "web3b");
            Assert.True(NetnsLab.WaitFor(() => Runs(lab, "quorum.log").Count >= 3 && RsRan("[UP][rs3]"), Bound), "quorum_up after restarting web3: " + Now());
            Assert.True(NetnsLab.WaitFor(() => TableIs(lab, director, svc, D(1), D(2), D(3), D(4)), Bound), "after restarting web3: " + Now());

            // omega: the shutdown clears IPVS and runs quorum_down and the notify_down of each alive server (started as
            // keepalived starts them; they are in their own session, so wait for their lines rather than for lb alone).
            lb.Signal("TERM");
            Assert.True(lb.WaitForExit(Bound), "lb did not stop on SIGTERM");
            Assert.Empty(Table(lab, director));
            Assert.True(NetnsLab.WaitFor(() => Runs(lab, "quorum.log").Count >= 4 && Runs(lab, "rs.log").Count >= 10, Bound), "omega scripts at shutdown: " + Now());
            Assert.Equal(["[QUORUM][UP]", "[QUORUM][DOWN]", "[QUORUM][UP]", "[QUORUM][DOWN]"], Runs(lab, "quorum.log"));
            var rs = Runs(lab, "rs.log");
            output.WriteLine("rs.log:\n" + string.Join("\n", rs));
            // Killed and restarted: DOWN, UP, then omega's DOWN; rs4 never failed: only omega's DOWN (no init notify).
            for (var i = 1; i <= 3; i++)
                Assert.Equal([$"[DOWN][rs{i}]", $"[UP][rs{i}]", $"[DOWN][rs{i}]"], rs.Where(r => r.EndsWith($"[rs{i}]", StringComparison.Ordinal)));
            Assert.Equal(["[DOWN][rs4]"], rs.Where(r => r.EndsWith("[rs4]", StringComparison.Ordinal)));

            // The journal names each quorum transition with the weights that decided it.
            var quorum = Journal(journal).Where(e => e.GetProperty("kind").GetString() == "quorum")
                .Select(e => $"{e.GetProperty("old").GetString()}->{e.GetProperty("new").GetString()}: {e.GetProperty("reason").GetString()}").ToList();
            output.WriteLine(string.Join("\n", quorum));
            Assert.Equal(
                ["init->up: gained quorum 3+1=4 <= 4", "up->down: lost quorum 3-1=2 > 1", "down->up: gained quorum 3+1=4 <= 4", "up->down: shutdown"],
                quorum);
        }
        finally
        {
            output.WriteLine(lb.Output);
        }
    }

    /// <summary>
    /// The sorry server (ipwrapper.c): when the quorum is lost the alive real servers leave IPVS and the sorry server
    /// (weight 1) serves; when it is regained the sorry server leaves and the alive real servers come back. While the
    /// sorry server serves, a recovering real server is not added. With sorry_server_inhibit the sorry server is kept in
    /// IPVS at weight 0 while not needed and set to weight 1 instead of added.
    /// </summary>
    [KernelFact]
    public void Sorry_server_replaces_the_pool_while_quorum_is_down_and_inhibit_keeps_it_at_weight_zero()
    {
        using var lab = new NetnsLab();
        var director = lab.AddHost("dir", "10.0.0.2/24");
        var rs1 = lab.AddHost("rs1", "10.0.0.11/24");
        var rs2 = lab.AddHost("rs2", "10.0.0.12/24");
        var web1 = Httpd(lab, rs1, "10.0.0.11", "web1");
        var web2 = Httpd(lab, rs2, "10.0.0.12", "web2");
        // A: quorum 4 of weights 2+3, plain sorry server. B: default quorum 1, sorry_server_inhibit. Same real servers.
        var config = new StringBuilder(Global).Append("""
            virtual_server 10.0.0.100 80 {
                delay_loop 1
                lb_algo wrr
                lb_kind DR
                protocol TCP
                quorum 4
                sorry_server 10.0.0.50 80

            """).Append(RealServer("10.0.0.11", 2, "")).Append(RealServer("10.0.0.12", 3, "")).Append("""
            }
            virtual_server 10.0.0.101 80 {
                delay_loop 1
                lb_algo wrr
                lb_kind DR
                protocol TCP
                sorry_server 10.0.0.51 80
                sorry_server_inhibit

            """).Append(RealServer("10.0.0.11", 2, "")).Append(RealServer("10.0.0.12", 3, "")).Append("}\n");
        var journal = Path.Combine(lab.Directory, "journal.jsonl");
        var lb = lab.StartLb(director, "lb", "-n", "-l", "-C", "-f", lab.WriteFile("lb.conf", config.ToString()), "--journal", journal);
        try
        {
            const string a = "-A -t 10.0.0.100:80 -s wrr";
            const string a1 = "-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 2";
            const string a2 = "-a -t 10.0.0.100:80 -r 10.0.0.12:80 -g -w 3";
            const string aSorry = "-a -t 10.0.0.100:80 -r 10.0.0.50:80 -g -w 1";
            const string b = "-A -t 10.0.0.101:80 -s wrr";
            const string b1 = "-a -t 10.0.0.101:80 -r 10.0.0.11:80 -g -w 2";
            const string b2 = "-a -t 10.0.0.101:80 -r 10.0.0.12:80 -g -w 3";
            const string bSorryIdle = "-a -t 10.0.0.101:80 -r 10.0.0.51:80 -g -w 0";
            const string bSorry = "-a -t 10.0.0.101:80 -r 10.0.0.51:80 -g -w 1";
            string Now() => string.Join(" | ", Table(lab, director));

            Assert.True(NetnsLab.WaitFor(() => TableIs(lab, director, a, a1, a2, b, b1, b2, bSorryIdle), StartBound), "initial table: " + Now());

            // A: 2 < 4, quorum lost: the still-alive 10.0.0.11 leaves too, the sorry server serves. B: 2 >= 1, holds.
            web2.Signal("KILL");
            Assert.True(NetnsLab.WaitFor(() => TableIs(lab, director, a, aSorry, b, b1, bSorryIdle), Bound), "after stopping web2: " + Now());

            // B: 0, quorum lost: its inhibited sorry server goes from weight 0 to 1.
            web1.Signal("KILL");
            Assert.True(NetnsLab.WaitFor(() => TableIs(lab, director, a, aSorry, b, bSorry), Bound), "after stopping web1: " + Now());
            // A's own checker of 10.0.0.11 must have judged it down too before web1 returns: its table does not show it
            // (quorum lost), and its checks run on their own phase, so B's verdict above says nothing about A's.
            Assert.True(NetnsLab.WaitFor(() => Journal(journal).Any(e => e.GetProperty("kind").GetString() == "real_server" &&
                e.GetProperty("vs").GetString() == "[10.0.0.100]:tcp:80" && e.GetProperty("rs").GetString() == "[10.0.0.11]:tcp:80" &&
                e.GetProperty("new").GetString() == "down"), Bound), "10.0.0.11 never went down in A");

            // B: 2 >= 1, regained: sorry server back to weight 0, 10.0.0.11 added. A: 2 < 4, still down: 10.0.0.11 is up
            // (journalled) but not added while the sorry server serves.
            Httpd(lab, rs1, "10.0.0.11", "web1b");
            Assert.True(NetnsLab.WaitFor(() => Journal(journal).Any(e => e.GetProperty("kind").GetString() == "real_server" &&
                e.GetProperty("vs").GetString() == "[10.0.0.100]:tcp:80" && e.GetProperty("rs").GetString() == "[10.0.0.11]:tcp:80" &&
                e.GetProperty("old").GetString() == "down" && e.GetProperty("new").GetString() == "up"), Bound), "10.0.0.11 never came up in A");
            Assert.True(NetnsLab.WaitFor(() => TableIs(lab, director, a, aSorry, b, b1, bSorryIdle), Bound), "after restarting web1: " + Now());

            // A: 5 >= 4, regained: the sorry server leaves, both real servers come back.
            Httpd(lab, rs2, "10.0.0.12", "web2b");
            Assert.True(NetnsLab.WaitFor(() => TableIs(lab, director, a, a1, a2, b, b1, b2, bSorryIdle), Bound), "after restarting web2: " + Now());

            lb.Signal("TERM");
            Assert.True(lb.WaitForExit(Bound), "lb did not stop on SIGTERM");
            Assert.Empty(Table(lab, director));
        }
        finally
        {
            output.WriteLine(lb.Output);
        }
    }

    /// <summary>
    /// notify_up / notify_down of a real server (ipwrapper.c do_rs_notifies): run with the configured command line split
    /// into argv as keepalived splits it (quotes group words), nothing appended; once per transition; not at start-up for a
    /// server that starts up; with an alpha checker, once at the first success. inhibit_on_failure: the failed server
    /// stays in IPVS at weight 0.
    /// </summary>
    [KernelFact]
    public void Notify_scripts_run_once_per_transition_with_the_configured_argv_and_inhibit_keeps_weight_zero()
    {
        using var lab = new NetnsLab();
        var director = lab.AddHost("dir", "10.0.0.2/24");
        var hosts = Enumerable.Range(1, 3).Select(i => lab.AddHost($"rs{i}", $"10.0.0.1{i}/24")).ToArray();
        var webs = Enumerable.Range(1, 3).Select(i => Httpd(lab, hosts[i - 1], $"10.0.0.1{i}", $"web{i}")).ToArray();
        var script = NotifyScript(lab);
        var config = new StringBuilder(Global).Append("""
            virtual_server 10.0.0.100 80 {
                delay_loop 1
                lb_algo wrr
                lb_kind DR
                protocol TCP

            """)
            .Append(RealServer("10.0.0.11", 1, $"""
                        notify_up "{script} rs.log UP 'real server 1'"
                        notify_down "{script} rs.log DOWN 'real server 1'"
                """))
            .Append(RealServer("10.0.0.12", 2, $"""
                        inhibit_on_failure
                        notify_up "{script} rs.log UP rs2"
                        notify_down "{script} rs.log DOWN rs2"
                """))
            .Append(RealServer("10.0.0.13", 3, $"""
                        alpha
                        notify_up "{script} rs.log UP rs3"
                        notify_down "{script} rs.log DOWN rs3"
                """))
            .Append("}\n");
        var lb = lab.StartLb(director, "lb", "-n", "-l", "-C", "-f", lab.WriteFile("lb.conf", config.ToString()),
            "--journal", Path.Combine(lab.Directory, "journal.jsonl"));
        try
        {
            const string svc = "-A -t 10.0.0.100:80 -s wrr";
            const string d1 = "-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1";
            const string d2 = "-a -t 10.0.0.100:80 -r 10.0.0.12:80 -g -w 2";
            const string d2Inhibited = "-a -t 10.0.0.100:80 -r 10.0.0.12:80 -g -w 0";
            const string d3 = "-a -t 10.0.0.100:80 -r 10.0.0.13:80 -g -w 3";
            string Now() => string.Join(" | ", Table(lab, director)) + " || rs.log: " + string.Join(", ", Runs(lab, "rs.log"));
            bool Ran(string argv) => Runs(lab, "rs.log").Contains(argv);

            // rs3 (alpha) joins at its first successful check, which runs its notify_up.
            Assert.True(NetnsLab.WaitFor(() => TableIs(lab, director, svc, d1, d2, d3) && Ran("[UP][rs3]"), StartBound), "initial table: " + Now());

            webs[0].Signal("KILL");
            webs[1].Signal("KILL");
            Assert.True(NetnsLab.WaitFor(() => TableIs(lab, director, svc, d2Inhibited, d3) && Ran("[DOWN][real server 1]") && Ran("[DOWN][rs2]"), Bound),
                "after stopping web1/web2: " + Now());

            Httpd(lab, hosts[0], "10.0.0.11", "web1b");
            Httpd(lab, hosts[1], "10.0.0.12", "web2b");
            Assert.True(NetnsLab.WaitFor(() => TableIs(lab, director, svc, d1, d2, d3) && Ran("[UP][real server 1]") && Ran("[UP][rs2]"), Bound),
                "after restarting web1/web2: " + Now());

            // No omega: no script at shutdown. After the exit (Lb waits for running notify scripts) the log is final.
            lb.Signal("TERM");
            Assert.True(lb.WaitForExit(Bound), "lb did not stop on SIGTERM");
            Assert.Empty(Table(lab, director));
            var runs = Runs(lab, "rs.log");
            output.WriteLine("rs.log:\n" + string.Join("\n", runs));
            Assert.Equal(["[DOWN][real server 1]", "[UP][real server 1]"], runs.Where(r => r.EndsWith("[real server 1]", StringComparison.Ordinal)));
            Assert.Equal(["[DOWN][rs2]", "[UP][rs2]"], runs.Where(r => r.EndsWith("[rs2]", StringComparison.Ordinal)));
            Assert.Equal(["[UP][rs3]"], runs.Where(r => r.EndsWith("[rs3]", StringComparison.Ordinal)));
            Assert.Equal(5, runs.Count);
        }
        finally
        {
            output.WriteLine(lb.Output);
            output.WriteLine($"web3 alive: {!webs[2].HasExited} {webs[2].Output}");
        }
    }
}
