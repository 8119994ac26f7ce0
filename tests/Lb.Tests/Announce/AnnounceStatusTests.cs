using Lb.Lb.Tests.Metrics;
using Lb.Metrics;
using Lb.Status;
using Xunit;

namespace Lb.Lb.Tests.Announce;

/// <summary>The announced VIPs in <c>lb status</c> (text and JSON) and in the metrics.</summary>
public sealed class AnnounceStatusTests
{
    private static StatusReport Report(bool maintenance = false) => MetricsFixture.Report() with
    {
        Announce = new AnnounceReport(200, maintenance,
        [
            new AnnouncedVipReport("10.0.0.100", "announced", "quorum up", DateTimeOffset.UnixEpoch, ["10.0.0.100:80"], true, 2, 1, null),
            new AnnouncedVipReport("10.0.0.101", "withdrawn", "quorum down: 10.0.0.101:80", DateTimeOffset.UnixEpoch, ["10.0.0.101:80"], false, 1, 1, null),
        ]),
    };

    [Fact]
    public void Status_text_has_a_line_per_vip()
    {
        var text = StatusText.Tables(Report());
        Assert.Contains("\nAnnounced VIPs:\n  10.0.0.100  announced  (table 200)\n  10.0.0.101  withdrawn  quorum down: 10.0.0.101:80\n", text, StringComparison.Ordinal);
        Assert.Contains("Announced VIPs: (announce maintenance", StatusText.Tables(Report(maintenance: true)), StringComparison.Ordinal);
        Assert.DoesNotContain("Announced VIPs", StatusText.Tables(MetricsFixture.Report()), StringComparison.Ordinal);
    }

    [Fact]
    public void Status_json_carries_the_announce_section()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(Report(), StatusJsonContext.Default.StatusReport);
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var a = doc.RootElement.GetProperty("announce");
        Assert.Equal(200, a.GetProperty("table").GetInt32());
        var vip = a.GetProperty("vips")[1];
        Assert.Equal(("10.0.0.101", "withdrawn", "quorum down: 10.0.0.101:80"),
            (vip.GetProperty("vip").GetString(), vip.GetProperty("state").GetString(), vip.GetProperty("reason").GetString()));
    }

    [Fact]
    public void Metrics_export_state_and_transitions_per_vip()
    {
        var text = MetricsText.Render(Report(), null);
        Assert.Contains("# TYPE lb_announce_state gauge\n", text, StringComparison.Ordinal);
        Assert.Contains("lb_announce_state{vip=\"10.0.0.100\"} 1\nlb_announce_state{vip=\"10.0.0.101\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE lb_announce_transitions_total counter\n", text, StringComparison.Ordinal);
        Assert.Contains("lb_announce_transitions_total{vip=\"10.0.0.100\",to=\"announced\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("lb_announce_transitions_total{vip=\"10.0.0.101\",to=\"withdrawn\"} 1\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("lb_announce", MetricsText.Render(MetricsFixture.Report(), null), StringComparison.Ordinal);
    }
}
