using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Lb.Vrrp.Transport;

/// <summary>One received frame of the probe socket: the interface it came in on and the bytes from the Ethernet header on.</summary>
internal delegate void ProbeFrameHandler(int interfaceIndex, ReadOnlySpan<byte> frame);

/// <summary>Sends split-brain probes and receives the answers (a seam for tests).</summary>
internal interface IProbeTransport : IDisposable
{
    /// <summary>Sends one whole Ethernet frame (header included) on <paramref name="interfaceIndex"/>.</summary>
    void Send(int interfaceIndex, ReadOnlySpan<byte> frame);

    /// <summary>Starts delivering received frames to <paramref name="onFrame"/> (on a thread of the transport's own).</summary>
    void StartReceiving(ProbeFrameHandler onFrame);
}

/// <summary>
/// The split-brain probe's one AF_PACKET socket for the whole subsystem (SOCK_RAW, ETH_P_ALL, every interface), built as
/// <see cref="VrrpSocket"/> builds its receive socket: PACKET_IGNORE_OUTGOING and a classic BPF filter that lets only
/// ARP replies and ICMPv6 neighbour advertisements (directly after the IPv6 header) up to user space; a blocking
/// receive on its own thread (<c>lb-vrrp-probe</c>). Frames are sent whole (our own Ethernet header) from the same socket.
/// </summary>
internal sealed class ProbeSocket : IProbeTransport
{
    private const int SolPacket = 263;
    private const int PacketIgnoreOutgoing = 23;
    private const ushort EthPAll = 0x0003;

    private readonly Socket _socket;
    private readonly object _sendGate = new();
    private readonly CancellationTokenSource _cts = new();
    private Thread? _loop;

    /// <summary>Opens the socket (needs CAP_NET_RAW).</summary>
    public ProbeSocket()
    {
        _socket = new Socket(AddressFamily.Packet, SocketType.Raw, (ProtocolType)BinaryPrimitives.ReverseEndianness(EthPAll));
        try
        {
            try
            {
                SocketOptions.SetInt(_socket, SolPacket, PacketIgnoreOutgoing, 1);
            }
            catch (SocketException)
            {
                // kernels before 4.20: the filter drops outgoing frames too
            }
            AttachFilter(_socket);
            _socket.Bind(new LinkLayerEndPoint(0, EthPAll, []));
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// "Accept if not outgoing and (ARP with opcode 2, or IPv6 with next header 58 and ICMPv6 type 136)"; offsets from the
    /// Ethernet header. A frame too short for a load is dropped by the kernel (BPF returns 0).
    /// </summary>
    private static void AttachFilter(Socket socket)
    {
        ReadOnlySpan<(ushort Code, byte Jt, byte Jf, uint K)> program =
        [
            (0x20, 0, 0, 0xfffff004), // 0: ld  [SKF_AD_OFF + SKF_AD_PKTTYPE]
            (0x15, 10, 0, 4), // 1: jeq #PACKET_OUTGOING -> 12 drop
            (0x28, 0, 0, 12), // 2: ldh [12] ethertype
            (0x15, 0, 2, 0x0806), // 3: jeq #ARP ? 4 : 6
            (0x28, 0, 0, 20), // 4: ldh [20] ARP opcode
            (0x15, 5, 6, 2), // 5: jeq #reply ? 11 accept : 12 drop
            (0x15, 0, 5, 0x86dd), // 6: jeq #IPv6 ? 7 : 12 drop
            (0x30, 0, 0, 20), // 7: ldb [20] next header
            (0x15, 0, 3, 58), // 8: jeq #ICMPv6 ? 9 : 12 drop
            (0x30, 0, 0, 54), // 9: ldb [54] ICMPv6 type
            (0x15, 0, 1, 136), // 10: jeq #NA ? 11 accept : 12 drop
            (0x06, 0, 0, 0x40000), // 11: ret #262144
            (0x06, 0, 0, 0), // 12: ret #0
        ];
        SocketOptions.AttachFilter(socket, program);
    }

    /// <inheritdoc/>
    public void Send(int interfaceIndex, ReadOnlySpan<byte> frame)
    {
        // SOCK_RAW: the frame carries its own Ethernet header; the address only names the interface
        lock (_sendGate)
            _socket.SendTo(frame, SocketFlags.None, new LinkLayerEndPoint(interfaceIndex, EthPAll, frame[..6]));
    }

    /// <inheritdoc/>
    public void StartReceiving(ProbeFrameHandler onFrame)
    {
        _socket.ReceiveTimeout = 250;
        var ct = _cts.Token;
        _loop = new Thread(() => ReceiveLoop(onFrame, ct)) { IsBackground = true, Name = "lb-vrrp-probe" };
        _loop.Start();
    }

    private void ReceiveLoop(ProbeFrameHandler onFrame, CancellationToken ct)
    {
        var buffer = new byte[2048];
        var fromSize = Math.Max(20, SocketAddress.GetMaximumAddressSize(AddressFamily.Packet));
        var from = new SocketAddress(AddressFamily.Packet, fromSize);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                from.Size = fromSize;
                var n = _socket.ReceiveFrom(buffer, SocketFlags.None, from);
                // struct sockaddr_ll: u16 family, be16 protocol, s32 ifindex (host order), …
                var ifindex = BitConverter.ToInt32(from.Buffer.Span[4..8]);
                onFrame(ifindex, buffer.AsSpan(0, n));
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
                Thread.Sleep(100);
            }
            catch (Exception ex) when (ex is not ObjectDisposedException)
            {
                // a failing handler must not end the receive thread
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _cts.Cancel();
        _socket.Dispose();
        if (_loop is not null && Thread.CurrentThread != _loop)
            _loop.Join(TimeSpan.FromSeconds(2));
        _cts.Dispose();
    }
}

/// <summary>A probe transport that sends nothing and receives nothing (the subsystem under test with fake GARP senders).</summary>
internal sealed class NullProbeTransport : IProbeTransport
{
    /// <inheritdoc/>
    public void Send(int interfaceIndex, ReadOnlySpan<byte> frame)
    {
    }

    /// <inheritdoc/>
    public void StartReceiving(ProbeFrameHandler onFrame)
    {
    }

    /// <inheritdoc/>
    public void Dispose()
    {
    }
}
