using System.Net.Sockets;
using Lb.Netlink.Platform;

namespace Lb.Status;

/// <summary>
/// Who may stand behind the status socket, for both ends. The socket carries no secret, but a foreign listener on the path
/// could feed root's <c>lb status</c> a made-up state or make a daemon give up its socket, so:
/// <list type="bullet">
/// <item>the client talks only to a server run by root, by the client's own uid, or by the owner of the socket's
/// directory when only that owner can write there (SO_PEERCRED of the listener; <see cref="IsTrustedServer"/>);</item>
/// <item>the server answers only root and its own uid (SO_PEERCRED of the client; the socket's 0600 mode already keeps the
/// others out — this is the second lock);</item>
/// <item>the server opens its socket only in a directory nobody else can rewrite: every directory from / down must be owned
/// by root or by us and not writable by group or others, unless it has the sticky bit (/tmp: others can create names
/// there but cannot remove or rename ours, so once bound our socket stays ours);</item>
/// <item>an existing socket file owned or served by another user is not "another lb daemon": it is removed and replaced,
/// and anything at the path that is not a socket is left alone (so --socket /etc/passwd does not delete it).</item>
/// </list>
/// </summary>
public static class StatusSocketSecurity
{
    /// <summary>Root and the uid this process runs as.</summary>
    public static bool IsTrusted(uint uid) => uid == 0 || uid == PeerCredentials.EffectiveUid;

    /// <summary>
    /// Whether a client may talk to the listener <paramref name="serverUid"/> on <paramref name="path"/>: root, the
    /// client's own uid, or the uid the socket's directory belongs to when nobody else can write there and every
    /// directory above it is secure (<see cref="InsecureDirectory"/>) — a service user's runtime directory that root
    /// made for it (systemd's <c>RuntimeDirectory=</c>: /run/lb of the packaged lb.service, owned by the user
    /// <c>lb</c>). Only that uid (or root) can have put a listener there: it is the daemon.
    /// </summary>
    public static bool IsTrustedServer(string path, uint serverUid)
    {
        if (IsTrusted(serverUid))
            return true;
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is not { Length: > 0 } dir
            || FileStatus.RealPath(dir, out _) is not { } real
            || FileStatus.TryGetLink(real) is not { } st)
            return false;
        var othersWrite = (st.Permissions & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0;
        return st.Uid == serverUid && !othersWrite
            && Path.GetDirectoryName(real) is { Length: > 0 } parent && InsecureDirectory(parent) is null;
    }

    /// <summary>Why a socket in <paramref name="directory"/> could be replaced by another user, or null when it cannot.</summary>
    public static string? InsecureDirectory(string directory)
    {
        if (FileStatus.RealPath(Path.GetFullPath(directory), out var error) is not { } real)
            return $"{directory}: {error}";
        for (var p = real; !string.IsNullOrEmpty(p); p = Path.GetDirectoryName(p))
        {
            if (FileStatus.TryGetLink(p) is not { } st)
                return $"{p} does not exist";
            if (!IsTrusted(st.Uid))
                return $"{p} belongs to uid {st.Uid}, who could replace anything below it";
            var writable = (st.Permissions & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0;
            if (writable && (st.Permissions & UnixFileMode.StickyBit) == 0)
                return $"{p} is writable by {((st.Permissions & UnixFileMode.OtherWrite) != 0 ? "every user" : "its group")} without the sticky bit (mode {Octal(st.Permissions)})";
            if (p == "/")
                break;
        }
        return null;
    }

    private static string Octal(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0');

    /// <summary>What answers on a socket path.</summary>
    public enum ProbeResult
    {
        /// <summary>Nothing listens (a stale file): it may be removed.</summary>
        NotServed,

        /// <summary>A listener whose backlog is full: someone serves it, who is unknown.</summary>
        Busy,

        /// <summary>A listener answered; see the credentials.</summary>
        Served,
    }

    /// <summary>Connects without blocking (a full backlog answers EAGAIN at once instead of hanging) and reads the listener's
    /// credentials.</summary>
    public static ProbeResult Probe(string path, out PeerCredentials server)
    {
        server = default;
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { Blocking = false };
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
        {
            return ProbeResult.Busy;
        }
        catch (SocketException)
        {
            return ProbeResult.NotServed;
        }
        server = PeerCredentials.Of(socket);
        return ProbeResult.Served;
    }
}

/// <summary><c>lb status</c> reached a socket served by a process that is neither root nor the caller's uid.</summary>
public sealed class UntrustedStatusServerException(string path, PeerCredentials server)
    : IOException($"{path} is served by uid {server.Uid} (pid {server.Pid}), which is neither root nor you (uid {PeerCredentials.EffectiveUid}) nor the owner of its directory: refusing to talk to it — another user may have put a listener there; give --socket PATH in a directory only root can write")
{
    public PeerCredentials Server { get; } = server;
}
