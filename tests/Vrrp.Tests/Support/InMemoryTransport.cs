using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Lb.Vrrp.Protocol;
using Lb.Vrrp.Transport;

namespace Lb.Vrrp.Tests.Support;

/// <summary>
/// The socket pool's transport in memory: records what the subsystem sends and delivers adverts the test gives it.
/// A fake because the unit tier has no interface to bind; the real sockets are exercised by the Netns tests.
/// </summary>
internal sealed class InMemoryTransport(string interfaceName, IPAddress? group) : IVrrpTransport
{
    private Action<ReceivedAdvert>? _onAdvert;

    public string InterfaceName { get; } = interfaceName;

    public IPAddress? MulticastGroup { get; } = group;

    public ConcurrentQueue<(VrrpPacket Packet, IPAddress Source, IPAddress Destination, byte Ttl)> Sent { get; } = new();

    public bool Disposed { get; private set; }

    public void StartReceiving(Action<ReceivedAdvert> onAdvert, Action<VrrpDropReason, string, byte> onDrop, Action? onStart = null, Action? onExit = null)
        => _onAdvert = onAdvert;

    public void Send(VrrpPacket packet, IPAddress source, IPAddress destination, byte ttl, bool v3ChecksumAsV2)
        => Sent.Enqueue((packet, source, destination, ttl));

    /// <summary>An advert arrives (on the caller's thread, as the receive thread would deliver it).</summary>
    public void Deliver(VrrpPacket packet, IPAddress source, IPAddress destination, int ttl = 255)
        => _onAdvert?.Invoke(new ReceivedAdvert(packet, source, destination, ttl));

    public void Dispose() => Disposed = true;
}

/// <summary>Opens <see cref="InMemoryTransport"/>s and remembers them.</summary>
internal sealed class InMemoryTransportFactory : IVrrpTransportFactory
{
    public ConcurrentQueue<(string Interface, int Index, AddressFamily Family, IPAddress? Group, InMemoryTransport Transport)> Opened { get; } = new();

    public IVrrpTransport Open(string interfaceName, int interfaceIndex, AddressFamily family, IPAddress? multicastGroup)
    {
        var t = new InMemoryTransport(interfaceName, multicastGroup);
        Opened.Enqueue((interfaceName, interfaceIndex, family, multicastGroup, t));
        return t;
    }
}
