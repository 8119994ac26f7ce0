using System.Net.Sockets;
using System.Text;

namespace Lb.Vrrp.Transport;

/// <summary>Socket options the managed API has no name for, set through <see cref="Socket.SetRawSocketOption"/>.</summary>
internal static class SocketOptions
{
    private const int SolSocket = 1;
    private const int SoBindToDevice = 25;
    private const int SoRcvBuf = 8;
    private const int IpProtoIp = 0;
    private const int IpMulticastAll = 49;
    private const int IpProtoIpv6 = 41;
    private const int Ipv6MulticastAll = 29;

    public static void BindToDevice(Socket socket, string interfaceName)
        => socket.SetRawSocketOption(SolSocket, SoBindToDevice, Encoding.ASCII.GetBytes(interfaceName + "\0"));

    public static void SetInt(Socket socket, int level, int name, int value)
    {
        Span<byte> v = stackalloc byte[4];
        BitConverter.TryWriteBytes(v, value);
        socket.SetRawSocketOption(level, name, v);
    }

    /// <summary>IP_MULTICAST_ALL / IPV6_MULTICAST_ALL off: receive only the groups this socket joined.</summary>
    public static void MulticastAllOff(Socket socket)
    {
        try
        {
            if (socket.AddressFamily == AddressFamily.InterNetwork)
                SetInt(socket, IpProtoIp, IpMulticastAll, 0);
            else
                SetInt(socket, IpProtoIpv6, Ipv6MulticastAll, 0);
        }
        catch (SocketException)
        {
            // older kernels: harmless
        }
    }

    public static void ReceiveBuffer(Socket socket, int bytes) => SetInt(socket, SolSocket, SoRcvBuf, bytes);
}
