using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Lb.Vrrp.Protocol;

namespace Lb.Vrrp.Transport;

/// <summary>A received advert with its IP facts.</summary>
/// <param name="Packet">The parsed advert.</param>
/// <param name="Source">IP source.</param>
/// <param name="Destination">IP destination.</param>
/// <param name="Ttl">TTL / hop limit.</param>
internal readonly record struct ReceivedAdvert(VrrpPacket Packet, IPAddress Source, IPAddress Destination, int Ttl);

/// <summary>
/// VRRP I/O on one interface and address family with managed sockets only (no libc):
/// <list type="bullet">
/// <item>receive: an AF_PACKET datagram socket bound to the interface for ETH_P_IP / ETH_P_IPV6 with
/// a classic BPF filter (VRRP only, no outgoing packets), so the full IP header — TTL / hop limit,
/// source, destination — is seen for both families (.NET cannot open a raw IP socket for protocol
/// 112, nor read IPV6_HOPLIMIT);</item>
/// <item>multicast membership: a UDP socket joined to the group on the interface (IGMP/MLD reports,
/// NIC filter), never read;</item>
/// <item>send: an IPPROTO_RAW socket with our own IPv4 header (TOS 0xc0, TTL 255, protocol 112, or 51 with the
/// IPsec AH header for <c>auth_type AH</c>) or IPv6 header (IPV6_HDRINCL, hop limit 255, next header 112), bound to the interface.</item>
/// </list>
/// </summary>
internal sealed class VrrpSocket : IVrrpTransport
{
    private const int SolPacket = 263;
    private const int PacketIgnoreOutgoing = 23;
    private const int Ipv6HdrIncl = 36;

    private readonly Socket _rx;
    private readonly Socket _tx;
    private readonly Socket? _membership;
    private readonly byte[] _sendBuffer = new byte[2048];
    private readonly object _sendGate = new();
    private readonly CancellationTokenSource _cts = new();
    private Thread? _loop;

    /// <summary>How often a blocked receive wakes to see whether the socket is being closed.</summary>
    private static readonly TimeSpan ReceiveWake = TimeSpan.FromMilliseconds(250);

    public VrrpSocket(string interfaceName, int interfaceIndex, AddressFamily family, IPAddress? multicastGroup)
    {
        InterfaceName = interfaceName;
        InterfaceIndex = interfaceIndex;
        Family = family;
        MulticastGroup = multicastGroup;
        var v4 = family == AddressFamily.InterNetwork;
        ushort ethType = v4 ? (ushort)0x0800 : (ushort)0x86dd;
        _rx = new Socket(AddressFamily.Packet, SocketType.Dgram, (ProtocolType)BinaryPrimitives.ReverseEndianness(ethType));
        _tx = new Socket(family, SocketType.Raw, ProtocolType.Raw);
        try
        {
            try
            {
                SocketOptions.SetInt(_rx, SolPacket, PacketIgnoreOutgoing, 1);
            }
            catch (SocketException)
            {
                // kernels before 4.20: the BPF filter drops outgoing packets too
            }
            AttachFilter(_rx, v4 ? 9 : 6);
            _rx.ReceiveBufferSize = 1 << 20; // ride out bursts (floods, many instances) without kernel drops
            _rx.Bind(new LinkLayerEndPoint(interfaceIndex, ethType, []));
            SocketOptions.BindToDevice(_tx, interfaceName);
            SocketOptions.ReceiveBuffer(_tx, 0);
            if (!v4)
            {
                SocketOptions.SetInt(_tx, 41, Ipv6HdrIncl, 1);
            }
            if (multicastGroup is not null)
            {
                _membership = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
                SocketOptions.ReceiveBuffer(_membership, 0);
                if (v4)
                    _membership.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(multicastGroup, interfaceIndex));
                else
                    _membership.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.AddMembership, new IPv6MulticastOption(multicastGroup, interfaceIndex));
            }
        }
        catch
        {
            _rx.Dispose();
            _tx.Dispose();
            _membership?.Dispose();
            throw;
        }
    }

    public string InterfaceName { get; }

    public int InterfaceIndex { get; }

    public AddressFamily Family { get; }

    public IPAddress? MulticastGroup { get; }

    /// <summary>
    /// Attaches "accept if not outgoing and the IP protocol byte at <paramref name="protocolOffset"/> is 112 or 51 (AH)".
    /// struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }, struct sock_fprog { u16 len; sock_filter *filter; }.
    /// </summary>
    private static void AttachFilter(Socket socket, int protocolOffset)
    {
        ReadOnlySpan<(ushort Code, byte Jt, byte Jf, uint K)> program =
        [
            (0x20, 0, 0, 0xfffff004), // ld  [SKF_AD_OFF + SKF_AD_PKTTYPE]
            (0x15, 4, 0, 4), // jeq #PACKET_OUTGOING -> drop
            (0x30, 0, 0, (uint)protocolOffset), // ldb [protocol]
            (0x15, 1, 0, 112), // jeq #112 -> accept
            (0x15, 0, 1, VrrpAh.IpProtocol), // jeq #51 (IPsec AH, auth_type AH) ? accept : drop
            (0x06, 0, 0, 0x40000), // ret #262144
            (0x06, 0, 0, 0), // ret #0
        ];
        SocketOptions.AttachFilter(socket, program);
    }

    /// <summary>
    /// Parsed adverts and drops both go to the callbacks on this socket's own receive thread (blocking
    /// <c>recvfrom</c>, not the thread pool: an advert is handled as soon as the kernel has it, whatever the pool is
    /// doing). <paramref name="onStart"/> runs first on that thread (scheduling policy), <paramref name="onExit"/> last. A drop names its source: the
    /// IP header's source address (read from the raw bytes when the header itself was refused), or, for a datagram
    /// too short to hold one, the sender's MAC address from the packet socket's <c>sockaddr_ll</c>.
    /// </summary>
    public void StartReceiving(Action<ReceivedAdvert> onAdvert, Action<VrrpDropReason, string, byte> onDrop, Action? onStart = null, Action? onExit = null)
    {
        _rx.ReceiveTimeout = (int)ReceiveWake.TotalMilliseconds;
        var ct = _cts.Token;
        _loop = new Thread(() =>
        {
            try
            {
                onStart?.Invoke();
            }
            catch (Exception)
            {
                // the policy hook logs its own failures
            }
            try
            {
                ReceiveLoop(onAdvert, onDrop, ct);
            }
            finally
            {
                try
                {
                    onExit?.Invoke();
                }
                catch (Exception)
                {
                }
            }
        })
        {
            IsBackground = true,
            Name = "lb-vrrp-rx",
        };
        _loop.Start();
    }

    private void ReceiveLoop(Action<ReceivedAdvert> onAdvert, Action<VrrpDropReason, string, byte> onDrop, CancellationToken ct)
    {
        var buffer = new byte[4096];
        // the runtime insists on room for its largest address of the family (more than sockaddr_ll's 20 bytes)
        // before every receive, and shrinks Size to what the kernel wrote after it
        var fromSize = Math.Max(SockaddrLlSize, SocketAddress.GetMaximumAddressSize(AddressFamily.Packet));
        var from = new SocketAddress(AddressFamily.Packet, fromSize);
        var v4 = Family == AddressFamily.InterNetwork;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                from.Size = fromSize;
                var n = _rx.ReceiveFrom(buffer, SocketFlags.None, from);
                var data = buffer.AsSpan(0, n);
                var ok = v4
                    ? VrrpPacket.TryParseIpv4(data, out var p, out var ip, out var reason)
                    : VrrpPacket.TryParseIpv6(data, out p, out ip, out reason);
                if (ok)
                    onAdvert(new ReceivedAdvert(p!, ip.Source, ip.Destination, ip.Ttl));
                else if (reason != VrrpDropReason.NotVrrp)
                    onDrop(reason, DropSource(ip.Source, data, v4, from), DropVrid(data, v4));
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock or SocketError.Interrupted)
            {
                // the periodic wake: look at the cancellation flag
            }
            catch (SocketException)
            {
                // interface vanished (ENETDOWN) or transient: back off, keep going
                Thread.Sleep(100);
            }
            catch (Exception ex) when (ex is not ObjectDisposedException)
            {
                // a failing handler must not end the receive thread (the handlers log what matters)
            }
        }
    }

    /// <summary>The VRID byte of a dropped datagram as far as it can be found (after the AH header when the IPv4 protocol is AH), else 0.</summary>
    internal static byte DropVrid(ReadOnlySpan<byte> data, bool v4)
    {
        if (!v4)
            return data.Length > 41 ? data[41] : (byte)0;
        var at = 21;
        if (data.Length > 9 && data[9] == VrrpAh.IpProtocol)
            at = ((data[0] & 0x0f) * 4) + VrrpAh.HeaderLength + 1;
        return data.Length > at ? data[at] : (byte)0;
    }

    /// <summary>struct sockaddr_ll: u16 family, be16 protocol, s32 ifindex, u16 hatype, u8 pkttype, u8 halen, u8 addr[8].</summary>
    private const int SockaddrLlSize = 20;

    /// <summary>Who sent a dropped datagram: the parsed IP source, else the source field of the raw header, else the link-layer address.</summary>
    internal static string DropSource(IPAddress? parsed, ReadOnlySpan<byte> data, bool v4, SocketAddress from)
    {
        if (parsed is not null)
            return parsed.ToString();
        if (v4 && data.Length >= 16)
            return new IPAddress(data.Slice(12, 4)).ToString();
        if (!v4 && data.Length >= 24)
            return new IPAddress(data.Slice(8, 16)).ToString();
        var sa = from.Buffer.Span;
        var halen = from.Size >= 12 ? Math.Min((int)sa[11], Math.Min(8, from.Size - 12)) : 0;
        return halen > 0 ? string.Join(':', sa.Slice(12, halen).ToArray().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture))) : "?";
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
                var n = packet.WriteIpv6Packet(_sendBuffer, source, destination, ttl);
                var dst = destination.IsIPv6LinkLocal || destination.IsIPv6Multicast ? new IPAddress(destination.GetAddressBytes(), InterfaceIndex) : destination;
                _tx.SendTo(_sendBuffer.AsSpan(0, n), SocketFlags.None, new IPEndPoint(dst, 0));
            }
        }
    }

    public void Dispose()
    {
        _cts.Cancel();
        _rx.Dispose();
        _tx.Dispose();
        _membership?.Dispose();
        if (_loop is not null && Thread.CurrentThread != _loop)
            _loop.Join(TimeSpan.FromSeconds(2));
        _cts.Dispose();
    }
}
