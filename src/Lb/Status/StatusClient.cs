using System.Net.Sockets;
using System.Text;
using System.Text.Json;

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
        await socket.SendAsync(Encoding.UTF8.GetBytes(request + "\n"), SocketFlags.None, cts.Token).ConfigureAwait(false);
        using var ms = new MemoryStream();
        var buffer = new byte[16384];
        while (true)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token).ConfigureAwait(false);
            if (n == 0)
                break;
            ms.Write(buffer, 0, n);
        }
        return JsonSerializer.Deserialize(ms.ToArray(), StatusJsonContext.Default.StatusResponse)
            ?? throw new IOException("empty response from the daemon");
    }

    /// <summary>True when something accepts connections on <paramref name="path"/>.</summary>
    public static bool IsServed(string path)
    {
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
