using System.Net;
using System.Net.Sockets;
using System.Text;
using Lb.Metrics;
using Lb.Status;
using Lb.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Lb.Lb.Tests.Hosting;

/// <summary>
/// The one bounded accept/serve loop (src/Lb/Control/ControlServer.cs) as both of its endpoints use it: the status socket
/// (unix) and the metrics endpoint (TCP). Every bound is checked on both, through each endpoint's real client protocol:
/// the connection limit (idle connections beyond it never keep a real client from its answer: the oldest idle one is
/// closed), the read bound (an idle connection is cut off), and the request size bound (nothing is read past it).
/// Before the loop was shared the eviction reached only the metrics copy: a status socket with its 32 slots held by
/// idle clients refused `lb status`.
/// </summary>
public sealed class ControlServerTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("lbcontrol-");
    private Endpoint? _endpoint;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_endpoint is not null)
            await _endpoint.DisposeAsync();
        _dir.Delete(true);
    }

    /// <summary>One endpoint under test, seen through its own client.</summary>
    private abstract class Endpoint : IAsyncDisposable
    {
        public abstract int Limit { get; }

        public abstract int RequestBytes { get; }

        public abstract int Connections { get; }

        public abstract long Evicted { get; }

        public abstract Socket Connect();

        /// <summary>A real request through the endpoint's protocol; asserts the real answer.</summary>
        public abstract Task AssertAnsweredAsync();

        /// <summary>Sends exactly the request size bound without ending the request; returns what came back before the close.</summary>
        public async Task<string> SendUnendedRequestAsync()
        {
            using var s = Connect();
            using var cts = new CancellationTokenSource(Bound);
            await s.SendAsync(Enumerable.Repeat((byte)'x', RequestBytes).ToArray(), SocketFlags.None, cts.Token);
            return await ReadToEndAsync(s, cts.Token);
        }

        public abstract ValueTask DisposeAsync();
    }

    private sealed class StatusEndpoint(StatusServer server) : Endpoint
    {
        public override int Limit => StatusServer.MaxConcurrentClients;

        public override int RequestBytes => StatusServer.MaxRequestLength;

        public override int Connections => server.Connections;

        public override long Evicted => server.Evicted;

        public override Socket Connect()
        {
            var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            s.Connect(new UnixDomainSocketEndPoint(server.Path));
            return s;
        }

        public override async Task AssertAnsweredAsync()
        {
            var response = await StatusClient.QueryAsync(server.Path, timeout: Bound);
            Assert.True(response.Ok, response.Error);
            Assert.Equal("MASTER", response.Status!.VrrpInstances.Single().State);
        }

        public override ValueTask DisposeAsync() => server.DisposeAsync();
    }

    private sealed class MetricsEndpoint(MetricsServer server) : Endpoint
    {
        public override int Limit => MetricsServer.MaxConcurrent;

        public override int RequestBytes => MetricsServer.MaxHeader;

        public override int Connections => server.Connections;

        public override long Evicted => server.Evicted;

        public override Socket Connect()
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            s.Connect(server.EndPoint);
            return s;
        }

        public override async Task AssertAnsweredAsync()
        {
            using var s = Connect();
            using var cts = new CancellationTokenSource(Bound);
            await s.SendAsync(Encoding.ASCII.GetBytes("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n"), SocketFlags.None, cts.Token);
            var response = await ReadToEndAsync(s, cts.Token);
            Assert.StartsWith("HTTP/1.1 200 OK\r\n", response, StringComparison.Ordinal);
            Assert.EndsWith("\r\n\r\nlb_up 1\n", response, StringComparison.Ordinal);
        }

        public override ValueTask DisposeAsync() => server.DisposeAsync();
    }

    private Endpoint Start(string kind, TimeSpan readTimeout)
    {
        _endpoint = kind switch
        {
            "status" => new StatusEndpoint(StatusServer.Start(Path.Combine(_dir.FullName, "s.sock"), () => DaemonUnitTests.Report(), NullLogger.Instance, readTimeout)!),
            _ => new MetricsEndpoint(MetricsServer.Start(new IPEndPoint(IPAddress.Loopback, 0), () => "lb_up 1\n", NullLogger.Instance, readTimeout)),
        };
        return _endpoint;
    }

    private static async Task<string> ReadToEndAsync(Socket s, CancellationToken ct)
    {
        using var ms = new MemoryStream();
        var buffer = new byte[8192];
        int n;
        while ((n = await s.ReceiveAsync(buffer, SocketFlags.None, ct)) > 0)
            ms.Write(buffer, 0, n);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>
    /// More idle connections than the limit: the endpoint holds exactly its limit (the oldest idle ones closed, in order),
    /// a real client is still answered, and every idle connection is closed by the server — the evicted ones at once, the
    /// others when the read bound passes. A connection the server closes reads end of stream (0 bytes).
    /// </summary>
    [Theory]
    [InlineData("status")]
    [InlineData("metrics")]
    public async Task Idle_connections_beyond_the_limit_never_keep_a_client_from_its_answer_and_are_cut_off(string kind)
    {
        var endpoint = Start(kind, TimeSpan.FromSeconds(1));
        var idle = new List<Socket>();
        try
        {
            for (var i = 0; i < endpoint.Limit + 4; i++)
                idle.Add(endpoint.Connect());
            Assert.True(Wait.Until(() => endpoint.Evicted == 4, Bound), $"{kind}: held {endpoint.Connections}, evicted {endpoint.Evicted}");

            await endpoint.AssertAnsweredAsync();

            foreach (var s in idle)
            {
                s.ReceiveTimeout = (int)Bound.TotalMilliseconds;
                Assert.Equal(0, s.Receive(new byte[1]));
            }
            Assert.True(Wait.Until(() => endpoint.Connections == 0, Bound), $"{kind}: {endpoint.Connections} connections still held after every client was cut off");
        }
        finally
        {
            foreach (var s in idle)
                s.Dispose();
        }
    }

    /// <summary>
    /// A request that reaches the size bound without ending is not read further: status answers it as an unknown request
    /// (all of it consumed, so the close is a clean end of stream), metrics closes without a reply; the endpoint then
    /// answers a real client.
    /// </summary>
    [Theory]
    [InlineData("status")]
    [InlineData("metrics")]
    public async Task A_request_at_the_size_bound_is_answered_or_closed_without_reading_further(string kind)
    {
        var endpoint = Start(kind, TimeSpan.FromSeconds(30));
        var reply = await endpoint.SendUnendedRequestAsync();
        if (kind == "status")
        {
            // Exactly the bound was read: the request echoed back is the bound's worth of 'x'.
            var response = System.Text.Json.JsonSerializer.Deserialize(reply, StatusJsonContext.Default.StatusResponse)!;
            Assert.False(response.Ok);
            Assert.Equal($"unknown request '{new string('x', StatusServer.MaxRequestLength)}' (expected: status)", response.Error);
        }
        else
            Assert.Equal("", reply);
        await endpoint.AssertAnsweredAsync();
    }
}
