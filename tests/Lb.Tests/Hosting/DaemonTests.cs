using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lb.Hosting;
using Lb.Lb.Tests.EndToEnd;
using Lb.Status;
using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.Hosting;

/// <summary>
/// The real `lb` binary (-P, VRRP only: this kernel has no IPVS) in network namespaces: status socket, metrics, dump signals,
/// sd_notify, locks, stop bound and -s, each checked against an independent oracle (`ip addr`, the files, the datagrams).
/// </summary>
public sealed partial class DaemonTests(ITestOutputHelper output)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private void Dump(params RunningProcess[] processes)
    {
        foreach (var p in processes)
            output.WriteLine($"----- {p.Label}\n{p.Output}");
    }

    [RootFact("ip")]
    public void Status_and_metrics_agree_with_ip_addr_on_master_and_backup()
    {
        using var lab = new DaemonLab();
        var a = lab.Lab.AddHost("a", "10.0.0.2/24");
        var b = lab.Lab.AddHost("b", "10.0.0.3/24");
        var la = lab.StartVrrp(a, "a", 150, extra: ["--metrics", "127.0.0.1:9650"]);
        var lbb = lab.StartVrrp(b, "b", 100);
        try
        {
            Assert.True(NetnsLab.WaitFor(() => lab.Lab.HasAddress(a, DaemonLab.Vip), DaemonLab.Bound), "VIP never appeared on the master");
            var sa = lab.WaitStatus("a", s => Is(s, "MASTER") && s.VrrpInstances.Single().AdvertsSent > 0, la);
            var sb = lab.WaitStatus("b", s => Is(s, "BACKUP") && s.VrrpInstances.Single().AdvertsReceived > 0, lbb);

            // Status says MASTER <=> ip addr shows the VIP.
            var ia = sa.VrrpInstances.Single();
            Assert.True(ia.VipsSet);
            Assert.Equal(["10.0.0.100/24"], ia.VirtualAddresses);
            Assert.Equal(150, ia.EffectivePriority);
            Assert.Equal(la.Pid, sa.Daemon.Pid);
            Assert.True(lab.Lab.HasAddress(a, DaemonLab.Vip));
            var ib = sb.VrrpInstances.Single();
            Assert.False(ib.VipsSet);
            Assert.False(lab.Lab.HasAddress(b, DaemonLab.Vip));
            Assert.Equal("10.0.0.2", ib.MasterAddress);
            Assert.True(ib.Transitions >= 1);
            Assert.True(sa.Daemon.VrrpRunning);
            Assert.False(sa.Daemon.CheckersRunning);

            // The table and --json through the real CLI.
            var (code, text, err) = DaemonLab.RunLb("status", "--socket", lab.Socket("a"));
            Assert.True(code == 0, err);
            Assert.Matches(@"VI_1\s+MASTER\s+150\s+150\s+51\s+eth0", text);
            (code, var json, err) = DaemonLab.RunLb("status", "--json", "-p", lab.PidFile("b"));
            Assert.True(code == 0, err);
            var parsed = JsonSerializer.Deserialize(json, StatusJsonContext.Default.StatusReport)!;
            Assert.Equal("BACKUP", parsed.VrrpInstances.Single().State);

            // Metrics: every line parses, and the values agree with the status.
            var response = DaemonLab.Scrape(a, 9650);
            Assert.StartsWith("HTTP/1.1 200 OK\r\n", response, StringComparison.Ordinal);
            Assert.Contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n", response, StringComparison.Ordinal);
            var body = response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
            var samples = ParseExposition(body);
            Assert.Equal(1, samples["lb_vrrp_instance_state{instance=\"VI_1\",state=\"MASTER\"}"]);
            Assert.Equal(0, samples["lb_vrrp_instance_state{instance=\"VI_1\",state=\"BACKUP\"}"]);
            Assert.Equal(150, samples["lb_vrrp_instance_priority{instance=\"VI_1\"}"]);
            Assert.Equal(1, samples["lb_vrrp_instance_vips_set{instance=\"VI_1\"}"]);
            Assert.True(samples["lb_vrrp_adverts_sent_total{instance=\"VI_1\"}"] >= ia.AdvertsSent);
            Assert.Equal(0, samples["lb_ipvs_operations_total"]);
            Assert.StartsWith("HTTP/1.1 404", DaemonLab.Scrape(a, 9650, "/nope"), StringComparison.Ordinal);

            // The socket is private to root.
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(lab.Socket("a")));
        }
        finally
        {
            Dump(la, lbb);
        }
    }

    private static bool Is(StatusReport s, string state) => s.VrrpInstances.Count == 1 && s.VrrpInstances[0].State == state;

    /// <summary>Parses the text exposition format strictly: HELP/TYPE comments and `name{labels} value` samples only.</summary>
    internal static Dictionary<string, double> ParseExposition(string body)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        var declared = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in body.Split('\n'))
        {
            if (line.Length == 0)
                continue;
            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
                continue;
            var type = TypeLine().Match(line);
            if (type.Success)
            {
                Assert.True(declared.Add(type.Groups[1].Value), $"family declared twice: {line}");
                continue;
            }
            var m = SampleLine().Match(line);
            Assert.True(m.Success, $"not a valid sample line: '{line}'");
            var name = m.Groups[1].Value;
            Assert.True(declared.Any(f => name == f || name.StartsWith(f + "_", StringComparison.Ordinal)), $"sample before its # TYPE: {line}");
            samples.Add(name + m.Groups[2].Value, double.Parse(m.Groups[3].Value, NumberStyles.Float, Inv));
        }
        return samples;
    }

    [GeneratedRegex(@"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$")]
    private static partial Regex TypeLine();

    [GeneratedRegex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*=""(?:[^""\\]|\\.)*"",?)*\})? ([-+]?(?:[0-9.]+(?:e[-+]?[0-9]+)?|Inf|NaN))$")]
    private static partial Regex SampleLine();

    [RootFact("ip")]
    public void Dump_signals_write_the_data_stats_and_json_files_and_a_storm_of_SIGUSR1_during_a_dump_coalesces_into_one()
    {
        using var lab = new DaemonLab();
        var a = lab.Lab.AddHost("a", "10.0.0.2/24");
        var dumps = Directory.CreateDirectory(Path.Combine(lab.Dir, "dumps")).FullName;
        var data = Path.Combine(dumps, "lb.data");
        var stats = Path.Combine(lab.Dir, "lb.stats");
        var json = Path.Combine(lab.Dir, "lb.json");
        var la = lab.StartVrrp(a, "a", 150, "MASTER", extra: ["--data-file", data, "--stats-file", stats, "--json-file", json]);
        try
        {
            lab.WaitStatus("a", s => Is(s, "MASTER"), la);
            la.Signal("USR1");
            la.Signal("USR2");
            la.Signal(Signals.JsonDumpNumber.ToString(Inv)); // SIGRTMIN+2
            Assert.True(NetnsLab.WaitFor(() => File.Exists(data) && File.Exists(stats) && File.Exists(json), DaemonLab.Bound), "dump files did not appear");
            var dataText = File.ReadAllText(data);
            Assert.Contains(" VRRP instance = VI_1\n", dataText, StringComparison.Ordinal);
            Assert.Contains("   State = MASTER\n", dataText, StringComparison.Ordinal);
            Assert.Contains("     10.0.0.100/24\n", dataText, StringComparison.Ordinal);
            var statsText = File.ReadAllText(stats);
            Assert.Matches(@"VRRP Instance: VI_1\n  State: MASTER\n  Transitions: \d+\n  Advertisements:\n    Received: \d+\n    Sent: [1-9]\d*\n", statsText);
            var report = JsonSerializer.Deserialize(File.ReadAllText(json), StatusJsonContext.Default.StatusReport)!;
            Assert.Equal("MASTER", report.VrrpInstances.Single().State);
            Assert.Equal(la.Pid, report.Daemon.Pid);
            Assert.True(NetnsLab.WaitFor(() => DataDumps(la) == 1, DaemonLab.Bound), "the first data dump was not logged");

            // A storm during a dump. The next data dump is held in progress at the creation of its temporary file (fanotify);
            // 100 SIGUSR1 are then delivered one by one (each taken by the daemon before the next is sent, so none is merged
            // by the kernel); then the dump is released. "A signal only sets a bit; one loop writes": the storm leaves one
            // dump pending, not a hundred. (One more is tolerated: the runtime hands a delivered signal to its handler on the
            // thread pool, and a handler run after the released dump started raises the bit again.)
            File.Delete(data);
            using (var gate = new OpenGate(dumps, p => Path.GetFileName(p).StartsWith(".lb.data.", StringComparison.Ordinal)))
            {
                SignalDelivery.Send(la.Pid, SignalDelivery.SIGUSR1);
                Assert.True(NetnsLab.WaitFor(() => gate.Held == 1, DaemonLab.Bound), "the data dump did not start");
                for (var i = 0; i < 100; i++)
                    SignalDelivery.SendAndWaitTaken(la.Pid, SignalDelivery.SIGUSR1, DaemonLab.Bound);
                Assert.Equal(1, DataDumps(la)); // the held one has not been written
                gate.Release();
                Assert.True(NetnsLab.WaitFor(() => DataDumps(la) >= 3, DaemonLab.Bound), "the held dump and the pending one were not both written");
                // Then quiet: a queue would write the rest back to back (each dump takes milliseconds); watch for a while.
                NetnsLab.WaitFor(() => DataDumps(la) > 4, TimeSpan.FromSeconds(3));
                var written = DataDumps(la) - 1;
                output.WriteLine($"data dumps for the 100 SIGUSR1 sent during one: {written - 1}");
                Assert.InRange(written, 2, 3);
                Assert.Equal(written, gate.Matched);
            }
            Assert.True(File.Exists(data), "no data dump after the storm");
            Assert.False(la.HasExited, "lb died in the signal storm");
            var after = lab.WaitStatus("a", s => Is(s, "MASTER"), la);
            Assert.True(lab.Lab.HasAddress(a, DaemonLab.Vip));
            Assert.Contains(after.VrrpInstances, i => i.Name == "VI_1");

            la.Signal("TERM");
            Assert.True(la.WaitForExit(DaemonLab.Bound), "lb did not stop after the storm");
            Assert.Equal(0, la.ExitCode);
        }
        finally
        {
            Dump(la);
        }
    }

    private static int DataDumps(RunningProcess p) => Regex.Count(p.Output, "Wrote the data dump");

    [RootFact("ip")]
    public void Sd_notify_sends_READY_then_STOPPING_to_a_path_socket()
    {
        using var lab = new DaemonLab();
        var a = lab.Lab.AddHost("a", "10.0.0.2/24");
        var path = Path.Combine(lab.Dir, "notify.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        var la = lab.StartVrrp(a, "a", 150, "MASTER", new Dictionary<string, string> { ["NOTIFY_SOCKET"] = path });
        try
        {
            var messages = ReceiveUntil(socket, m => m.Contains("STOPPING=1", StringComparison.Ordinal), () =>
            {
                lab.WaitStatus("a", s => Is(s, "MASTER"), la);
                la.Signal("TERM");
            });
            output.WriteLine(string.Join("\n--\n", messages));
            var ready = messages.FindIndex(m => m.Split('\n').Contains("READY=1"));
            var stopping = messages.FindIndex(m => m.Split('\n').Contains("STOPPING=1"));
            Assert.True(ready >= 0, "no READY=1");
            Assert.True(stopping > ready, "STOPPING=1 not after READY=1");
            Assert.Contains($"MAINPID={la.Pid}", messages[ready], StringComparison.Ordinal);
            Assert.Contains(messages, m => m.Contains("STATUS=VI_1 MASTER", StringComparison.Ordinal));
            Assert.True(la.WaitForExit(DaemonLab.Bound));
        }
        finally
        {
            Dump(la);
        }
    }

    [RootFact("ip")]
    public void Sd_notify_reaches_an_abstract_socket_written_with_at()
    {
        using var lab = new DaemonLab();
        var a = lab.Lab.AddHost("a", "10.0.0.2/24");
        var name = "lb-test-notify-" + Guid.NewGuid().ToString("N")[..8];
        // Abstract unix sockets belong to a network namespace: bind it from a thread inside the daemon's namespace.
        using var socket = Netlink.Namespaces.NetworkNamespace.Run(a, () =>
        {
            var s = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            s.Bind(new UnixDomainSocketEndPoint("\0" + name));
            return s;
        });
        var la = lab.StartVrrp(a, "a", 150, "MASTER", new Dictionary<string, string> { ["NOTIFY_SOCKET"] = "@" + name });
        try
        {
            var messages = ReceiveUntil(socket, m => m.Contains("READY=1", StringComparison.Ordinal), () => { });
            Assert.Contains(messages, m => m.StartsWith("READY=1\n", StringComparison.Ordinal));
        }
        finally
        {
            Dump(la);
        }
    }

    private static List<string> ReceiveUntil(Socket socket, Func<string, bool> last, Action act)
    {
        var messages = new List<string>();
        var receive = Task.Run(() =>
        {
            var buf = new byte[4096];
            socket.ReceiveTimeout = (int)DaemonLab.Bound.TotalMilliseconds;
            while (true)
            {
                var n = socket.Receive(buf);
                var m = Encoding.UTF8.GetString(buf, 0, n);
                lock (messages)
                    messages.Add(m);
                if (last(m))
                    return;
            }
        });
        act();
        Assert.True(receive.Wait(DaemonLab.Bound * 2), "notifications did not arrive");
        lock (messages)
            return messages.ToList();
    }

    [RootFact("ip")]
    public void A_second_daemon_on_the_same_pid_file_or_config_is_refused_with_the_first_ones_pid()
    {
        using var lab = new DaemonLab();
        var a = lab.Lab.AddHost("a", "10.0.0.2/24");
        var b = lab.Lab.AddHost("b", "10.0.0.3/24");
        var first = lab.StartVrrp(a, "a", 150, "MASTER");
        RunningProcess? samePid = null, sameConfig = null, otherNs = null;
        try
        {
            lab.WaitStatus("a", s => Is(s, "MASTER"), first);
            // Same pid file, another configuration.
            samePid = lab.StartLb(a, "same-pid", null, "-n", "-l", "-P", "-f", lab.Lab.WriteFile("x.conf", DaemonLab.Config("x", 100)),
                "--journal", Path.Combine(lab.Dir, "x.jsonl"), "-p", lab.PidFile("a"), "--socket", Path.Combine(lab.Dir, "x.sock"));
            Assert.True(samePid.WaitForExit(DaemonLab.Bound), "second daemon on the same pid file did not exit");
            Assert.NotEqual(0, samePid.ExitCode);
            Assert.Contains($"daemon is already running (pid {first.Pid})", samePid.Output, StringComparison.Ordinal);
            Assert.Equal(first.Pid.ToString(Inv), File.ReadAllText(lab.PidFile("a")).Trim());

            // Same configuration in the same namespace, another pid file.
            sameConfig = lab.StartLb(a, "same-config", null, "-n", "-l", "-P", "-f", Path.Combine(lab.Dir, "a.conf"),
                "--journal", Path.Combine(lab.Dir, "y.jsonl"), "-p", lab.PidFile("y"));
            Assert.True(sameConfig.WaitForExit(DaemonLab.Bound), "second daemon on the same configuration did not exit");
            Assert.NotEqual(0, sameConfig.ExitCode);
            Assert.Contains($"daemon is already running (pid {first.Pid})", sameConfig.Output, StringComparison.Ordinal);

            // The same configuration in another namespace is another router: allowed.
            otherNs = lab.StartLb(b, "other-ns", null, "-n", "-l", "-P", "-f", Path.Combine(lab.Dir, "a.conf"),
                "--journal", Path.Combine(lab.Dir, "z.jsonl"), "-p", lab.PidFile("z"));
            lab.WaitStatus("z", s => s.VrrpInstances.Count == 1, otherNs);
            Assert.False(otherNs.HasExited);

            // The lock dies with the process: after the first stops, its pid file can be taken again.
            first.Signal("TERM");
            Assert.True(first.WaitForExit(DaemonLab.Bound));
            Assert.False(File.Exists(lab.PidFile("a")), "pid file left behind after a clean stop");
        }
        finally
        {
            Dump(first);
            foreach (var p in new[] { samePid, sameConfig, otherNs })
            {
                if (p is not null)
                    Dump(p);
            }
        }
    }

    [RootFact("ip")]
    public void A_status_client_that_connects_and_stalls_does_not_block_another_and_is_cut_off()
    {
        using var lab = new DaemonLab();
        var a = lab.Lab.AddHost("a", "10.0.0.2/24");
        var la = lab.StartVrrp(a, "a", 150, "MASTER");
        try
        {
            lab.WaitStatus("a", s => Is(s, "MASTER"), la);
            var stalled = new List<Socket>();
            for (var i = 0; i < 5; i++)
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                s.Connect(new UnixDomainSocketEndPoint(lab.Socket("a")));
                stalled.Add(s);
            }
            // Served while the stalled connections are still open: the answer arrives before the daemon has cut any of them
            // off (its read timeout is 2 s; the query is in-process and takes milliseconds). A server that serves one
            // connection at a time answers only after cutting the stalled ones off, so they would read end of stream here.
            var answer = StatusClient.QueryAsync(lab.Socket("a"), timeout: DaemonLab.Bound).GetAwaiter().GetResult();
            Assert.Equal("MASTER", answer.Status!.VrrpInstances.Single().State);
            Assert.All(stalled, s => Assert.False(s.Poll(0, SelectMode.SelectRead), "a stalled client was cut off before the other was served"));
            // The stalled ones are closed by the daemon after its read timeout (2 s): a read sees end of stream.
            foreach (var s in stalled)
            {
                s.ReceiveTimeout = (int)DaemonLab.Bound.TotalMilliseconds;
                Assert.Equal(0, s.Receive(new byte[16]));
                s.Dispose();
            }
        }
        finally
        {
            Dump(la);
        }
    }

    [RootFact("ip")]
    public void SIGTERM_stops_within_the_bound_even_when_a_service_hangs_in_stop()
    {
        using var lab = new DaemonLab();
        var a = lab.Lab.AddHost("a", "10.0.0.2/24");
        var la = lab.StartVrrp(a, "a", 150, "MASTER", new Dictionary<string, string> { [HangOnStopService.EnvironmentVariable] = "1" });
        try
        {
            lab.WaitStatus("a", s => Is(s, "MASTER"), la);
            la.Signal("TERM");
            var bound = Daemon.StopTimeout + Daemon.StopMargin + TimeSpan.FromSeconds(10);
            Assert.True(la.WaitForExit(bound), $"lb still running {bound} after SIGTERM");
            Assert.Equal(Daemon.ForcedExitCode, la.ExitCode);
            Assert.Contains("Stop did not finish within", la.Output, StringComparison.Ordinal);
            // The hanging service stops last; the VRRP service before it released the VIP.
            Assert.False(lab.Lab.HasAddress(a, DaemonLab.Vip));
        }
        finally
        {
            Dump(la);
        }
    }

    [RootFact("ip")]
    public void Dash_s_runs_the_daemon_in_the_namespace_and_forwards_signals_and_exit_code()
    {
        using var lab = new DaemonLab();
        var a = lab.Lab.AddHost("a", "10.0.0.2/24");
        var data = Path.Combine(lab.Dir, "ns.data");
        // Started in the root namespace: -s moves it.
        var la = lab.StartLb(null, "lb-s", null, "-n", "-l", "-P", "-s", a, "-f", lab.Lab.WriteFile("a.conf", DaemonLab.Config("a", 150, "MASTER")),
            "--journal", Path.Combine(lab.Dir, "a.jsonl"), "-p", lab.PidFile("a"), "--data-file", data);
        try
        {
            Assert.True(NetnsLab.WaitFor(() => lab.Lab.HasAddress(a, DaemonLab.Vip), DaemonLab.Bound), "VIP never appeared in the namespace");
            var s = lab.WaitStatus("a", r => Is(r, "MASTER"), la);
            Assert.Equal(a, s.Daemon.Namespace);
            Assert.NotEqual(la.Pid, s.Daemon.Pid);
            Assert.Equal(s.Daemon.Pid.ToString(Inv), File.ReadAllText(lab.PidFile("a")).Trim());
            la.Signal("USR1");
            Assert.True(NetnsLab.WaitFor(() => File.Exists(data), DaemonLab.Bound), "SIGUSR1 was not forwarded");
            la.Signal("TERM");
            Assert.True(la.WaitForExit(DaemonLab.Bound), "the -s launcher did not exit after SIGTERM");
            Assert.Equal(0, la.ExitCode);
            Assert.False(lab.Lab.HasAddress(a, DaemonLab.Vip));
            Assert.False(Directory.Exists($"/proc/{s.Daemon.Pid}"), "the daemon in the namespace outlived the launcher");
        }
        finally
        {
            Dump(la);
        }
    }
}
