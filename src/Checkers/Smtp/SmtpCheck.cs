using System.Net;
using System.Text;
using Lb.Checkers.Engine;
using Lb.Checkers.Net;
using Lb.Checkers.Options;

namespace Lb.Checkers.Smtp;

/// <summary>SMTP_CHECK: connect, expect a 220 greeting, send <c>HELO helo_name</c>, expect 250, send <c>QUIT</c>.</summary>
public sealed class SmtpCheck : ICheck
{
    private const int MaxLine = 4096;
    private readonly SmtpCheckOptions _options;
    private readonly IPEndPoint _remote;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private volatile string _phase = "connect";

    /// <summary>Creates the probe.</summary>
    public SmtpCheck(SmtpCheckOptions options, EffectiveSettings settings, TimeProvider time)
    {
        _options = options;
        _remote = new IPEndPoint(settings.ConnectAddress, settings.ConnectPort == 0 ? (ushort)25 : settings.ConnectPort);
        _timeout = settings.ConnectTimeout;
        _time = time;
    }

    /// <inheritdoc/>
    public async ValueTask<CheckOutcome> ExecuteAsync(CancellationToken cancellationToken)
    {
        _phase = "connect";
        try
        {
            using var s = await SocketConnector.ConnectTcpAsync(_remote, _options.BindTo, _options.BindPort, _options.BindInterface, _options.FirewallMark,
                _timeout + _timeout, _time, cancellationToken).ConfigureAwait(false);
            await using var stream = new System.Net.Sockets.NetworkStream(s, ownsSocket: false);
            _phase = "greeting";
            var greeting = await ReadReplyAsync(stream, cancellationToken).ConfigureAwait(false);
            if (!greeting.StartsWith("220", StringComparison.Ordinal))
                return CheckOutcome.Fail($"SMTP greeting '{Trim(greeting)}'");
            _phase = "HELO";
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"HELO {_options.HeloName}\r\n"), cancellationToken).ConfigureAwait(false);
            var helo = await ReadReplyAsync(stream, cancellationToken).ConfigureAwait(false);
            if (!helo.StartsWith("250", StringComparison.Ordinal))
                return CheckOutcome.Fail($"SMTP HELO answered '{Trim(helo)}'");
            await stream.WriteAsync("QUIT\r\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
            return CheckOutcome.Ok("SMTP 220/250");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return CheckOutcome.Fail($"SMTP {_phase}: {SocketConnector.Describe(ex)}");
        }
    }

    private static string Trim(string s) => s.Length > 80 ? s[..80] : s.TrimEnd();

    /// <summary>Reads one (possibly multi-line) reply; returns its last line.</summary>
    private static async Task<string> ReadReplyAsync(Stream stream, CancellationToken ct)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (true)
        {
            line.Clear();
            while (true)
            {
                if (await stream.ReadAsync(one, ct).ConfigureAwait(false) == 0)
                    throw new IOException("connection closed");
                if (one[0] == '\n')
                    break;
                if (line.Length >= MaxLine)
                    throw new IOException("reply line too long");
                line.Append((char)one[0]);
            }
            var text = line.ToString();
            if (text.Length < 4 || text[3] != '-')
                return text;
        }
    }

    /// <inheritdoc/>
    public string TimeoutReason(TimeSpan timeout) => $"SMTP {_phase} timeout {SocketConnector.Seconds(timeout)} s";
}
