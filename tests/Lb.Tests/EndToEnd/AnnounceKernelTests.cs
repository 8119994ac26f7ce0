using Lb.Lb.Tests.Hosting;
using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>
/// Health-driven VIP announcement (<c>#lb: announce</c>) with the real <c>lb</c> daemon and CLI against the real kernel
/// (inside the tests/kernel VM, where IPVS exists): a director with two direct-routing virtual servers (:80 and :8080,
/// <c>lb_algo mh</c>) announcing 10.0.0.100, and a third (10.0.0.101:80) announcing 10.0.0.101, whose address is on
/// <c>lo</c> before Lb starts. Real servers are python HTTP servers (one process per port) in two other namespaces.
/// A reload that removes one <c>#lb: announce</c> line withdraws that VIP alone.
/// Oracles: <c>ip route show table 200</c> (the route, <c>proto 249</c>, <c>dev lo</c>), <c>ip route show table local</c>
/// (the VIP made local by <c>local VIP dev lo proto 249</c>), <c>ip addr show dev lo</c>, a client's curl through the VIP,
/// <c>/proc/sys/net/ipv4/vs/sloppy_tcp</c> of the director's namespace, <c>lb status</c>, <c>lb journal</c> and the metrics.
/// </summary>
[Collection(KernelLabCollection.Name)]
public sealed class AnnounceKernelTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(300);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private const int MetricsPort = 9663;

    private static string Vs(string vip, int port, bool announce = true) => $$"""
        virtual_server {{vip}} {{port}} {
            delay_loop 1
            lb_algo mh
            lb_kind DR
            protocol TCP
            {{(announce ? "#lb: announce" : "")}}
            real_server 10.0.0.11 {{port}} {
                HTTP_GET {
                    url {
                        path /
                        status_code 200
                    }
                    connect_timeout 3
                    retry 1
                    delay_before_retry 1
                }
            }
            real_server 10.0.0.12 {{port}} {
                HTTP_GET {
                    url {
                        path /
                        status_code 200
                    }
                    connect_timeout 3
                    retry 1
                    delay_before_retry 1
                }
            }
        }

        """;

    private static string Config(bool announce101 = true) => """
        global_defs {
            router_id ann-director
            #lb: announce_table 200
        }

        """ + Vs("10.0.0.100", 80) + Vs("10.0.0.100", 8080) + Vs("10.0.0.101", 80, announce101);

    private static string Table200(string ns) => NetnsLab.Run("ip", "-n", ns, "route", "show", "table", "200");

    private static string Lo(string ns) => NetnsLab.Run("ip", "-n", ns, "addr", "show", "dev", "lo");

    private static string LocalTable(string ns) => NetnsLab.Run("ip", "-n", ns, "route", "show", "table", "local");

    private static bool MadeLocal(string ns, string vip) =>
        LocalTable(ns).Split('\n').Any(l => l.StartsWith($"local {vip} dev lo proto 249 scope host", StringComparison.Ordinal));

    private static bool Announced(string ns, string vip) =>
        Table200(ns).Split('\n').Any(l => l.StartsWith(vip + " dev lo proto 249", StringComparison.Ordinal));

    private string Lb(string socket, params string[] args) => LbRun([.. args, "--socket", socket]);

    private string LbRun(params string[] args)
    {
        var r = ProcessRunner.Run(LbLab.LbPath, args);
        output.WriteLine($"$ lb {string.Join(' ', args)}\n{r.Stdout}{r.Stderr}(exit {r.ExitCode})");
        Assert.True(r.ExitCode == 0, $"lb {string.Join(' ', args)}: exit {r.ExitCode}: {r.Stderr}");
        return r.Stdout;
    }

    [KernelFact]
    public void Routes_follow_the_virtual_servers_quorum_maintenance_and_stop()
    {
        using var lab = new NetnsLab();
        var director = lab.AddHost("anndir", "10.0.0.2/24");
        // Already an address before start: Lb adds no local route for it (and removes nothing at stop).
        NetnsLab.Run("ip", "-n", director, "addr", "add", "10.0.0.101/32", "dev", "lo");
        // A crash's leftover (Lb's protocol, not announced) and someone else's route in the same table.
        NetnsLab.Run("ip", "-n", director, "route", "add", "10.0.0.99/32", "dev", "lo", "table", "200", "proto", "249");
        NetnsLab.Run("ip", "-n", director, "route", "add", "10.0.0.98/32", "dev", "lo", "table", "200", "proto", "static");
        NetnsLab.Run("ip", "-n", director, "route", "add", "local", "10.0.0.97/32", "dev", "lo", "table", "local", "proto", "249");
        Assert.Equal("0", lab.Exec(director, "cat", "/proc/sys/net/ipv4/vs/sloppy_tcp").Trim());
        var servers = new Dictionary<(string Ns, int Port), RunningProcess>();
        var webs = new List<string>();
        foreach (var (name, ip) in new[] { ("annweb1", "10.0.0.11"), ("annweb2", "10.0.0.12") })
        {
            var ns = lab.AddHost(name, ip + "/24");
            webs.Add(ns);
            foreach (var vip in new[] { "10.0.0.100", "10.0.0.101" })
                NetnsLab.Run("ip", "-n", ns, "addr", "add", vip + "/32", "dev", "lo");
            lab.Exec(ns, "sysctl", "-q", "-w", "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2");
            foreach (var port in new[] { 80, 8080 })
                servers[(ns, port)] = lab.Start(ns, $"{name}:{port}", "python3", "-m", "http.server", "--bind", "0.0.0.0", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        // A client that reaches the VIP through the director (the routers' part in production).
        var client = lab.AddHost("anncl", "10.0.0.50/24");
        NetnsLab.Run("ip", "-n", client, "route", "add", "10.0.0.100/32", "via", "10.0.0.2");
        var journal = Path.Combine(lab.Directory, "journal.jsonl");
        var socket = Path.Combine(lab.Directory, "lb.sock");
        var conf = lab.WriteFile("lb.conf", Config());
        var lb = lab.StartLb(director, "lb", "-n", "-l", "-C", "-f", conf, "--journal", journal, "--socket", socket, "--metrics", $"127.0.0.1:{MetricsPort}");
        try
        {
            // Start: both VIPs announced, by Lb's routes in table 200; the leftover gone, the other route kept.
            Assert.True(NetnsLab.WaitFor(() => Announced(director, "10.0.0.100") && Announced(director, "10.0.0.101"), StartBound),
                "table 200 after start:\n" + Table200(director) + "\nlb:\n" + lb.Output);
            var table = Table200(director);
            output.WriteLine("table 200:\n" + table);
            Assert.DoesNotContain("10.0.0.99", table, StringComparison.Ordinal);
            Assert.Contains("10.0.0.98 dev lo proto static", table, StringComparison.Ordinal);
            // The VIP made local by a local route (not an address, which FRR would prefer as connected), the leftover one deleted.
            var local = LocalTable(director);
            output.WriteLine("table local:\n" + local);
            Assert.True(MadeLocal(director, "10.0.0.100"), "no local route for 10.0.0.100:\n" + local);
            Assert.False(MadeLocal(director, "10.0.0.101"), "10.0.0.101 is an address already:\n" + local);
            Assert.DoesNotContain("10.0.0.97", local, StringComparison.Ordinal);
            Assert.DoesNotContain("10.0.0.100", Lo(director), StringComparison.Ordinal);
            Assert.Equal("1", lab.Exec(director, "cat", "/proc/sys/net/ipv4/vs/sloppy_tcp").Trim());
            // IPVS serves the VIP made local: the client's request goes through the director to a real server (DR).
            var page = ProcessRunner.Run("ip", "netns", "exec", client, "curl", "-sS", "-m", "20", "http://10.0.0.100:8080/");
            Assert.True(page.ExitCode == 0 && page.Stdout.Contains("Directory listing", StringComparison.Ordinal), $"curl through the VIP: {page.ExitCode} {page.Stderr}");
            var status = Lb(socket, "status");
            Assert.Contains("Announced VIPs:\n  10.0.0.100  announced  (table 200)\n  10.0.0.101  announced  (table 200)\n", status, StringComparison.Ordinal);

            // One virtual server of 10.0.0.100 loses its real servers: 10.0.0.100 withdrawn with the reason, 10.0.0.101 stays.
            servers[(webs[0], 8080)].Kill();
            servers[(webs[1], 8080)].Kill();
            Assert.True(NetnsLab.WaitFor(() => !Announced(director, "10.0.0.100"), Bound), "10.0.0.100 not withdrawn:\n" + Table200(director));
            Assert.True(Announced(director, "10.0.0.101"), "10.0.0.101 withdrawn too:\n" + Table200(director));
            Assert.True(MadeLocal(director, "10.0.0.100"), "the local route went with the announcement"); // kept while running
            status = Lb(socket, "status");
            Assert.Contains("  10.0.0.100  withdrawn  quorum down: 10.0.0.100:8080\n", status, StringComparison.Ordinal);
            var metrics = DaemonLab.Scrape(director, MetricsPort);
            Assert.Contains("lb_announce_state{vip=\"10.0.0.100\"} 0\n", metrics, StringComparison.Ordinal);
            Assert.Contains("lb_announce_state{vip=\"10.0.0.101\"} 1\n", metrics, StringComparison.Ordinal);
            Assert.Contains("lb_announce_transitions_total{vip=\"10.0.0.100\",to=\"withdrawn\"} 1\n", metrics, StringComparison.Ordinal);

            // Back: announced again.
            foreach (var ns in webs)
                servers[(ns, 8080)] = lab.Start(ns, "web:8080 again", "python3", "-m", "http.server", "--bind", "0.0.0.0", "8080");
            Assert.True(NetnsLab.WaitFor(() => Announced(director, "10.0.0.100"), Bound), "10.0.0.100 not announced again:\n" + Table200(director));

            // Maintenance: every VIP withdrawn, then back.
            var reply = Lb(socket, "announce", "maintenance", "on");
            Assert.Contains("announce maintenance on", reply, StringComparison.Ordinal);
            Assert.False(Announced(director, "10.0.0.100") || Announced(director, "10.0.0.101"), "a route is left in maintenance:\n" + Table200(director));
            Assert.Contains("  10.0.0.100  withdrawn  maintenance\n", Lb(socket, "announce"), StringComparison.Ordinal);
            Lb(socket, "announce", "maintenance", "off");
            Assert.True(Announced(director, "10.0.0.100") && Announced(director, "10.0.0.101"), "not announced after maintenance off:\n" + Table200(director));

            var lines = LbRun("journal", "--file", journal).Split('\n').Where(l => l.Contains("announce", StringComparison.Ordinal)).ToList();
            output.WriteLine(string.Join('\n', lines));
            Assert.Contains(lines, l => l.Contains("10.0.0.100/32", StringComparison.Ordinal) && l.Contains("announced -> withdrawn", StringComparison.Ordinal)
                && l.Contains("quorum down: 10.0.0.100:8080", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.Contains("10.0.0.101/32", StringComparison.Ordinal) && l.Contains("announced -> withdrawn", StringComparison.Ordinal)
                && l.Contains("maintenance", StringComparison.Ordinal) && l.Contains("by root (uid 0", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.Contains("normal -> maintenance", StringComparison.Ordinal) && l.Contains("by root (uid 0", StringComparison.Ordinal));

            // A reload that stops announcing 10.0.0.101: its route goes, 10.0.0.100's stays.
            File.WriteAllText(conf, Config(announce101: false));
            Lb(socket, "reload");
            Assert.True(NetnsLab.WaitFor(() => !Announced(director, "10.0.0.101"), Bound), "10.0.0.101 still announced after the reload:\n" + Table200(director));
            Assert.True(Announced(director, "10.0.0.100"), "10.0.0.100 withdrawn by the reload:\n" + Table200(director));
            Assert.DoesNotContain("10.0.0.101", Lb(socket, "announce"), StringComparison.Ordinal);
            Assert.Contains(File.ReadAllLines(journal), l => l.Contains("\"instance\":\"10.0.0.101/32\"", StringComparison.Ordinal)
                && l.Contains("configuration reload: no longer announced", StringComparison.Ordinal));

            // SIGTERM: Lb's routes and its lo address gone; the address that was there before and the other route stay.
            lb.Signal("TERM");
            Assert.True(lb.WaitForExit(Bound), "lb did not stop");
            Assert.Equal(0, lb.ExitCode);
            table = Table200(director);
            Assert.DoesNotContain("proto 249", table, StringComparison.Ordinal);
            Assert.Contains("10.0.0.98 dev lo proto static", table, StringComparison.Ordinal);
            Assert.DoesNotContain("proto 249", LocalTable(director), StringComparison.Ordinal);
            Assert.Contains("inet 10.0.0.101/32", Lo(director), StringComparison.Ordinal);
            Assert.Equal("1", lab.Exec(director, "cat", "/proc/sys/net/ipv4/vs/sloppy_tcp").Trim()); // not restored
        }
        finally
        {
            output.WriteLine("lb output:\n" + lb.Output);
        }
    }
}
