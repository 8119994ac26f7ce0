using Lb.Lb.Tests.EndToEnd;
using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.Hosting;

/// <summary>
/// The checker side of `lb status` and the metrics against the real kernel's IPVS (inside the tests/kernel VM): what the
/// status says about real servers is what `ipvsadm -Sn` shows, and the metrics agree with the status.
/// </summary>
[Collection(KernelLabCollection.Name)]
public sealed class DaemonCheckerKernelTests(ITestOutputHelper output)
{
    // Liveness bounds, not timing claims: under software emulation .NET start-up alone takes tens of seconds.
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(300);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private const string Config = """
        virtual_server 10.0.0.100 80 {
            delay_loop 1
            lb_algo wrr
            lb_kind DR
            protocol TCP
            quorum 2
            real_server 10.0.0.11 80 {
                weight 3
                TCP_CHECK {
                    connect_timeout 1
                    retry 0
                }
            }
            real_server 10.0.0.12 80 {
                weight 2
                TCP_CHECK {
                    connect_timeout 1
                    retry 0
                }
            }
        }
        """;

    [KernelFact]
    public void Status_and_metrics_show_real_servers_as_ipvsadm_does()
    {
        using var lab = new DaemonLab();
        var director = lab.Lab.AddHost("dir", "10.0.0.2/24");
        var rs1 = lab.Lab.AddHost("rs1", "10.0.0.11/24");
        lab.Lab.AddHost("rs2", "10.0.0.12/24");
        var root = Path.Combine(lab.Dir, "www");
        Directory.CreateDirectory(root);
        lab.Lab.Start(rs1, "web1", "busybox", "httpd", "-f", "-p", "10.0.0.11:80", "-h", root);
        var lb = lab.StartLb(director, "lb", null, "-n", "-l", "-C", "-f", lab.Lab.WriteFile("lb.conf", Config),
            "--journal", Path.Combine(lab.Dir, "j.jsonl"), "-p", lab.PidFile("lb"), "--metrics", "127.0.0.1:9650");
        try
        {
            string[] Table() => lab.Lab.Exec(director, "ipvsadm", "-Sn").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()).ToArray();
            Assert.True(NetnsLab.WaitFor(() => Table().SequenceEqual(["-A -t 10.0.0.100:80 -s wrr", "-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 3"]), StartBound),
                "table never settled: " + string.Join(" | ", Table()));
            var status = lab.WaitStatus("lb", s => s.VirtualServers.Count == 1 && s.VirtualServers[0].RealServers.All(r => r.Checkers.All(c => c.HasRun)), lb);
            var vs = status.VirtualServers.Single();
            Assert.Equal("[10.0.0.100]:tcp:80", vs.Name);
            Assert.Equal(3, vs.LiveWeight);
            Assert.True(vs.QuorumUp);
            Assert.True(vs.RealServers.Single(r => r.Name == "[10.0.0.11]:tcp:80").Up);
            Assert.False(vs.RealServers.Single(r => r.Name == "[10.0.0.12]:tcp:80").Up);
            Assert.True(status.Ipvs.Operations >= 2);
            Assert.Equal(0, status.Ipvs.Errors);

            Assert.True(NetnsLab.WaitFor(() => DaemonLab.Scrape(director, 9650).Contains("lb_check_duration_seconds_count", StringComparison.Ordinal), Bound), "no timed check round");
            var response = DaemonLab.Scrape(director, 9650);
            var samples = DaemonTests.ParseExposition(response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]);
            Assert.Equal(1, samples["lb_real_server_up{virtual_server=\"[10.0.0.100]:tcp:80\",real_server=\"[10.0.0.11]:tcp:80\"}"]);
            Assert.Equal(0, samples["lb_real_server_up{virtual_server=\"[10.0.0.100]:tcp:80\",real_server=\"[10.0.0.12]:tcp:80\"}"]);
            Assert.Equal(1, samples["lb_virtual_server_quorum_up{virtual_server=\"[10.0.0.100]:tcp:80\"}"]);
            Assert.True(samples["lb_ipvs_operations_total"] >= status.Ipvs.Operations);
            Assert.True(samples["lb_checks_total{kind=\"TCP_CHECK\",result=\"success\"}"] >= 1);
            Assert.True(samples["lb_checks_total{kind=\"TCP_CHECK\",result=\"failure\"}"] >= 1);
            Assert.True(samples["lb_check_duration_seconds_count{kind=\"TCP_CHECK\"}"] >= 1);

            var (code, text, err) = DaemonLab.RunLb("status", "-p", lab.PidFile("lb"));
            Assert.True(code == 0, err);
            output.WriteLine(text);
            Assert.Matches(@"\[10\.0\.0\.12\]:tcp:80\s+DOWN", text);
        }
        finally
        {
            output.WriteLine(lb.Output);
        }
    }

    [KernelFact]
    public void Ha_suspend_skips_checks_until_the_virtual_address_is_local()
    {
        using var lab = new DaemonLab();
        var director = lab.Lab.AddHost("dir", "10.0.0.2/24");
        var rs1 = lab.Lab.AddHost("rs1", "10.0.0.11/24");
        var root = Path.Combine(lab.Dir, "www");
        Directory.CreateDirectory(root);
        lab.Lab.Start(rs1, "web1", "busybox", "httpd", "-f", "-p", "10.0.0.11:80", "-h", root);
        const string config = """
            virtual_server 10.0.0.100 80 {
                delay_loop 1
                lb_algo rr
                lb_kind DR
                protocol TCP
                ha_suspend
                real_server 10.0.0.11 80 {
                    weight 1
                    TCP_CHECK {
                        connect_timeout 1
                        retry 0
                    }
                }
            }
            """;
        var lb = lab.StartLb(director, "lb", null, "-n", "-l", "-C", "-f", lab.Lab.WriteFile("lb.conf", config),
            "--journal", Path.Combine(lab.Dir, "j.jsonl"), "-p", lab.PidFile("lb"));
        try
        {
            lab.WaitStatus("lb", s => s.VirtualServers.Count == 1, lb);
            // Several delay_loops with the VIP absent: the checker never runs. The sleep is the observation window of that
            // negative claim, not synchronisation: 5 s is five delay_loops (1 s), so a checker that ignored the missing VIP
            // would have run inside it.
            Thread.Sleep(TimeSpan.FromSeconds(5));
            var suspended = lab.WaitStatus("lb", s => s.VirtualServers.Count == 1, lb);
            Assert.False(suspended.VirtualServers[0].RealServers[0].Checkers[0].HasRun, "checked while the VIP was not local");

            lab.Lab.Exec(director, "ip", "addr", "add", "10.0.0.100/32", "dev", "lo");
            var resumed = lab.WaitStatus("lb", s => s.VirtualServers[0].RealServers[0].Checkers[0].HasRun && s.VirtualServers[0].RealServers[0].Up, lb);
            Assert.True(resumed.VirtualServers[0].QuorumUp);
        }
        finally
        {
            output.WriteLine(lb.Output);
        }
    }
}
