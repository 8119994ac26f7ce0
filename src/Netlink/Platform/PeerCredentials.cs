using System.Net.Sockets;
using System.Runtime.InteropServices;
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

    /// <summary>The supplementary groups of the peer of <paramref name="socket"/> (SO_PEERGROUPS, recorded with the credentials).</summary>
    public static unsafe IReadOnlyList<uint> GroupsOf(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var capacity = 64;
        while (true)
        {
            var buffer = new uint[capacity];
            var length = capacity * sizeof(uint);
            int rc;
            fixed (uint* p = buffer)
                rc = Libc.GetSockOpt(socket.SafeHandle, Libc.SOL_SOCKET, Libc.SO_PEERGROUPS, p, &length);
            if (rc == 0)
                return buffer.AsSpan(0, length / sizeof(uint)).ToArray();
            var error = Marshal.GetLastPInvokeError();
            // ERANGE: the kernel wrote the length it needs (NGROUPS_MAX is 65536: bounded).
            if (error == 34 && length > capacity * sizeof(uint) && capacity < 65536)
            {
                capacity = Math.Min(65536, length / sizeof(uint));
                continue;
            }
            throw ErrnoException.FromLastError("read the peer's groups (SO_PEERGROUPS) of a unix socket");
        }
    }

    /// <summary>Gives <paramref name="path"/> (not following a symbolic link) to <paramref name="group"/>, owner unchanged.</summary>
    public static void SetGroup(string path, uint group)
    {
        if (Libc.Lchown(path, uint.MaxValue, group) != 0)
            throw ErrnoException.FromLastError($"give {path} to group {group} (lchown)");
    }
}
