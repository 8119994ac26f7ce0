using System.Net;
using System.Net.Sockets;
using Lb.Vrrp.Protocol;

namespace Lb.Vrrp.Transport;

/// <summary>
/// VRRP I/O on one interface and address family: what the subsystem's socket pool holds per (interface, family,
/// unicast source). <see cref="VrrpSocket"/> is the real one; tests give an in-memory one (<see cref="IVrrpTransportFactory"/>)
/// instead of relying on a bind that fails on an interface that does not exist.
/// </summary>
internal interface IVrrpTransport : IDisposable
{
    string InterfaceName { get; }

    IPAddress? MulticastGroup { get; }

    /// <summary>Starts delivering adverts and drops to the callbacks; <paramref name="onStart"/> and <paramref name="onExit"/> run on the receiving thread.</summary>
    void StartReceiving(Action<ReceivedAdvert> onAdvert, Action<VrrpDropReason, string, byte> onDrop, Action? onStart = null, Action? onExit = null);

    /// <summary>Sends <paramref name="packet"/> from <paramref name="source"/> to <paramref name="destination"/>.</summary>
    void Send(VrrpPacket packet, IPAddress source, IPAddress destination, byte ttl, bool v3ChecksumAsV2);
}

/// <summary>Opens the transport of one (interface, family, multicast group) of the socket pool.</summary>
internal interface IVrrpTransportFactory
{
    /// <exception cref="SocketException">The socket could not be opened (no such interface, no CAP_NET_RAW).</exception>
    IVrrpTransport Open(string interfaceName, int interfaceIndex, AddressFamily family, IPAddress? multicastGroup);
}

/// <summary>The real sockets: <see cref="VrrpSocket"/>.</summary>
internal sealed class VrrpSocketFactory : IVrrpTransportFactory
{
    public static readonly VrrpSocketFactory Instance = new();

    public IVrrpTransport Open(string interfaceName, int interfaceIndex, AddressFamily family, IPAddress? multicastGroup)
        => new VrrpSocket(interfaceName, interfaceIndex, family, multicastGroup);
}
