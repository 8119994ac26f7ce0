using System.Net;
using System.Threading.Channels;
using Lb.Checkers.Options;
using Lb.Scripts;
using Lb.Checkers.Tests.Support;
using Lb.TestSupport;
using Xunit;

namespace Lb.Checkers.Tests;

/// <summary>The whole subsystem with the real probes against loopback servers, driven by a manual clock.</summary>
public class CheckerSubsystemTests
{
    private sealed class Harness : IAsyncDisposable
    {
        private readonly Channel<CheckCompletedEvent> _events = Channel.CreateUnbounded<CheckCompletedEvent>();

        public Harness(CheckerSubsystemOptions options)
        {
            Subsystem = new CheckerSubsystem(options, Ipvs, Journal, Logs, Time,
                new DefaultCheckFactory(options, Time, null, new ScriptRunner()), new RecordingScriptRunner());
            Subsystem.CheckCompleted += (_, e) => _events.Writer.TryWrite(e);
        }

        public ManualTimeProvider Time { get; } = new();
        public InMemoryIpvsTable Ipvs { get; } = new();
        public MemoryJournal Journal { get; } = new();
        public ListLogger Logs { get; } = new();
        public CheckerSubsystem Subsystem { get; }

        /// <summary>Waits (bounded) for the next completed round of <paramref name="rs"/>; other servers' rounds are returned in <paramref name="others"/>.</summary>
        public async Task<CheckCompletedEvent> NextAsync(string rs, List<CheckCompletedEvent>? others = null)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (true)
            {
                var e = await _events.Reader.ReadAsync(cts.Token);
                if (e.RealServer == rs)
                    return e;
                others?.Add(e);
            }
        }

        public bool TryNext(out CheckCompletedEvent? e) => _events.Reader.TryRead(out e);

        public void Advance(double s) => ManualClock.Advance(Time, s);

        public async ValueTask DisposeAsync() => await Subsystem.DisposeAsync();
    }

    private static RealServerOptions Rs(int port, params UrlOptions[] urls) => new()
    {
        Address = IPAddress.Loopback,
        Port = (ushort)port,
        Checkers = [new HttpCheckOptions { Retry = 0, Urls = urls.Length > 0 ? urls : [new UrlOptions { Path = "/health" }] }],
    };

    private static VirtualServerOptions Vs(params RealServerOptions[] rs) => new()
    {
        Address = IPAddress.Parse("10.0.0.100"),
        Port = 80,
        DelayLoop = TimeSpan.FromSeconds(1),
        ConnectTimeout = TimeSpan.FromSeconds(5),
        Warmup = TimeSpan.Zero,
        RealServers = rs,
    };

    [Fact]
    public async Task Http_200_then_503_then_200_removes_and_re_adds_the_server()
    {
        var status = 200;
        await using var server = new ScriptedServer(c => ScriptedServer.Respond(status, "ok")(c));
        var name = $"[127.0.0.1]:tcp:{server.Port}";
        await using var h = new Harness(new CheckerSubsystemOptions { VirtualServers = [Vs(Rs(server.Port))] });
        await h.Subsystem.StartAsync(CancellationToken.None);
        Assert.True((await h.NextAsync(name)).Success);
        Assert.Equal(["add-service [10.0.0.100]:tcp:80", $"add 127.0.0.1:{server.Port} w1"], h.Ipvs.TakeOperations());

        status = 503;
        h.Advance(1);
        var down = await h.NextAsync(name);
        Assert.Equal("HTTP status 503 on /health", down.Reason);
        Assert.Equal([$"del 127.0.0.1:{server.Port}"], h.Ipvs.TakeOperations());

        status = 200;
        h.Advance(1);
        Assert.True((await h.NextAsync(name)).Success);
        Assert.Equal([$"add 127.0.0.1:{server.Port} w1"], h.Ipvs.TakeOperations());

        Assert.Contains($"real_server {name} up->down | HTTP_GET: HTTP status 503 on /health | removed from IPVS", h.Journal.Lines());
        Assert.Contains($"real_server {name} down->up | HTTP_GET: HTTP status 200 on /health | added to IPVS with weight 1", h.Journal.Lines());
        Assert.Contains($"HTTP_CHECK on service {name} failed.", h.Logs.Info());
        Assert.Contains($"Remote Web server {name} succeed on service.", h.Logs.Info());
    }

    [Fact]
    public async Task A_stalled_check_does_not_delay_a_healthy_one_and_fails_at_its_timeout()
    {
        await using var stalled = new ScriptedServer(ScriptedServer.Hang);
        await using var healthy = new ScriptedServer(ScriptedServer.Respond(200, "ok"));
        var stalledName = $"[127.0.0.1]:tcp:{stalled.Port}";
        var healthyName = $"[127.0.0.1]:tcp:{healthy.Port}";
        await using var h = new Harness(new CheckerSubsystemOptions { VirtualServers = [Vs(Rs(stalled.Port), Rs(healthy.Port))] });
        await h.Subsystem.StartAsync(CancellationToken.None);

        var others = new List<CheckCompletedEvent>();
        Assert.True((await h.NextAsync(healthyName, others)).Success);
        for (var i = 1; i <= 4; i++)
        {
            h.Advance(1); // t = i s: the healthy server's rounds keep their 1 s schedule
            Assert.True((await h.NextAsync(healthyName, others)).Success);
        }
        Assert.Empty(others); // the stalled round is still waiting for its response
        Assert.Equal(5, healthy.Connections);

        h.Advance(1); // t = 5 s: the stalled round hits connect_timeout (5 s)
        var failed = await h.NextAsync(stalledName);
        Assert.False(failed.Success);
        Assert.Equal("response timeout 5 s on /health", failed.Reason);
        Assert.Contains($"real_server {stalledName} up->down | HTTP_GET: response timeout 5 s on /health | removed from IPVS", h.Journal.Lines());
        Assert.Equal(1, stalled.Connections);
    }

    [Fact]
    public async Task Tcp_and_misc_checks_run_through_the_subsystem()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var rs = new RealServerOptions
        {
            Address = IPAddress.Loopback,
            Port = (ushort)port,
            Checkers = [new TcpCheckOptions(), new MiscCheckOptions { Path = "/bin/sh -c 'exit 9'", Dynamic = true }],
        };
        await using var h = new Harness(new CheckerSubsystemOptions { VirtualServers = [Vs(rs)] });
        await h.Subsystem.StartAsync(CancellationToken.None);
        var name = $"[127.0.0.1]:tcp:{port}";
        var first = await h.NextAsync(name);
        var second = await h.NextAsync(name);
        Assert.Equal(["MISC_CHECK", "TCP_CHECK"], new[] { first.Kind, second.Kind }.Order());
        Assert.All(new[] { first, second }, e => Assert.True(e.Success, e.Reason));
        var snapshot = h.Subsystem.GetSnapshot();
        Assert.Equal(7, snapshot.VirtualServers[0].RealServers[0].Weight);
        Assert.Contains($"edit 127.0.0.1:{port} w7", h.Ipvs.TakeOperations());
    }
}
