using System.Net;
using System.Security.Cryptography;
using System.Text;
using Lb.Checkers.Http;
using Lb.Checkers.Options;
using Lb.Checkers.Tests.Support;
using Xunit;

namespace Lb.Checkers.Tests.Http;

/// <summary>The lean HTTP_GET probe (no client factory): keepalived's exact request and a streaming, framing-aware body.</summary>
public class HttpProbeTests
{
    private static HttpCheck Check(int port, HttpCheckOptions options)
    {
        var rs = new RealServerOptions { Address = IPAddress.Loopback, Port = (ushort)port, Checkers = [options] };
        var vs = new VirtualServerOptions { Address = IPAddress.Parse("10.0.0.100"), Port = 80, RealServers = [rs] };
        return new HttpCheck(options, vs, rs, EffectiveSettings.Resolve(vs, rs, options), TimeProvider.System, null);
    }

    private static string Md5(string s) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(s)));

    [Theory]
    [InlineData(HttpProtocol.Http10, "GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127.0.0.1:{0}\r\n\r\n")]
    [InlineData(HttpProtocol.Http10Close, "GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: 127.0.0.1:{0}\r\n\r\n")]
    [InlineData(HttpProtocol.Http11, "GET /health HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: 127.0.0.1:{0}\r\n\r\n")]
    public async Task The_request_is_keepalived_s_byte_for_byte(HttpProtocol protocol, string expected)
    {
        await using var server = new ScriptedServer(ScriptedServer.Respond(200, "ok"));
        var r = await Rounds.RunAsync(Check(server.Port, new HttpCheckOptions { Protocol = protocol, Urls = [new UrlOptions { Path = "/health" }] }), 5);
        Assert.True(r.Success, r.Reason);
        Assert.True(server.Requests.TryDequeue(out var req));
        Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, server.Port), req);
    }

    [Fact]
    public void The_host_header_carries_the_port_even_when_it_is_80()
    {
        // check_http.c appends ":port" whenever no virtualhost is set, the default port included.
        var check = Check(80, new HttpCheckOptions { Urls = [new UrlOptions { Path = "/" }] });
        Assert.Equal("127.0.0.1:80", check.HostHeader(new UrlOptions { Path = "/" }));
    }

    [Fact]
    public async Task A_chunked_body_is_decoded_before_the_digest()
    {
        const string body = "hello, chunked world";
        await using var server = new ScriptedServer(async c =>
        {
            await c.WriteAsync("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            await c.WriteAsync("7\r\nhello, \r\n");
            await c.WriteAsync("d;ext=1\r\nchunked world\r\n");
            await c.WriteAsync("0\r\nX-Trailer: t\r\n\r\n");
            await Task.Delay(Timeout.Infinite, c.Stopping); // keeps the connection open: the end of the chunks ends the body
        });
        var r = await Rounds.RunAsync(Check(server.Port, new HttpCheckOptions { Protocol = HttpProtocol.Http11, Urls = [new UrlOptions { Path = "/", Digest = Md5(body) }] }), 5);
        Assert.True(r.Success, r.Reason);
    }

    [Fact]
    public async Task Content_length_ends_the_body_without_waiting_for_close()
    {
        await using var server = new ScriptedServer(async c =>
        {
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
            await Task.Delay(Timeout.Infinite, c.Stopping);
        });
        var r = await Rounds.RunAsync(Check(server.Port, new HttpCheckOptions { Urls = [new UrlOptions { Path = "/", Digest = Md5("hello") }] }), 5);
        Assert.True(r.Success, r.Reason);
    }

    [Fact]
    public async Task A_body_cut_short_of_its_content_length_fails()
    {
        await using var server = new ScriptedServer(c => c.WriteAsync("HTTP/1.0 200 OK\r\nContent-Length: 50\r\n\r\nhello"));
        var r = await Rounds.RunAsync(Check(server.Port, new HttpCheckOptions { Urls = [new UrlOptions { Path = "/h" }] }), 5);
        Assert.False(r.Success);
        Assert.Equal("error reading body of /h: The response ended prematurely.", r.Reason);
    }

    [Fact]
    public async Task An_interim_100_response_is_skipped()
    {
        await using var server = new ScriptedServer(c => c.WriteAsync("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n"));
        var r = await Rounds.RunAsync(Check(server.Port, new HttpCheckOptions { Urls = [new UrlOptions { Path = "/h" }] }), 5);
        Assert.Equal("HTTP status 503 on /h", r.Reason);
    }

    [Fact]
    public async Task A_closed_connection_without_an_answer_fails()
    {
        await using var server = new ScriptedServer(_ => Task.CompletedTask);
        var r = await Rounds.RunAsync(Check(server.Port, new HttpCheckOptions { Urls = [new UrlOptions { Path = "/h" }] }), 5);
        Assert.False(r.Success);
        Assert.Equal("The server closed the connection without a response. on /h", r.Reason);
    }

    [Fact]
    public void The_parser_gives_the_same_body_however_the_bytes_are_split()
    {
        var response = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n");
        for (var split = 1; split <= response.Length; split++)
        {
            var parser = new HttpResponseParser(65536);
            var sink = new Collect();
            var state = HttpParseState.NeedMore;
            for (var i = 0; i < response.Length && state == HttpParseState.NeedMore; i += split)
                state = parser.Feed(response.AsSpan(i, Math.Min(split, response.Length - i)), sink, false, out _);
            Assert.Equal(HttpParseState.Done, state);
            Assert.Equal(200, parser.StatusCode);
            Assert.Equal("abc0123456789abcdef", sink.Text.ToString());
        }
    }

    private sealed class Collect : IHttpBodySink
    {
        public StringBuilder Text { get; } = new();
        public string? Error => null;

        public bool Append(ReadOnlySpan<byte> bytes)
        {
            Text.Append(Encoding.ASCII.GetString(bytes));
            return true;
        }
    }
}
