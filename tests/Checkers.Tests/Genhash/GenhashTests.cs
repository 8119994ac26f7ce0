using System.Net;
using Lb.Checkers.Genhash;
using Lb.Checkers.Tests.Support;
using Xunit;

namespace Lb.Checkers.Tests.Genhash;

public class GenhashTests
{
    [Fact]
    public async Task Prints_the_md5_of_the_body_like_genhash()
    {
        await using var server = new ScriptedServer(ScriptedServer.Respond(200, "hello"));
        var o = new StringWriter();
        var e = new StringWriter();
        var rc = await GenhashCli.RunAsync(["-s", "127.0.0.1", "-p", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-u", "/index.html", "-H", "www.test"], o, e);
        Assert.Equal(0, rc);
        Assert.Equal("MD5SUM = 5d41402abc4b2a76b9719d911017c592", o.ToString().Trim());
        Assert.True(server.Requests.TryDequeue(out var req));
        Assert.StartsWith("GET /index.html HTTP/1.0\r\n", req);
        Assert.Contains("Host: www.test\r\n", req);
    }

    [Fact]
    public async Task Ssl_and_verbose()
    {
        await using var server = new ScriptedServer(ScriptedServer.Respond(200, "hello"), tls: true);
        var o = new StringWriter();
        var rc = await GenhashCli.RunAsync(["-S", "-s", "127.0.0.1", "-p", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-u", "/", "-v", "-r", "1.1"], o, new StringWriter());
        Assert.Equal(0, rc);
        var text = o.ToString();
        Assert.Contains("HTTP Header Buffer", text);
        Assert.Contains("200", text);
        Assert.EndsWith("MD5SUM = 5d41402abc4b2a76b9719d911017c592", text.TrimEnd());
    }

    [Fact]
    public void Usage_errors_and_command_entry()
    {
        var e = new StringWriter();
        Assert.Equal(2, Lb.Commands.GenhashCommand.Run(["-p", "80"], new StringWriter(), e));
        Assert.Contains("-s server and -u url are required", e.ToString());
        Assert.Equal(2, Lb.Commands.GenhashCommand.Run(["-s", "127.0.0.1", "-u", "/", "-r", "2.0"], new StringWriter(), new StringWriter()));
    }

    [Fact]
    public async Task Unreachable_server_is_an_error()
    {
        int port;
        using (var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            l.Start();
            port = ((IPEndPoint)l.LocalEndpoint).Port;
        }
        var e = new StringWriter();
        Assert.Equal(1, await GenhashCli.RunAsync(["-s", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-u", "/"], new StringWriter(), e));
        Assert.Contains("connection refused", e.ToString());
    }
}
