using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Lb.Status;

/// <summary>
/// The daemon's side of <c>lb status</c>: a unix stream socket (mode 0600) answering each connection with one JSON
/// document. Protocol: the client sends one request line (<c>status</c>), the daemon answers one JSON
/// <see cref="StatusResponse"/> followed by a newline and closes. Each client is served on its own task with a read
/// timeout, so a client that connects and says nothing cannot hold up the others.
/// </summary>
public sealed class StatusServer : IAsyncDisposable
{
    public const string DefaultDirectory = "/run/lb";
    public const int MaxRequestLength = 256;
    public const int MaxConcurrentClients = 32;

    private readonly Socket _listener;
    private readonly Func<StatusReport> _collect;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _cts = new();
    private readonly SemaphoreSlim _slots = new(MaxConcurrentClients, MaxConcurrentClients);
    private readonly Task _accept;

    private StatusServer(string path, Socket listener, Func<StatusReport> collect, ILogger logger, TimeSpan readTimeout)
    {
        Path = path;
        _listener = listener;
        _collect = collect;
        _logger = logger;
        ReadTimeout = readTimeout;
        _accept = Task.Run(AcceptAsync);
    }

    public string Path { get; }

    public TimeSpan ReadTimeout { get; }

    /// <summary>Bound on sending one reply (a client that stops reading cannot hold a connection slot longer).</summary>
    public static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The socket path: --socket, else next to the -p pid file (<c>/run/x.pid</c> → <c>/run/x.sock</c>), else /run/lb/lb.sock
    /// (/run/lb/lb-NS.sock with -s NS).</summary>
    public static string DefaultPath(string? socket, string? pidFile, string? netns)
    {
        if (socket is not null)
            return socket;
        if (pidFile is not null)
            return System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(pidFile)) ?? "/", System.IO.Path.GetFileNameWithoutExtension(pidFile) + ".sock");
        return System.IO.Path.Combine(DefaultDirectory, netns is null ? "lb.sock" : $"lb-{netns}.sock");
    }

    /// <summary>Binds and starts serving; null (with a warning) when the path is served by another live daemon or cannot be bound.</summary>
    public static StatusServer? Start(string path, Func<StatusReport> collect, ILogger logger, TimeSpan? readTimeout = null)
    {
        try
        {
            var dir = System.IO.Path.GetDirectoryName(path);
            if (!string.IsNullOrEmpty(dir) && !Directory.Exists(dir))
                Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            if (File.Exists(path))
            {
                if (StatusClient.IsServed(path))
                {
                    logger.LogWarning("Status socket {Path} is served by another lb daemon; 'lb status' will not reach this one (give --socket PATH)", path);
                    return null;
                }
                File.Delete(path);
            }
            var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                listener.Bind(new UnixDomainSocketEndPoint(path));
                // Restrict before listen(): nobody can connect until then, so there is no window with a wider mode.
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                listener.Listen(64);
            }
            catch
            {
                listener.Dispose();
                throw;
            }
            logger.LogDebug("Status socket listening on {Path}", path);
            return new StatusServer(path, listener, collect, logger, readTimeout ?? TimeSpan.FromSeconds(2));
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Cannot open the status socket {Path}: {Message}; 'lb status' will not reach this daemon", path, e.Message);
            return null;
        }
    }

    private async Task AcceptAsync()
    {
        while (!_cts.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_cts.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                _logger.LogDebug("Status socket accept failed: {Message}", e.Message);
                continue;
            }
            if (!_slots.Wait(0))
            {
                // Too many clients at once (all stalled?): refuse this one rather than queue behind them.
                client.Dispose();
                continue;
            }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(Socket client)
    {
        try
        {
            using var _ = client;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_cts.Token);
            timeout.CancelAfter(ReadTimeout);
            var request = await ReadLineAsync(client, timeout.Token).ConfigureAwait(false);
            // The read bound is for the client; building the reply is ours (slow under emulation): stop the clock, then
            // give the send its own bound.
            timeout.CancelAfter(Timeout.InfiniteTimeSpan);
            StatusResponse response;
            if (request is null)
                return;
            switch (request.Trim())
            {
                case "" or "status":
                    response = new StatusResponse(true, null, _collect());
                    break;
                default:
                    response = new StatusResponse(false, $"unknown request '{request.Trim()}' (expected: status)", null);
                    break;
            }
            var bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(response, StatusJsonContext.Default.StatusResponse) + "\n");
            timeout.CancelAfter(SendTimeout);
            await client.SendAsync(bytes, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            client.Shutdown(SocketShutdown.Both);
        }
        catch (OperationCanceledException)
        {
            _logger.LogDebug("Status client sent no request within {Timeout}; closed", ReadTimeout);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            _logger.LogDebug("Status client: {Message}", e.Message);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>Reads up to a newline (or end of stream), at most <see cref="MaxRequestLength"/> bytes; null when nothing came.</summary>
    private static async Task<string?> ReadLineAsync(Socket client, CancellationToken ct)
    {
        var buffer = new byte[MaxRequestLength];
        var used = 0;
        while (used < buffer.Length)
        {
            var n = await client.ReceiveAsync(buffer.AsMemory(used), SocketFlags.None, ct).ConfigureAwait(false);
            if (n == 0)
                break;
            var nl = Array.IndexOf(buffer, (byte)'\n', used, n);
            used += n;
            if (nl >= 0)
                return Encoding.UTF8.GetString(buffer, 0, nl);
        }
        return used == 0 ? null : Encoding.UTF8.GetString(buffer, 0, used);
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _accept.ConfigureAwait(false);
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
        }
        _cts.Dispose();
    }
}
