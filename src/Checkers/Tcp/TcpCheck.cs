using System.Net;
using Lb.Checkers.Engine;
using Lb.Checkers.Net;
using Lb.Checkers.Options;

namespace Lb.Checkers.Tcp;

/// <summary>TCP_CHECK: the check passes when a TCP connection is established within connect_timeout.</summary>
public sealed class TcpCheck : ICheck
{
    private readonly TcpCheckOptions _options;
    private readonly IPEndPoint _remote;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;

    /// <summary>Creates the probe.</summary>
    public TcpCheck(TcpCheckOptions options, EffectiveSettings settings, TimeProvider time)
    {
        _options = options;
        _remote = new IPEndPoint(settings.ConnectAddress, settings.ConnectPort);
        _timeout = settings.ConnectTimeout;
        _time = time;
    }

    /// <inheritdoc/>
    public async ValueTask<CheckOutcome> ExecuteAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var s = await SocketConnector.ConnectTcpAsync(_remote, _options.BindTo, _options.BindPort, _options.BindInterface, _options.FirewallMark,
                _timeout + _timeout, _time, cancellationToken).ConfigureAwait(false);
            return CheckOutcome.Ok($"connected to {Format.Endpoint(_remote.Address, (ushort)_remote.Port)}");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return CheckOutcome.Fail($"{SocketConnector.Describe(ex)} to {Format.Endpoint(_remote.Address, (ushort)_remote.Port)}");
        }
    }

    /// <inheritdoc/>
    public string TimeoutReason(TimeSpan timeout) => $"connect timeout {SocketConnector.Seconds(timeout)} s";
}
