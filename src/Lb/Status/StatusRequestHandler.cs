using System.Text;
using System.Text.Json;
using Lb.Control;
using Lb.Netlink.Platform;
using Microsoft.Extensions.Logging;

namespace Lb.Status;

/// <summary>
/// What the status socket answers (the server loop is <see cref="ControlServer"/>): one request line, then one reply line.
/// <c>status</c> (or nothing) gets the report as one JSON <see cref="StatusResponse"/>; a JSON object
/// <c>{"argv":[...]}</c> is a control command (<c>lb rs …</c>, <c>lb vrrp …</c>, <c>lb reload …</c>) answered by
/// <see cref="ControlCommands"/> with one JSON <see cref="ControlReplyMessage"/>. Only the callers
/// <see cref="ControlAccess"/> allows (SO_PEERCRED/SO_PEERGROUPS of the client) get either.
/// </summary>
public sealed class StatusRequestHandler(Func<StatusReport> collect, ILogger logger, ControlCommands? commands = null, ControlAccess? access = null) : IControlHandler
{
    private readonly ControlAccess _access = access ?? ControlAccess.OwnerOnly;

    /// <summary>Up to and without the first newline.</summary>
    public int RequestLength(ReadOnlySpan<byte> received) => received.IndexOf((byte)'\n');

    public async ValueTask<ReadOnlyMemory<byte>?> HandleAsync(ControlRequest request, CancellationToken cancellationToken)
    {
        // A client that connected and closed without a byte asked nothing.
        if (request.End == RequestEnd.EndOfStream && request.Data.IsEmpty)
            return null;
        var peer = PeerCredentials.Of(request.Connection);
        var text = Encoding.UTF8.GetString(request.Data.Span).Trim();
        var allowed = _access.Allows(request.Connection, peer);
        if (text.StartsWith('{'))
            return Line(JsonSerializer.Serialize(await CommandAsync(text, peer, allowed, cancellationToken).ConfigureAwait(false), ControlJsonContext.Default.ControlReplyMessage));
        StatusResponse response;
        if (!allowed)
        {
            // The socket's mode keeps other users out already; should the mode be widened, they still get nothing.
            logger.LogWarning("Status client uid {Uid} (pid {Pid}) refused: only {Allowed} may query this daemon", peer.Uid, peer.Pid, _access.Describe());
            response = new StatusResponse(false, $"permission denied: uid {peer.Uid} may not query this daemon", null);
        }
        else if (text is "" or "status")
        {
            response = new StatusResponse(true, null, collect());
        }
        else
        {
            response = new StatusResponse(false, $"unknown request '{text}' (expected: status)", null);
        }
        return Line(JsonSerializer.Serialize(response, StatusJsonContext.Default.StatusResponse));
    }

    private static ReadOnlyMemory<byte> Line(string json) => Encoding.UTF8.GetBytes(json + "\n");

    private async Task<ControlReplyMessage> CommandAsync(string text, PeerCredentials peer, bool allowed, CancellationToken ct)
    {
        ControlRequestMessage? message;
        try
        {
            message = JsonSerializer.Deserialize(text, ControlJsonContext.Default.ControlRequestMessage);
        }
        catch (JsonException e)
        {
            return new ControlReplyMessage(ControlCommands.Refused, $"malformed control request: {e.Message}");
        }
        if (message?.Argv is not { Count: > 0 } argv)
            return new ControlReplyMessage(ControlCommands.Refused, "malformed control request: no argv");
        var caller = new ControlCaller(peer.Uid, peer.Gid, peer.Pid, Scripts.UserDatabase.UserName(peer.Uid));
        var line = string.Join(' ', argv);
        if (!allowed)
        {
            logger.LogWarning("Control command 'lb {Command}' from {Caller} refused: only {Allowed} may control this daemon", line, caller.Describe(), _access.Describe());
            return new ControlReplyMessage(ControlCommands.PermissionDenied, $"permission denied: {caller.Describe()} may not control this daemon (allowed: {_access.Describe()})");
        }
        if (commands is null)
            return new ControlReplyMessage(ControlCommands.Refused, "this daemon takes no control commands");
        logger.LogInformation("Control command 'lb {Command}' from {Caller}", line, caller.Describe());
        var reply = await commands.DispatchAsync(caller, argv, ct).ConfigureAwait(false);
        return new ControlReplyMessage(reply.ExitCode, reply.Text);
    }
}
