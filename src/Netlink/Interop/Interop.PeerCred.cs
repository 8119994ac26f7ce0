namespace Lb.Netlink.Interop;

internal static partial class Libc
{
    /// <summary><c>getsockopt(fd, SOL_SOCKET, SO_PEERCRED)</c>: the <c>struct ucred</c> {pid, uid, gid} of a unix socket's peer,
    /// as it was at connect() (for the accepting side) or listen() (for the connecting side).</summary>
    internal const int SO_PEERCRED = 17;

    /// <summary><c>getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS)</c> (Linux 4.13): the supplementary groups of a unix socket's peer
    /// as <c>gid_t[]</c>; ERANGE with the needed length when the buffer is too small.</summary>
    internal const int SO_PEERGROUPS = 59;
}
