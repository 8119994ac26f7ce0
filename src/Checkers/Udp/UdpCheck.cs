using System.Net;
using System.Net.Sockets;
using Lb.Checkers.Engine;
using Lb.Checkers.Net;
using Lb.Checkers.Options;

namespace Lb.Checkers.Udp;

/// <summary>
/// UDP_CHECK: sends the payload (random when none) on a connected socket. Without require_reply the check passes
/// unless an ICMP error comes back before connect_timeout; with it, a reply of the right length (and matching the
/// require_reply pattern) must arrive.
/// </summary>
public sealed class UdpCheck : ICheck
{
    private readonly UdpCheckOptions _options;
    private readonly IPEndPoint _remote;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;

    /// <summary>Creates the probe.</summary>
    public UdpCheck(UdpCheckOptions options, EffectiveSettings settings, TimeProvider time)
    {
        _options = options;
        _remote = new IPEndPoint(settings.ConnectAddress, settings.ConnectPort);
        _timeout = settings.ConnectTimeout;
        _time = time;
    }

    /// <inheritdoc/>
    public async ValueTask<CheckOutcome> ExecuteAsync(CancellationToken cancellationToken)
    {
        var payload = _options.Payload?.ToArray() ?? RandomPayload();
        using var s = SocketConnector.Create(_remote.AddressFamily, SocketType.Dgram, ProtocolType.Udp, _options.BindTo, _options.BindPort, _options.BindInterface, _options.FirewallMark);
        try
        {
            await s.ConnectAsync(_remote, cancellationToken).ConfigureAwait(false);
            await s.SendAsync(payload, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            var buffer = new byte[65536];
            // Without require_reply, silence until just before the round's timeout is a pass.
            using var quiet = new CancellationTokenSource(_options.RequireReply ? Timeout.InfiniteTimeSpan : _timeout * 0.9, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, quiet.Token);
            int n;
            try
            {
                n = await s.ReceiveAsync(buffer, SocketFlags.None, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (quiet.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return CheckOutcome.Ok("no ICMP error");
            }
            if (!_options.RequireReply)
                return CheckOutcome.Ok($"reply of {n} bytes");
            if (n < _options.MinReplyLength || n > _options.MaxReplyLength)
                return CheckOutcome.Fail($"reply of {n} bytes outside [{_options.MinReplyLength}, {_options.MaxReplyLength}]");
            if (_options.RequireReplyPattern is { } p && !p.Matches(buffer.AsSpan(0, n)))
                return CheckOutcome.Fail($"reply of {n} bytes does not match require_reply");
            return CheckOutcome.Ok($"reply of {n} bytes");
        }
        catch (SocketException ex)
        {
            return CheckOutcome.Fail($"UDP {SocketConnector.Describe(ex)} from {Format.Endpoint(_remote.Address, (ushort)_remote.Port)}");
        }
    }

    private static byte[] RandomPayload()
    {
        var b = new byte[16];
        Random.Shared.NextBytes(b);
        return b;
    }

    /// <inheritdoc/>
    public string TimeoutReason(TimeSpan timeout) => $"no UDP reply within {SocketConnector.Seconds(timeout)} s";
}
