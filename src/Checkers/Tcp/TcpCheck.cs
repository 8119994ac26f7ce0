using System.Net;
using Lb.Checkers.Engine;
using Lb.Checkers.Net;
using Lb.Checkers.Options;

namespace Lb.Checkers.Tcp;

/// <summary>TCP_CHECK: the check passes when a TCP connection is established within connect_timeout.</summary>
public sealed class TcpCheck : ICheck, IAnswerArrival
{
    private readonly InFlightSocket _inFlight = new();
    private readonly TcpCheckOptions _options;
    private readonly IPEndPoint _remote;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly string _endpoint;
    private readonly string _connected;

    /// <summary>Creates the probe.</summary>
    public TcpCheck(TcpCheckOptions options, EffectiveSettings settings, TimeProvider time)
    {
        _options = options;
        _remote = new IPEndPoint(settings.ConnectAddress, settings.ConnectPort);
        _timeout = settings.ConnectTimeout;
        _time = time;
        _endpoint = Format.Endpoint(_remote.Address, (ushort)_remote.Port);
        _connected = $"connected to {_endpoint}";
    }

    /// <inheritdoc/>
    public async ValueTask<CheckOutcome> ExecuteAsync(CancellationToken cancellationToken)
    {
        try
        {
            // The round's token is the limit (connect_timeout); a timer of our own only when the caller has none.
            using var s = cancellationToken.CanBeCanceled
                ? await SocketConnector.ConnectTcpAsync(_remote, _options.BindTo, _options.BindPort, _options.BindInterface, _options.FirewallMark, cancellationToken, _inFlight).ConfigureAwait(false)
                : await SocketConnector.ConnectTcpAsync(_remote, _options.BindTo, _options.BindPort, _options.BindInterface, _options.FirewallMark,
                    _timeout + _timeout, _time, cancellationToken).ConfigureAwait(false);
            return CheckOutcome.Ok(_connected);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return CheckOutcome.Fail($"{SocketConnector.Describe(ex)} to {_endpoint}");
        }
        finally
        {
            _inFlight.Done();
        }
    }

    /// <inheritdoc/>
    public bool AnswerArrived() => _inFlight.AnswerArrived();

    /// <inheritdoc/>
    public string TimeoutReason(TimeSpan timeout) => $"connect timeout {SocketConnector.Seconds(timeout)} s";
}
