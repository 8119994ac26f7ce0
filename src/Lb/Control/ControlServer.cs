using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Lb.Control;

/// <summary>The bounds of one <see cref="ControlServer"/>.</summary>
public sealed record ControlServerOptions
{
    /// <summary>Name used in log lines ("Status", "Metrics").</summary>
    public required string Name { get; init; }

    /// <summary>Most connections held at once (waiting for their request or being answered).</summary>
    public required int MaxConnections { get; init; }

    /// <summary>Most bytes of one request; a client that sends more without ending it is answered as the handler decides
    /// (<see cref="RequestEnd.TooLong"/>), never read further.</summary>
    public required int MaxRequestBytes { get; init; }

    /// <summary>Bound on receiving one request, from accept (the client's time).</summary>
    public required TimeSpan ReadTimeout { get; init; }

    /// <summary>Bound on sending one reply (a client that stops reading cannot hold its connection longer).</summary>
    public required TimeSpan SendTimeout { get; init; }
}

/// <summary>How the request handed to <see cref="IControlHandler.HandleAsync"/> ended.</summary>
public enum RequestEnd
{
    /// <summary>The handler's framing found a complete request (<see cref="IControlHandler.RequestLength"/>).</summary>
    Complete,

    /// <summary>The client closed its side before a complete request (the data may be empty).</summary>
    EndOfStream,

    /// <summary><see cref="ControlServerOptions.MaxRequestBytes"/> arrived without a complete request.</summary>
    TooLong,
}

/// <summary>One request as read by the server.</summary>
/// <param name="Data">The request bytes (up to the end the framing found).</param>
/// <param name="End">How it ended.</param>
/// <param name="Connection">The client's socket (for SO_PEERCRED); the server owns it: do not read, write or close it.</param>
public readonly record struct ControlRequest(ReadOnlyMemory<byte> Data, RequestEnd End, Socket Connection);

/// <summary>What a <see cref="ControlServer"/> endpoint says: framing and content, no sockets, no timeouts.</summary>
public interface IControlHandler
{
    /// <summary>The length of the complete request at the start of <paramref name="received"/>, or -1 while more is needed.</summary>
    int RequestLength(ReadOnlySpan<byte> received);

    /// <summary>The reply to send (then the connection is closed), or null to close without one. Runs on the connection's
    /// own task after the read bound has stopped (building the reply is the daemon's time, not the client's).</summary>
    ValueTask<ReadOnlyMemory<byte>?> HandleAsync(ControlRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// The daemon's one accept/serve loop, for the status socket (unix) and the metrics endpoint (TCP): one request per
/// connection, one reply, then close. Every client is served on its own task, so a client that stalls never holds up
/// another; its request must arrive within <see cref="ControlServerOptions.ReadTimeout"/> and within
/// <see cref="ControlServerOptions.MaxRequestBytes"/>, its reply is sent within <see cref="ControlServerOptions.SendTimeout"/>.
/// At most <see cref="ControlServerOptions.MaxConnections"/> connections are held; when one more arrives, the oldest
/// connection still waiting for its request is closed to make room (a real client sends its request at once, so idle
/// connections cannot crowd it out), and only when every held connection is being answered is the newcomer refused.
/// </summary>
public sealed class ControlServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly IControlHandler _handler;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _cts = new();
    private readonly Lock _gate = new();
    private readonly LinkedList<Connection> _connections = new();
    private readonly HashSet<Task> _serving = [];
    private readonly Task _accept;
    private long _evicted;
    private long _refused;

    /// <summary>Starts serving <paramref name="listener"/> (bound and listening; the server owns and closes it).</summary>
    public ControlServer(Socket listener, IControlHandler handler, ControlServerOptions options, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConnections, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxRequestBytes, 1);
        _listener = listener;
        _handler = handler;
        Options = options;
        _logger = logger;
        _accept = Task.Run(AcceptAsync);
    }

    public ControlServerOptions Options { get; }

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

    /// <summary>Connections refused because every held connection was being answered, since start.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>One accepted connection; <see cref="Waiting"/> until its request has been read.</summary>
    private sealed class Connection(Socket socket)
    {
        public Socket Socket { get; } = socket;

        public bool Waiting { get; set; } = true;
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
                _logger.LogDebug("{Name}: accept failed: {Message}", Options.Name, e.Message);
                continue;
            }
            var connection = new Connection(client);
            if (!Admit(connection))
            {
                Interlocked.Increment(ref _refused);
                _logger.LogDebug("{Name}: {Limit} connections are being answered; refused one more", Options.Name, Options.MaxConnections);
                client.Dispose();
                continue;
            }
            var task = Task.Run(() => ServeAsync(connection));
            lock (_gate)
            {
                if (!task.IsCompleted)
                    _serving.Add(task);
            }
            _ = task.ContinueWith(t =>
            {
                lock (_gate)
                    _serving.Remove(t);
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>Holds <paramref name="connection"/>, closing the oldest waiting one when full; false when every held
    /// connection is being answered.</summary>
    private bool Admit(Connection connection)
    {
        Connection? evicted = null;
        lock (_gate)
        {
            if (_connections.Count >= Options.MaxConnections)
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
            _logger.LogDebug("{Name}: {Limit} connections held; closed the oldest one still waiting for its request", Options.Name, Options.MaxConnections);
            // A graceful close (FIN): its pending receive ends with end of stream and its task disposes the socket.
            Shut(evicted.Socket);
        }
        return true;
    }

    private static void Shut(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task ServeAsync(Connection connection)
    {
        var client = connection.Socket;
        try
        {
            using var _ = client;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_cts.Token);
            timeout.CancelAfter(Options.ReadTimeout);
            var (data, end) = await ReadRequestAsync(client, timeout.Token).ConfigureAwait(false);
            lock (_gate)
            {
                // Evicted meanwhile: its socket is shut down, nothing to answer.
                if (!_connections.Contains(connection))
                    return;
                connection.Waiting = false;
            }
            // The read bound is the client's; building the reply is ours (slow under emulation): stop the clock, then
            // give the send its own bound.
            timeout.CancelAfter(Timeout.InfiniteTimeSpan);
            var reply = await _handler.HandleAsync(new ControlRequest(data, end, client), _cts.Token).ConfigureAwait(false);
            if (reply is not { } bytes)
                return;
            timeout.CancelAfter(Options.SendTimeout);
            await client.SendAsync(bytes, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            client.Shutdown(SocketShutdown.Both);
        }
        catch (OperationCanceledException) when (!_cts.IsCancellationRequested)
        {
            _logger.LogDebug("{Name} client timed out ({Read} to send its request, {Send} to take the reply); closed",
                Options.Name, Options.ReadTimeout, Options.SendTimeout);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException or Netlink.ErrnoException)
        {
            _logger.LogDebug("{Name} client: {Message}", Options.Name, e.Message);
        }
        catch (Exception e)
        {
            // A handler bug must not take the daemon down, nor go unnoticed.
            _logger.LogError(e, "{Name}: answering a client failed: {Message}", Options.Name, e.Message);
        }
        finally
        {
            lock (_gate)
                _connections.Remove(connection);
        }
    }

    /// <summary>Reads until the handler's framing sees a complete request, the client closes, or the size bound is reached.</summary>
    private async Task<(ReadOnlyMemory<byte> Data, RequestEnd End)> ReadRequestAsync(Socket client, CancellationToken ct)
    {
        var buffer = new byte[Options.MaxRequestBytes];
        var used = 0;
        while (used < buffer.Length)
        {
            var n = await client.ReceiveAsync(buffer.AsMemory(used), SocketFlags.None, ct).ConfigureAwait(false);
            if (n == 0)
                return (buffer.AsMemory(0, used), RequestEnd.EndOfStream);
            used += n;
            var length = _handler.RequestLength(buffer.AsSpan(0, used));
            if (length >= 0)
                return (buffer.AsMemory(0, Math.Min(length, used)), RequestEnd.Complete);
        }
        return (buffer.AsMemory(0, used), RequestEnd.TooLong);
    }

    /// <summary>Stops accepting, closes every held connection and waits (bounded by the send bound) for their tasks.</summary>
    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _accept.ConfigureAwait(false);
        Task[] serving;
        lock (_gate)
        {
            foreach (var c in _connections)
                Shut(c.Socket);
            serving = [.. _serving];
        }
        try
        {
            await Task.WhenAll(serving).WaitAsync(Options.SendTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Should one not end in time, the token source is left to the GC rather than disposed under it.
            _logger.LogDebug("{Name} server stopped with {Count} client(s) still being served", Options.Name, serving.Count(t => !t.IsCompleted));
            return;
        }
        _cts.Dispose();
    }
}
