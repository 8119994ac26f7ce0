using Lb.Lb.Tests.Hosting;
using Lb.Metrics;
using Lb.Netlink.Ipvs;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Lb.Lb.Tests.Metrics;

/// <summary>
/// The per-real-server, IPVS-kernel and VRRP families of the metrics text, line by line for a fixed report, checker
/// statistics and IPVS dump; and the bounded IPVS dump of a scrape (<see cref="IpvsStatsScraper"/>) against fake tables.
/// </summary>
public sealed class MetricsTextTests
{
    private const string L1 = "virtual_server=\"[10.0.0.100]:tcp:80\",real_server=\"[10.0.0.2]:tcp:80\"";
    private const string L2 = "virtual_server=\"[10.0.0.100]:tcp:80\",real_server=\"[10.0.0.3]:tcp:80\"";

    private static string[] Lines(string text) => text.Split('\n');

    [Fact]
    public void Per_real_server_families_render_exact_lines()
    {
        var text = new MetricsFixture().Render();
        DaemonTests.ParseExposition(text); // strict: every line valid, no family or series twice
        var lines = Lines(text);
        string[] expected =
        [
            $"lb_real_server_check_up{{{L1},kind=\"TCP_CHECK\",checker=\"0\"}} 0",
            $"lb_real_server_check_up{{{L1},kind=\"HTTP_GET\",checker=\"1\"}} 1",
            $"lb_real_server_check_up{{{L2},kind=\"TCP_CHECK\",checker=\"0\"}} 0",
            $"lb_real_server_check_failures_total{{{L1},kind=\"TCP_CHECK\",checker=\"0\"}} 1",
            $"lb_real_server_last_check_success{{{L1},kind=\"TCP_CHECK\",checker=\"0\"}} 0",
            $"lb_real_server_last_check_success{{{L1},kind=\"HTTP_GET\",checker=\"1\"}} 1",
            $"lb_real_server_last_check_timestamp_seconds{{{L1},kind=\"TCP_CHECK\",checker=\"0\"}} 1000.5",
            $"lb_real_server_check_duration_seconds_bucket{{{L1},kind=\"TCP_CHECK\",le=\"0.005\"}} 1",
            $"lb_real_server_check_duration_seconds_bucket{{{L1},kind=\"TCP_CHECK\",le=\"0.1\"}} 1",
            $"lb_real_server_check_duration_seconds_bucket{{{L1},kind=\"TCP_CHECK\",le=\"0.25\"}} 2",
            $"lb_real_server_check_duration_seconds_bucket{{{L1},kind=\"TCP_CHECK\",le=\"+Inf\"}} 2",
            $"lb_real_server_check_duration_seconds_sum{{{L1},kind=\"TCP_CHECK\"}} 0.203",
            $"lb_real_server_check_duration_seconds_count{{{L1},kind=\"TCP_CHECK\"}} 2",
            $"lb_real_server_check_duration_seconds_bucket{{{L1},kind=\"HTTP_GET\",le=\"0.025\"}} 1",
            $"lb_real_server_check_duration_seconds_count{{{L1},kind=\"HTTP_GET\"}} 1",
            $"lb_real_server_transitions_total{{{L1},to=\"up\"}} 2",
            $"lb_real_server_transitions_total{{{L1},to=\"down\"}} 1",
            $"lb_real_server_transitions_total{{{L2},to=\"up\"}} 0",
            $"lb_real_server_transitions_total{{{L2},to=\"down\"}} 0",
            "# TYPE lb_real_server_check_duration_seconds histogram",
            // The existing families keep their names and labels.
            $"lb_real_server_up{{{L1}}} 1",
            $"lb_real_server_weight{{{L1}}} 3",
            "lb_check_duration_seconds_count{kind=\"TCP_CHECK\"} 3",
            "lb_checks_total{kind=\"TCP_CHECK\",result=\"failure\"} 1",
        ];
        foreach (var line in expected)
            Assert.Contains(line, lines);
        // Before its first round a checker has no last result and no histogram; a server a reload removed is not shown.
        Assert.DoesNotContain(lines, l => l.StartsWith("lb_real_server_last_check_success{" + L2, StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("lb_real_server_check_duration_seconds_count{" + L2, StringComparison.Ordinal));
        Assert.DoesNotContain("10.0.0.9", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Ipvs_kernel_counters_render_exact_lines_per_service_and_destination()
    {
        var lines = Lines(new MetricsFixture().Render());
        const string S = "virtual_server=\"[10.0.0.100]:tcp:80\"";
        const string D2 = S + ",real_server=\"[10.0.0.2]:tcp:80\"";
        const string D3 = S + ",real_server=\"[10.0.0.3]:tcp:80\"";
        const string F = "virtual_server=\"FWM 1\",real_server=\"[10.0.0.4]:none:80\"";
        string[] expected =
        [
            "lb_ipvs_stats_scrape_success 1",
            "lb_ipvs_stats_scrape_errors_total 2",
            "lb_ipvs_stats_scrape_duration_seconds 0.0015",
            $"lb_ipvs_service_connections_total{{{S}}} 10",
            $"lb_ipvs_service_packets_total{{{S},direction=\"in\"}} 100",
            $"lb_ipvs_service_packets_total{{{S},direction=\"out\"}} 90",
            $"lb_ipvs_service_bytes_total{{{S},direction=\"in\"}} 6000",
            $"lb_ipvs_service_bytes_total{{{S},direction=\"out\"}} 50000",
            "lb_ipvs_service_connections_total{virtual_server=\"FWM 1\"} 1",
            "lb_ipvs_service_connections_total{virtual_server=\"FWM 1 IPv6\"} 0",
            $"lb_ipvs_destination_weight{{{D2}}} 3",
            $"lb_ipvs_destination_weight{{{D3}}} 0",
            $"lb_ipvs_destination_active_connections{{{D2}}} 2",
            $"lb_ipvs_destination_inactive_connections{{{D2}}} 5",
            $"lb_ipvs_destination_persistent_connections{{{D2}}} 1",
            $"lb_ipvs_destination_connections_total{{{D2}}} 7",
            $"lb_ipvs_destination_connections_total{{{D3}}} 3",
            $"lb_ipvs_destination_packets_total{{{D2},direction=\"in\"}} 70",
            $"lb_ipvs_destination_packets_total{{{D2},direction=\"out\"}} 65",
            $"lb_ipvs_destination_bytes_total{{{D2},direction=\"in\"}} 4200",
            $"lb_ipvs_destination_bytes_total{{{D2},direction=\"out\"}} 35000",
            $"lb_ipvs_destination_connections_total{{{F}}} 1",
            "# TYPE lb_ipvs_destination_connections_total counter",
            "# TYPE lb_ipvs_destination_active_connections gauge",
        ];
        foreach (var line in expected)
            Assert.Contains(line, lines);
        // ipvsadm's order: 10.0.0.2 before 10.0.0.3, whatever order the kernel dumped them in.
        Assert.True(Array.IndexOf(lines, $"lb_ipvs_destination_weight{{{D2}}} 3") < Array.IndexOf(lines, $"lb_ipvs_destination_weight{{{D3}}} 0"));
    }

    [Fact]
    public void A_failed_dump_leaves_out_the_ipvs_samples_but_not_the_scrape()
    {
        var text = MetricsText.Render(MetricsFixture.Report(), null, null, new IpvsScrape(null, TimeSpan.FromSeconds(3), 5, "no IPVS dump within 3 s"));
        DaemonTests.ParseExposition(text);
        var lines = Lines(text);
        Assert.Contains("lb_ipvs_stats_scrape_success 0", lines);
        Assert.Contains("lb_ipvs_stats_scrape_errors_total 5", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("lb_ipvs_service_", StringComparison.Ordinal) || l.StartsWith("# TYPE lb_ipvs_service_", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("lb_ipvs_destination_", StringComparison.Ordinal) || l.StartsWith("# TYPE lb_ipvs_destination_", StringComparison.Ordinal));
        Assert.Contains($"lb_real_server_up{{{L1}}} 1", lines);
        // Without the checkers (no scrape at all) there are no IPVS kernel families.
        Assert.DoesNotContain("lb_ipvs_stats_scrape_success", MetricsText.Render(MetricsFixture.Report(), null), StringComparison.Ordinal);
    }

    [Fact]
    public void Vrrp_master_transitions_count_entries_into_master_per_instance()
    {
        var lines = Lines(new MetricsFixture().Render());
        Assert.Contains("lb_vrrp_instance_master_transitions_total{instance=\"VI_1\"} 2", lines);
        Assert.Contains("lb_vrrp_instance_transitions_total{instance=\"VI_1\"} 4", lines);
        Assert.Contains("lb_vrrp_adverts_dropped_total{instance=\"VI_1\",reason=\"BadTtl\"} 4", lines);
    }

    [Fact]
    public async Task A_dump_that_hangs_is_given_up_at_the_bound_counted_and_its_socket_replaced()
    {
        var tables = new List<FakeTable>();
        var behaviours = new Queue<Func<CancellationToken, Task<IpvsTableSnapshot>>>(
        [
            _ => new TaskCompletionSource<IpvsTableSnapshot>().Task, // never answers, ignores its token
            _ => throw new InvalidOperationException("netlink said no"),
            _ => Task.FromResult(MetricsFixture.Scrape().Table!),
            _ => Task.FromResult(new IpvsTableSnapshot([])),
        ]);
        Task<IIpvsTable> Open(CancellationToken ct)
        {
            var t = new FakeTable(behaviours);
            tables.Add(t);
            return Task.FromResult<IIpvsTable>(t);
        }
        await using var scraper = new IpvsStatsScraper(Open, NullLogger.Instance, TimeSpan.FromMilliseconds(200));
        // WaitAsync: a liveness guard for the test itself, not the claim (the claim is that the scrape returns at all).
        var hung = await scraper.ScrapeAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Null(hung.Table);
        Assert.Equal(1, hung.Errors);
        Assert.Equal("no IPVS dump within 0.2 s", hung.Error);
        Assert.True(tables[0].Disposed, "the socket of an abandoned dump is closed");

        var failed = await scraper.ScrapeAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("IPVS dump failed: netlink said no", failed.Error);
        Assert.Equal(2, failed.Errors);
        Assert.True(tables[1].Disposed);

        var ok = await scraper.ScrapeAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.NotNull(ok.Table);
        Assert.Null(ok.Error);
        Assert.Equal(2, ok.Errors);
        var again = await scraper.ScrapeAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(3, tables.Count); // a working socket is kept for the next scrape
        Assert.Equal(2, tables[2].Dumps);
        Assert.Empty(again.Table!.Services);
        Assert.False(tables[2].Disposed);
    }

    /// <summary>An IPVS table whose each dump behaves as the queue's next behaviour says.</summary>
    private sealed class FakeTable(Queue<Func<CancellationToken, Task<IpvsTableSnapshot>>> dumps) : IIpvsTable, IDisposable
    {
        public bool Disposed { get; private set; }

        public int Dumps { get; private set; }

        public Task<IpvsTableSnapshot> DumpAsync(CancellationToken cancellationToken = default)
        {
            Dumps++;
            return dumps.Dequeue()(cancellationToken);
        }

        public Task<IpvsApplyResult> ReconcileAsync(IReadOnlyList<IpvsVirtualServer> desired, IpvsOwnership ownership, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IpvsApplyResult> ApplyAsync(IReadOnlyList<IpvsOperation> operations, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task SetDestinationAsync(IpvsServiceKey service, IpvsDestination destination, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task RemoveDestinationAsync(IpvsServiceKey service, IpvsDestinationKey destination, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task FlushAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<IpvsDestinationStatus>> GetDestinationsAsync(IpvsServiceKey key, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public void Dispose() => Disposed = true;
    }
}
