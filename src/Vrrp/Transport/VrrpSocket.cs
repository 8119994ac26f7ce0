using System.Net;
using System.Net.Sockets;
using Lb.Vrrp.Protocol;

namespace Lb.Vrrp.Transport;

/// <summary>A received advert with its IP facts.</summary>
/// <param name="Packet">The parsed advert.</param>
/// <param name="Source">IP source.</param>
/// <param name="Destination">IP destination.</param>
/// <param name="Ttl">TTL / hop limit, -1 when the socket API does not report it (IPv6).</param>
internal readonly record struct ReceivedAdvert(VrrpPacket Packet, IPAddress Source, IPAddress Destination, int Ttl);

/// <summary>
/// Raw VRRP sockets (protocol 112) of one interface and address family, keepalived style: a receive
/// socket bound to the interface (joined to the multicast group, or bound to the unicast source),
/// and a send socket. IPv4 is sent with IP_HDRINCL so TOS 0xc0, TTL 255 and the source address are
/// exactly ours; IPv6 with hop limit 255 and the checksum computed here.
/// </summary>
internal sealed class VrrpSocket : IDisposable
{
    private readonly Socket _rx;
    private readonly Socket _tx;
    private readonly byte[] _sendBuffer = new byte[2048];
    private readonly object _sendGate = new();
    private readonly CancellationTokenSource _cts = new();
    private Task? _loop;

    public VrrpSocket(string interfaceName, int interfaceIndex, AddressFamily family, IPAddress? multicastGroup, IPAddress? unicastSource, IPAddress? bindSource)
    {
        InterfaceName = interfaceName;
        InterfaceIndex = interfaceIndex;
        Family = family;
        MulticastGroup = multicastGroup;
        _rx = new Socket(family, SocketType.Raw, (ProtocolType)112);
        _tx = new Socket(family, SocketType.Raw, (ProtocolType)112);
        try
        {
            SocketOptions.BindToDevice(_rx, interfaceName);
            SocketOptions.BindToDevice(_tx, interfaceName);
            SocketOptions.MulticastAllOff(_rx);
            SocketOptions.ReceiveBuffer(_tx, 0);
            if (family == AddressFamily.InterNetwork)
            {
                _tx.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.HeaderIncluded, true);
                _tx.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastLoopback, false);
                if (unicastSource is null && multicastGroup is not null)
                {
                    _rx.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(multicastGroup, interfaceIndex));
                    _rx.Bind(new IPEndPoint(multicastGroup, 0));
                }
                else if (unicastSource is not null)
                {
                    _rx.Bind(new IPEndPoint(unicastSource, 0));
                }
            }
            else
            {
                _tx.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastLoopback, false);
                _tx.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastTimeToLive, 255);
                _tx.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.IpTimeToLive, 255);
                _tx.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastInterface, interfaceIndex);
                if (bindSource is not null)
                    _tx.Bind(new IPEndPoint(WithScope(bindSource, interfaceIndex), 0));
                _rx.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.PacketInformation, true);
                if (unicastSource is null && multicastGroup is not null)
                    _rx.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.AddMembership, new IPv6MulticastOption(multicastGroup, interfaceIndex));
                else if (unicastSource is not null)
                    _rx.Bind(new IPEndPoint(WithScope(unicastSource, interfaceIndex), 0));
            }
        }
        catch
        {
            _rx.Dispose();
            _tx.Dispose();
            throw;
        }
    }

    public string InterfaceName { get; }

    public int InterfaceIndex { get; }

    public AddressFamily Family { get; }

    public IPAddress? MulticastGroup { get; }

    /// <summary>Packets that could not be parsed, with the reason, and parsed adverts: both go to the callbacks on the receive thread.</summary>
    public void StartReceiving(Action<ReceivedAdvert> onAdvert, Action<VrrpDropReason, IPAddress?, byte> onDrop)
    {
        _loop = Task.Run(() => ReceiveLoopAsync(onAdvert, onDrop, _cts.Token));
    }

    private static IPAddress WithScope(IPAddress a, int index)
    {
        if (!a.IsIPv6LinkLocal)
            return a;
        var b = new IPAddress(a.GetAddressBytes(), index);
        return b;
    }

    private async Task ReceiveLoopAsync(Action<ReceivedAdvert> onAdvert, Action<VrrpDropReason, IPAddress?, byte> onDrop, CancellationToken ct)
    {
        var buffer = new byte[4096];
        EndPoint any = Family == AddressFamily.InterNetwork ? new IPEndPoint(IPAddress.Any, 0) : new IPEndPoint(IPAddress.IPv6Any, 0);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (Family == AddressFamily.InterNetwork)
                {
                    var r = await _rx.ReceiveFromAsync(buffer, SocketFlags.None, any, ct).ConfigureAwait(false);
                    var data = buffer.AsSpan(0, r.ReceivedBytes);
                    if (VrrpPacket.TryParseIpv4(data, out var p, out var ip, out var reason))
                        onAdvert(new ReceivedAdvert(p!, ip.Source, ip.Destination, ip.Ttl));
                    else
                        onDrop(reason, ((IPEndPoint)r.RemoteEndPoint).Address, data.Length > 21 ? data[21] : (byte)0);
                }
                else
                {
                    var r = await _rx.ReceiveMessageFromAsync(buffer, SocketFlags.None, any, ct).ConfigureAwait(false);
                    var src = ((IPEndPoint)r.RemoteEndPoint).Address;
                    var dst = r.PacketInformation.Address ?? MulticastGroup ?? IPAddress.IPv6Any;
                    var srcNoScope = new IPAddress(src.GetAddressBytes());
                    var dstNoScope = new IPAddress(dst.GetAddressBytes());
                    var data = buffer.AsSpan(0, r.ReceivedBytes);
                    if (VrrpPacket.TryParse(data, AddressFamily.InterNetworkV6, srcNoScope, dstNoScope, out var p, out var reason))
                        onAdvert(new ReceivedAdvert(p!, srcNoScope, dstNoScope, -1));
                    else
                        onDrop(reason, srcNoScope, data.Length > 1 ? data[1] : (byte)0);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                // interface vanished or transient error: back off a little, keep going
                try
                {
                    await Task.Delay(100, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Sends <paramref name="packet"/> from <paramref name="source"/> to <paramref name="destination"/> with <paramref name="ttl"/>.</summary>
    public void Send(VrrpPacket packet, IPAddress source, IPAddress destination, byte ttl, bool v3ChecksumAsV2)
    {
        lock (_sendGate)
        {
            if (Family == AddressFamily.InterNetwork)
            {
                var n = packet.WriteIpv4Datagram(_sendBuffer, source, destination, ttl, 0, v3ChecksumAsV2);
                _tx.SendTo(_sendBuffer.AsSpan(0, n), SocketFlags.None, new IPEndPoint(destination, 0));
            }
            else
            {
                if (ttl != 255)
                    _tx.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.IpTimeToLive, (int)ttl);
                var n = packet.WriteTo(_sendBuffer, source, destination);
                _tx.SendTo(_sendBuffer.AsSpan(0, n), SocketFlags.None, new IPEndPoint(WithScope(destination, InterfaceIndex), 0));
            }
        }
    }

    public void Dispose()
    {
        _cts.Cancel();
        _rx.Dispose();
        _tx.Dispose();
        try
        {
            _loop?.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }
        _cts.Dispose();
    }
}
