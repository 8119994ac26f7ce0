using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Lb.Vrrp.Transport;

/// <summary>A <c>sockaddr_ll</c> for AF_PACKET sends: interface index, ethertype and destination MAC.</summary>
internal sealed class LinkLayerEndPoint : EndPoint
{
    public LinkLayerEndPoint(int interfaceIndex, ushort etherType, ReadOnlySpan<byte> destinationMac)
    {
        InterfaceIndex = interfaceIndex;
        EtherType = etherType;
        DestinationMac = destinationMac.ToArray();
    }

    public int InterfaceIndex { get; }

    public ushort EtherType { get; }

    public byte[] DestinationMac { get; }

    public override AddressFamily AddressFamily => AddressFamily.Packet;

    public override SocketAddress Serialize()
    {
        // struct sockaddr_ll { u16 family; be16 protocol; s32 ifindex; u16 hatype; u8 pkttype; u8 halen; u8 addr[8]; }
        var sa = new SocketAddress(AddressFamily.Packet, 20);
        var b = sa.Buffer.Span;
        BinaryPrimitives.WriteUInt16BigEndian(b[2..], EtherType);
        BitConverter.TryWriteBytes(b[4..], InterfaceIndex); // host order
        b[10] = 0;
        b[11] = (byte)DestinationMac.Length;
        DestinationMac.CopyTo(b[12..]);
        return sa;
    }

    public override EndPoint Create(SocketAddress socketAddress) => this;
}
