using Lb.Lb.Tests.Hosting;
using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>
/// Split-brain detection with the real <c>lb</c> binary: two directors in namespaces on the lab's padding switch (a hub
/// that pads short frames to 60 bytes as a NIC does: the 42-byte ARP replies arrive padded), a client namespace capturing
/// with tcpdump. Adverts between the directors are refused (different auth_pass), so both become MASTER while ARP flows.
/// Oracles: <c>lb status</c> (its warning line), the journal file, the metrics endpoint, <c>ip link</c> for the MACs, and
/// tshark on the client's capture (the probes, the padded answers, the GARP burst after the answer).
/// </summary>
public sealed class SplitBrainTests(ITestOutputHelper output)
{
    /// <summary>Liveness bound (not a timing claim): .NET start-up, master-down interval and a few probe intervals on a loaded host.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(Prerequisites.InKernelVm ? 240 : 60);

    private const string Vip = "10.0.0.100";

    private static string Config(string routerId, int priority, string pass) => $$"""
        global_defs {
            router_id {{routerId}}
            vrrp_garp_master_delay 0
        }
        vrrp_instance VI_1 {
            state BACKUP
            interface eth0
            virtual_router_id 51
            priority {{priority}}
            advert_int 1
            authentication {
                auth_type PASS
                auth_pass {{pass}}
            }
            virtual_ipaddress {
                {{Vip}}/24 dev eth0
            }
        }
        """;

    private sealed class Rig : IDisposable
    {
        public Rig(string passB)
        {
            Lab = new NetnsLab(LabWire.PaddingSwitch);
            A = Lab.AddHost("a", "10.0.0.2/24");
            B = Lab.AddHost("b", "10.0.0.3/24");
            C = Lab.AddHost("c", "10.0.0.4/24");
            MacA = Mac(A);
            MacB = Mac(B);
            Pcap = Path.Combine(Lab.Directory, "client.pcap");
            Capture = Lab.Start(C, "tcpdump", "tcpdump", "-Z", "root", "-i", "eth0", "-U", "-n", "-w", Pcap, "arp");
            Assert.True(Capture.WaitForOutput("listening on"), "tcpdump: " + Capture.Output);
            LbA = Start(A, "a", 150, "s3cretA");
            LbB = Start(B, "b", 100, passB);
        }

        public NetnsLab Lab { get; }

        public string A { get; }

        public string B { get; }

        public string C { get; }

        public string MacA { get; }

        public string MacB { get; }

        public string Pcap { get; }

        public RunningProcess Capture { get; }

        public RunningProcess LbA { get; }

        public RunningProcess LbB { get; }

        public string Socket(string name) => Path.Combine(Lab.Directory, name + ".sock");

        public string Journal(string name) => Path.Combine(Lab.Directory, name + ".jsonl");

        private RunningProcess Start(string ns, string name, int priority, string pass) =>
            Lab.StartLb(ns, "lb-" + name, "-n", "-l", "-D", "-P", "-f", Lab.WriteFile(name + ".conf", Config(name, priority, pass)),
                "--journal", Journal(name), "--socket", Socket(name), "--metrics", "127.0.0.1:9650");

        /// <summary>`lb status` through the CLI (stdout), or "" while the daemon does not answer yet.</summary>
        public string Status(string name)
        {
            var (code, stdout, _) = DaemonLab.RunLb("status", "--socket", Socket(name));
            return code == 0 ? stdout : "";
        }

        private string Mac(string ns)
        {
            var o = Lab.Exec(ns, "ip", "-o", "link", "show", "eth0");
            var i = o.IndexOf("link/ether ", StringComparison.Ordinal);
            return o.Substring(i + "link/ether ".Length, 17);
        }

        /// <summary>tshark fields of the client's capture, one line per ARP frame: time|eth.src|opcode|sender ip|target ip|frame length.</summary>
        public string[] Arp()
        {
            return ProcessRunner.Check("tshark", "-r", Pcap, "-T", "fields", "-E", "separator=|", "-Y", "arp",
                "-e", "frame.time_epoch", "-e", "eth.src", "-e", "arp.opcode", "-e", "arp.src.proto_ipv4", "-e", "arp.dst.proto_ipv4", "-e", "frame.len")
                .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }

        public void Dispose() => Lab.Dispose();
    }

    private void Dump(Rig rig)
    {
        output.WriteLine($"----- lb-a\n{rig.LbA.Output}\n----- lb-b\n{rig.LbB.Output}");
        try
        {
            output.WriteLine("----- client capture\n" + string.Join('\n', rig.Arp()));
        }
        catch (Exception e) when (e is InvalidOperationException or IOException)
        {
            output.WriteLine("no capture: " + e.Message);
        }
    }

    private static double Time(string line) => double.Parse(line.Split('|')[0], System.Globalization.CultureInfo.InvariantCulture);

    [RootFact("ip", "tcpdump", "tshark", "python3")]
    public void Two_masters_with_adverts_refused_detect_each_other_and_announce_with_a_garp_burst()
    {
        using var rig = new Rig(passB: "s3cretB");
        try
        {
            // both MASTER: the VIP on both (ip addr is the oracle), since each refuses the other's adverts
            Assert.True(NetnsLab.WaitFor(() => rig.Lab.HasAddress(rig.A, Vip + "/24") && rig.Lab.HasAddress(rig.B, Vip + "/24"), Bound), "not both MASTER");

            // each side: the status warning names the other's MAC
            var warnA = $"WARNING: split brain: VI_1 is MASTER and {Vip} on eth0 answered by {rig.MacB}";
            var warnB = $"WARNING: split brain: VI_1 is MASTER and {Vip} on eth0 answered by {rig.MacA}";
            Assert.True(NetnsLab.WaitFor(() => rig.Status("a").Contains(warnA, StringComparison.Ordinal), Bound), "a never reported the split brain: " + rig.Status("a"));
            Assert.True(NetnsLab.WaitFor(() => rig.Status("b").Contains(warnB, StringComparison.Ordinal), Bound), "b never reported the split brain: " + rig.Status("b"));
            output.WriteLine(rig.Status("a"));

            // journal: one split_brain entry naming the other MAC and the interface
            Assert.True(NetnsLab.WaitFor(() => File.Exists(rig.Journal("a")) && File.ReadAllLines(rig.Journal("a")).Any(l => l.Contains("\"kind\":\"split_brain\"", StringComparison.Ordinal)), Bound));
            var entry = File.ReadAllLines(rig.Journal("a")).Single(l => l.Contains("\"kind\":\"split_brain\"", StringComparison.Ordinal));
            output.WriteLine(entry);
            Assert.Contains(rig.MacB, entry, StringComparison.Ordinal);
            Assert.Contains("on eth0", entry, StringComparison.Ordinal);
            Assert.Contains("\"instance\":\"VI_1\"", entry, StringComparison.Ordinal);

            // the log line
            Assert.True(rig.LbA.WaitForOutput($"(VI_1) SPLIT BRAIN: {Vip} on eth0 is also answered by {rig.MacB}"), rig.LbA.Output);

            // the metric
            var metrics = DaemonLab.Scrape(rig.A, 9650);
            Assert.Contains("lb_vrrp_split_brain_detected_total{instance=\"VI_1\"} 1\n", metrics, StringComparison.Ordinal);
            Assert.Contains("lb_vrrp_split_brain{instance=\"VI_1\"} 1\n", metrics, StringComparison.Ordinal);

            // on the wire (the client's capture): RFC 5227 probes from both, b's answer to a padded to 60 bytes by the
            // switch, and a's gratuitous ARPs after that answer (the burst of the detection: no second start-up burst,
            // vrrp_garp_master_delay 0)
            string[] arp = [];
            Assert.True(NetnsLab.WaitFor(() => IsGarpAfterAnswer(arp = rig.Arp(), rig.MacA, rig.MacB), Bound),
                "no GARP from a after b answered its probe:\n" + string.Join('\n', arp));
            Assert.Contains(arp, l => l.EndsWith($"|{rig.MacA}|1|0.0.0.0|{Vip}|42", StringComparison.Ordinal) || l.EndsWith($"|{rig.MacA}|1|0.0.0.0|{Vip}|60", StringComparison.Ordinal));
            Assert.Contains(arp, l => l.Contains($"|{rig.MacB}|1|0.0.0.0|{Vip}|", StringComparison.Ordinal));
            Assert.Contains(arp, l => l.EndsWith($"|{rig.MacB}|2|{Vip}|0.0.0.0|60", StringComparison.Ordinal));
            Assert.True(rig.Lab.Padding!.Padded(-1, from: "b") > 0, "the switch padded no ARP frame from b");
        }
        finally
        {
            Dump(rig);
        }
    }

    /// <summary>A gratuitous ARP from <paramref name="macA"/> later than the first answer of <paramref name="macB"/> for the VIP.</summary>
    private static bool IsGarpAfterAnswer(string[] arp, string macA, string macB)
    {
        var answer = arp.FirstOrDefault(l => l.Contains($"|{macB}|2|{Vip}|", StringComparison.Ordinal));
        return answer is not null && arp.Any(l => l.Contains($"|{macA}|1|{Vip}|{Vip}|", StringComparison.Ordinal) && Time(l) > Time(answer));
    }

    [RootFact("ip", "tcpdump", "tshark", "python3")]
    public void One_master_and_one_backup_is_no_split_brain()
    {
        using var rig = new Rig(passB: "s3cretA");
        try
        {
            Assert.True(NetnsLab.WaitFor(() => rig.Lab.HasAddress(rig.A, Vip + "/24"), Bound), "a never became MASTER");
            Assert.True(NetnsLab.WaitFor(() => rig.Status("b").Contains(" BACKUP ", StringComparison.Ordinal), Bound), rig.Status("b"));
            // a keeps probing (five probes seen by the client, none answered) and reports nothing
            string[] arp = [];
            Assert.True(NetnsLab.WaitFor(() => (arp = rig.Arp()).Count(l => l.Contains($"|{rig.MacA}|1|0.0.0.0|{Vip}|", StringComparison.Ordinal)) >= 5, Bound),
                "a sent fewer than 5 probes:\n" + string.Join('\n', arp));
            Assert.DoesNotContain(arp, l => l.Contains($"|2|{Vip}|", StringComparison.Ordinal));
            Assert.False(rig.Lab.HasAddress(rig.B, Vip + "/24"));
            Assert.DoesNotContain("split brain", rig.Status("a"), StringComparison.Ordinal);
            Assert.DoesNotContain(File.ReadAllLines(rig.Journal("a")), l => l.Contains("split_brain", StringComparison.Ordinal));
            Assert.Contains("lb_vrrp_split_brain_detected_total{instance=\"VI_1\"} 0\n", DaemonLab.Scrape(rig.A, 9650), StringComparison.Ordinal);
        }
        finally
        {
            Dump(rig);
        }
    }
}
