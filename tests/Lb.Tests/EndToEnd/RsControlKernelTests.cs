using System.Globalization;
using System.Text.Json;
using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>
/// <c>lb rs disable|enable|weight|drain</c> and slow start with the real <c>lb</c> daemon and CLI against the real kernel's
/// IPVS (inside the tests/kernel VM): a direct-routing service 10.0.0.100:8080 on two real servers (python TCP servers that
/// hold connections open), a client holding a TCP connection through the VIP. Oracles: <c>ipvsadm -Sn</c> / <c>-Ln</c>
/// (weights, ActiveConn) in the director's namespace, the journal file, the operator-state file and <c>lb status</c>.
/// </summary>
[Collection(KernelLabCollection.Name)]
public sealed class RsControlKernelTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(300);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private const string Config = """
        global_defs {
            router_id rsh-director
        }
        virtual_server 10.0.0.100 8080 {
            delay_loop 1
            lb_algo wrr
            lb_kind DR
            protocol TCP
            #lb: slow_start 10
            real_server 10.0.0.11 8080 {
                weight 10
                TCP_CHECK {
                    connect_timeout 10
                    retry 2
                }
            }
            real_server 10.0.0.12 8080 {
                weight 10
                TCP_CHECK {
                    connect_timeout 10
                    retry 2
                }
            }
        }
        """;

    private const string Svc = "-A -t 10.0.0.100:8080 -s wrr";
    private const string Vs = "10.0.0.100:8080";

    private static string Dest(string rs, int w) => $"-a -t 10.0.0.100:8080 -r {rs}:8080 -g -w {w}";

    // Accepts connections and keeps each open until the peer closes it.
    private const string Server = """
        import socket, threading
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 8080)); s.listen(64)
        def hold(c):
            while c.recv(4096): pass
            c.close()
        while True:
            c, _ = s.accept(); threading.Thread(target=hold, args=(c,), daemon=True).start()
        """;

    // Connects through the VIP, says so, and holds the connection until its stdin closes.
    private const string Client = """
        import socket, sys
        c = socket.create_connection(('10.0.0.100', 8080), timeout=30); c.sendall(b'x'); print('connected', flush=True)
        sys.stdin.read(); c.close()
        """;

    private static List<string> Table(NetnsLab lab, string ns) =>
        lab.Exec(ns, "ipvsadm", "-Sn").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()).ToList();

    /// <summary>(weight, active connections) of a destination from <c>ipvsadm -Ln</c>; null when absent.</summary>
    private static (int Weight, int Active)? Dest(NetnsLab lab, string ns, string rs)
    {
        foreach (var line in lab.Exec(ns, "ipvsadm", "-Ln").Split('\n'))
        {
            var p = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (p.Length >= 5 && p[0] == "->" && p[1] == rs + ":8080")
                return (int.Parse(p[3], CultureInfo.InvariantCulture), int.Parse(p[4], CultureInfo.InvariantCulture));
        }
        return null;
    }

    private (int Code, string Out, string Err) Rs(string socket, params string[] args)
    {
        var r = ProcessRunner.Run(LbLab.LbPath, ["rs", .. args, "--socket", socket]);
        output.WriteLine($"$ lb rs {string.Join(' ', args)}\n{r.Stdout}{r.Stderr}(exit {r.ExitCode})");
        return (r.ExitCode, r.Stdout.Trim(), r.Stderr.Trim());
    }

    [KernelFact]
    public void Operator_commands_drive_the_kernel_table_and_survive_a_restart()
    {
        using var lab = new NetnsLab();
        var director = lab.AddHost("rshdir", "10.0.0.2/24");
        NetnsLab.Run("ip", "-n", director, "addr", "add", "10.0.0.100/32", "dev", "eth0");
        foreach (var (name, ip) in new[] { ("rshweb1", "10.0.0.11"), ("rshweb2", "10.0.0.12") })
        {
            var ns = lab.AddHost(name, ip + "/24");
            NetnsLab.Run("ip", "-n", ns, "addr", "add", "10.0.0.100/32", "dev", "lo");
            lab.Exec(ns, "sysctl", "-q", "-w", "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2");
            lab.Start(ns, name, "python3", "-c", Server);
        }
        var client = lab.AddHost("rshcl", "10.0.0.50/24");
        var journal = Path.Combine(lab.Directory, "journal.jsonl");
        var socket = Path.Combine(lab.Directory, "lb.sock");
        var conf = lab.WriteFile("lb.conf", Config);
        string[] lbArgs = ["-n", "-l", "-C", "-f", conf, "--journal", journal, "--socket", socket];
        var lb = lab.StartLb(director, "lb", lbArgs);
        RunningProcess? lb2 = null;
        try
        {
            // No slow start at daemon start (no at_start): both at their weight at once.
            Assert.True(NetnsLab.WaitFor(() => Table(lab, director).SequenceEqual([Svc, Dest("10.0.0.11", 10), Dest("10.0.0.12", 10)]), StartBound),
                "initial table: " + string.Join(" | ", Table(lab, director)));

            // disable: out of the kernel table, and its passing checks do not bring it back.
            var r = Rs(socket, "disable", Vs, "10.0.0.12:8080");
            Assert.Equal((0, "10.0.0.12:8080 of 10.0.0.100:8080: disabled, not in IPVS"), (r.Code, r.Out));
            Assert.Equal([Svc, Dest("10.0.0.11", 10)], Table(lab, director));

            // A connection held through the VIP: only 10.0.0.11 can take it.
            using var hold = lab.Start(client, "hold", "python3", "-c", Client);
            Assert.True(hold.WaitForOutput("connected", Bound), "client: " + hold.Output);
            Assert.True(NetnsLab.WaitFor(() => Dest(lab, director, "10.0.0.11") is (10, 1), Bound), "ActiveConn of 10.0.0.11: " + Dest(lab, director, "10.0.0.11"));
            Assert.Null(Dest(lab, director, "10.0.0.12")); // still out after several check rounds

            // enable: back, with slow start from 1 through intermediate weights to 10.
            r = Rs(socket, "enable", Vs, "10.0.0.12:8080");
            Assert.Equal(0, r.Code);
            Assert.StartsWith("10.0.0.12:8080 of 10.0.0.100:8080: enabled, in IPVS with weight ", r.Out, StringComparison.Ordinal);
            var seen = new List<int>();
            Assert.True(NetnsLab.WaitFor(() =>
            {
                if (Dest(lab, director, "10.0.0.12") is { } d && (seen.Count == 0 || seen[^1] != d.Weight))
                    seen.Add(d.Weight);
                return seen.Count > 0 && seen[^1] == 10;
            }, Bound), "slow start weights: " + string.Join(",", seen));
            output.WriteLine("slow start weights seen: " + string.Join(",", seen));
            Assert.True(seen.Zip(seen.Skip(1)).All(p => p.First < p.Second), "weights not rising: " + string.Join(",", seen));
            Assert.Contains(seen, w => w > 1 && w < 10);
            Assert.True(seen[0] < 10);

            // weight
            r = Rs(socket, "weight", Vs, "10.0.0.12:8080", "5");
            Assert.Equal((0, "10.0.0.12:8080 of 10.0.0.100:8080: weight 5 (configured 10), in IPVS with weight 5"), (r.Code, r.Out));
            Assert.Contains(Dest("10.0.0.12", 5), Table(lab, director));

            // drain 10.0.0.11: weight 0 while the connection lasts, removed once the client closes it.
            r = Rs(socket, "drain", Vs, "10.0.0.11:8080");
            Assert.Equal((0, "10.0.0.11:8080 of 10.0.0.100:8080: draining, weight 0, 1 active connection, deadline 300 s"), (r.Code, r.Out));
            Assert.Equal((0, 1), Dest(lab, director, "10.0.0.11"));
            // The status shows the drain with the count the daemon read from the kernel (its first read follows the reply).
            var statusText = "";
            Assert.True(NetnsLab.WaitFor(() => (statusText = ProcessRunner.Run(LbLab.LbPath, "status", "--socket", socket).Stdout).Contains("draining (1 active", StringComparison.Ordinal), Bound),
                "lb status does not show the drain with 1 active connection:\n" + statusText);
            hold.CloseStdin();
            Assert.True(NetnsLab.WaitFor(() => Dest(lab, director, "10.0.0.11") is null, Bound), "10.0.0.11 not removed after its last connection closed");
            Assert.Equal([Svc, Dest("10.0.0.12", 5)], Table(lab, director));

            // drain --timeout with a connection kept: removed at the deadline, the connection still open.
            Assert.Equal(0, Rs(socket, "enable", Vs, "10.0.0.11:8080").Code);
            Assert.Equal(0, Rs(socket, "disable", Vs, "10.0.0.12:8080").Code);
            Assert.True(NetnsLab.WaitFor(() => Dest(lab, director, "10.0.0.11") is not null && Dest(lab, director, "10.0.0.12") is null, Bound));
            using var hold2 = lab.Start(client, "hold2", "python3", "-c", Client);
            Assert.True(hold2.WaitForOutput("connected", Bound), "client: " + hold2.Output);
            Assert.True(NetnsLab.WaitFor(() => Dest(lab, director, "10.0.0.11") is (_, 1), Bound));
            r = Rs(socket, "drain", Vs, "10.0.0.11:8080", "--timeout", "3");
            Assert.Equal(0, r.Code);
            Assert.Contains("draining, weight 0, 1 active connection, deadline 3 s", r.Out, StringComparison.Ordinal);
            Assert.True(NetnsLab.WaitFor(() => Dest(lab, director, "10.0.0.11") is null, Bound), "10.0.0.11 not removed at its deadline");
            Assert.False(hold2.HasExited, "the client's connection ended: " + hold2.Output);
            hold2.CloseStdin();

            // Refused: unknown real server.
            r = Rs(socket, "disable", Vs, "10.0.0.99:8080");
            Assert.Equal((1, "10.0.0.99:8080: no such real server in [10.0.0.100]:tcp:8080"), (r.Code, r.Err));

            // Restart: 10.0.0.11 enabled again, 10.0.0.12 stays disabled across the restart.
            Assert.Equal(0, Rs(socket, "enable", Vs, "10.0.0.11:8080").Code);
            Assert.True(NetnsLab.WaitFor(() => Table(lab, director).SequenceEqual([Svc, Dest("10.0.0.11", 10)]), Bound), string.Join(" | ", Table(lab, director)));
            lb.Signal("TERM");
            Assert.True(lb.WaitForExit(Bound), "lb did not stop");
            Assert.Empty(Table(lab, director));
            lb2 = lab.StartLb(director, "lb2", lbArgs);
            Assert.True(NetnsLab.WaitFor(() => Table(lab, director).SequenceEqual([Svc, Dest("10.0.0.11", 10)]), StartBound),
                "after the restart: " + string.Join(" | ", Table(lab, director)));
            // Several rounds of 10.0.0.12's passing check later, it is still out.
            Assert.True(NetnsLab.WaitFor(() => Rounds(socket, "[10.0.0.12]:tcp:8080") >= 3, Bound));
            Assert.Equal([Svc, Dest("10.0.0.11", 10)], Table(lab, director));
            Assert.Contains("DOWN, disabled", ProcessRunner.Run(LbLab.LbPath, "status", "--socket", socket).Stdout, StringComparison.Ordinal);

            var ops = File.ReadAllLines(journal).Select(l => JsonDocument.Parse(l).RootElement)
                .Where(e => e.GetProperty("kind").GetString() == "operator").ToList();
            output.WriteLine(string.Join("\n", ops.Select(e => e.GetRawText())));
            Assert.All(ops, e => Assert.StartsWith("root (uid 0", e.GetProperty("by").GetString(), StringComparison.Ordinal));
            Assert.Contains(ops, e => e.GetProperty("reason").GetString() == "drain done: no active connections left");
            Assert.Contains(ops, e => e.GetProperty("reason").GetString()!.StartsWith("drain done: deadline reached with 1 active", StringComparison.Ordinal));
            var state = File.ReadAllText(Path.Combine(lab.Directory, "operator-state.json"));
            Assert.Contains("[10.0.0.100]:tcp:8080 [10.0.0.12]:tcp:8080", state, StringComparison.Ordinal);
            Assert.DoesNotContain("[10.0.0.11]:tcp:8080", state, StringComparison.Ordinal);
        }
        finally
        {
            output.WriteLine(lb.Output);
            if (lb2 is not null)
                output.WriteLine(lb2.Output);
        }
    }

    private static long Rounds(string socket, string rs)
    {
        var r = ProcessRunner.Run(LbLab.LbPath, "status", "--json", "--socket", socket);
        if (r.ExitCode != 0)
            return 0;
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.GetProperty("virtual_servers").EnumerateArray()
            .SelectMany(v => v.GetProperty("real_servers").EnumerateArray())
            .Where(x => x.GetProperty("name").GetString() == rs)
            .Sum(x => x.GetProperty("checkers").EnumerateArray().Sum(c => c.GetProperty("rounds").GetInt64()));
    }
}
