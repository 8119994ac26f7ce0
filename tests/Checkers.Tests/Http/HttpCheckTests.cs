using Lb.Netlink.Collections;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Lb.Checkers.Engine;
using Lb.Checkers.Http;
using Lb.Checkers.Options;
using Lb.Checkers.Tests.Support;
using Xunit;

namespace Lb.Checkers.Tests.Http;

public class HttpCheckTests
{
    private static HttpCheck Check(int port, HttpCheckOptions? options = null, string path = "/health", string? digest = null,
        IReadOnlyList<StatusCodeRange>? codes = null, string? regex = null, bool noMatch = false, IHttpClientFactory? factory = null)
    {
        options ??= new HttpCheckOptions();
        options = options with { Urls = options.Urls.Count > 0 ? options.Urls : [new UrlOptions { Path = path, Digest = digest, StatusCodes = codes is null ? [] : codes.ToValueList(), Regex = regex, RegexNoMatch = noMatch }] };
        var rs = new RealServerOptions { Address = IPAddress.Loopback, Port = (ushort)port, Checkers = [options] };
        var vs = new VirtualServerOptions { Address = IPAddress.Parse("10.0.0.100"), Port = 80, RealServers = [rs] };
        var settings = EffectiveSettings.Resolve(vs, rs, options) with { ConnectTimeout = TimeSpan.FromSeconds(2) };
        return new HttpCheck(options, vs, rs, settings, TimeProvider.System, factory);
    }

    private static string Md5(string s) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(s)));

    [Fact]
    public async Task Sends_keepalived_request_and_accepts_2xx()
    {
        await using var server = new ScriptedServer(ScriptedServer.Respond(200, "ok"));
        var r = await Rounds.RunAsync(Check(server.Port), 5);
        Assert.True(r.Success, r.Reason);
        Assert.Equal("HTTP status 200 on /health", r.Reason);
        Assert.True(server.Requests.TryDequeue(out var req));
        var lines = req.Split("\r\n");
        Assert.Equal("GET /health HTTP/1.0", lines[0]);
        Assert.Contains("User-Agent: KeepAliveClient", lines);
        Assert.Contains($"Host: 127.0.0.1:{server.Port}", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("Connection:", StringComparison.OrdinalIgnoreCase) && !l.Contains("close", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Http11_sends_connection_close_and_virtualhost()
    {
        await using var server = new ScriptedServer(ScriptedServer.Respond(200, "ok", "HTTP/1.1"));
        var r = await Rounds.RunAsync(Check(server.Port, new HttpCheckOptions { Protocol = HttpProtocol.Http11, Virtualhost = "www.example.test" }), 5);
        Assert.True(r.Success, r.Reason);
        Assert.True(server.Requests.TryDequeue(out var req));
        var lines = req.Split("\r\n");
        Assert.Equal("GET /health HTTP/1.1", lines[0]);
        Assert.Contains("Host: www.example.test", lines);
        Assert.Contains("Connection: close", lines);
    }

    [Fact]
    public async Task Status_outside_the_ranges_fails_with_the_status_in_the_reason()
    {
        await using var server = new ScriptedServer(ScriptedServer.Respond(503, "busy"));
        var r = await Rounds.RunAsync(Check(server.Port), 5);
        Assert.False(r.Success);
        Assert.Equal("HTTP status 503 on /health", r.Reason);
        var ok = await Rounds.RunAsync(Check(server.Port, codes: [new StatusCodeRange(500, 503)]), 5);
        Assert.True(ok.Success, ok.Reason);
    }

    [Fact]
    public async Task Digest_mismatch_fails_when_the_body_changes()
    {
        var body = "version 1";
        await using var server = new ScriptedServer(c => ScriptedServer.Respond(200, body)(c));
        var check = Check(server.Port, digest: Md5("version 1"));
        Assert.True((await Rounds.RunAsync(check, 5)).Success);
        body = "version 2";
        var r = await Rounds.RunAsync(check, 5);
        Assert.False(r.Success);
        Assert.Equal($"MD5 digest {Md5("version 2")} on /health, expected {Md5("version 1")}", r.Reason);
    }

    [Fact]
    public async Task Regex_and_regex_no_match()
    {
        await using var server = new ScriptedServer(ScriptedServer.Respond(200, "status: healthy\n"));
        Assert.True((await Rounds.RunAsync(Check(server.Port, regex: "status: (healthy|ok)"), 5)).Success);
        var miss = await Rounds.RunAsync(Check(server.Port, regex: "degraded"), 5);
        Assert.Equal("regex 'degraded' not matched on /health", miss.Reason);
        var hit = await Rounds.RunAsync(Check(server.Port, regex: "healthy", noMatch: true), 5);
        Assert.Equal("regex 'healthy' matched on /health", hit.Reason);
    }

    [Fact]
    public async Task Refused_port_fails_with_connection_refused()
    {
        int port;
        using (var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            l.Start();
            port = ((IPEndPoint)l.LocalEndpoint).Port;
        }
        var r = await Rounds.RunAsync(Check(port), 5);
        Assert.False(r.Success);
        Assert.Equal("connection refused on /health", r.Reason);
    }

    [Fact]
    public async Task Slow_response_past_the_timeout_fails_in_the_response_phase()
    {
        await using var server = new ScriptedServer(ScriptedServer.Hang);
        var r = await Rounds.RunAsync(Check(server.Port), 2);
        Assert.False(r.Success);
        Assert.Equal("response timeout 2 s on /health", r.Reason);
    }

    [Fact]
    public async Task Garbage_answer_fails_with_the_parser_error()
    {
        await using var server = new ScriptedServer(c => c.WriteAsync("SSH-2.0-OpenSSH_9.2\r\n\u0001\u0002garbage\r\n\r\n"));
        var r = await Rounds.RunAsync(Check(server.Port), 5);
        Assert.False(r.Success);
        Assert.StartsWith("Received an invalid status line: 'SSH-2.0-OpenSSH_9.2'", r.Reason);
        Assert.EndsWith(" on /health", r.Reason);
    }

    [Fact]
    public async Task Never_ending_body_is_cut_at_the_size_limit()
    {
        await using var server = new ScriptedServer(async c =>
        {
            await c.WriteAsync("HTTP/1.0 200 OK\r\n\r\n");
            var chunk = new byte[64 * 1024];
            while (!c.Stopping.IsCancellationRequested)
                await c.Stream.WriteAsync(chunk, c.Stopping);
        });
        var r = await Rounds.RunAsync(Check(server.Port, digest: Md5("x")), 30);
        Assert.False(r.Success);
        Assert.Equal($"body of /health longer than {HttpCheck.MaxBodyBytes} bytes", r.Reason);
    }

    [Fact]
    public async Task Ten_megabyte_header_fails_at_the_header_limit()
    {
        await using var server = new ScriptedServer(async c =>
        {
            await c.WriteAsync("HTTP/1.0 200 OK\r\nX-Big: ");
            var chunk = Encoding.ASCII.GetBytes(new string('a', 1024 * 1024));
            for (var i = 0; i < 10; i++)
                await c.Stream.WriteAsync(chunk, c.Stopping);
            await c.WriteAsync("\r\n\r\nok");
        });
        var r = await Rounds.RunAsync(Check(server.Port), 30);
        Assert.False(r.Success);
        Assert.Contains("exceeded the set limit of 65536 bytes", r.Reason);
        Assert.EndsWith("on /health", r.Reason);
    }

    [Fact]
    public async Task Ssl_get_without_certificate_checks_and_sni_only_when_enabled()
    {
        await using var server = new ScriptedServer(ScriptedServer.Respond(200, "secure"), tls: true);
        var withSni = await Rounds.RunAsync(Check(server.Port, new HttpCheckOptions { Ssl = true, EnableSni = true, Virtualhost = "app.example.test" }), 10);
        Assert.True(withSni.Success, withSni.Reason);
        Assert.True(server.SniNames.TryDequeue(out var sni));
        Assert.Equal("app.example.test", sni);
        Assert.True(server.Requests.TryDequeue(out var req));
        Assert.Contains("Host: app.example.test", req.Split("\r\n"));

        var noSni = await Rounds.RunAsync(Check(server.Port, new HttpCheckOptions { Ssl = true, Virtualhost = "app.example.test" }), 10);
        Assert.True(noSni.Success, noSni.Reason);
        Assert.True(server.SniNames.TryDequeue(out var none));
        Assert.Equal("", none);
    }

    [Fact]
    public async Task Tls_handshake_that_stalls_fails_in_the_handshake_phase()
    {
        await using var server = new ScriptedServer(ScriptedServer.Hang, tls: true, tlsStall: true);
        var r = await Rounds.RunAsync(Check(server.Port, new HttpCheckOptions { Ssl = true }), 2);
        Assert.False(r.Success);
        Assert.Equal("TLS handshake timeout 2 s on /health", r.Reason);
    }

    [Fact]
    public async Task Every_url_must_pass()
    {
        await using var server = new ScriptedServer(c => ScriptedServer.Respond(200, "x")(c));
        server.Handler = async c =>
        {
            server.Requests.TryPeek(out _);
            await ScriptedServer.Respond(200, "x")(c);
        };
        var options = new HttpCheckOptions { Urls = [new UrlOptions { Path = "/a" }, new UrlOptions { Path = "/b", Digest = Md5("other") }] };
        var r = await Rounds.RunAsync(Check(server.Port, options), 5);
        Assert.False(r.Success);
        Assert.Equal($"MD5 digest {Md5("x")} on /b, expected {Md5("other")}", r.Reason);
        Assert.Equal(2, server.Connections);
    }

    [Fact]
    public async Task Connections_are_not_reused_between_checks_through_the_factory()
    {
        await using var server = new ScriptedServer(ScriptedServer.Respond(200, "ok", "HTTP/1.1"));
        using var factory = new SingleHandlerFactory();
        var check = Check(server.Port, new HttpCheckOptions { Protocol = HttpProtocol.Http11 }, factory: factory);
        for (var i = 0; i < 3; i++)
            Assert.True((await Rounds.RunAsync(check, 5)).Success);
        Assert.Equal(3, server.Connections);
        Assert.Equal(3, factory.Created);
    }

    private sealed class SingleHandlerFactory : IHttpClientFactory, IDisposable
    {
        private readonly SocketsHttpHandler _handler = CheckerHttp.CreateHandler();
        public int Created;

        public HttpClient CreateClient(string name)
        {
            Assert.Equal(CheckerHttp.ClientName, name);
            Interlocked.Increment(ref Created);
            return new HttpClient(_handler, disposeHandler: false);
        }

        public void Dispose() => _handler.Dispose();
    }
}

public class HttpCheckWiringTests
{
    [Fact]
    public async Task Bindto_connect_ip_and_connect_port_are_honoured()
    {
        await using var server = new ScriptedServer(ScriptedServer.Respond(200, "ok"));
        var options = new HttpCheckOptions
        {
            BindTo = IPAddress.Parse("127.0.0.3"),
            ConnectIp = IPAddress.Loopback,
            ConnectPort = (ushort)server.Port,
            Urls = [new UrlOptions { Path = "/" }],
        };
        // The real server's own address/port are unreachable; connect_ip/connect_port point at the test server.
        var rs = new RealServerOptions { Address = IPAddress.Parse("192.0.2.1"), Port = 1, Checkers = [options] };
        var vs = new VirtualServerOptions { Address = IPAddress.Parse("10.0.0.100"), Port = 80, RealServers = [rs] };
        var check = new HttpCheck(options, vs, rs, EffectiveSettings.Resolve(vs, rs, options), TimeProvider.System, null);
        var r = await Rounds.RunAsync(check, 5);
        Assert.True(r.Success, r.Reason);
        Assert.True(server.Requests.TryDequeue(out var req));
        Assert.Contains($"Host: 127.0.0.1:{server.Port}", req.Split("\r\n"));
        Assert.Equal("127.0.0.3", server.LastPeer?.Address.ToString());
    }

    [Fact]
    public async Task The_registered_factory_client_works_and_does_not_reuse_connections()
    {
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        services.AddLbCheckers();
        await using var provider = Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(services);
        var factory = (IHttpClientFactory)provider.GetService(typeof(IHttpClientFactory))!;
        await using var server = new ScriptedServer(ScriptedServer.Respond(200, "ok", "HTTP/1.1"));
        var options = new HttpCheckOptions { Protocol = HttpProtocol.Http11, Urls = [new UrlOptions { Path = "/" }] };
        var rs = new RealServerOptions { Address = IPAddress.Loopback, Port = (ushort)server.Port, Checkers = [options] };
        var vs = new VirtualServerOptions { Address = IPAddress.Parse("10.0.0.100"), Port = 80, RealServers = [rs] };
        var check = new HttpCheck(options, vs, rs, EffectiveSettings.Resolve(vs, rs, options), TimeProvider.System, factory);
        for (var i = 0; i < 3; i++)
            Assert.True((await Rounds.RunAsync(check, 5)).Success);
        Assert.Equal(3, server.Connections);
    }
}
