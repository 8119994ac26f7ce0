using System.Globalization;
using Lb.Lb.Tests.EndToEnd;
using Lb.Lb.Tests.Hosting;
using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.Metrics;

/// <summary>
/// The metrics of the real <c>lb</c> against the real kernel (inside the tests/kernel VM): traffic from a client through
/// a direct-routing service, then the scraped IPVS counters per service and destination compared with the real
/// <c>ipvsadm -Ln --stats --exact</c> and <c>ipvsadm -Ln</c> read just before and just after the scrape (counters only
/// grow, so two equal reads around it pin the values it must show); the per-real-server check histogram grows; a server
/// whose httpd stops counts one transition down and leaves the kernel's destination series with its IPVS entry.
/// </summary>
[Collection(KernelLabCollection.Name)]
public sealed class MetricsKernelTests(ITestOutputHelper output)
{
    // Liveness bounds, not timing claims: under software emulation .NET start-up alone takes tens of seconds.
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(600);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);
    private const int Port = 9650;
    private const string Vs = "virtual_server=\"[10.0.0.100]:tcp:80\"";

    private const string Config = """
        virtual_server 10.0.0.100 80 {
            delay_loop 1
            lb_algo rr
            lb_kind DR
            protocol TCP
            real_server 10.0.0.11 80 {
                weight 1
                TCP_CHECK {
                    connect_timeout 5
                    retry 0
                }
            }
            real_server 10.0.0.12 80 {
                weight 1
                TCP_CHECK {
                    connect_timeout 5
                    retry 0
                }
            }
        }
        """;

    private static string Rs(string ip) => $"{Vs},real_server=\"[{ip}]:tcp:80\"";

    private static Dictionary<string, double> Scrape(string ns)
    {
        var response = DaemonLab.Scrape(ns, Port);
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", response, StringComparison.Ordinal);
        return DaemonTests.ParseExposition(response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]);
    }

    /// <summary>
    /// ipvsadm's view, as the metric keys it must equal: <c>--stats --exact</c> (Conns InPkts OutPkts InBytes OutBytes) for
    /// the service and each destination, and the plain listing (Weight ActiveConn InActConn) for each destination.
    /// </summary>
    private static SortedDictionary<string, double> Ipvsadm(NetnsLab lab, string ns)
    {
        var view = new SortedDictionary<string, double>(StringComparer.Ordinal);
        static double N(string s) => double.Parse(s, CultureInfo.InvariantCulture);
        string? service = null;
        foreach (var line in lab.Exec(ns, "ipvsadm", "-Ln", "--stats", "--exact").Split('\n'))
        {
            var p = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (p.Length == 7 && p[0] == "TCP")
            {
                service = p[1] == "10.0.0.100:80" ? Vs : null;
                if (service is null)
                    continue;
                view[$"lb_ipvs_service_connections_total{{{service}}}"] = N(p[2]);
                view[$"lb_ipvs_service_packets_total{{{service},direction=\"in\"}}"] = N(p[3]);
                view[$"lb_ipvs_service_packets_total{{{service},direction=\"out\"}}"] = N(p[4]);
                view[$"lb_ipvs_service_bytes_total{{{service},direction=\"in\"}}"] = N(p[5]);
                view[$"lb_ipvs_service_bytes_total{{{service},direction=\"out\"}}"] = N(p[6]);
            }
            else if (p.Length == 7 && p[0] == "->" && service is not null)
            {
                var d = Rs(p[1].Split(':')[0]);
                view[$"lb_ipvs_destination_connections_total{{{d}}}"] = N(p[2]);
                view[$"lb_ipvs_destination_packets_total{{{d},direction=\"in\"}}"] = N(p[3]);
                view[$"lb_ipvs_destination_packets_total{{{d},direction=\"out\"}}"] = N(p[4]);
                view[$"lb_ipvs_destination_bytes_total{{{d},direction=\"in\"}}"] = N(p[5]);
                view[$"lb_ipvs_destination_bytes_total{{{d},direction=\"out\"}}"] = N(p[6]);
            }
        }
        foreach (var line in lab.Exec(ns, "ipvsadm", "-Ln").Split('\n'))
        {
            var p = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (p.Length == 6 && p[0] == "->" && p[1] != "RemoteAddress:Port")
            {
                var d = Rs(p[1].Split(':')[0]);
                view[$"lb_ipvs_destination_weight{{{d}}}"] = N(p[3]);
                view[$"lb_ipvs_destination_active_connections{{{d}}}"] = N(p[4]);
                view[$"lb_ipvs_destination_inactive_connections{{{d}}}"] = N(p[5]);
            }
        }
        return view;
    }

    [KernelFact]
    public void Scraped_ipvs_counters_equal_ipvsadm_and_check_histograms_grow()
    {
        using var lab = new DrLab();
        var dir = lab.Dir1;
        // The director owns the VIP (no VRRP here): clients' packets reach its IPVS, which routes them to the real servers.
        lab.Lab.Exec(dir, "ip", "addr", "add", DrLab.Vip + "/24", "dev", "eth0");
        var sockets = Directory.CreateTempSubdirectory("lb-metrics-").FullName;
        var lb = lab.Lab.StartLb(dir, "lb", "-n", "-l", "-C", "-f", lab.Lab.WriteFile("lb.conf", Config),
            "--journal", Path.Combine(lab.Lab.Directory, "journal.jsonl"), "--socket", Path.Combine(sockets, "lb.sock"), "--metrics", $"127.0.0.1:{Port}");
        try
        {
            string[] both = ["-A -t 10.0.0.100:80 -s rr", "-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1", "-a -t 10.0.0.100:80 -r 10.0.0.12:80 -g -w 1"];
            Assert.True(NetnsLab.WaitFor(() => lab.Table(dir).Order(StringComparer.Ordinal).SequenceEqual(both.Order(StringComparer.Ordinal)), StartBound), "table never settled: " + string.Join(" | ", lab.Table(dir)));
            var web1Count = $"lb_real_server_check_duration_seconds_count{{{Rs("10.0.0.11")},kind=\"TCP_CHECK\"}}";
            Dictionary<string, double> first = [];
            Assert.True(NetnsLab.WaitFor(() => (first = Scrape(dir)).ContainsKey(web1Count), Bound), "no per-server check histogram");

            // Traffic: every request answered, by both web servers.
            var by = lab.Requests(10);
            output.WriteLine("answered by: " + string.Join(", ", by));
            Assert.DoesNotContain("(no answer)", by);
            Assert.Contains("web1", by);
            Assert.Contains("web2", by);
            var conns = lab.SettledConnections(dir);
            Assert.True(conns >= 10, $"ipvsadm counted {conns} connections");

            // ipvsadm before and after the scrape agree: the scrape, between them, must show exactly those values.
            SortedDictionary<string, double> oracle = [];
            Dictionary<string, double> scraped = [];
            Assert.True(NetnsLab.WaitFor(() =>
            {
                var before = Ipvsadm(lab.Lab, dir);
                scraped = Scrape(dir);
                oracle = Ipvsadm(lab.Lab, dir);
                return before.SequenceEqual(oracle);
            }, Bound), "ipvsadm's counters never held still around a scrape");
            output.WriteLine("ipvsadm:\n" + string.Join('\n', oracle.Select(kv => $"{kv.Key} {kv.Value}")));
            Assert.Equal(21, oracle.Count); // 5 service samples + 2 × (5 counters + weight, active, inactive): the parse found everything
            foreach (var (key, value) in oracle)
            {
                Assert.True(scraped.TryGetValue(key, out var got), $"scrape lacks {key}");
                Assert.True(value == got, $"{key}: scraped {got}, ipvsadm {value}");
            }
            Assert.Equal(1, scraped["lb_ipvs_stats_scrape_success"]);
            Assert.Equal(0, scraped["lb_ipvs_stats_scrape_errors_total"]);
            Assert.True(scraped[$"lb_ipvs_destination_connections_total{{{Rs("10.0.0.11")}}}"] > 0);
            Assert.True(scraped[$"lb_ipvs_destination_packets_total{{{Rs("10.0.0.12")},direction=\"in\"}}"] > 0);

            // The per-server histogram keeps counting rounds; the last round succeeded and has a time.
            Assert.True(NetnsLab.WaitFor(() => Scrape(dir)[web1Count] > first[web1Count], Bound), "the check histogram did not grow");
            Assert.Equal(1, scraped[$"lb_real_server_last_check_success{{{Rs("10.0.0.11")},kind=\"TCP_CHECK\",checker=\"0\"}}"]);
            Assert.True(scraped[$"lb_real_server_last_check_timestamp_seconds{{{Rs("10.0.0.11")},kind=\"TCP_CHECK\",checker=\"0\"}}"] >= scraped["lb_start_time_seconds"]);

            // web2's httpd stops: it leaves the kernel's table, the scrape counts one transition down and shows no
            // destination series for it any more (read from the kernel, not from the configuration).
            lab.StopHttpd("web2");
            Assert.True(NetnsLab.WaitFor(() => lab.Table(dir).Order(StringComparer.Ordinal).SequenceEqual(both[..2].Order(StringComparer.Ordinal)), Bound), "web2 stayed in the table: " + string.Join(" | ", lab.Table(dir)));
            Dictionary<string, double> after = [];
            Assert.True(NetnsLab.WaitFor(() => (after = Scrape(dir))[$"lb_real_server_transitions_total{{{Rs("10.0.0.12")},to=\"down\"}}"] == 1, Bound),
                "no transition down counted for web2");
            Assert.Equal(0, after[$"lb_real_server_up{{{Rs("10.0.0.12")}}}"]);
            Assert.Equal(0, after[$"lb_real_server_check_up{{{Rs("10.0.0.12")},kind=\"TCP_CHECK\",checker=\"0\"}}"]);
            Assert.DoesNotContain(after.Keys, k => k.StartsWith("lb_ipvs_destination_", StringComparison.Ordinal) && k.Contains("10.0.0.12", StringComparison.Ordinal));
            Assert.Contains($"lb_ipvs_destination_weight{{{Rs("10.0.0.11")}}}", after.Keys);

            var sample = DaemonLab.Scrape(dir, Port);
            output.WriteLine("----- /metrics\n" + sample[(sample.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]);
        }
        finally
        {
            try
            {
                output.WriteLine(lab.Lab.Exec(dir, "ipvsadm", "-Ln", "--stats", "--exact"));
            }
            catch (InvalidOperationException e)
            {
                output.WriteLine(e.Message);
            }
            output.WriteLine("----- lb\n" + lb.Output);
            Directory.Delete(sockets, true);
        }
    }
}
