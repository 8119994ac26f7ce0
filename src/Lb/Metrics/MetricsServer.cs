using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Lb.Control;
using Microsoft.Extensions.Logging;

namespace Lb.Metrics;

/// <summary>
/// A minimal HTTP/1.1 endpoint for Prometheus on TCP: <c>GET /metrics</c> (and <c>/</c>) answer the text exposition,
/// anything else 404/405 (see <see cref="MetricsRequestHandler"/>). Connections are served by the daemon's one bounded
/// loop (<see cref="ControlServer"/>): one request per connection (<c>Connection: close</c>), request head limited to
/// <see cref="MaxHeader"/> bytes and read within <see cref="ReadTimeout"/>, the reply sent within <see cref="SendTimeout"/>,
/// at most <see cref="MaxConcurrent"/> connections held, the oldest idle one closed to make room for a newcomer.
/// </summary>
public sealed class MetricsServer : IAsyncDisposable
{
    public const int MaxHeader = 8192;
    public const int MaxConcurrent = 16;

    private readonly ControlServer _server;

    private MetricsServer(Socket listener, ControlServerOptions options, Func<CancellationToken, ValueTask<string>> render, ILogger logger)
    {
        EndPoint = (IPEndPoint)listener.LocalEndPoint!;
        _server = new ControlServer(listener, new MetricsRequestHandler(render), options, logger);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Bound on receiving one request head, from accept.</summary>
    public static TimeSpan ReadTimeout { get; } = TimeSpan.FromSeconds(5);

    /// <summary>Bound on sending one reply (a client that stops reading cannot hold its connection longer).</summary>
    public static TimeSpan SendTimeout { get; } = TimeSpan.FromSeconds(10);

    /// <summary>Connections held now (waiting for a request or being answered).</summary>
    public int Connections => _server.Connections;

    /// <summary>Connections closed to make room for a newer one, since start.</summary>
    public long Evicted => _server.Evicted;

    /// <summary>Parses <c>ADDR:PORT</c> (<c>127.0.0.1:9650</c>, <c>[::1]:9650</c>, <c>localhost:9650</c>); non-loopback only when <paramref name="allowRemote"/>.</summary>
    public static IPEndPoint ParseListen(string value, bool allowRemote)
    {
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || !ushort.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
            throw new CliException($"--metrics '{value}': expected ADDRESS:PORT (e.g. 127.0.0.1:9650)");
        var host = value[..colon].Trim('[', ']');
        var address = host == "localhost" ? IPAddress.Loopback : IPAddress.TryParse(host, out var a) ? a
            : throw new CliException($"--metrics '{value}': '{host}' is not an IP address");
        if (!IPAddress.IsLoopback(address) && !allowRemote)
            throw new CliException($"--metrics '{value}': {address} is not a loopback address; the metrics are unauthenticated, give --metrics-allow-remote to listen there anyway");
        return new IPEndPoint(address, port);
    }

    /// <param name="readTimeout">The request bound; <see cref="ReadTimeout"/> unless a test shortens it.</param>
    public static MetricsServer Start(IPEndPoint endPoint, Func<string> render, ILogger logger, TimeSpan? readTimeout = null) =>
        Start(endPoint, _ => ValueTask.FromResult(render()), logger, readTimeout);

    /// <summary>Starts the endpoint with a render that may read the kernel (bounded by its own timeout; see <see cref="MetricsSource"/>).</summary>
    /// <param name="readTimeout">The request bound; <see cref="ReadTimeout"/> unless a test shortens it.</param>
    public static MetricsServer Start(IPEndPoint endPoint, Func<CancellationToken, ValueTask<string>> render, ILogger logger, TimeSpan? readTimeout = null)
    {
        var listener = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // As TcpListener does on Linux: a restart binds again while connections of the previous run are in TIME_WAIT.
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(endPoint);
            listener.Listen(64);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        logger.LogInformation("Metrics listening on http://{EndPoint}/metrics", listener.LocalEndPoint);
        var options = new ControlServerOptions
        {
            Name = "Metrics",
            MaxConnections = MaxConcurrent,
            MaxRequestBytes = MaxHeader,
            ReadTimeout = readTimeout ?? ReadTimeout,
            SendTimeout = SendTimeout,
        };
        return new MetricsServer(listener, options, render, logger);
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
