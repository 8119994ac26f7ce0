using System.Net;
using System.Text;
using Lb.Checkers.Options;
using Lb.Scripts;
using Lb.Checkers.Tests.Support;
using Lb.TestSupport;
using Xunit;

namespace Lb.Checkers.Tests.Http;

/// <summary>Hostile real servers through the whole subsystem: each becomes a failed check whose precise reason is journalled.</summary>
public class BadServerJournalTests
{
    private static async Task<(MemoryJournal Journal, string Name)> RunUntilDownAsync(int port, CheckerOptions checker, Func<ManualTimeProvider, Task>? drive = null)
    {
        var time = new ManualTimeProvider();
        var journal = new MemoryJournal();
        var down = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var rs = new RealServerOptions { Address = IPAddress.Loopback, Port = (ushort)port, Checkers = [checker] };
        var vs = new VirtualServerOptions
        {
            Address = IPAddress.Parse("10.0.0.100"),
            Port = 80,
            DelayLoop = TimeSpan.FromSeconds(10),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            Warmup = TimeSpan.Zero,
            RealServers = [rs],
        };
        var options = new CheckerSubsystemOptions { VirtualServers = [vs] };
        await using var sub = new CheckerSubsystem(options, new InMemoryIpvsTable(), journal, new ListLogger(), time,
            new DefaultCheckFactory(options, time, null, new ScriptRunner(timeProvider: time)), new RecordingScriptRunner());
        sub.StateChanged += (_, e) =>
        {
            if (e.Kind == "real_server" && e.NewState == "down")
                down.TrySetResult();
        };
        await sub.StartAsync(CancellationToken.None);
        if (drive is not null)
            await drive(time);
        await down.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return (journal, $"[127.0.0.1]:tcp:{port}");
    }

    private static HttpCheckOptions Http() => new() { Retry = 0, Urls = [new UrlOptions { Path = "/health", Digest = "00000000000000000000000000000000" }] };

    [Fact]
    public async Task Garbage()
    {
        await using var server = new ScriptedServer(c => c.WriteAsync("garbage\r\n\r\n"));
        var (journal, name) = await RunUntilDownAsync(server.Port, Http());
        Assert.Contains($"real_server {name} up->down | HTTP_GET: Received an invalid status line: 'garbage'. on /health | removed from IPVS", journal.Lines());
    }

    [Fact]
    public async Task Never_ending_body()
    {
        await using var server = new ScriptedServer(async c =>
        {
            await c.WriteAsync("HTTP/1.0 200 OK\r\n\r\n");
            var chunk = new byte[64 * 1024];
            while (!c.Stopping.IsCancellationRequested)
                await c.Stream.WriteAsync(chunk, c.Stopping);
        });
        var (journal, name) = await RunUntilDownAsync(server.Port, Http());
        Assert.Contains($"real_server {name} up->down | HTTP_GET: body of /health longer than 16777216 bytes | removed from IPVS", journal.Lines());
    }

    [Fact]
    public async Task Ten_megabyte_header()
    {
        await using var server = new ScriptedServer(async c =>
        {
            await c.WriteAsync("HTTP/1.0 200 OK\r\nX-Big: ");
            var chunk = Encoding.ASCII.GetBytes(new string('a', 1024 * 1024));
            for (var i = 0; i < 10; i++)
                await c.Stream.WriteAsync(chunk, c.Stopping);
        });
        var (journal, name) = await RunUntilDownAsync(server.Port, Http());
        Assert.Contains($"real_server {name} up->down | HTTP_GET: The HTTP response headers length exceeded the set limit of 65536 bytes. on /health | removed from IPVS", journal.Lines());
    }

    [Fact]
    public async Task Stalled_tls_handshake()
    {
        await using var server = new ScriptedServer(ScriptedServer.Hang, tls: true, tlsStall: true);
        var (journal, name) = await RunUntilDownAsync(server.Port, Http() with { Ssl = true }, async time =>
        {
            await server.HandshakeStarted.Task.WaitAsync(TimeSpan.FromSeconds(60));
            ManualClock.Advance(time, 5); // connect_timeout
        });
        Assert.Contains($"real_server {name} up->down | SSL_GET: TLS handshake timeout 5 s on /health | removed from IPVS", journal.Lines());
    }

    [Fact]
    public async Task Script_that_floods_stdout_then_fails()
    {
        var (journal, _) = await RunUntilDownAsync(1, new MiscCheckOptions { Path = "/bin/sh -c 'head -c 30000000 /dev/zero; exit 1'" });
        Assert.Contains("real_server [127.0.0.1]:tcp:1 up->down | MISC_CHECK: exited with status 1 | removed from IPVS", journal.Lines());
    }
}
