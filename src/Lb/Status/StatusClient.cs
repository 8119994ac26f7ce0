using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Lb.Netlink.Platform;

namespace Lb.Status;

/// <summary>The client side of the status socket.</summary>
public static class StatusClient
{
    /// <summary>Sends one request and reads the one JSON response.</summary>
    public static async Task<StatusResponse> QueryAsync(string path, string request = "status", TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout ?? TimeSpan.FromSeconds(10));
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cts.Token).ConfigureAwait(false);
        // Before sending anything: the listener must be root's, ours or the owner's of a directory only it can write (a foreign one may sit on a path in /tmp).
        var server = PeerCredentials.Of(socket);
        if (!StatusSocketSecurity.IsTrustedServer(path, server.Uid))
            throw new UntrustedStatusServerException(path, server);
        await socket.SendAsync(Encoding.UTF8.GetBytes(request + "\n"), SocketFlags.None, cts.Token).ConfigureAwait(false);
        using var ms = new MemoryStream();
        var buffer = new byte[16384];
        while (true)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token).ConfigureAwait(false);
            if (n == 0)
                break;
            ms.Write(buffer.AsSpan(0, n)); // into memory: nothing to wait for
        }
        return JsonSerializer.Deserialize(ms.ToArray(), StatusJsonContext.Default.StatusResponse)
            ?? throw new IOException("empty response from the daemon");
    }
}
