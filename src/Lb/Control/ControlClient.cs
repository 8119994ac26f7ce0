using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Lb.Netlink.Platform;
using Lb.Status;

namespace Lb.Control;

/// <summary>The client side of the control commands: one JSON request line on the status socket, one JSON reply.</summary>
public static class ControlClient
{
    /// <summary>Bound on one command as the client waits for it (the daemon bounds it too).</summary>
    public static readonly TimeSpan DefaultTimeout = ControlCommands.CommandTimeout + TimeSpan.FromSeconds(10);

    /// <summary>Sends <paramref name="argv"/> (noun first) to the daemon on <paramref name="socketPath"/> and returns its reply.</summary>
    /// <exception cref="UntrustedStatusServerException">The socket is served by neither root nor the caller's uid.</exception>
    public static async Task<ControlReply> RunAsync(string socketPath, IReadOnlyList<string> argv, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout ?? DefaultTimeout);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cts.Token).ConfigureAwait(false);
        var server = PeerCredentials.Of(socket);
        if (!StatusSocketSecurity.IsTrusted(server.Uid))
            throw new UntrustedStatusServerException(socketPath, server);
        var request = JsonSerializer.Serialize(new ControlRequestMessage(argv), ControlJsonContext.Default.ControlRequestMessage) + "\n";
        await socket.SendAsync(Encoding.UTF8.GetBytes(request), SocketFlags.None, cts.Token).ConfigureAwait(false);
        using var ms = new MemoryStream();
        var buffer = new byte[16384];
        while (true)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token).ConfigureAwait(false);
            if (n == 0)
                break;
            ms.Write(buffer.AsSpan(0, n));
        }
        if (ms.Length == 0)
            throw new IOException("the daemon closed the connection without a reply");
        var reply = JsonSerializer.Deserialize(ms.ToArray(), ControlJsonContext.Default.ControlReplyMessage)
            ?? throw new IOException("empty reply from the daemon");
        return new ControlReply(reply.Exit, reply.Text);
    }
}

/// <summary><c>lb rs …</c>, <c>lb vrrp …</c>, <c>lb reload …</c>: forwards the command line to the running daemon.</summary>
public static class ControlCommand
{
    /// <summary>Runs <c>lb NOUN ARGS</c>; the exit code is the daemon's (3 when it cannot be reached).</summary>
    public static int Run(string noun, IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        string? socket = null, pidFile = null, netns = null;
        var rest = new List<string> { noun };
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--socket" or "-p" or "--pid" or "-s" or "--namespace" when i + 1 >= args.Count:
                    stderr.WriteLine($"lb {noun}: option '{args[i]}' requires an argument");
                    return ControlCommands.Refused;
                case "--socket":
                    socket = args[++i];
                    break;
                case "-p" or "--pid":
                    pidFile = args[++i];
                    break;
                case "-s" or "--namespace":
                    netns = args[++i];
                    break;
                case "-h" or "--help":
                    stdout.Write(Usage(noun));
                    return ControlCommands.Done;
                default:
                    rest.Add(args[i]);
                    break;
            }
        }
        if (rest.Count == 1 && noun is not ("reload" or "announce"))
        {
            stderr.Write(Usage(noun));
            return ControlCommands.Refused;
        }
        var path = StatusServer.DefaultPath(socket, pidFile, netns);
        if (!File.Exists(path))
        {
            stderr.WriteLine($"lb {noun}: no control socket at {path} (is lb running? --socket PATH or -p PIDFILE selects another daemon)");
            return ControlCommands.Unreachable;
        }
        ControlReply reply;
        try
        {
            reply = ControlClient.RunAsync(path, rest).GetAwaiter().GetResult();
        }
        catch (UntrustedStatusServerException e)
        {
            stderr.WriteLine($"lb {noun}: {e.Message}");
            return ControlCommands.Unreachable;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or JsonException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"lb {noun}: cannot reach the daemon on {path}: {e.Message}");
            return ControlCommands.Unreachable;
        }
        var text = reply.Text.EndsWith('\n') || reply.Text.Length == 0 ? reply.Text : reply.Text + "\n";
        (reply.ExitCode == ControlCommands.Done ? stdout : stderr).Write(text);
        return reply.ExitCode;
    }

    /// <summary>The usage text of <paramref name="noun"/>.</summary>
    public static string Usage(string noun)
    {
        var sb = new System.Text.StringBuilder();
        sb.Append("usage:\n");
        foreach (var line in ControlUsage.Of(noun))
            sb.Append("  ").Append(line).Append('\n');
        sb.Append("options: ").Append(ControlUsage.CommonOptions).Append('\n');
        if (noun == "rs")
            sb.Append(ControlUsage.AddressForms).Append('\n');
        return sb.ToString();
    }
}
