using System.Net.Sockets;
using Lb.Netlink.Interop;

namespace Lb.Netlink.Platform;

/// <summary>
/// Who is at the other end of a connected unix socket (SO_PEERCRED): the listener's process when read by the side that
/// connected, the connecting process when read by the side that accepted. The kernel records them at listen()/connect(),
/// so they cannot be forged by the peer.
/// </summary>
public readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid)
{
    /// <summary>The effective uid of this process.</summary>
    public static uint EffectiveUid => Libc.GetEuid();

    /// <summary>The peer of <paramref name="socket"/> (a connected AF_UNIX stream socket).</summary>
    public static unsafe PeerCredentials Of(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        var ucred = stackalloc int[3];
        var length = 3 * sizeof(int);
        if (Libc.GetSockOpt(socket.SafeHandle, Libc.SOL_SOCKET, Libc.SO_PEERCRED, ucred, &length) != 0)
            throw ErrnoException.FromLastError("read the peer credentials (SO_PEERCRED) of a unix socket");
        return new PeerCredentials(ucred[0], unchecked((uint)ucred[1]), unchecked((uint)ucred[2]));
    }
}
