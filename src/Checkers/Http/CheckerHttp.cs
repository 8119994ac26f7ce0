using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Lb.Checkers.Net;

namespace Lb.Checkers.Http;

/// <summary>Where and how an HTTP check connects; carried on the request (<see cref="CheckerHttp.EndpointKey"/>).</summary>
public sealed class HttpCheckEndpoint
{
    /// <summary>Address and port dialled (connect_ip/connect_port or the real server).</summary>
    public required IPEndPoint Remote { get; init; }

    /// <summary><c>bindto</c>.</summary>
    public IPAddress? BindTo { get; init; }

    /// <summary><c>bind_port</c>.</summary>
    public ushort? BindPort { get; init; }

    /// <summary><c>bind_if</c>.</summary>
    public string? BindInterface { get; init; }

    /// <summary><c>fwmark</c>.</summary>
    public uint? FirewallMark { get; init; }

    /// <summary>SSL_GET: TLS without certificate validation.</summary>
    public bool Ssl { get; init; }

    /// <summary>SNI host name (enable_sni); null: none sent.</summary>
    public string? Sni { get; init; }

    /// <summary>Limit for TCP connect and for the TLS handshake.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Clock for the limits.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The phase the attempt is in (connect, TLS handshake, …), for timeout reasons.</summary>
    public string Phase { get; set; } = "connect";
}

/// <summary>
/// The HTTP machinery of HTTP_GET/SSL_GET: a <see cref="SocketsHttpHandler"/> whose ConnectCallback dials the real
/// server (binding bindto/bind_port), does TLS itself for SSL_GET (no certificate checks, SNI only with enable_sni, as
/// keepalived) and never pools connections. Requests use the <c>http</c> scheme; TLS is below the handler.
/// </summary>
public static class CheckerHttp
{
    /// <summary>Name of the client registered in <see cref="IHttpClientFactory"/>.</summary>
    public const string ClientName = "Lb.Checkers";

    /// <summary>Response headers larger than this (KiB) fail the check (keepalived's limit is similar in spirit).</summary>
    public const int MaxResponseHeadersKiB = 64;

    /// <summary>Request option carrying the <see cref="HttpCheckEndpoint"/>.</summary>
    public static readonly HttpRequestOptionsKey<HttpCheckEndpoint> EndpointKey = new("Lb.Checkers.Endpoint");

    /// <summary>Creates the primary handler for checker requests.</summary>
    public static SocketsHttpHandler CreateHandler() => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = TimeSpan.Zero,
        PooledConnectionIdleTimeout = TimeSpan.Zero,
        MaxConnectionsPerServer = int.MaxValue,
        MaxResponseHeadersLength = MaxResponseHeadersKiB,
        ConnectTimeout = TimeSpan.FromMinutes(5),
        ConnectCallback = ConnectAsync,
    };

    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        if (!context.InitialRequestMessage.Options.TryGetValue(EndpointKey, out var ep))
            return await ConnectPlainAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
        ep.Phase = "connect";
        var socket = await SocketConnector.ConnectTcpAsync(ep.Remote, ep.BindTo, ep.BindPort, ep.BindInterface, ep.FirewallMark, ep.ConnectTimeout, ep.Time, cancellationToken).ConfigureAwait(false);
        // Until it is returned, this method owns the connection: the stream that owns the socket, then the TLS stream over it.
        Stream? stream = null;
        SslStream? ssl = null;
        try
        {
            stream = OwningStream(socket);
            if (!ep.Ssl)
            {
                ep.Phase = "response";
                var plain = stream;
                stream = null;
                return plain;
            }
            ep.Phase = "TLS handshake";
#pragma warning disable CA2000 // disposed by the DisposeAsync in the finally below, which CA2000 does not count (dotnet/roslyn-analyzers#3042)
            ssl = new SslStream(stream, leaveInnerStreamOpen: false);
#pragma warning restore CA2000
            stream = null; // the TLS stream owns it
            using var cts = new CancellationTokenSource(ep.ConnectTimeout, ep.Time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, cts.Token);
            try
            {
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = ep.Sni ?? "",
                    RemoteCertificateValidationCallback = static (_, _, _, _) => true,
                }, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"TLS handshake timeout {SocketConnector.Seconds(ep.ConnectTimeout)} s");
            }
            ep.Phase = "response";
            var tls = ssl;
            ssl = null;
            return tls;
        }
        finally
        {
            if (ssl is not null)
                await ssl.DisposeAsync().ConfigureAwait(false);
            if (stream is not null)
                await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task<Stream> ConnectPlainAsync(DnsEndPoint remote, CancellationToken cancellationToken)
    {
        Socket? s = new(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            s.NoDelay = true;
            await s.ConnectAsync(remote, cancellationToken).ConfigureAwait(false);
            var stream = OwningStream(s);
            s = null; // the stream owns it
            return stream;
        }
        finally
        {
            s?.Dispose();
        }
    }

    /// <summary>A stream that owns (and disposes) <paramref name="socket"/>; on failure the socket is disposed here.</summary>
    private static NetworkStream OwningStream(Socket socket)
    {
        try
        {
#pragma warning disable CA2000 // ownsSocket: true hands the socket to the stream; the analyzer does not model that constructor argument.
            return new NetworkStream(socket, ownsSocket: true);
#pragma warning restore CA2000
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
