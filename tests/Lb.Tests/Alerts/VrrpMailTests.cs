using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Lb.Lb.Tests.EndToEnd;
using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.Alerts;

/// <summary>
/// VRRP's alert mail end to end: the real <c>lb</c> (the native build users run) in a network namespace becomes MASTER
/// (oracle: <c>ip addr</c> in the namespace shows the VIP) and mails the test's own SMTP receiver
/// (<see cref="SmtpSink"/>), listening on an interface of the test's namespace plugged into the same switch; then the
/// same with the SMTP port closed: the VIP comes all the same and lb logs keepalived's connection error.
/// </summary>
public sealed class VrrpMailTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(Prerequisites.InKernelVm ? 240 : 90);

    private static string Config(string sinkAddress, int port, string vip) => $$"""
        global_defs {
            router_id alerts_d1
            notification_email {
                ops@example.org
                oncall@example.org
            }
            notification_email_from lb@example.org
            smtp_server {{sinkAddress}} {{port}}
            smtp_helo_name director1
            smtp_connect_timeout 5
            smtp_alert_vrrp
        }
        vrrp_instance VI_1 {
            state BACKUP
            interface eth0
            virtual_router_id 51
            priority 100
            advert_int 1
            virtual_ipaddress {
                {{vip}} dev eth0
            }
        }
        """;

    private (NetnsLab Lab, string Ns, string Sink, string Vip) Lab()
    {
        var lab = new NetnsLab();
        var net = NetnsLab.NextSubnet();
        var ns = lab.AddHost("d1", $"172.29.{net}.2/24");
        lab.AddLocalPort($"alerts{net}", $"172.29.{net}.1/24", "sm");
        return (lab, ns, $"172.29.{net}.1", $"172.29.{net}.100/24");
    }

    [RootFact("ip")]
    public async Task An_instance_becoming_master_mails_keepalived_text_to_every_recipient()
    {
        var (lab, ns, sinkAddress, vip) = Lab();
        using var _ = lab;
        await using var sink = new SmtpSink(IPAddress.Parse(sinkAddress));
        using var lb = lab.StartLb(ns, "lb", "-n", "-l", "-P", "-f", lab.WriteFile("d1.conf", Config(sinkAddress, sink.Port, vip)), "--journal", Path.Combine(lab.Directory, "d1.jsonl"));
        try
        {
            Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(ns, vip), Bound), "no VIP");
            // BACKUP (init) then MASTER: one mail each, in order
            Assert.True(Wait.Until(() => sink.Completed.Count >= 2, Bound), $"{sink.Completed.Count} mails");
            var mails = sink.Completed;
            Expect(mails[0], "[alerts_d1] VRRP Instance VI_1 - Entering BACKUP state", "=> VRRP Instance is no longer owning VRRP VIPs <=");
            Expect(mails[1], "[alerts_d1] VRRP Instance VI_1 - Entering MASTER state", "=> VRRP Instance is now owning VRRP VIPs <=");
            lb.Signal("TERM");
            Assert.True(lb.WaitForExit(Bound), "lb did not stop");
            Assert.True(Wait.Until(() => sink.Completed.Count >= 3, Bound), $"{sink.Completed.Count} mails");
            Expect(sink.Completed[2], "[alerts_d1] VRRP Instance VI_1 - Stopping", "=> VRRP Instance stopping <=");
        }
        finally
        {
            output.WriteLine(lb.Output);
        }
    }

    private static void Expect(SmtpSink.Session s, string subject, string body)
    {
        Assert.Equal(["HELO director1", "MAIL FROM:<lb@example.org>", "RCPT TO:<ops@example.org>", "RCPT TO:<oncall@example.org>", "DATA", "QUIT"], s.Commands);
        var data = s.Data.ToString().Split('\n');
        Assert.Matches(new Regex(@"^Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}$"), data[0]);
        Assert.Equal(["From: lb@example.org", $"Subject: {subject}", "X-Mailer: Keepalived", "To: ops@example.org, oncall@example.org", "", body, "", ""], data[1..]);
    }

    [RootFact("ip")]
    public void A_dead_smtp_server_does_not_keep_the_instance_from_becoming_master_and_is_logged()
    {
        var (lab, ns, sinkAddress, vip) = Lab();
        using var _ = lab;
        const int Closed = 2; // nothing listens on 172.29.x.1:2 (the test's own address): connection refused
        using var lb = lab.StartLb(ns, "lb", "-n", "-l", "-P", "-f", lab.WriteFile("d1.conf", Config(sinkAddress, Closed, vip)), "--journal", Path.Combine(lab.Directory, "d1.jsonl"));
        try
        {
            Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(ns, vip), Bound), "no VIP");
            Assert.True(lb.WaitForOutput("Entering MASTER STATE", Bound));
            Assert.True(lb.WaitForOutput($"SMTP connection ERROR to [{sinkAddress}]:{Closed.ToString(CultureInfo.InvariantCulture)}.", Bound), lb.Output);
        }
        finally
        {
            output.WriteLine(lb.Output);
        }
    }
}
