using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Lb.Checkers.Net;

/// <summary>Creates checker sockets: bindto/bind_port/bind_if, fwmark (SO_MARK), then connect within a time limit.</summary>
internal static class SocketConnector
{
    private const int SolSocket = 1;
    private const int SoMark = 36;
    private const int SoBindToDevice = 25;

    /// <summary>A socket with the checker's source options applied (not connected).</summary>
    public static Socket Create(AddressFamily family, SocketType type, ProtocolType protocol, IPAddress? bindTo, ushort? bindPort, string? bindInterface, uint? fwmark)
    {
        var s = new Socket(family, type, protocol);
        try
        {
            if (fwmark is uint mark)
                s.SetRawSocketOption(SolSocket, SoMark, BitConverter.GetBytes(mark));
            if (!string.IsNullOrEmpty(bindInterface))
                s.SetRawSocketOption(SolSocket, SoBindToDevice, Encoding.ASCII.GetBytes(bindInterface + "\0"));
            if (bindTo is not null || bindPort is not null)
            {
                if (bindPort is not null)
                    s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                var local = bindTo ?? (family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any);
                s.Bind(new IPEndPoint(local, bindPort ?? 0));
            }
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>Connects a TCP socket; throws <see cref="TimeoutException"/> ("connect timeout N s") past <paramref name="timeout"/>.</summary>
    public static async Task<Socket> ConnectTcpAsync(IPEndPoint remote, IPAddress? bindTo, ushort? bindPort, string? bindInterface, uint? fwmark,
        TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        Socket? s = Create(remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp, bindTo, bindPort, bindInterface, fwmark);
        try
        {
            s.NoDelay = true;
            using var cts = timeout > TimeSpan.Zero ? new CancellationTokenSource(timeout, time) : new CancellationTokenSource();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, cts.Token);
            try
            {
                await s.ConnectAsync(remote, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                throw new TimeoutException($"connect timeout {Seconds(timeout)} s");
            }
            var connected = s;
            s = null; // the caller owns it now
            return connected;
        }
        finally
        {
            s?.Dispose();
        }
    }

    /// <summary>
    /// Connects a TCP socket bounded only by <paramref name="ct"/> (the round's timeout): no timer and no linked token
    /// of its own, so a check costs one socket and one connect. Socket errors are thrown as <see cref="SocketException"/>.
    /// <paramref name="inFlight"/> is told the socket before its connect starts.
    /// </summary>
    public static async ValueTask<Socket> ConnectTcpAsync(IPEndPoint remote, IPAddress? bindTo, ushort? bindPort, string? bindInterface, uint? fwmark,
        CancellationToken ct, InFlightSocket? inFlight = null)
    {
        Socket? s = Create(remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp, bindTo, bindPort, bindInterface, fwmark);
        try
        {
            inFlight?.Connecting(s);
            // No TCP_NODELAY: a check writes its request once (HTTP) or nothing at all (TCP_CHECK); one syscall less.
            await s.ConnectAsync(remote, ct).ConfigureAwait(false);
            var connected = s;
            s = null; // the caller owns it now
            return connected;
        }
        finally
        {
            s?.Dispose();
        }
    }

    /// <summary>Seconds as keepalived operators read them: <c>3</c>, <c>0.5</c>.</summary>
    public static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A short reason for a socket-level failure.</summary>
    public static string Describe(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case TimeoutException t:
                    return t.Message;
                case SocketException se:
                    return se.SocketErrorCode switch
                    {
                        SocketError.ConnectionRefused => "connection refused",
                        SocketError.ConnectionReset => "connection reset",
                        SocketError.HostUnreachable => "host unreachable",
                        SocketError.NetworkUnreachable => "network unreachable",
                        SocketError.TimedOut => "connect timed out",
                        SocketError.AddressNotAvailable => "bind address not available",
                        _ => se.Message,
                    };
            }
        }
        return ex.Message;
    }
}
