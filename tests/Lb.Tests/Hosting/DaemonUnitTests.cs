using System.Net.Sockets;
using System.Text.Json;
using Lb.Hosting;
using Lb.Metrics;
using Lb.Status;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Lb.Lb.Tests.Hosting;

/// <summary>The daemon's pieces without root: flags, the status server against a fixed report, the metrics text.</summary>
public sealed class DaemonUnitTests
{
    internal static StatusReport Report(string state = "MASTER") => new()
    {
        Daemon = new DaemonInfo(42, "0.1.0", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(90), "/etc/keepalived/keepalived.conf", null, true, true),
        VrrpInstances =
        [
            new VrrpInstanceReport
            {
                Name = "VI_\"1\"", State = state, BasePriority = 100, EffectivePriority = 90, VirtualRouterId = 51, Version = 2, Interface = "eth0",
                VirtualAddresses = ["10.0.0.100/24"], VipsSet = state == "MASTER", LastReason = "init", Transitions = 2, AdvertsSent = 7, AdvertsReceived = 3,
                AdvertsDropped = new Dictionary<string, long> { ["BadTtl"] = 4 },
            },
        ],
        SyncGroups = [],
        UnattributedDrops = new Dictionary<string, long> { ["UnknownVrid"] = 1 },
        VirtualServers =
        [
            new VirtualServerReport
            {
                Name = "[10.0.0.100]:tcp:80", QuorumUp = true, LiveWeight = 1, SorryServerActive = false,
                RealServers =
                [
                    new RealServerReport { Name = "[10.0.0.2]:tcp:80", Up = true, InIpvs = true, Weight = 1, LastReason = "ok", Checkers = [new CheckerReport("HTTP_GET", true, true, null, "ok", 3, 0)] },
                    new RealServerReport { Name = "[10.0.0.3]:tcp:80", Up = false, InIpvs = false, Weight = 1, LastReason = "connection refused", Checkers = [] },
                ],
            },
        ],
        Ipvs = new IpvsReport(12, 1),
    };

    [Theory]
    [InlineData("127.0.0.1:9650", true)]
    [InlineData("[::1]:9650", true)]
    [InlineData("localhost:9650", true)]
    [InlineData("0.0.0.0:9650", false)]
    [InlineData("10.1.2.3:9650", false)]
    public void Metrics_listen_address_is_loopback_unless_forced(string value, bool accepted)
    {
        if (accepted)
        {
            Assert.Equal(9650, CliOptions.Parse(["--metrics", value]).MetricsListen!.Port);
        }
        else
        {
            var e = Assert.Throws<CliException>(() => CliOptions.Parse(["--metrics", value]));
            Assert.Contains("--metrics-allow-remote", e.Message, StringComparison.Ordinal);
            Assert.NotNull(CliOptions.Parse(["--metrics-allow-remote", "--metrics", value]).MetricsListen);
        }
    }

    [Fact]
    public void Namespace_flag_is_removed_in_every_spelling_for_the_child()
    {
        Assert.Equal(["-n", "-f", "x.conf", "-P"], NamespaceLauncher.StripNamespace(["-n", "-s", "blue", "-f", "x.conf", "--namespace=red", "-P"]));
        Assert.Equal(["-l"], NamespaceLauncher.StripNamespace(["--namespace", "blue", "-l"]));
    }

    [Fact]
    public void Socket_path_follows_the_pid_file_then_the_namespace()
    {
        Assert.Equal("/x/s.sock", StatusServer.DefaultPath("/x/s.sock", "/run/a.pid", "n"));
        Assert.Equal("/run/k/a.sock", StatusServer.DefaultPath(null, "/run/k/a.pid", "n"));
        Assert.Equal("/run/lb/lb-blue.sock", StatusServer.DefaultPath(null, null, "blue"));
        Assert.Equal("/run/lb/lb.sock", StatusServer.DefaultPath(null, null, null));
    }

    [Fact]
    public async Task Status_server_answers_while_clients_stall_and_cuts_the_stalled_ones_off()
    {
        var dir = Directory.CreateTempSubdirectory("lbstatus-");
        var path = Path.Combine(dir.FullName, "s.sock");
        var server = StatusServer.Start(path, () => Report(), NullLogger.Instance, TimeSpan.FromSeconds(1))!;
        try
        {
            Assert.NotNull(server);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            var stalled = Enumerable.Range(0, StatusServer.MaxConcurrentClients - 1).Select(_ =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                s.Connect(new UnixDomainSocketEndPoint(path));
                return s;
            }).ToList();
            var response = await StatusClient.QueryAsync(path, timeout: TimeSpan.FromSeconds(5));
            Assert.True(response.Ok);
            Assert.Equal("MASTER", response.Status!.VrrpInstances.Single().State);
            foreach (var s in stalled)
            {
                s.ReceiveTimeout = 10_000;
                Assert.Equal(0, s.Receive(new byte[8]));
                s.Dispose();
            }
            var bad = await StatusClient.QueryAsync(path, "reboot");
            Assert.False(bad.Ok);
            Assert.Contains("unknown request", bad.Error, StringComparison.Ordinal);

            // A second server on a live socket refuses to take it over; on a stale one (no listener) it does.
            Assert.Null(StatusServer.Start(path, () => Report(), NullLogger.Instance));
        }
        finally
        {
            await server.DisposeAsync();
        }
        Assert.False(File.Exists(path));
        using (var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            stale.Bind(new UnixDomainSocketEndPoint(path));
        var again = StatusServer.Start(path, () => Report(), NullLogger.Instance);
        Assert.NotNull(again);
        await again!.DisposeAsync();
        dir.Delete(true);
    }

    [Fact]
    public void Metrics_text_parses_and_escapes_labels()
    {
        var text = MetricsText.Render(Report(), null);
        var samples = DaemonTests.ParseExposition(text);
        Assert.Equal(1, samples["lb_vrrp_instance_state{instance=\"VI_\\\"1\\\"\",state=\"MASTER\"}"]);
        Assert.Equal(90, samples["lb_vrrp_instance_priority{instance=\"VI_\\\"1\\\"\"}"]);
        Assert.Equal(4, samples["lb_vrrp_adverts_dropped_total{instance=\"VI_\\\"1\\\"\",reason=\"BadTtl\"}"]);
        Assert.Equal(1, samples["lb_vrrp_adverts_dropped_total{instance=\"\",reason=\"UnknownVrid\"}"]);
        Assert.Equal(1, samples["lb_real_server_up{virtual_server=\"[10.0.0.100]:tcp:80\",real_server=\"[10.0.0.2]:tcp:80\"}"]);
        Assert.Equal(0, samples["lb_real_server_up{virtual_server=\"[10.0.0.100]:tcp:80\",real_server=\"[10.0.0.3]:tcp:80\"}"]);
        Assert.Equal(12, samples["lb_ipvs_operations_total"]);
        Assert.Equal(1, samples["lb_ipvs_errors_total"]);
        Assert.DoesNotContain("lb_checker_delay_stretch", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Metrics_text_shows_the_checker_pacing()
    {
        var pacing = new global::Lb.Checkers.Engine.CheckPacerSnapshot(Stretch: 2.25, LagMilliseconds: 1500, InFlight: 7, Waiting: 3, StretchedRounds: 40, IgnoredTimeouts: 5, LateRounds: 60);
        var samples = DaemonTests.ParseExposition(MetricsText.Render(Report(), null, pacing));
        Assert.Equal(2.25, samples["lb_checker_delay_stretch"]);
        Assert.Equal(1.5, samples["lb_checker_lag_seconds"]);
        Assert.Equal(7, samples["lb_checker_rounds_in_flight"]);
        Assert.Equal(60, samples["lb_checker_late_rounds_total"]);
        Assert.Equal(5, samples["lb_checker_timeouts_not_counted_total"]);
    }

    [Fact]
    public void Check_duration_histogram_is_cumulative()
    {
        var h = new CheckStatistics.Histogram();
        h.Observe(0.003);
        h.Observe(0.2);
        h.Observe(100);
        var (cumulative, count, sum) = h.Read();
        Assert.Equal(3, count);
        Assert.Equal(100.203, sum, 3);
        Assert.Equal(1, cumulative[0]);
        Assert.Equal(2, cumulative[Array.IndexOf(CheckStatistics.Buckets, 0.25)]);
        Assert.Equal(2, cumulative[^1]);
    }

    [Fact]
    public void Status_tables_and_dumps_render_the_report()
    {
        var r = Report();
        var tables = StatusText.Tables(r);
        Assert.Contains("up 1m30s", tables, StringComparison.Ordinal);
        Assert.Matches(@"\[10\.0\.0\.3\]:tcp:80\s+DOWN", tables);
        Assert.Contains("Virtual server = [10.0.0.100]:tcp:80", StatusText.Data(r), StringComparison.Ordinal);
        Assert.Contains("HTTP_GET: rounds 3, failures 0", StatusText.Stats(r), StringComparison.Ordinal);
        var json = JsonSerializer.Serialize(r, StatusJsonContext.Default.StatusReport);
        Assert.Contains("\"effective_priority\": 90", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Sd_notify_without_the_variable_is_a_no_op()
    {
        using var n = new SdNotify(null);
        Assert.False(n.Enabled);
        Assert.False(n.Ready("x"));
    }
}
