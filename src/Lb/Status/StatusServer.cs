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

    /// <summary>Binds and starts serving; null (with a warning) when the path is served by another live daemon, lies in a
    /// directory other users could rewrite, or cannot be bound (see <see cref="StatusSocketSecurity"/>).</summary>
    public static StatusServer? Start(string path, Func<StatusReport> collect, ILogger logger, TimeSpan? readTimeout = null)
    {
        try
        {
            path = System.IO.Path.GetFullPath(path);
            var dir = System.IO.Path.GetDirectoryName(path) ?? "/";
            if (!Directory.Exists(dir))
                Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            if (StatusSocketSecurity.InsecureDirectory(dir) is string why)
            {
                logger.LogError("Not opening the status socket {Path}: {Why}, so another user could replace the socket; 'lb status' will not reach this daemon (give --socket PATH in a directory only root can write, e.g. {Default})", path, why, DefaultDirectory);
                return null;
            }
            if (!ClaimPath(path, logger))
                return null;
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
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException or Netlink.ErrnoException)
        {
            logger.LogWarning("Cannot open the status socket {Path}: {Message}; 'lb status' will not reach this daemon", path, e.Message);
            return null;
        }
    }

    /// <summary>
    /// Clears the way for binding <paramref name="path"/>: false (after a warning) when another lb daemon — a listener run by
    /// root or by our uid — serves it, or when something other than a socket is there. A stale socket is removed, and so is
    /// one owned or served by another user: that is not a daemon to defer to but someone squatting on our path.
    /// </summary>
    private static bool ClaimPath(string path, ILogger logger)
    {
        if (Netlink.Platform.FileStatus.TryGetLink(path) is not { } existing)
            return true;
        if (!existing.IsSocket)
        {
            logger.LogError("Not opening the status socket {Path}: it exists and is not a socket ({Kind}); not removing it", path, existing.IsRegularFile ? "a regular file" : existing.IsDirectory ? "a directory" : "another kind of file");
            return false;
        }
        if (!StatusSocketSecurity.IsTrusted(existing.Uid))
        {
            logger.LogWarning("Status socket {Path} belongs to uid {Uid}, not to root or to this daemon: not trusted, replacing it", path, existing.Uid);
        }
        else
        {
            switch (StatusSocketSecurity.Probe(path, out var server))
            {
                case StatusSocketSecurity.ProbeResult.Busy:
                case StatusSocketSecurity.ProbeResult.Served when StatusSocketSecurity.IsTrusted(server.Uid):
                    logger.LogWarning("Status socket {Path} is served by another lb daemon{Pid}; 'lb status' will not reach this one (give --socket PATH)",
                        path, server.Pid > 0 ? $" (pid {server.Pid})" : "");
                    return false;
                case StatusSocketSecurity.ProbeResult.Served:
                    logger.LogWarning("Status socket {Path} is served by uid {Uid} (pid {Pid}), not by root or this daemon's uid: not trusted, replacing it", path, server.Uid, server.Pid);
                    break;
            }
        }
        File.Delete(path);
        return true;
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
            var peer = Netlink.Platform.PeerCredentials.Of(client);
            var request = await ReadLineAsync(client, timeout.Token).ConfigureAwait(false);
            // The read bound is for the client; building the reply is ours (slow under emulation): stop the clock, then
            // give the send its own bound.
            timeout.CancelAfter(Timeout.InfiniteTimeSpan);
            StatusResponse response;
            if (request is null)
                return;
            switch (request.Trim())
            {
                case var _ when !StatusSocketSecurity.IsTrusted(peer.Uid):
                    // The 0600 mode keeps other users out already; should the mode be widened, they still get nothing.
                    _logger.LogWarning("Status client uid {Uid} (pid {Pid}) refused: only root and uid {Own} may query this daemon", peer.Uid, peer.Pid, Netlink.Platform.PeerCredentials.EffectiveUid);
                    response = new StatusResponse(false, $"permission denied: uid {peer.Uid} may not query this daemon", null);
                    break;
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
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException or Netlink.ErrnoException)
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
        // Clients being served give their slot back when they end (cancelled above; each is bounded anyway): wait for all
        // of them, bounded, before disposing what they use. Should one not end in time, the two are left to the GC.
        using var drain = new CancellationTokenSource(SendTimeout);
        var taken = 0;
        try
        {
            for (; taken < MaxConcurrentClients; taken++)
                await _slots.WaitAsync(drain.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _logger.LogDebug("Status server stopped with {Count} client(s) still being served", MaxConcurrentClients - taken);
            return;
        }
        _slots.Dispose();
        _cts.Dispose();
    }
}
