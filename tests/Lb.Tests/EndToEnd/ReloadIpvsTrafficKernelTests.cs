using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>
/// What a reload sends to the kernel, through the binary against the real kernel's IPVS (inside the tests/kernel VM): lb
/// runs a 20 × 10 table without checkers; a SIGHUP that changes a few weights must send exactly those destination edits,
/// and nothing else that writes (no service or destination re-added, edited or deleted). The oracles are independent of lb:
/// an <c>nlmon</c> netlink monitor device in the director's namespace captured with <c>tcpdump</c> (every generic-netlink
/// request of the IPVS family counted by command), and <c>ipvsadm -Sn</c> for the table.
/// </summary>
[Collection(KernelLabCollection.Name)]
public sealed partial class ReloadIpvsTrafficKernelTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(600);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(180);

    private const int Services = 20;
    private const int PerService = 10;

    // linux/ip_vs.h, linux/netlink.h, linux/if_ether.h (the pcap link type of an nlmon device).
    private const byte IPVS_CMD_NEW_SERVICE = 1;
    private const byte IPVS_CMD_SET_SERVICE = 2;
    private const byte IPVS_CMD_DEL_SERVICE = 3;
    private const byte IPVS_CMD_NEW_DEST = 5;
    private const byte IPVS_CMD_SET_DEST = 6;
    private const byte IPVS_CMD_DEL_DEST = 7;
    private const byte IPVS_CMD_FLUSH = 17;
    private const ushort NLM_F_REQUEST = 1;
    private const ushort NETLINK_GENERIC = 16;
    private const uint LINKTYPE_NETLINK = 253;

    /// <summary>The configuration with <paramref name="weight"/> giving each real server's weight.</summary>
    private static string Config(Func<int, int, int> weight)
    {
        var sb = new StringBuilder("global_defs {\n    router_id director\n}\n");
        for (var s = 1; s <= Services; s++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"virtual_server 10.0.1.{s} 80 {{\n    lb_algo wrr\n    lb_kind DR\n    protocol TCP\n");
            for (var r = 1; r <= PerService; r++)
                sb.Append(CultureInfo.InvariantCulture, $"    real_server 10.1.{s}.{r} 80 {{\n        weight {weight(s, r)}\n    }}\n");
            sb.Append("}\n");
        }
        return sb.ToString();
    }

    private static List<string> Table(Func<int, int, int> weight)
    {
        var lines = new List<string>();
        for (var s = 1; s <= Services; s++)
        {
            lines.Add($"-A -t 10.0.1.{s}:80 -s wrr");
            for (var r = 1; r <= PerService; r++)
                lines.Add($"-a -t 10.0.1.{s}:80 -r 10.1.{s}.{r}:80 -g -w {weight(s, r)}");
        }
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static List<string> Read(NetnsLab lab, string ns)
    {
        var lines = lab.Exec(ns, "ipvsadm", "-Sn").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()).ToList();
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    [KernelFact]
    public void A_reload_changing_two_of_two_hundred_weights_sends_only_those_two_edits()
    {
        static int Before(int s, int r) => 1 + ((s + r) % 3);
        // 1 % of the 200 weights: two real servers in two services.
        static int After(int s, int r) => (s, r) is (3, 4) or (17, 9) ? 50 : Before(s, r);

        using var lab = new NetnsLab();
        var director = lab.AddHost("dir", "10.0.0.2/24");
        var config = lab.WriteFile("lb.conf", Config(Before));
        var lb = lab.StartLb(director, "lb", ["-C", "-n", "-l", "-f", config, "--journal", Path.Combine(lab.Directory, "journal.jsonl"),
            "--socket", Path.Combine(lab.Directory, "lb.sock")]);
        RunningProcess? capture = null;
        try
        {
            var before = Table(Before);
            Assert.True(NetnsLab.WaitFor(() => Read(lab, director).SequenceEqual(before), StartBound), "lb did not build the table: " + Read(lab, director).Count + " lines");

            var requests = ReloadCaptured(lab, director, lb, config, Config(After), ref capture);
            var after = Table(After);
            Assert.True(NetnsLab.WaitFor(() => Read(lab, director).SequenceEqual(after), Bound), "the reload did not reach the kernel: " + string.Join(" | ", Read(lab, director).Except(after)));

            var writes = requests.Where(k => k.Key is IPVS_CMD_NEW_SERVICE or IPVS_CMD_SET_SERVICE or IPVS_CMD_DEL_SERVICE
                or IPVS_CMD_NEW_DEST or IPVS_CMD_SET_DEST or IPVS_CMD_DEL_DEST or IPVS_CMD_FLUSH).ToDictionary(k => k.Key, k => k.Value);
            Assert.Equal(new Dictionary<byte, int> { [IPVS_CMD_SET_DEST] = 2 }, writes);
            Assert.Equal(after, Read(lab, director));
        }
        finally
        {
            if (capture is { HasExited: false })
                capture.Kill();
            capture?.Dispose();
            output.WriteLine(lb.Output);
        }
    }

    /// <summary>
    /// The reload is a diff against the table lb last applied, not against a dump: after two destinations are removed
    /// behind lb's back (ipvsadm -d), a SIGHUP changing two weights — one of them on a removed destination — sends exactly
    /// the two edits (the one that meets the missing destination re-sent as an add) and reads nothing from the kernel
    /// (no IPVS_CMD_GET_* request while nothing else runs in the namespace). As keepalived's reload, which works from its
    /// own state, the destination removed behind its back whose configuration did not change is not re-added.
    /// </summary>
    [KernelFact]
    public void A_reload_after_an_out_of_band_removal_sends_only_the_changes_and_reads_nothing_back()
    {
        static int Before(int s, int r) => 1 + ((s + r) % 3);
        static int After(int s, int r) => (s, r) is (3, 4) or (17, 9) ? 50 : Before(s, r);

        using var lab = new NetnsLab();
        var director = lab.AddHost("dir", "10.0.0.2/24");
        var config = lab.WriteFile("lb.conf", Config(Before));
        var lb = lab.StartLb(director, "lb", ["-C", "-n", "-l", "-f", config, "--journal", Path.Combine(lab.Directory, "journal.jsonl"),
            "--socket", Path.Combine(lab.Directory, "lb.sock")]);
        RunningProcess? capture = null;
        try
        {
            var before = Table(Before);
            Assert.True(NetnsLab.WaitFor(() => Read(lab, director).SequenceEqual(before), StartBound), "lb did not build the table: " + Read(lab, director).Count + " lines");
            // Behind lb's back: 10.1.5.5 keeps its weight in the new configuration, 10.1.3.4 gets a new one.
            lab.Exec(director, "ipvsadm", "-d", "-t", "10.0.1.5:80", "-r", "10.1.5.5:80");
            lab.Exec(director, "ipvsadm", "-d", "-t", "10.0.1.3:80", "-r", "10.1.3.4:80");

            // Nothing else talks to IPVS in the namespace until the capture stops: every IPVS request in it is lb's.
            var requests = ReloadCaptured(lab, director, lb, config, Config(After), ref capture);

            Assert.Equal(new Dictionary<byte, int> { [IPVS_CMD_SET_DEST] = 2, [IPVS_CMD_NEW_DEST] = 1 }, requests);
            var after = Table(After).Where(l => l != "-a -t 10.0.1.5:80 -r 10.1.5.5:80 -g -w " + After(5, 5).ToString(CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(Table(After).Count - 1, after.Count);
            Assert.Equal(after, Read(lab, director));
        }
        finally
        {
            if (capture is { HasExited: false })
                capture.Kill();
            capture?.Dispose();
            output.WriteLine(lb.Output);
        }
    }

    /// <summary>
    /// Writes <paramref name="text"/> to <paramref name="config"/> and sends lb SIGHUP while an <c>nlmon</c> monitor in
    /// <paramref name="ns"/> captures every netlink message; returns lb's IPVS requests by command. A marker after lb's
    /// requests (a generic-netlink controller request, not IPVS) is waited for in the capture file before tcpdump stops:
    /// once the file holds it, it holds everything lb sent before it.
    /// </summary>
    private Dictionary<byte, int> ReloadCaptured(NetnsLab lab, string ns, RunningProcess lb, string config, string text, ref RunningProcess? capture)
    {
        var family = FamilyId(lab.Exec(ns, "genl", "ctrl", "get", "name", "IPVS"));
        lab.Exec(ns, "ip", "link", "add", "nlmon0", "type", "nlmon");
        lab.Exec(ns, "ip", "link", "set", "nlmon0", "up");
        var pcap = Path.Combine(lab.Directory, "reload.pcap");
        capture = lab.Start(ns, "tcpdump", "tcpdump", "-i", "nlmon0", "--immediate-mode", "-U", "-s", "0", "-B", "8192", "-w", pcap);
        Assert.True(capture.WaitForOutput("listening on nlmon0", Bound), "tcpdump did not start: " + capture.Output);

        File.WriteAllText(config, text);
        lb.Signal("HUP");
        Assert.True(lb.WaitForOutput("Checker configuration reloaded", Bound), "lb did not finish the reload");
        lab.Exec(ns, "genl", "ctrl", "get", "name", "IPVS");
        Assert.True(NetnsLab.WaitFor(() => ControllerRequests(pcap) > 0, Bound), "the capture never showed the marker request");
        capture.Signal("INT");
        Assert.True(capture.WaitForExit(Bound), "tcpdump did not stop");
        var requests = IpvsRequests(File.ReadAllBytes(pcap), family);
        output.WriteLine("IPVS requests by command: " + string.Join(", ", requests.OrderBy(k => k.Key).Select(k => $"{k.Key}={k.Value}")));
        return requests;
    }

    /// <summary>
    /// Generic-netlink controller requests (nlmsg_type GENL_ID_CTRL = 0x10) in a capture file still being written: complete
    /// packets only, a torn last one ignored.
    /// </summary>
    private static int ControllerRequests(string pcap)
    {
        byte[] bytes;
        try
        {
            using var f = new FileStream(pcap, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var m = new MemoryStream();
            f.CopyTo(m);
            bytes = m.ToArray();
        }
        catch (IOException)
        {
            return 0;
        }
        var count = 0;
        var offset = 24;
        while (offset + 16 <= bytes.Length)
        {
            var captured = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 8));
            if (offset + 16 + captured > bytes.Length)
                break;
            var packet = bytes.AsSpan(offset + 16, captured);
            offset += 16 + captured;
            if (packet.Length >= 16 + 20 && BinaryPrimitives.ReadUInt16BigEndian(packet[14..]) == NETLINK_GENERIC
                && BinaryPrimitives.ReadUInt16LittleEndian(packet[(16 + 4)..]) == 0x10
                && (BinaryPrimitives.ReadUInt16LittleEndian(packet[(16 + 6)..]) & NLM_F_REQUEST) != 0)
                count++;
        }
        return count;
    }

    /// <summary>The IPVS family's id from <c>genl ctrl get name IPVS</c> ("Name: IPVS … ID: 0x1c …").</summary>
    private static ushort FamilyId(string genl)
    {
        var m = FamilyIdPattern().Match(genl);
        Assert.True(m.Success, "no family id in: " + genl);
        return ushort.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"ID:\s*0x([0-9a-fA-F]+)")]
    private static partial Regex FamilyIdPattern();

    /// <summary>
    /// Counts, by generic-netlink command, the requests (NLM_F_REQUEST) to <paramref name="family"/> in a pcap of an nlmon
    /// device: link type NETLINK, each packet a 16-byte cooked header (netlink protocol in its last two bytes, network
    /// order) followed by one or more netlink messages (host order), each a 16-byte nlmsghdr then the 4-byte genlmsghdr.
    /// </summary>
    private static Dictionary<byte, int> IpvsRequests(byte[] pcap, ushort family)
    {
        var magic = BinaryPrimitives.ReadUInt32LittleEndian(pcap);
        Assert.True(magic is 0xa1b2c3d4 or 0xa1b23c4d, $"not a little-endian pcap file (magic {magic:x8})");
        Assert.Equal(LINKTYPE_NETLINK, BinaryPrimitives.ReadUInt32LittleEndian(pcap.AsSpan(20)));
        var counts = new Dictionary<byte, int>();
        var offset = 24;
        while (offset + 16 <= pcap.Length)
        {
            var captured = (int)BinaryPrimitives.ReadUInt32LittleEndian(pcap.AsSpan(offset + 8));
            var original = (int)BinaryPrimitives.ReadUInt32LittleEndian(pcap.AsSpan(offset + 12));
            Assert.True(captured == original, $"a netlink packet was truncated in the capture ({captured} of {original} bytes)");
            var packet = pcap.AsSpan(offset + 16, captured);
            offset += 16 + captured;
            if (packet.Length < 16 || BinaryPrimitives.ReadUInt16BigEndian(packet[14..]) != NETLINK_GENERIC)
                continue;
            var messages = packet[16..];
            while (messages.Length >= 20)
            {
                var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(messages);
                if (length < 16 || length > messages.Length)
                    break;
                var type = BinaryPrimitives.ReadUInt16LittleEndian(messages[4..]);
                var flags = BinaryPrimitives.ReadUInt16LittleEndian(messages[6..]);
                if (type == family && (flags & NLM_F_REQUEST) != 0)
                {
                    var command = messages[16];
                    counts[command] = counts.GetValueOrDefault(command) + 1;
                }
                var aligned = (length + 3) & ~3;
                if (aligned >= messages.Length)
                    break;
                messages = messages[aligned..];
            }
        }
        return counts;
    }
}
