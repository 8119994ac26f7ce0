using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Lb.Checkers.Engine;
using Lb.Checkers.Options;
using Lb.Checkers.Tcp;
using Lb.Checkers.Tests.Support;
using Lb.TestSupport;
using Xunit;

namespace Lb.Checkers.Tests.Tcp;

public class TcpCheckTests
{
    private static TcpCheck Check(IPAddress address, int port, TcpCheckOptions? options = null) =>
        new(options ?? new TcpCheckOptions(), Settings(address, port), TimeProvider.System);

    internal static EffectiveSettings Settings(IPAddress address, int port) => new()
    {
        DelayLoop = TimeSpan.FromSeconds(10),
        ConnectTimeout = TimeSpan.FromSeconds(1),
        Retry = 0,
        DelayBeforeRetry = TimeSpan.FromSeconds(1),
        Warmup = TimeSpan.Zero,
        Alpha = false,
        LogAllFailures = false,
        ConnectAddress = address,
        ConnectPort = (ushort)port,
    };

    [Fact]
    public async Task Connect_succeeds_and_binds_the_source_address()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        var accept = l.AcceptSocketAsync();
        var r = await Rounds.RunAsync(Check(IPAddress.Loopback, port, new TcpCheckOptions { BindTo = IPAddress.Parse("127.0.0.2") }), 5);
        Assert.True(r.Success, r.Reason);
        using var s = await accept.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(IPAddress.Parse("127.0.0.2"), ((IPEndPoint)s.RemoteEndPoint!).Address);
    }

    [Fact]
    public async Task Refused_port_fails()
    {
        int port;
        using (var l = new TcpListener(IPAddress.Loopback, 0))
        {
            l.Start();
            port = ((IPEndPoint)l.LocalEndpoint).Port;
        }
        var r = await Rounds.RunAsync(Check(IPAddress.Loopback, port), 5);
        Assert.False(r.Success);
        Assert.Equal($"connection refused to 127.0.0.1:{port}", r.Reason);
    }

    [RootFact("ip")]
    public async Task An_address_that_blackholes_fails_at_connect_timeout()
    {
        // A veth pair whose peer sits, address-less, in its own network namespace, with a static neighbour entry:
        // SYNs to 203.0.113.77 leave and vanish (a route to nowhere), so only connect_timeout ends the attempt.
        var tag = Environment.ProcessId % 100000;
        var ns = $"lbchk{tag}";
        var dev = $"lbchk{tag}a";
        Ip($"netns add {ns}");
        try
        {
            Ip($"link add {dev} type veth peer name lbchk{tag}b netns {ns}");
            Ip($"link set {dev} up");
            Ip($"-n {ns} link set lbchk{tag}b up");
            Ip($"addr add 203.0.113.1/24 dev {dev}");
            Ip($"neigh replace 203.0.113.77 lladdr 02:00:00:00:00:77 dev {dev} nud permanent");
            var r = await Rounds.RunAsync(Check(IPAddress.Parse("203.0.113.77"), 80), 1);
            Assert.False(r.Success);
            Assert.Equal("connect timeout 1 s", r.Reason);
        }
        finally
        {
            TryIp($"link del {dev}");
            TryIp($"netns del {ns}");
        }
    }

    private static void TryIp(string args)
    {
        try
        {
            Ip(args);
        }
        catch (Xunit.Sdk.XunitException)
        {
        }
    }

    private static void Ip(string args)
    {
        var r = ProcessRunner.Run("ip", args.Split(' '));
        Assert.True(r.ExitCode == 0, $"ip {args}: {r.Stderr}");
    }
}
