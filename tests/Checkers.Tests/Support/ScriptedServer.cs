using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Lb.Checkers.Tests.Support;

/// <summary>A loopback TCP server whose behaviour per connection the test scripts (optionally behind TLS).</summary>
public sealed class ScriptedServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _cts = new();
    private readonly Task _accept;
    private readonly X509Certificate2? _cert;

    public ScriptedServer(Func<Connection, Task> handler, bool tls = false, bool tlsStall = false)
    {
        Handler = handler;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        if (tls)
            _cert = SelfSigned();
        TlsStall = tlsStall;
        _accept = AcceptLoopAsync();
    }

    public Func<Connection, Task> Handler { get; set; }
    public bool TlsStall { get; }
    public TaskCompletionSource HandshakeStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public ConcurrentQueue<string> Requests { get; } = new();
    public ConcurrentQueue<string> SniNames { get; } = new();
    public int Connections;
    public IPEndPoint? LastPeer { get; private set; }
    public CancellationToken Stopping => _cts.Token;

    public static X509Certificate2 SelfSigned()
    {
        using var rsa = RSA.Create(2048);
        var req = new CertificateRequest("CN=lb-checker-test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var cert = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_cts.IsCancellationRequested)
        {
            Socket s;
            try
            {
                s = await _listener.AcceptSocketAsync(_cts.Token);
            }
            catch (Exception)
            {
                return;
            }
            Interlocked.Increment(ref Connections);
            LastPeer = s.RemoteEndPoint as IPEndPoint;
            _ = Task.Run(() => ServeAsync(s));
        }
    }

    private async Task ServeAsync(Socket s)
    {
        using var _ = s;
        try
        {
            Stream stream = new NetworkStream(s, ownsSocket: false);
            if (TlsStall)
            {
                // Wait for the ClientHello to start arriving, say so, then never answer it.
                var one = new byte[1];
                await stream.ReadAsync(one, _cts.Token);
                HandshakeStarted.TrySetResult();
                await Task.Delay(Timeout.Infinite, _cts.Token);
                return;
            }
            if (_cert is not null)
            {
                var ssl = new SslStream(stream);
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _cert }, _cts.Token);
                SniNames.Enqueue(ssl.TargetHostName ?? "");
                stream = ssl;
            }
            await using (stream)
            {
                var conn = new Connection(stream, _cts.Token);
                var request = await conn.ReadRequestAsync();
                Requests.Enqueue(request);
                await Handler(conn);
            }
        }
        catch (Exception)
        {
            // The client went away (timeout, limit reached): that is what several tests provoke.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        _listener.Stop();
        try
        {
            await _accept;
        }
        catch (Exception)
        {
        }
        _cert?.Dispose();
        _cts.Dispose();
    }

    public static Func<Connection, Task> Respond(int status, string body, string version = "HTTP/1.0") => c =>
        c.WriteAsync($"{version} {status} X\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\nContent-Type: text/plain\r\n\r\n{body}");

    public static Task Hang(Connection c) => Task.Delay(Timeout.Infinite, c.Stopping);

    public sealed class Connection(Stream stream, CancellationToken stopping)
    {
        public Stream Stream { get; } = stream;
        public CancellationToken Stopping { get; } = stopping;

        public async Task<string> ReadRequestAsync()
        {
            var sb = new StringBuilder();
            var buf = new byte[1];
            while (sb.Length < 65536)
            {
                if (await Stream.ReadAsync(buf, Stopping) == 0)
                    break;
                sb.Append((char)buf[0]);
                if (sb.Length >= 4 && sb[^1] == '\n' && sb[^2] == '\r' && sb[^3] == '\n' && sb[^4] == '\r')
                    break;
            }
            return sb.ToString();
        }

        public async Task WriteAsync(string text)
        {
            await Stream.WriteAsync(Encoding.UTF8.GetBytes(text), Stopping);
            await Stream.FlushAsync(Stopping);
        }
    }
}
