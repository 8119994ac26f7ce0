using System.Net.Sockets;
using Lb.Control;
using Microsoft.Extensions.Logging;

namespace Lb.Status;

/// <summary>
/// The daemon's side of <c>lb status</c>: a unix stream socket (mode 0600) answering each connection with one JSON
/// document. Protocol: the client sends one request line (<c>status</c>), the daemon answers one JSON
/// <see cref="StatusResponse"/> followed by a newline and closes. Connections are served by the daemon's one bounded
/// loop (<see cref="ControlServer"/>: read and send bounds, a connection limit that closes the oldest idle connection
/// first); what is answered is <see cref="StatusRequestHandler"/>'s.
/// </summary>
public sealed class StatusServer : IAsyncDisposable
{
    public const string DefaultDirectory = "/run/lb";
    /// <summary>Longest request line (a control command's argv as JSON).</summary>
    public const int MaxRequestLength = 8192;
    public const int MaxConcurrentClients = 32;

    private readonly ControlServer _server;

    private StatusServer(string path, Socket listener, ControlServerOptions options, IControlHandler handler, ILogger logger)
    {
        Path = path;
        _server = new ControlServer(listener, handler, options, logger);
    }

    public string Path { get; }

    public TimeSpan ReadTimeout => _server.Options.ReadTimeout;

    /// <summary>Connections held now (waiting for a request or being answered).</summary>
    public int Connections => _server.Connections;

    /// <summary>Connections closed to make room for a newer one, since start.</summary>
    public long Evicted => _server.Evicted;

    /// <summary>Bound on sending one reply (a client that stops reading cannot hold a connection slot longer).</summary>
    public static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The socket path: --socket, else next to the -p pid file (<c>/run/x.pid</c> → <c>/run/x.sock</c>), else /run/lb/lb.sock
    /// (/run/lb/lb-NS.sock with -s NS).</summary>
    public static string DefaultPath(string? socket, string? pidFile, string? netns)
    {
        if (socket is not null)
            return socket;
        if (pidFile is not null)
            return System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(pidFile)) ?? "/", System.IO.Path.GetFileNameWithoutExtension(pidFile) + ".sock");
        return System.IO.Path.Combine(DefaultDirectory, netns is null ? "lb.sock" : $"lb-{netns}.sock");
    }

    /// <summary>Binds and starts serving; null (with a warning) when the path is served by another live daemon, lies in a
    /// directory other users could rewrite, or cannot be bound (see <see cref="StatusSocketSecurity"/>).</summary>
    public static StatusServer? Start(string path, Func<StatusReport> collect, ILogger logger, TimeSpan? readTimeout = null,
        ControlCommands? commands = null, ControlAccess? access = null)
    {
        access ??= ControlAccess.OwnerOnly;
        try
        {
            path = System.IO.Path.GetFullPath(path);
            var dir = System.IO.Path.GetDirectoryName(path) ?? "/";
            if (!Directory.Exists(dir))
                Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            if (StatusSocketSecurity.InsecureDirectory(dir) is string why)
            {
                logger.LogError("Not opening the status socket {Path}: {Why}, so another user could replace the socket; 'lb status' will not reach this daemon (give --socket PATH in a directory only root can write, e.g. {Default})", path, why, DefaultDirectory);
                return null;
            }
            if (!ClaimPath(path, logger))
                return null;
            var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                listener.Bind(new UnixDomainSocketEndPoint(path));
                // Restrict before listen(): nobody can connect until then, so there is no window with a wider mode.
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                if (access.Gid is { } gid)
                {
                    // The control group may connect: the socket becomes the group's, mode 0660.
                    Netlink.Platform.PeerCredentials.SetGroup(path, gid);
                    File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
                }
                else if (access.GroupName is { } missing)
                {
                    logger.LogError("control_group {Group} does not exist: only root and uid {Uid} can use {Path}", missing, Netlink.Platform.PeerCredentials.EffectiveUid, path);
                }
                listener.Listen(64);
            }
            catch
            {
                listener.Dispose();
                throw;
            }
            logger.LogDebug("Status socket listening on {Path}", path);
            var options = new ControlServerOptions
            {
                Name = "Status",
                MaxConnections = MaxConcurrentClients,
                MaxRequestBytes = MaxRequestLength,
                ReadTimeout = readTimeout ?? TimeSpan.FromSeconds(2),
                SendTimeout = SendTimeout,
            };
            return new StatusServer(path, listener, options, new StatusRequestHandler(collect, logger, commands, access), logger);
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException or Netlink.ErrnoException)
        {
            logger.LogWarning("Cannot open the status socket {Path}: {Message}; 'lb status' will not reach this daemon", path, e.Message);
            return null;
        }
    }

    /// <summary>
    /// Clears the way for binding <paramref name="path"/>: false (after a warning) when another lb daemon — a listener run by
    /// root or by our uid — serves it, or when something other than a socket is there. A stale socket is removed, and so is
    /// one owned or served by another user: that is not a daemon to defer to but someone squatting on our path.
    /// </summary>
    private static bool ClaimPath(string path, ILogger logger)
    {
        if (Netlink.Platform.FileStatus.TryGetLink(path) is not { } existing)
            return true;
        if (!existing.IsSocket)
        {
            logger.LogError("Not opening the status socket {Path}: it exists and is not a socket ({Kind}); not removing it", path, existing.IsRegularFile ? "a regular file" : existing.IsDirectory ? "a directory" : "another kind of file");
            return false;
        }
        if (!StatusSocketSecurity.IsTrusted(existing.Uid))
        {
            logger.LogWarning("Status socket {Path} belongs to uid {Uid}, not to root or to this daemon: not trusted, replacing it", path, existing.Uid);
        }
        else
        {
            switch (StatusSocketSecurity.Probe(path, out var server))
            {
                case StatusSocketSecurity.ProbeResult.Busy:
                case StatusSocketSecurity.ProbeResult.Served when StatusSocketSecurity.IsTrusted(server.Uid):
                    logger.LogWarning("Status socket {Path} is served by another lb daemon{Pid}; 'lb status' will not reach this one (give --socket PATH)",
                        path, server.Pid > 0 ? $" (pid {server.Pid})" : "");
                    return false;
                case StatusSocketSecurity.ProbeResult.Served:
                    logger.LogWarning("Status socket {Path} is served by uid {Uid} (pid {Pid}), not by root or this daemon's uid: not trusted, replacing it", path, server.Uid, server.Pid);
                    break;
            }
        }
        File.Delete(path);
        return true;
    }

    /// <summary>Removes the socket path (no new client can reach it), then stops the server (see <see cref="ControlServer.DisposeAsync"/>).</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
        }
        await _server.DisposeAsync().ConfigureAwait(false);
    }
}
