using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Lb.Vrrp.Transport;

/// <summary>Socket options the managed API has no name for, set through <see cref="Socket.SetRawSocketOption"/>.</summary>
internal static class SocketOptions
{
    private const int SolSocket = 1;
    private const int SoBindToDevice = 25;
    private const int SoAttachFilter = 26;
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

    /// <summary>Attaches <paramref name="program"/> (<c>struct sock_filter</c> entries) to <paramref name="socket"/>.</summary>
    public static unsafe void AttachFilter(Socket socket, ReadOnlySpan<(ushort Code, byte Jt, byte Jf, uint K)> program)
    {
        var filter = (byte*)NativeMemory.Alloc((nuint)(program.Length * 8));
        try
        {
            for (var i = 0; i < program.Length; i++)
            {
                var f = new Span<byte>(filter + (i * 8), 8);
                BitConverter.TryWriteBytes(f, program[i].Code);
                f[2] = program[i].Jt;
                f[3] = program[i].Jf;
                BitConverter.TryWriteBytes(f[4..], program[i].K);
            }
            // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
            Span<byte> prog = stackalloc byte[16];
            prog.Clear();
            BitConverter.TryWriteBytes(prog, (ushort)program.Length);
            BitConverter.TryWriteBytes(prog[8..], (ulong)filter);
            socket.SetRawSocketOption(SolSocket, SoAttachFilter, prog);
        }
        finally
        {
            NativeMemory.Free(filter);
        }
    }
}
