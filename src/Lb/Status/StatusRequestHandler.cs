using System.Text;
using System.Text.Json;
using Lb.Control;
using Lb.Netlink.Platform;
using Microsoft.Extensions.Logging;

namespace Lb.Status;

/// <summary>
/// What the status socket answers (the server loop is <see cref="ControlServer"/>): one request line — <c>status</c> (or
/// nothing) gets the report, anything else an error — answered with one JSON <see cref="StatusResponse"/> and a newline.
/// Only root and the daemon's own uid get the report (SO_PEERCRED of the client).
/// </summary>
public sealed class StatusRequestHandler(Func<StatusReport> collect, ILogger logger) : IControlHandler
{
    /// <summary>Up to and without the first newline.</summary>
    public int RequestLength(ReadOnlySpan<byte> received) => received.IndexOf((byte)'\n');

    public ValueTask<ReadOnlyMemory<byte>?> HandleAsync(ControlRequest request, CancellationToken cancellationToken)
    {
        // A client that connected and closed without a byte asked nothing.
        if (request.End == RequestEnd.EndOfStream && request.Data.IsEmpty)
            return ValueTask.FromResult<ReadOnlyMemory<byte>?>(null);
        var peer = PeerCredentials.Of(request.Connection);
        var text = Encoding.UTF8.GetString(request.Data.Span).Trim();
        StatusResponse response;
        if (!StatusSocketSecurity.IsTrusted(peer.Uid))
        {
            // The 0600 mode keeps other users out already; should the mode be widened, they still get nothing.
            logger.LogWarning("Status client uid {Uid} (pid {Pid}) refused: only root and uid {Own} may query this daemon", peer.Uid, peer.Pid, PeerCredentials.EffectiveUid);
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
        ReadOnlyMemory<byte> bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(response, StatusJsonContext.Default.StatusResponse) + "\n");
        return ValueTask.FromResult<ReadOnlyMemory<byte>?>(bytes);
    }
}
