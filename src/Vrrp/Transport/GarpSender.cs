using System.Net;
using System.Net.Sockets;
using Lb.Vrrp.Protocol;

namespace Lb.Vrrp.Transport;

/// <summary>Sends one gratuitous ARP / unsolicited NA (a seam for tests).</summary>
internal interface IGarpSender : IDisposable
{
    void Send(int interfaceIndex, ReadOnlySpan<byte> mac, IPAddress vip);
}

/// <summary>Sends gratuitous ARPs and unsolicited NAs through one AF_PACKET socket.</summary>
public sealed class GarpSender : IGarpSender
{
    private readonly Socket _socket;
    private readonly byte[] _frame = new byte[128];
    private readonly object _gate = new();

    /// <summary>Opens the AF_PACKET socket (needs CAP_NET_RAW).</summary>
    public GarpSender()
    {
        _socket = new Socket(AddressFamily.Packet, SocketType.Raw, ProtocolType.Unspecified);
    }

    /// <summary>Sends one gratuitous ARP (IPv4 <paramref name="vip"/>) or unsolicited NA (IPv6) on <paramref name="interfaceIndex"/> from <paramref name="mac"/>.</summary>
    public void Send(int interfaceIndex, ReadOnlySpan<byte> mac, IPAddress vip)
    {
        lock (_gate)
        {
            int n;
            LinkLayerEndPoint ep;
            if (vip.AddressFamily == AddressFamily.InterNetwork)
            {
                n = GratuitousFrames.WriteGratuitousArp(_frame, mac, vip);
                ep = new LinkLayerEndPoint(interfaceIndex, 0x0806, GratuitousFrames.Broadcast);
            }
            else
            {
                n = GratuitousFrames.WriteUnsolicitedNa(_frame, mac, vip);
                ep = new LinkLayerEndPoint(interfaceIndex, 0x86dd, GratuitousFrames.AllNodesMac);
            }
            _socket.SendTo(_frame.AsSpan(0, n), SocketFlags.None, ep);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _socket.Dispose();
}
