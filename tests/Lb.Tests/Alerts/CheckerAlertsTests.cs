using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Lb.Alerts;
using Lb.Checkers;
using Lb.Checkers.Journal;
using Lb.Checkers.Options;
using Lb.TestSupport;
using Xunit;

namespace Lb.Lb.Tests.Alerts;

/// <summary>
/// The checkers' notify FIFO lines and mails as the host composes them (<see cref="AlertHub"/> subscribed to the checker
/// subsystem's events, as Daemon wires it): a real TCP_CHECK against a real local TCP server that the test stops and
/// starts again. The kernel is replaced by <see cref="InMemoryIpvsTable"/> (a STAND-IN for IPVS: this host's kernel has
/// none; the real table is the kernel tier's). Oracles: the test's own FIFO readers (mkfifo, read like a
/// notify_fifo_script would) and its own SMTP receiver (<see cref="SmtpSink"/>).
/// </summary>
public sealed class CheckerAlertsTests : IAsyncDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("alerts-fifo-").FullName;
    private readonly ListLogger _logs = new();
    private readonly List<IAsyncDisposable> _owned = new();

    public async ValueTask DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
            await _owned[i].DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private string P(string name) => Path.Combine(_dir, name);

    /// <summary>A TCP server on a fixed loopback port that the test takes down and brings back.</summary>
    private sealed class Toggle : IAsyncDisposable
    {
        private Socket? _socket;

        public Toggle(IPAddress address)
        {
            Address = address;
            Up(0);
            Port = ((IPEndPoint)_socket!.LocalEndPoint!).Port;
        }

        public IPAddress Address { get; }

        public int Port { get; }

        public void Up(int port = -1)
        {
            _socket = new Socket(Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _socket.Bind(new IPEndPoint(Address, port < 0 ? Port : port));
            _socket.Listen(16);
            var s = _socket;
            _ = Task.Run(async () =>
            {
                try
                {
                    while (true)
                        (await s.AcceptAsync()).Dispose();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                }
            });
        }

        public void Down()
        {
            _socket?.Dispose();
            _socket = null;
        }

        public ValueTask DisposeAsync()
        {
            Down();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Reads a FIFO the test created with mkfifo, line by line, as a notify_fifo_script would.</summary>
    private sealed class FifoReader
    {
        private readonly List<string> _lines = new();

        public FifoReader(string path)
        {
            Assert.Equal(0, ProcessRunner.Run("mkfifo", path).ExitCode);
            _ = Task.Run(() =>
            {
                using var sr = new StreamReader(path);
                while (sr.ReadLine() is { } l)
                {
                    lock (_lines)
                        _lines.Add(l);
                }
            });
        }

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lines)
                    return _lines.ToArray();
            }
        }

        public bool WaitFor(int count) => Wait.Until(() => Lines.Count >= count, Bound);
    }

    private static VirtualServerOptions Vs(IPAddress rs, int port, bool smtpAlert = false, bool alpha = false, bool omega = false, uint? fwmark = null) => new()
    {
        Address = fwmark is null ? IPAddress.Parse("10.0.0.100") : null,
        Port = fwmark is null ? (ushort)80 : null,
        FirewallMark = fwmark,
        DelayLoop = TimeSpan.FromSeconds(0.2),
        ConnectTimeout = TimeSpan.FromSeconds(2),
        Warmup = TimeSpan.Zero,
        Alpha = alpha,
        Omega = omega,
        SmtpAlert = smtpAlert,
        RealServers = [new RealServerOptions { Address = rs, Port = (ushort)port, Checkers = [new TcpCheckOptions { Retry = 0 }] }],
    };

    private async Task<(CheckerSubsystem Subsystem, InMemoryIpvsTable Ipvs, AlertHub Alerts)> StartAsync(AlertOptions alerts, params VirtualServerOptions[] vs)
    {
        var hub = new AlertHub(alerts, vrrp: false, checkers: true, _logs, TimeProvider.System);
        _owned.Add(hub);
        hub.Start();
        var ipvs = new InMemoryIpvsTable();
        var journal = new JournalWriter(new JournalOptions { Path = P("journal.jsonl") });
        var options = new CheckerSubsystemOptions { VirtualServers = vs };
        var subsystem = new CheckerSubsystem(options, ipvs, journal, _logs, TimeProvider.System);
        _owned.Add(subsystem); // disposed before the hub (reverse order), as the host stops them
        subsystem.Notified += (_, n) => hub.OnChecker(n);
        await subsystem.StartAsync(CancellationToken.None);
        return (subsystem, ipvs, hub);
    }

    [Fact]
    public async Task A_real_server_going_down_and_up_writes_keepalived_lines_on_notify_fifo_and_lvs_notify_fifo_only()
    {
        await using var server = new Toggle(IPAddress.Loopback);
        var global = new FifoReader(P("notify.fifo"));
        var lvs = new FifoReader(P("lvs.fifo"));
        var (_, ipvs, _) = await StartAsync(new AlertOptions
        {
            NotifyFifo = new FifoOptions(P("notify.fifo")),
            LvsNotifyFifo = new FifoOptions(P("lvs.fifo")),
            VrrpNotifyFifo = new FifoOptions(P("vrrp.fifo")),
        }, Vs(IPAddress.Loopback, server.Port));
        var rs = $"[127.0.0.1]:tcp:{server.Port}";

        // start-up: the real server is up (not alpha), so the virtual server starts with quorum up (keepalived's
        // update_quorum_state(init) -> do_vs_notifies); no RS line without rs_init_notifies
        Assert.True(global.WaitFor(1), string.Join('\n', global.Lines));
        server.Down();
        Assert.True(global.WaitFor(3), string.Join('\n', global.Lines));
        Assert.Empty(ipvs.Weights("[10.0.0.100]:tcp:80")); // the stand-in table: the server was removed
        server.Up();
        Assert.True(global.WaitFor(5), string.Join('\n', global.Lines));
        Assert.True(lvs.WaitFor(5), string.Join('\n', lvs.Lines));
        string[] expected =
        [
            "VS [10.0.0.100]:tcp:80 UP",
            $"RS {rs} [10.0.0.100]:tcp:80 DOWN",
            "VS [10.0.0.100]:tcp:80 DOWN",
            $"RS {rs} [10.0.0.100]:tcp:80 UP",
            "VS [10.0.0.100]:tcp:80 UP",
        ];
        Assert.Equal(expected, global.Lines);
        Assert.Equal(expected, lvs.Lines);
        Assert.Equal([$"127.0.0.1:{server.Port}=1"], ipvs.Weights("[10.0.0.100]:tcp:80"));
        // vrrp_notify_fifo is VRRP's only: the checkers alone never create it
        Assert.False(File.Exists(P("vrrp.fifo")));
    }

    [Fact]
    public async Task A_firewall_mark_service_with_an_ipv6_server_and_omega_writes_keepalived_forms_down_to_the_stop()
    {
        await using var server = new Toggle(IPAddress.IPv6Loopback);
        server.Down(); // alpha: starts down; its first (failed) round still says so (update_svr_checker_state's first run)
        var global = new FifoReader(P("notify.fifo"));
        var (subsystem, _, hub) = await StartAsync(new AlertOptions { NotifyFifo = new FifoOptions(P("notify.fifo")) },
            Vs(IPAddress.IPv6Loopback, server.Port, alpha: true, omega: true, fwmark: 7));
        Assert.True(global.WaitFor(1), string.Join('\n', global.Lines));
        // omega: the stop's update_vs_notifies(stopping) writes the virtual server down
        await subsystem.StopAsync(CancellationToken.None);
        await hub.FlushAsync(CancellationToken.None);
        Assert.True(global.WaitFor(2), string.Join('\n', global.Lines));
        Assert.Equal([$"RS [::1]:none:{server.Port} FWM 7 DOWN", "VS FWM 7 DOWN"], global.Lines);
    }

    private static AlertOptions Mail(int port) => new()
    {
        Emails = ["ops@example.org", "oncall@example.org"],
        EmailFrom = "lb@example.org",
        SmtpServer = "127.0.0.1",
        SmtpPort = port,
        SmtpHeloName = "director1",
        RouterId = "LVS_DEVEL",
        SmtpConnectTimeout = TimeSpan.FromSeconds(30),
    };

    private static void AssertMail(SmtpSink.Session s, string subject, string body)
    {
        Assert.Equal(["HELO director1", "MAIL FROM:<lb@example.org>", "RCPT TO:<ops@example.org>", "RCPT TO:<oncall@example.org>", "DATA", "QUIT"], s.Commands);
        var data = s.Data.ToString().Split('\n');
        Assert.Matches(new Regex(@"^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d [+-]\d{4}$"), data[0]);
        Assert.Equal(["From: lb@example.org", $"Subject: {subject}", "X-Mailer: Keepalived", "To: ops@example.org, oncall@example.org", "", body, "", ""], data[1..]);
    }

    [Fact]
    public async Task A_checker_transition_is_mailed_with_keepalived_envelope_headers_and_texts()
    {
        await using var sink = new SmtpSink();
        await using var server = new Toggle(IPAddress.Loopback);
        var (_, ipvs, _) = await StartAsync(Mail(sink.Port), Vs(IPAddress.Loopback, server.Port, smtpAlert: true));
        var rs = $"[127.0.0.1]:tcp:{server.Port}";
        Assert.True(Wait.Until(() => sink.Completed.Count >= 1, Bound));
        server.Down();
        Assert.True(Wait.Until(() => sink.Completed.Count >= 3, Bound), $"{sink.Completed.Count} mails");
        var mails = sink.Completed;
        AssertMail(mails[0], "[LVS_DEVEL] Virtualserver [10.0.0.100]:tcp:80 - UP", "=> Starting with quorum up 1+0=1 <= 1 <=");
        // keepalived's order: do_vs_notifies inside update_svr_checker_state, then the checker's own mail
        AssertMail(mails[1], "[LVS_DEVEL] Virtualserver [10.0.0.100]:tcp:80 - DOWN", "=> Lost quorum 1+0=1 <= 0 <=");
        AssertMail(mails[2], $"[LVS_DEVEL] Realserver {rs} of virtual server [10.0.0.100]:tcp:80 - DOWN", "=> TCP CHECK failed on service <=");
        Assert.Empty(ipvs.Weights("[10.0.0.100]:tcp:80"));
    }

    [Fact]
    public async Task A_hanging_or_dead_smtp_server_does_not_hold_the_transition_and_is_logged()
    {
        // a server that accepts and never answers: while the mail waits for its greeting, the removal and the FIFO line happen
        await using var hanging = new SmtpSink(silent: true);
        await using var server = new Toggle(IPAddress.Loopback);
        var global = new FifoReader(P("notify.fifo"));
        var (_, ipvs, _) = await StartAsync(Mail(hanging.Port) with { NotifyFifo = new FifoOptions(P("notify.fifo")) }, Vs(IPAddress.Loopback, server.Port, smtpAlert: true));
        Assert.True(Wait.Until(() => hanging.Connections == 1, Bound));
        server.Down();
        Assert.True(global.WaitFor(3), string.Join('\n', global.Lines));
        Assert.Empty(ipvs.Weights("[10.0.0.100]:tcp:80"));
        Assert.Equal(1, hanging.Connections); // the first mail still holds the sender: the transition did not wait for it

        // a closed port: connection refused, one log line per mail, nothing else
        int closed;
        using (var l = new TcpListener(IPAddress.Loopback, 0))
        {
            l.Start();
            closed = ((IPEndPoint)l.LocalEndpoint).Port;
        }
        await using var server2 = new Toggle(IPAddress.Loopback);
        var (_, ipvs2, _) = await StartAsync(Mail(closed), Vs(IPAddress.Loopback, server2.Port, smtpAlert: true));
        server2.Down();
        Assert.True(Wait.Until(() => ipvs2.Weights("[10.0.0.100]:tcp:80").Count == 0 && _logs.Lines.Count(l => l.Contains($"SMTP connection ERROR to [127.0.0.1]:{closed}.", StringComparison.Ordinal)) >= 3, Bound),
            string.Join('\n', _logs.Lines));
    }
}
