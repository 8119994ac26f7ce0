namespace Lb.Netlink.Interop;

/// <summary>
/// The only place in Lb that calls libc. One file per libc function (<c>Interop.&lt;Function&gt;.cs</c>);
/// every import sets the last error so callers can turn errno into an <see cref="ErrnoException"/>.
/// </summary>
internal static partial class Libc
{
    internal const string Name = "libc";

    internal const int AF_UNSPEC = 0;
    internal const int AF_INET = 2;
    internal const int AF_INET6 = 10;
    internal const int AF_NETLINK = 16;

    internal const int SOCK_RAW = 3;
    internal const int SOCK_NONBLOCK = 0x800;
    internal const int SOCK_CLOEXEC = 0x80000;

    internal const int SOL_SOCKET = 1;
    internal const int SO_SNDBUF = 7;
    internal const int SO_RCVBUF = 8;
    internal const int SO_SNDBUFFORCE = 32;
    internal const int SO_RCVBUFFORCE = 33;

    internal const int SOL_NETLINK = 270;
    internal const int NETLINK_ADD_MEMBERSHIP = 1;
    internal const int NETLINK_DROP_MEMBERSHIP = 2;
    internal const int NETLINK_NO_ENOBUFS = 5;
    internal const int NETLINK_CAP_ACK = 10;
    internal const int NETLINK_EXT_ACK = 11;
    internal const int NETLINK_GET_STRICT_CHK = 12;

    internal const int CLONE_NEWNET = 0x40000000;

    /// <summary><c>struct sockaddr_nl</c>: family (u16), pad (u16), pid (u32), groups (u32).</summary>
    internal const int SizeOfSockaddrNl = 12;

    /// <summary><c>struct __user_cap_header_struct</c> version 3 (64-bit capability sets).</summary>
    internal const uint LINUX_CAPABILITY_VERSION_3 = 0x20080522;
}
