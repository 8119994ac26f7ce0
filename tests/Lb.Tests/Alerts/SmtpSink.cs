using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Lb.Lb.Tests.Alerts;

/// <summary>
/// An SMTP receiver written for the tests (independent of Lb's sender): it answers enough of RFC 5321 for keepalived's
/// dialogue (220 greeting, 250 to HELO/MAIL/RCPT, 354 to DATA, 250 after the terminating dot, 221 to QUIT) and records
/// each session: the command lines as received and the DATA text. With <c>silent</c> it accepts connections and never
/// answers (an SMTP server that hangs).
/// </summary>
internal sealed class SmtpSink : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _cts = new();
    private readonly Task _accept;
    private readonly bool _silent;
    private readonly List<Session> _sessions = new();
    private int _connections;

    public SmtpSink(IPAddress? address = null, bool silent = false)
    {
        _silent = silent;
        _listener = new TcpListener(address ?? IPAddress.Loopback, 0);
        _listener.Start();
        _accept = Task.Run(AcceptAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>One SMTP session: commands (DATA's content excluded) and the DATA text up to (without) the terminating dot line.</summary>
    public sealed record Session(List<string> Commands, StringBuilder Data)
    {
        public bool Complete { get; set; }
    }

    /// <summary>Sessions that ended with QUIT, in order.</summary>
    public IReadOnlyList<Session> Completed
    {
        get
        {
            lock (_sessions)
                return _sessions.Where(s => s.Complete).ToArray();
        }
    }

    private async Task AcceptAsync()
    {
        while (!_cts.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_cts.Token);
            }
            catch (Exception) when (_cts.IsCancellationRequested)
            {
                return;
            }
            Interlocked.Increment(ref _connections);
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        if (_silent)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, _cts.Token);
            }
            catch (OperationCanceledException)
            {
            }
            return;
        }
        var session = new Session(new List<string>(), new StringBuilder());
        lock (_sessions)
            _sessions.Add(session);
        var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        async Task Reply(string line) => await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"), _cts.Token);
        try
        {
            await Reply("220 sink.test ESMTP");
            var inData = false;
            while (await reader.ReadLineAsync(_cts.Token) is { } line)
            {
                if (inData)
                {
                    if (line == ".")
                    {
                        inData = false;
                        await Reply("250 2.0.0 queued");
                    }
                    else
                    {
                        session.Data.Append(line).Append('\n');
                    }
                    continue;
                }
                lock (_sessions)
                    session.Commands.Add(line);
                var verb = line.Split(' ', ':')[0].ToUpperInvariant();
                switch (verb)
                {
                    case "DATA":
                        inData = true;
                        await Reply("354 end with <CRLF>.<CRLF>");
                        break;
                    case "QUIT":
                        await Reply("221 2.0.0 bye");
                        lock (_sessions)
                            session.Complete = true;
                        return;
                    default:
                        await Reply("250 2.1.0 ok");
                        break;
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        _listener.Stop();
        await _accept;
        _cts.Dispose();
    }
}
