using System.Text.Json;
using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>
/// `lb -n -l -C` against the real kernel's IPVS (inside the tests/kernel VM): real HTTP servers (busybox httpd) in network
/// namespaces, checked by HTTP_GET and TCP_CHECK; the table is read back with the real `ipvsadm -Sn` in the director's namespace.
/// </summary>
[Collection(KernelLabCollection.Name)]
public sealed class CheckerKernelTests(ITestOutputHelper output)
{
    // Liveness bounds, not timing claims: under software emulation (TCG) .NET start-up alone takes tens of seconds.
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(300);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private const string Config = """
        global_defs {
            router_id director
        }
        virtual_server 10.0.0.100 80 {
            delay_loop 1
            lb_algo wrr
            lb_kind DR
            protocol TCP
            real_server 10.0.0.11 80 {
                weight 3
                HTTP_GET {
                    url {
                        path /health
                        status_code 200
                    }
                    connect_timeout 3
                    retry 1
                    delay_before_retry 1
                }
            }
            real_server 10.0.0.12 80 {
                weight 2
                inhibit_on_failure
                HTTP_GET {
                    url {
                        path /health
                        status_code 200-299
                    }
                    connect_timeout 3
                    retry 1
                    delay_before_retry 1
                }
            }
            real_server 10.0.0.13 80 {
                weight 1
                TCP_CHECK {
                    connect_timeout 3
                    retry 1
                }
            }
        }
        """;

    private static List<string> Table(NetnsLab lab, string ns) =>
        lab.Exec(ns, "ipvsadm", "-Sn").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()).ToList();

    private static RunningProcess Httpd(NetnsLab lab, string ns, string ip, string label)
    {
        var root = Path.Combine(lab.Directory, "www-" + label);
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "health"), "ok\n");
        return lab.Start(ns, label, "busybox", "httpd", "-f", "-p", ip + ":80", "-h", root);
    }

    [KernelFact]
    public void Real_servers_leave_and_rejoin_the_kernel_table_as_their_checks_fail_and_pass()
    {
        using var lab = new NetnsLab();
        var director = lab.AddHost("dir", "10.0.0.2/24");
        var rs1 = lab.AddHost("rs1", "10.0.0.11/24");
        var rs2 = lab.AddHost("rs2", "10.0.0.12/24");
        var rs3 = lab.AddHost("rs3", "10.0.0.13/24");
        var web1 = Httpd(lab, rs1, "10.0.0.11", "web1");
        var web2 = Httpd(lab, rs2, "10.0.0.12", "web2");
        var web3 = Httpd(lab, rs3, "10.0.0.13", "web3");
        var journal = Path.Combine(lab.Directory, "journal.jsonl");
        var lb = lab.StartLb(director, "lb", "-n", "-l", "-C", "-f", lab.WriteFile("lb.conf", Config), "--journal", journal);
        try
        {
            const string svc = "-A -t 10.0.0.100:80 -s wrr";
            const string d1 = "-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 3";
            const string d2 = "-a -t 10.0.0.100:80 -r 10.0.0.12:80 -g -w 2";
            const string d2Inhibited = "-a -t 10.0.0.100:80 -r 10.0.0.12:80 -g -w 0";
            const string d3 = "-a -t 10.0.0.100:80 -r 10.0.0.13:80 -g -w 1";

            Assert.True(NetnsLab.WaitFor(() => Table(lab, director).SequenceEqual(new[] { svc, d1, d2, d3 }), StartBound),
                "initial table wrong: " + string.Join(" | ", Table(lab, director)));

            web1.Signal("KILL");
            web2.Signal("KILL");
            Assert.True(NetnsLab.WaitFor(() => Table(lab, director).SequenceEqual(new[] { svc, d2Inhibited, d3 }), Bound),
                "after stopping web1/web2: " + string.Join(" | ", Table(lab, director)));
            Assert.Contains("Removing service [10.0.0.11]:tcp:80 from VS [10.0.0.100]:tcp:80", lb.Output, StringComparison.Ordinal);

            Httpd(lab, rs1, "10.0.0.11", "web1b");
            Httpd(lab, rs2, "10.0.0.12", "web2b");
            Assert.True(NetnsLab.WaitFor(() => Table(lab, director).SequenceEqual(new[] { svc, d1, d2, d3 }), Bound),
                "after restarting web1/web2: " + string.Join(" | ", Table(lab, director)));

            lb.Signal("TERM");
            Assert.True(lb.WaitForExit(Bound), "lb did not stop on SIGTERM");
            Assert.Empty(Table(lab, director));

            // The journal holds exactly these real-server transitions, in order.
            var events = File.ReadAllLines(journal)
                .Select(l => JsonDocument.Parse(l).RootElement)
                .Where(e => e.GetProperty("kind").GetString() == "real_server" && e.TryGetProperty("rs", out _))
                .Select(e => $"{e.GetProperty("rs").GetString()} {e.GetProperty("old").GetString()}->{e.GetProperty("new").GetString()}")
                .Where(s => !s.Contains("->removed", StringComparison.Ordinal) && !s.Contains(" init->", StringComparison.Ordinal))
                .ToList();
            output.WriteLine(string.Join("\n", events));
            Assert.Equal(2, events.Count(e => e.Contains("10.0.0.11", StringComparison.Ordinal)));
            Assert.Equal(2, events.Count(e => e.Contains("10.0.0.12", StringComparison.Ordinal)));
            Assert.DoesNotContain(events, e => e.Contains("10.0.0.13", StringComparison.Ordinal));
            Assert.Matches("10.0.0.11.*up->down", events.First(e => e.Contains("10.0.0.11", StringComparison.Ordinal)));
            Assert.Matches("10.0.0.11.*down->up", events.Last(e => e.Contains("10.0.0.11", StringComparison.Ordinal)));
        }
        finally
        {
            output.WriteLine(lb.Output);
            output.WriteLine($"web3 alive: {!web3.HasExited} {web3.Output}");
        }
    }

    private static double Metric(string ns, int port, string name)
    {
        var response = Hosting.DaemonLab.Scrape(ns, port);
        var samples = Hosting.DaemonTests.ParseExposition(response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]);
        return samples[name];
    }

    [KernelFact]
    public void Reload_without_change_issues_no_IPVS_call_and_adding_a_real_server_touches_only_it()
    {
        using var lab = new NetnsLab();
        var director = lab.AddHost("dir", "10.0.0.2/24");
        var rs1 = lab.AddHost("rs1", "10.0.0.11/24");
        var rs2 = lab.AddHost("rs2", "10.0.0.12/24");
        var rs3 = lab.AddHost("rs3", "10.0.0.13/24");
        Httpd(lab, rs1, "10.0.0.11", "web1");
        Httpd(lab, rs2, "10.0.0.12", "web2");
        Httpd(lab, rs3, "10.0.0.13", "web3");
        var journal = Path.Combine(lab.Directory, "journal.jsonl");
        // The running configuration lacks the third real server; the reload adds it.
        // Generous check timeouts: the first reload JIT-compiles its code path, which under software emulation can stall
        // the guest for seconds; checks must not fail because of the emulator, only because of the servers.
        var full = Config.Replace("connect_timeout 3", "connect_timeout 15", StringComparison.Ordinal).Replace("retry 1", "retry 2", StringComparison.Ordinal);
        var start = System.Text.RegularExpressions.Regex.Replace(full, @"    real_server 10\.0\.0\.13 80 \{.*?\n    \}\n", string.Empty, System.Text.RegularExpressions.RegexOptions.Singleline);
        Assert.DoesNotContain("10.0.0.13", start, StringComparison.Ordinal);
        var conf = lab.WriteFile("lb.conf", start);
        var lb = lab.StartLb(director, "lb", "-n", "-l", "-C", "-f", conf, "--journal", journal, "--metrics", "127.0.0.1:9651");
        try
        {
            const string svc = "-A -t 10.0.0.100:80 -s wrr";
            const string d1 = "-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 3";
            const string d2 = "-a -t 10.0.0.100:80 -r 10.0.0.12:80 -g -w 2";
            const string d3 = "-a -t 10.0.0.100:80 -r 10.0.0.13:80 -g -w 1";
            Assert.True(NetnsLab.WaitFor(() => Table(lab, director).SequenceEqual(new[] { svc, d1, d2 }), StartBound),
                "initial table wrong: " + string.Join(" | ", Table(lab, director)));
            Assert.True(NetnsLab.WaitFor(() => { try { return Metric(director, 9651, "lb_ipvs_operations_total") >= 3; } catch (Exception e) when (e is not OutOfMemoryException) { return false; } }, Bound));

            var ops = Metric(director, 9651, "lb_ipvs_operations_total");
            var entries = File.ReadAllLines(journal).Length;
            lb.Signal("HUP");
            Assert.True(NetnsLab.WaitFor(() => lb.OutputContains("Reload complete"), Bound), "reload did not complete");
            Assert.Contains("Checker reload: no change", lb.Output, StringComparison.Ordinal);
            // Observation window of a negative claim (no IPVS operation, no journal line after a no-change reload), not
            // synchronisation: 3 s is three delay_loops (1 s), so checkers restarted by the reload would have acted inside it.
            Thread.Sleep(3000);
            Assert.Equal(ops, Metric(director, 9651, "lb_ipvs_operations_total"));
            Assert.Equal(entries, File.ReadAllLines(journal).Length);

            File.WriteAllText(conf, full);
            lb.Signal("HUP");
            Assert.True(NetnsLab.WaitFor(() => Table(lab, director).SequenceEqual(new[] { svc, d1, d2, d3 }), Bound),
                "after the reload adding 10.0.0.13: " + string.Join(" | ", Table(lab, director)));
            var added = File.ReadAllLines(journal).Skip(entries).ToList();
            output.WriteLine(string.Join("\n", added));
            Assert.NotEmpty(added);
            Assert.All(added, l => Assert.Contains("10.0.0.13", l, StringComparison.Ordinal));
            Assert.Equal(ops + 1, Metric(director, 9651, "lb_ipvs_operations_total"));
        }
        finally
        {
            output.WriteLine(lb.Output);
        }
    }
}
