using System.Net;
using System.Net.NetworkInformation;
using Lb.Checkers.Engine;
using Lb.Checkers.Net;
using Lb.Checkers.Options;

namespace Lb.Checkers.Ping;

/// <summary>PING_CHECK: one ICMP echo (IPv4 or IPv6) answered within connect_timeout.</summary>
public sealed class PingCheck : ICheck
{
    private readonly IPAddress _address;
    private readonly TimeSpan _timeout;

    /// <summary>Creates the probe.</summary>
    public PingCheck(PingCheckOptions options, EffectiveSettings settings)
    {
        _ = options;
        _address = settings.ConnectAddress;
        _timeout = settings.ConnectTimeout;
    }

    /// <inheritdoc/>
    public async ValueTask<CheckOutcome> ExecuteAsync(CancellationToken cancellationToken)
    {
        using var ping = new System.Net.NetworkInformation.Ping();
        try
        {
            var reply = await ping.SendPingAsync(_address, _timeout, null, null, cancellationToken).ConfigureAwait(false);
            return reply.Status == IPStatus.Success
                ? CheckOutcome.Ok($"echo reply from {_address}")
                : CheckOutcome.Fail($"ping {_address}: {reply.Status}");
        }
        catch (PingException ex)
        {
            return CheckOutcome.Fail($"ping {_address}: {ex.InnerException?.Message ?? ex.Message}");
        }
    }

    /// <inheritdoc/>
    public string TimeoutReason(TimeSpan timeout) => $"no echo reply within {SocketConnector.Seconds(timeout)} s";
}
