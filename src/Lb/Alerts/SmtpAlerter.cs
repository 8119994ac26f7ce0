using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Lb.Alerts;

/// <summary>
/// Sends keepalived's alert mails (core/smtp.c) on a task of its own: a subsystem's event only queues a message, so a
/// slow or dead SMTP server never delays a VRRP transition or an IPVS change; it costs a log line. One connection per
/// mail, with keepalived's dialogue: greeting 220, <c>HELO name</c> 250, <c>MAIL FROM:&lt;from&gt;</c> 250, one
/// <c>RCPT TO:&lt;addr&gt;</c> 250 per recipient, <c>DATA</c> 354, headers Date/From/Subject/X-Mailer/To, the body, the
/// terminating dot 250, <c>QUIT</c> 221. Any other reply is logged ("Error processing RCPT cmd …") and the dialogue ends
/// with QUIT. The connection and every reply are bounded by <c>smtp_connect_timeout</c>. The queue is bounded
/// (<see cref="Capacity"/>, oldest dropped with a log line), so a dead server cannot make it grow without end.
/// </summary>
public sealed class SmtpAlerter : IAsyncDisposable
{
    /// <summary>Mails waiting at most; past it the oldest is dropped.</summary>
    public const int Capacity = 256;

    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<object> _queue;
    private readonly Task _worker;
    private readonly CancellationTokenSource _stop = new();
    private volatile AlertOptions _options;
    private (string RouterId, string From, string Helo)? _identity;

    public SmtpAlerter(AlertOptions options, ILogger logger, TimeProvider time)
    {
        _options = options;
        _logger = logger;
        _time = time;
        _queue = Channel.CreateBounded<object>(new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => _logger.SmtpQueueFull(Capacity));
        _worker = Task.Run(WorkAsync);
    }

    /// <summary>A reload: the next mails use the new server, addresses and names.</summary>
    public void Update(AlertOptions next)
    {
        _options = next;
        _identity = null;
    }

    /// <summary>Queues one mail; <paramref name="subject"/> without the <c>[router_id] </c> prefix, which is added here. Never blocks.</summary>
    public void Send(string subject, string body)
    {
        if (_options.MailEnabled)
            _queue.Writer.TryWrite(new Mail(subject, body));
    }

    /// <summary>Waits until every mail queued so far was sent or given up.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (_queue.Writer.TryWrite(done))
            await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private sealed record Mail(string Subject, string Body);

    private async Task WorkAsync()
    {
        await foreach (var item in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            if (item is TaskCompletionSource flushed)
            {
                flushed.TrySetResult();
                continue;
            }
            try
            {
                await SendAsync((Mail)item, _options, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _logger.SmtpBadServer(_options.SmtpServer ?? "?", ex.Message);
            }
        }
    }

    /// <summary>keepalived's <c>inet_sockaddrtopair</c>: <c>[192.0.2.1]:25</c>.</summary>
    private static string Pair(IPAddress address, int port) => $"[{address}]:{port}";

    /// <summary>The host's canonical name (keepalived's get_local_name: uname + getaddrinfo AI_CANONNAME), for the defaults.</summary>
    private static async Task<string> LocalNameAsync()
    {
        var host = Dns.GetHostName();
        try
        {
            var entry = await Dns.GetHostEntryAsync(host).ConfigureAwait(false);
            return string.IsNullOrEmpty(entry.HostName) ? host : entry.HostName;
        }
        catch (SocketException)
        {
            return host;
        }
    }

    private async Task<(string RouterId, string From, string Helo)> IdentityAsync(AlertOptions o)
    {
        if (_identity is { } known)
            return known;
        var local = o.RouterId is null || o.EmailFrom is null || o.SmtpHeloName is null ? await LocalNameAsync().ConfigureAwait(false) : "";
        var identity = (o.RouterId ?? local, o.EmailFrom ?? $"{Environment.UserName}@{local}", o.SmtpHeloName ?? local);
        _identity = identity;
        return identity;
    }

    /// <summary>keepalived's Date header: <c>%a, %d %b %Y %H:%M:%S %z</c> in local time.</summary>
    public static string Rfc822(DateTimeOffset t)
    {
        var offset = t.Offset;
        var sign = offset < TimeSpan.Zero ? '-' : '+';
        offset = offset.Duration();
        return t.ToString("ddd, dd MMM yyyy HH:mm:ss ", CultureInfo.InvariantCulture) + $"{sign}{offset.Hours:00}{offset.Minutes:00}";
    }

    /// <summary>What follows DATA: headers, a blank line, the body, the terminating dot (keepalived's SMTP_HEADERS_CMD, SMTP_BODY_CMD, SMTP_SEND_CMD).</summary>
    public static string Message(string date, string from, string subject, IEnumerable<string> to, string body)
        => $"Date: {date}\r\nFrom: {from}\r\nSubject: {subject}\r\nX-Mailer: Keepalived\r\nTo: {string.Join(", ", to)}\r\n\r\n{body}\r\n\r\n.\r\n";

    private async Task SendAsync(Mail mail, AlertOptions o, CancellationToken stop)
    {
        if (!o.MailEnabled)
            return;
        var (routerId, from, helo) = await IdentityAsync(o).ConfigureAwait(false);
        IPAddress address;
        if (!IPAddress.TryParse(o.SmtpServer, out address!))
        {
            try
            {
                address = (await Dns.GetHostAddressesAsync(o.SmtpServer!, stop).ConfigureAwait(false))[0];
            }
            catch (Exception ex) when (ex is SocketException or IndexOutOfRangeException)
            {
                _logger.SmtpBadServer($"{o.SmtpServer} {o.SmtpPort}", ex.Message);
                return;
            }
        }
        var server = Pair(address, o.SmtpPort);
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(stop))
        {
            connectTimeout.CancelAfter(o.SmtpConnectTimeout);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, o.SmtpPort), connectTimeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                _logger.SmtpConnectTimeout(server);
                return;
            }
            catch (SocketException)
            {
                _logger.SmtpConnectionError(server);
                return;
            }
        }
        var session = new Session(socket, o.SmtpConnectTimeout, server, _logger, stop);
        var subject = $"[{routerId}] {mail.Subject}";
        var steps = new List<(string? Command, int Expected, string Name)>
        {
            (null, 220, "(E)SMTP"),
            ($"HELO {helo}\r\n", 250, "HELO"),
            ($"MAIL FROM:<{from}>\r\n", 250, "MAIL"),
        };
        steps.AddRange(o.Emails.Select(e => ((string?)$"RCPT TO:<{e}>\r\n", 250, "RCPT")));
        steps.Add(("DATA\r\n", 354, "DATA"));
        steps.Add((Message(Rfc822(_time.GetLocalNow()), from, subject, o.Emails, mail.Body), 250, "BODY"));
        foreach (var (command, expected, name) in steps)
        {
            if (command is not null && !await session.SendAsync(command).ConfigureAwait(false))
                return;
            var code = await session.ReplyAsync().ConfigureAwait(false);
            if (code is null)
                return; // closed or timed out: logged, nothing more to say to it
            if (code != expected)
            {
                _logger.SmtpBadReply(name, server, code.Value);
                break;
            }
            if (name == "BODY")
                _logger.SmtpSent();
        }
        if (await session.SendAsync("QUIT\r\n").ConfigureAwait(false))
            await session.ReplyAsync().ConfigureAwait(false);
    }

    /// <summary>One SMTP connection: commands out, replies in (multi-line replies read to their last line), every read bounded.</summary>
    private sealed class Session(Socket socket, TimeSpan timeout, string server, ILogger logger, CancellationToken stop)
    {
        private readonly byte[] _buffer = new byte[1024];
        private readonly StringBuilder _pending = new();

        public async Task<bool> SendAsync(string text)
        {
            try
            {
                await socket.SendAsync(Encoding.UTF8.GetBytes(text), SocketFlags.None, stop).ConfigureAwait(false);
                return true;
            }
            catch (SocketException)
            {
                logger.SmtpSendFailed(server);
                return false;
            }
        }

        /// <summary>The code of the next complete reply; null when the server closed the connection or did not answer in time (logged).</summary>
        public async Task<int?> ReplyAsync()
        {
            using var readTimeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
            readTimeout.CancelAfter(timeout);
            while (true)
            {
                var text = _pending.ToString();
                var start = 0;
                int end;
                while ((end = text.IndexOf("\r\n", start, StringComparison.Ordinal)) >= 0)
                {
                    var line = text[start..end];
                    start = end + 2;
                    if (line.Length >= 4 && line[3] == '-')
                        continue;
                    _pending.Remove(0, start);
                    return line.Length >= 3 && int.TryParse(line.AsSpan(0, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? code : -1;
                }
                int n;
                try
                {
                    n = await socket.ReceiveAsync(_buffer, SocketFlags.None, readTimeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    logger.SmtpReadTimeout(server);
                    return null;
                }
                catch (SocketException)
                {
                    logger.SmtpClosed(server);
                    return null;
                }
                if (n == 0)
                {
                    logger.SmtpClosed(server);
                    return null;
                }
                if (_pending.Length + n > 4096)
                {
                    logger.SmtpClosed(server);
                    return null;
                }
                _pending.Append(Encoding.ASCII.GetString(_buffer, 0, n));
            }
        }
    }

    /// <summary>Tries to send what is queued within <paramref name="bound"/>, then gives up on the rest.</summary>
    public async Task StopAsync(TimeSpan bound)
    {
        _queue.Writer.TryComplete();
        try
        {
            await _worker.WaitAsync(bound).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        await _worker.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }
}
