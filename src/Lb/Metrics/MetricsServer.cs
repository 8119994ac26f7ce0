using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Lb.Metrics;

/// <summary>
/// A minimal HTTP/1.1 server for Prometheus on a <see cref="TcpListener"/>: <c>GET /metrics</c> (and <c>/</c>) answer the text
/// exposition, anything else 404/405; one request per connection (<c>Connection: close</c>), request head limited to 8 KiB
/// and read within <see cref="ReadTimeout"/>, the reply sent within <see cref="SendTimeout"/>. At most
/// <see cref="MaxConcurrent"/> connections are held; when one more arrives, the oldest connection still waiting for its
/// request is closed to make room (a scraper sends its request at once, so idle connections cannot crowd it out), and only
/// when every held connection is being answered is the newcomer refused.
/// </summary>
public sealed class MetricsServer : IAsyncDisposable
{
    public const int MaxHeader = 8192;
    public const int MaxConcurrent = 16;

    private readonly TcpListener _listener;
    private readonly Func<string> _render;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _cts = new();
    private readonly Lock _gate = new();
    private readonly LinkedList<Connection> _connections = new();
    private readonly Task _accept;

    private MetricsServer(TcpListener listener, Func<string> render, ILogger logger)
    {
        _listener = listener;
        _render = render;
        _logger = logger;
        _accept = Task.Run(AcceptAsync);
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Bound on receiving one request head, from accept.</summary>
    public static TimeSpan ReadTimeout { get; } = TimeSpan.FromSeconds(5);

    /// <summary>Bound on sending one reply (a client that stops reading cannot hold its connection longer).</summary>
    public static TimeSpan SendTimeout { get; } = TimeSpan.FromSeconds(10);

    /// <summary>Connections held now (waiting for a request or being answered).</summary>
    public int Connections
    {
        get
        {
            lock (_gate)
                return _connections.Count;
        }
    }

    /// <summary>Connections closed to make room for a newer one, since start.</summary>
    public long Evicted => Interlocked.Read(ref _evicted);

    private long _evicted;

    /// <summary>One accepted connection; <see cref="Waiting"/> until its request head has been read.</summary>
    private sealed class Connection(Socket socket)
    {
        public Socket Socket { get; } = socket;

        public bool Waiting { get; set; } = true;
    }

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

    public static MetricsServer Start(IPEndPoint endPoint, Func<string> render, ILogger logger)
    {
        var listener = new TcpListener(endPoint);
        listener.Start(64);
        logger.LogInformation("Metrics listening on http://{EndPoint}/metrics", listener.LocalEndpoint);
        return new MetricsServer(listener, render, logger);
    }

    private async Task AcceptAsync()
    {
        while (!_cts.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_cts.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            var connection = new Connection(client);
            if (!Admit(connection))
            {
                client.Dispose();
                continue;
            }
            _ = Task.Run(() => ServeAsync(connection));
        }
    }

    /// <summary>Holds <paramref name="connection"/>, closing the oldest waiting one when full; false when every held
    /// connection is being answered.</summary>
    private bool Admit(Connection connection)
    {
        Connection? evicted = null;
        lock (_gate)
        {
            if (_connections.Count >= MaxConcurrent)
            {
                for (var node = _connections.First; node is not null; node = node.Next)
                {
                    if (node.Value.Waiting)
                    {
                        evicted = node.Value;
                        _connections.Remove(node);
                        break;
                    }
                }
                if (evicted is null)
                    return false;
            }
            _connections.AddLast(connection);
        }
        if (evicted is not null)
        {
            Interlocked.Increment(ref _evicted);
            _logger.LogDebug("Metrics: {Limit} connections held; closed the oldest one still waiting for its request", MaxConcurrent);
            // A graceful close (FIN): its pending receive ends with end of stream and its task disposes the socket.
            try
            {
                evicted.Socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        }
        return true;
    }

    private async Task ServeAsync(Connection connection)
    {
        var client = connection.Socket;
        try
        {
            using var _ = client;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_cts.Token);
            timeout.CancelAfter(ReadTimeout);
            var head = await ReadHeadAsync(client, timeout.Token).ConfigureAwait(false);
            if (head is null)
                return;
            lock (_gate)
                connection.Waiting = false;
            // The read bound is the client's; rendering is ours (slow under emulation): stop the clock, then bound the send.
            timeout.CancelAfter(Timeout.InfiniteTimeSpan);
            var requestLine = head.Split("\r\n", 2)[0].Split(' ');
            string status, contentType = "text/plain; charset=utf-8", body;
            if (requestLine.Length != 3 || !requestLine[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
                (status, body) = ("400 Bad Request", "bad request\n");
            else if (requestLine[0] is not ("GET" or "HEAD"))
                (status, body) = ("405 Method Not Allowed", "only GET\n");
            else if (requestLine[1].Split('?')[0] is not ("/metrics" or "/"))
                (status, body) = ("404 Not Found", "not found; try /metrics\n");
            else
                (status, contentType, body) = ("200 OK", MetricsText.ContentType, _render());
            var bodyBytes = Encoding.UTF8.GetBytes(body);
            var header = Encoding.ASCII.GetBytes(
                $"HTTP/1.1 {status}\r\nContent-Type: {contentType}\r\nContent-Length: {bodyBytes.Length}\r\nConnection: close\r\n" +
                (status.StartsWith("405", StringComparison.Ordinal) ? "Allow: GET, HEAD\r\n" : "") + "\r\n");
            timeout.CancelAfter(SendTimeout);
            await client.SendAsync(header, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            if (requestLine[0] != "HEAD")
                await client.SendAsync(bodyBytes, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            client.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
        {
            _logger.LogDebug("Metrics client: {Message}", e.Message);
        }
        finally
        {
            lock (_gate)
                _connections.Remove(connection);
        }
    }

    private static async Task<string?> ReadHeadAsync(Socket client, CancellationToken ct)
    {
        var buffer = new byte[MaxHeader];
        var used = 0;
        while (used < buffer.Length)
        {
            var n = await client.ReceiveAsync(buffer.AsMemory(used), SocketFlags.None, ct).ConfigureAwait(false);
            if (n == 0)
                return null;
            used += n;
            var text = Encoding.ASCII.GetString(buffer, 0, used);
            if (text.Contains("\r\n\r\n", StringComparison.Ordinal) || text.Contains("\n\n", StringComparison.Ordinal))
                return text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal);
        }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        await _accept.ConfigureAwait(false);
        lock (_gate)
        {
            foreach (var c in _connections)
                c.Socket.Dispose();
        }
        _cts.Dispose();
    }
}
