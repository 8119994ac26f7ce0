using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Lb.Checkers.Dns;
using Lb.Checkers.Engine;
using Lb.Checkers.Options;
using Lb.Checkers.Ping;
using Lb.Checkers.Smtp;
using Lb.Checkers.Tests.Support;
using Lb.Checkers.Tests.Tcp;
using Lb.Checkers.Udp;
using Lb.TestSupport;
using Xunit;

namespace Lb.Checkers.Tests.Udp;

public class UdpDnsSmtpPingTests
{
    private static EffectiveSettings At(int port) => TcpCheckTests.Settings(IPAddress.Loopback, port);

    private static (UdpClient Server, int Port) UdpServer()
    {
        var server = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return (server, ((IPEndPoint)server.Client.LocalEndPoint!).Port);
    }

    private static int ClosedUdpPort()
    {
        using var u = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)u.Client.LocalEndPoint!).Port;
    }

    [Fact]
    public async Task Udp_require_reply_checks_the_reply_pattern()
    {
        var (server, port) = UdpServer();
        using var _ = server;
        var echo = Task.Run(async () =>
        {
            for (var i = 0; i < 2; i++)
            {
                var r = await server.ReceiveAsync();
                byte[] reply = r.Buffer.Length == 2 ? [0xAB, 0x12, 0x99] : [0x00];
                await server.SendAsync(reply, reply.Length, r.RemoteEndPoint);
            }
        });
        var good = new UdpCheck(new UdpCheckOptions { Payload = [1, 2], RequireReply = true, RequireReplyPattern = HexPattern.Parse("AB1x") }, At(port), TimeProvider.System);
        Assert.True((await Rounds.RunAsync(good, 5)).Success);
        var bad = new UdpCheck(new UdpCheckOptions { Payload = [1, 2, 3], RequireReply = true, RequireReplyPattern = HexPattern.Parse("AB") }, At(port), TimeProvider.System);
        var r = await Rounds.RunAsync(bad, 5);
        Assert.Equal("reply of 1 bytes does not match require_reply", r.Reason);
        await echo.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Udp_port_unreachable_fails_and_silence_without_require_reply_passes()
    {
        var closed = ClosedUdpPort();
        var r = await Rounds.RunAsync(new UdpCheck(new UdpCheckOptions(), At(closed), TimeProvider.System), 5);
        Assert.False(r.Success);
        Assert.Equal($"UDP connection refused from 127.0.0.1:{closed}", r.Reason);

        var (server, port) = UdpServer();
        using var _ = server;
        var quiet = await Rounds.RunAsync(new UdpCheck(new UdpCheckOptions(), TcpCheckTests.Settings(IPAddress.Loopback, port) with { ConnectTimeout = TimeSpan.FromSeconds(0.3) }, TimeProvider.System), 5);
        Assert.True(quiet.Success, quiet.Reason);
        var required = await Rounds.RunAsync(new UdpCheck(new UdpCheckOptions { RequireReply = true }, At(port), TimeProvider.System), 0.3);
        Assert.Equal("no UDP reply within 0.3 s", required.Reason);
    }

    [Theory]
    [InlineData(0, true, "DNS SOA . answered")]
    [InlineData(3, false, "DNS SOA . rcode 3")]
    public async Task Dns_answer_rcode_decides(int rcode, bool success, string reason)
    {
        var (server, port) = UdpServer();
        using var _ = server;
        var responder = Task.Run(async () =>
        {
            var q = await server.ReceiveAsync();
            var reply = q.Buffer.ToArray();
            Assert.Equal(6, BinaryPrimitives.ReadUInt16BigEndian(reply.AsSpan(reply.Length - 4)));
            BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(2), (ushort)(0x8180 | rcode));
            await server.SendAsync(reply, reply.Length, q.RemoteEndPoint);
        });
        var r = await Rounds.RunAsync(new DnsCheck(new DnsCheckOptions(), At(port)), 5);
        Assert.Equal(success, r.Success);
        Assert.Equal(reason, r.Reason);
        await responder.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void Dns_query_encodes_name_and_type()
    {
        var q = DnsCheck.BuildQuery(0x1234, "www.example.test", 1);
        Assert.Equal(Convert.FromHexString("123401000001000000000000" + "03777777076578616d706c6504746573740000010001"), q);
    }

    [Fact]
    public async Task Smtp_greeting_and_helo()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        var helo = new TaskCompletionSource<string>();
        var server = Task.Run(async () =>
        {
            using var s = await l.AcceptSocketAsync();
            await using var ns = new NetworkStream(s);
            using var reader = new StreamReader(ns, Encoding.ASCII);
            await ns.WriteAsync("220-mail.test ESMTP\r\n220 ready\r\n"u8.ToArray());
            helo.TrySetResult(await reader.ReadLineAsync() ?? "");
            await ns.WriteAsync("250 hello\r\n"u8.ToArray());
            await reader.ReadLineAsync();
        });
        var r = await Rounds.RunAsync(new SmtpCheck(new SmtpCheckOptions(), At(port), TimeProvider.System), 5);
        Assert.True(r.Success, r.Reason);
        Assert.Equal("HELO smtpchecker.keepalived", await helo.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        await server.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Smtp_bad_greeting_fails()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            using var s = await l.AcceptSocketAsync();
            await s.SendAsync("554 go away\r\n"u8.ToArray());
            // Hold the connection until the checker closes it (bounded), so the greeting is read before any close.
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var buffer = new byte[512];
            try
            {
                while (await s.ReceiveAsync(buffer, SocketFlags.None, cts.Token) > 0)
                {
                }
            }
            catch (SocketException)
            {
                // reset by the checker: closed as well
            }
        });
        var r = await Rounds.RunAsync(new SmtpCheck(new SmtpCheckOptions(), At(port), TimeProvider.System), 5);
        Assert.Equal("SMTP greeting '554 go away'", r.Reason);
        await server.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [RootFact]
    public async Task Ping_loopback_answers()
    {
        var r = await Rounds.RunAsync(new PingCheck(new PingCheckOptions(), At(0)), 5);
        Assert.True(r.Success, r.Reason);
        Assert.Equal("echo reply from 127.0.0.1", r.Reason);
    }
}
