using System.Net.Sockets;
using Lb.Netlink.Interop;
using Lb.Netlink.Protocol;
using static Lb.Netlink.Protocol.NetlinkConstants;

namespace Lb.Netlink;

/// <summary>Options for <see cref="NetlinkSocket.Open"/>.</summary>
public sealed record NetlinkSocketOptions
{
    /// <summary>Requested SO_RCVBUF (SO_RCVBUFFORCE is tried first). Large, so batched ACKs are never dropped.</summary>
    public int ReceiveBufferSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>Size of the user-space receive buffer; at least 32 KiB (a dump datagram can be that large).</summary>
    public int ReadBufferSize { get; init; } = 64 * 1024;

    /// <summary>How long one request waits for its replies before giving up.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Most requests sent in one datagram by <see cref="NetlinkSocket.SendBatchAsync"/>.</summary>
    public int MaxBatchRequests { get; init; } = 128;

    /// <summary>Most bytes of requests in one datagram by <see cref="NetlinkSocket.SendBatchAsync"/>.</summary>
    public int MaxBatchBytes { get; init; } = 32 * 1024;

    /// <summary>Multicast groups (numbers, not bit masks) to join after binding.</summary>
    public IReadOnlyList<uint> Groups { get; init; } = [];
}

/// <summary>The outcome of one request of a batch: null <see cref="Error"/> when the kernel acknowledged it.</summary>
public readonly record struct NetlinkBatchItemResult(NetlinkRequest Request, NetlinkException? Error)
{
    public bool Succeeded => Error is null;
}

/// <summary>
/// A netlink socket: created, configured and bound through libc (src/Netlink/Interop), then driven
/// asynchronously through <see cref="System.Net.Sockets.Socket"/> over the same descriptor. Requests are
/// serialized; each reply is matched to its request by sequence number; every wait is bounded by
/// <see cref="NetlinkSocketOptions.Timeout"/> and the caller's cancellation token.
/// </summary>
public sealed class NetlinkSocket : IDisposable
{
    private readonly Socket _socket;
    private readonly NetlinkSocketOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly byte[] _readBuffer;
    private int _sequence;

    private NetlinkSocket(Socket socket, int protocol, uint portId, NetlinkSocketOptions options)
    {
        _socket = socket;
        Protocol = protocol;
        PortId = portId;
        _options = options;
        _readBuffer = new byte[Math.Max(32 * 1024, options.ReadBufferSize)];
        _sequence = Environment.TickCount & 0x3fffffff;
    }

    /// <summary>NETLINK_ROUTE, NETLINK_GENERIC, …</summary>
    public int Protocol { get; }

    /// <summary>The port id the kernel assigned at bind time.</summary>
    public uint PortId { get; }

    public NetlinkSocketOptions Options => _options;

    private string Name => Protocol switch
    {
        NETLINK_ROUTE => "rtnetlink",
        NETLINK_GENERIC => "generic netlink",
        Nftables.NftablesConstants.NETLINK_NETFILTER => "nfnetlink",
        _ => $"netlink protocol {Protocol}",
    };

    /// <summary>Opens, configures and binds a netlink socket of <paramref name="protocol"/>.</summary>
    public static unsafe NetlinkSocket Open(int protocol, NetlinkSocketOptions? options = null)
    {
        options ??= new NetlinkSocketOptions();
        var what = protocol == NETLINK_ROUTE ? "rtnetlink" : protocol == NETLINK_GENERIC ? "generic netlink" : protocol == Nftables.NftablesConstants.NETLINK_NETFILTER ? "nfnetlink" : $"netlink protocol {protocol}";
        var handle = Libc.Socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, protocol);
        if (handle.IsInvalid)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw new ErrnoException($"open {what} socket", errno);
        }
        try
        {
            // Large receive buffer so ACKs of a batch and dump bursts are never dropped; FORCE needs CAP_NET_ADMIN.
            var size = options.ReceiveBufferSize;
            if (Libc.SetSockOpt(handle, Libc.SOL_SOCKET, Libc.SO_RCVBUFFORCE, &size, sizeof(int)) != 0
                && Libc.SetSockOpt(handle, Libc.SOL_SOCKET, Libc.SO_RCVBUF, &size, sizeof(int)) != 0)
                throw ErrnoException.FromLastError($"set SO_RCVBUF={size} on {what} socket");
            var one = 1;
            // Extended ACKs carry the kernel's reason text; capped ACKs do not echo our request back.
            // Both are optional (older kernels): failures are ignored on purpose.
            _ = Libc.SetSockOpt(handle, Libc.SOL_NETLINK, Libc.NETLINK_EXT_ACK, &one, sizeof(int));
            _ = Libc.SetSockOpt(handle, Libc.SOL_NETLINK, Libc.NETLINK_CAP_ACK, &one, sizeof(int));

            byte* address = stackalloc byte[Libc.SizeOfSockaddrNl];
            new Span<byte>(address, Libc.SizeOfSockaddrNl).Clear();
            *(ushort*)address = Libc.AF_NETLINK;
            if (Libc.Bind(handle, address, Libc.SizeOfSockaddrNl) != 0)
                throw ErrnoException.FromLastError($"bind {what} socket");
            var length = Libc.SizeOfSockaddrNl;
            if (Libc.GetSockName(handle, address, &length) != 0)
                throw ErrnoException.FromLastError($"getsockname of {what} socket");
            var portId = *(uint*)(address + 4);

            foreach (var group in options.Groups)
            {
                var g = (int)group;
                if (Libc.SetSockOpt(handle, Libc.SOL_NETLINK, Libc.NETLINK_ADD_MEMBERSHIP, &g, sizeof(int)) != 0)
                    throw ErrnoException.FromLastError($"join multicast group {group} on {what} socket");
            }

            var socket = new Socket(handle);
            return new NetlinkSocket(socket, protocol, portId, options);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The effective SO_RCVBUF, as the kernel reports it (twice the requested value, capped).</summary>
    public unsafe int GetReceiveBufferSize()
    {
        int value = 0, length = sizeof(int);
        if (Libc.GetSockOpt(_socket.SafeHandle, Libc.SOL_SOCKET, Libc.SO_RCVBUF, &value, &length) != 0)
            throw ErrnoException.FromLastError($"get SO_RCVBUF of {Name} socket");
        return value;
    }

    private uint NextSequence()
    {
        var seq = (uint)Interlocked.Increment(ref _sequence);
        return seq == 0 ? (uint)Interlocked.Increment(ref _sequence) : seq;
    }

    /// <summary>
    /// Sends one request and collects the parsed replies until the kernel ends the exchange: NLMSG_DONE
    /// for a dump, the ACK for a request with NLM_F_ACK. An error reply throws <see cref="NetlinkException"/>
    /// naming the request.
    /// </summary>
    public async Task<List<T>> RequestAsync<T>(NetlinkRequest request, NetlinkMessageParser<T> parser, CancellationToken cancellationToken = default)
    {
        var isDump = (request.Flags & NLM_F_DUMP) == NLM_F_DUMP;
        if (!isDump && (request.Flags & NLM_F_ACK) == 0)
            throw new ArgumentException($"request '{request.Description}' is neither a dump nor asks for an ACK: nothing would end the exchange", nameof(request));

        // A dump the kernel marks NLM_F_DUMP_INTR changed while it was read: it is read again (bounded).
        for (var attempt = 1; ; attempt++)
        {
            var (results, interrupted) = await ExchangeAsync(request, parser, cancellationToken).ConfigureAwait(false);
            if (!interrupted || !isDump)
                return results;
            if (attempt == MaxDumpAttempts)
                throw new NetlinkException(request.Description, Errno.EAGAIN, hint: $"the dump was interrupted by concurrent changes {MaxDumpAttempts} times");
        }
    }

    private const int MaxDumpAttempts = 5;

    /// <summary>MAX_ERRNO of include/linux/err.h: the largest errno the kernel puts in an error reply.</summary>
    private const int MaxErrno = 4095;

    private async Task<(List<T> Results, bool Interrupted)> ExchangeAsync<T>(NetlinkRequest request, NetlinkMessageParser<T> parser, CancellationToken cancellationToken)
    {
        var results = new List<T>();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var seq = NextSequence();
            var message = (byte[])request.Message.Clone();
            NetlinkWriter.WriteHost32(message.AsSpan(8), seq);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.Timeout);
            await SendAsync(message, request.Description, timeout.Token, cancellationToken).ConfigureAwait(false);
            var state = new ExchangeState<T>(seq, request, parser, results);
            while (!state.Done)
            {
                var received = await ReceiveAsync(request.Description, timeout.Token, cancellationToken).ConfigureAwait(false);
                ProcessReply(_readBuffer.AsSpan(0, received), state);
            }
            return (results, state.Interrupted);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Sends a request that asks for an ACK and waits for it.</summary>
    public Task AcknowledgedAsync(NetlinkRequest request, CancellationToken cancellationToken = default) =>
        RequestAsync<int>(request, static (NetlinkMessage _, out int v) => { v = 0; return false; }, cancellationToken);

    /// <summary>
    /// Sends many requests (each with NLM_F_ACK) packed into as few datagrams as the limits allow
    /// (<see cref="NetlinkSocketOptions.MaxBatchRequests"/>, <see cref="NetlinkSocketOptions.MaxBatchBytes"/>),
    /// waits for every ACK of a datagram before sending the next, and reports each request's outcome.
    /// The kernel processes the messages of a datagram in order and goes on after a failed one.
    /// </summary>
    public async Task<IReadOnlyList<NetlinkBatchItemResult>> SendBatchAsync(IReadOnlyList<NetlinkRequest> requests, CancellationToken cancellationToken = default)
    {
        var results = new NetlinkBatchItemResult[requests.Count];
        foreach (var r in requests)
        {
            if ((r.Flags & NLM_F_ACK) == 0 || (r.Flags & NLM_F_DUMP) == NLM_F_DUMP)
                throw new ArgumentException($"batched request '{r.Description}' must ask for an ACK and must not be a dump", nameof(requests));
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var index = 0;
            var datagram = new byte[Math.Max(_options.MaxBatchBytes, requests.Count == 0 ? 0 : requests.Max(r => r.Message.Length))];
            while (index < requests.Count)
            {
                // Pack one datagram.
                var pending = new Dictionary<uint, int>();
                var used = 0;
                var first = index;
                while (index < requests.Count && pending.Count < _options.MaxBatchRequests)
                {
                    var msg = requests[index].Message;
                    var aligned = Align(msg.Length);
                    if (used + aligned > datagram.Length && pending.Count > 0)
                        break;
                    msg.CopyTo(datagram, used);
                    Array.Clear(datagram, used + msg.Length, aligned - msg.Length);
                    var seq = NextSequence();
                    NetlinkWriter.WriteHost32(datagram.AsSpan(used + 8), seq);
                    pending[seq] = index;
                    used += aligned;
                    index++;
                }

                var description = index - first == 1 ? requests[first].Description : $"batch of {index - first} requests starting with '{requests[first].Description}'";
                await SendAndCollectAsync(datagram.AsMemory(0, used), description, requests, pending, results, cancellationToken).ConfigureAwait(false);
            }
            return results;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Sends one datagram of requests and reads replies until every pending request has its ACK or error (bounded by the timeout).</summary>
    private async Task SendAndCollectAsync(ReadOnlyMemory<byte> datagram, string description, IReadOnlyList<NetlinkRequest> requests, Dictionary<uint, int> pending, NetlinkBatchItemResult[] results, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        await SendAsync(datagram, description, timeout.Token, cancellationToken).ConfigureAwait(false);
        while (pending.Count > 0)
        {
            var received = await ReceiveAsync(description, timeout.Token, cancellationToken).ConfigureAwait(false);
            ProcessBatchReply(_readBuffer.AsSpan(0, received), requests, pending, results);
        }
    }

    /// <summary>
    /// Sends <paramref name="begin"/>, <paramref name="requests"/> and <paramref name="end"/> in ONE datagram (an
    /// nfnetlink transaction: the kernel applies all of the requests or none) and reports each request's outcome.
    /// The markers ask for no ACK; every request must (its ACK or error arrives after the kernel has processed the
    /// whole batch).
    /// </summary>
    public async Task<IReadOnlyList<NetlinkBatchItemResult>> SendTransactionAsync(NetlinkRequest begin, IReadOnlyList<NetlinkRequest> requests, NetlinkRequest end, CancellationToken cancellationToken = default)
    {
        foreach (var r in requests)
        {
            if ((r.Flags & NLM_F_ACK) == 0 || (r.Flags & NLM_F_DUMP) == NLM_F_DUMP)
                throw new ArgumentException($"transaction request '{r.Description}' must ask for an ACK and must not be a dump", nameof(requests));
        }
        var results = new NetlinkBatchItemResult[requests.Count];
        if (requests.Count == 0)
            return results;
        var datagram = new byte[Align(begin.Message.Length) + requests.Sum(r => Align(r.Message.Length)) + Align(end.Message.Length)];
        var pending = new Dictionary<uint, int>();
        var used = 0;
        void Put(NetlinkRequest r, int index)
        {
            r.Message.CopyTo(datagram, used);
            var seq = NextSequence();
            NetlinkWriter.WriteHost32(datagram.AsSpan(used + 8), seq);
            if (index >= 0)
                pending[seq] = index;
            used += Align(r.Message.Length);
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Put(begin, -1);
            for (var i = 0; i < requests.Count; i++)
                Put(requests[i], i);
            Put(end, -1);
            var description = requests.Count == 1 ? requests[0].Description : $"transaction of {requests.Count} requests starting with '{requests[0].Description}'";
            await SendAndCollectAsync(datagram.AsMemory(0, used), description, requests, pending, results, cancellationToken).ConfigureAwait(false);
            return results;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Receives one datagram of multicast notifications (for event sockets) into <paramref name="buffer"/>
    /// (at least 32 KiB) and returns its length. Throws <see cref="NetlinkException"/> with ENOBUFS when the
    /// kernel dropped notifications because the socket's buffer was full.
    /// </summary>
    public async ValueTask<int> ReceiveNotificationAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new NetlinkException($"receive {Name} notifications", ErrnoOf(e));
        }
    }

    private async Task SendAsync(ReadOnlyMemory<byte> datagram, string description, CancellationToken timeoutToken, CancellationToken callerToken)
    {
        try
        {
            var sent = await _socket.SendAsync(datagram, SocketFlags.None, timeoutToken).ConfigureAwait(false);
            if (sent != datagram.Length)
                throw new NetlinkException($"send {description}", Errno.EMSGSIZE, hint: $"only {sent} of {datagram.Length} bytes were sent");
        }
        catch (SocketException e)
        {
            throw new NetlinkException($"send {description}", ErrnoOf(e));
        }
        catch (OperationCanceledException) when (!callerToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{description}: the {Name} socket did not accept the request within {_options.Timeout.TotalSeconds:0.#} s");
        }
    }

    private async Task<int> ReceiveAsync(string description, CancellationToken timeoutToken, CancellationToken callerToken)
    {
        try
        {
            return await _socket.ReceiveAsync(_readBuffer.AsMemory(), SocketFlags.None, timeoutToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            var errno = ErrnoOf(e);
            throw new NetlinkException($"receive reply to {description}", errno,
                hint: errno == Errno.ENOBUFS ? "the socket's receive buffer overflowed and replies were lost" : null);
        }
        catch (OperationCanceledException) when (!callerToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{description}: no reply from the kernel over {Name} within {_options.Timeout.TotalSeconds:0.#} s");
        }
    }

    internal static int ErrnoOf(SocketException e) => e.SocketErrorCode switch
    {
        SocketError.NoBufferSpaceAvailable => Errno.ENOBUFS,
        SocketError.AccessDenied => Errno.EACCES,
        SocketError.MessageSize => Errno.EMSGSIZE,
        SocketError.ConnectionRefused => 111,
        _ when e.NativeErrorCode > 0 && e.NativeErrorCode < 4096 => e.NativeErrorCode,
        _ => Errno.EIO,
    };

    private sealed class ExchangeState<T>(uint sequence, NetlinkRequest request, NetlinkMessageParser<T> parser, List<T> results)
    {
        public uint Sequence { get; } = sequence;
        public NetlinkRequest Request { get; } = request;
        public NetlinkMessageParser<T> Parser { get; } = parser;
        public List<T> Results { get; } = results;
        public bool Done { get; set; }
        public bool Interrupted { get; set; }
    }

    private void ProcessReply<T>(ReadOnlySpan<byte> datagram, ExchangeState<T> state)
    {
        var reader = new NetlinkMessageReader(datagram);
        while (reader.TryRead(out var message))
        {
            if (message.Sequence != state.Sequence)
                continue; // a late reply to an earlier, abandoned request, or a notification
            if ((message.Flags & NLM_F_DUMP_INTR) != 0)
                state.Interrupted = true;
            switch (message.Type)
            {
                case NLMSG_NOOP:
                    continue;
                case NLMSG_DONE:
                    // A dump may end with an error code in the DONE payload.
                    if (message.Payload.Length >= 4)
                    {
                        var error = (int)NetlinkMessageReader.ReadHost32(message.Payload);
                        if (error < 0)
                            throw ParseError(message, state.Request.Description, error, 4);
                    }
                    state.Done = true;
                    return;
                case NLMSG_ERROR:
                {
                    var error = ReadErrorCode(message, state.Request.Description);
                    if (error != 0)
                        throw ParseError(message, state.Request.Description, error, NetlinkMessageReader.ReadHost32(message.Payload[4..]));
                    state.Done = true;
                    return;
                }
                case NLMSG_OVERRUN:
                    throw new NetlinkException(state.Request.Description, Errno.ENOBUFS, hint: "the kernel reported NLMSG_OVERRUN");
                default:
                    if (state.Parser(message, out var value))
                        state.Results.Add(value);
                    break;
            }
        }
    }

    private static void ProcessBatchReply(ReadOnlySpan<byte> datagram, IReadOnlyList<NetlinkRequest> requests, Dictionary<uint, int> pending, NetlinkBatchItemResult[] results)
    {
        var reader = new NetlinkMessageReader(datagram);
        while (reader.TryRead(out var message))
        {
            if (message.Type != NLMSG_ERROR || !pending.Remove(message.Sequence, out var index))
                continue;
            var request = requests[index];
            var error = ReadErrorCode(message, request.Description);
            results[index] = new NetlinkBatchItemResult(request,
                error == 0 ? null : ParseError(message, request.Description, error, NetlinkMessageReader.ReadHost32(message.Payload[4..])));
        }
    }

    private static int ReadErrorCode(NetlinkMessage message, string description)
    {
        if (message.Payload.Length < SizeOfNlmsgerr)
            throw new NetlinkFormatException($"NLMSG_ERROR reply to {description} has {message.Payload.Length} bytes, struct nlmsgerr needs {SizeOfNlmsgerr}");
        return (int)NetlinkMessageReader.ReadHost32(message.Payload);
    }

    /// <summary>
    /// Builds the exception for an error reply, reading the extended-ACK TLVs (NLMSGERR_ATTR_MSG/OFFS)
    /// that follow the echoed header (and the echoed payload unless NLM_F_CAPPED). An error field that is not an errno
    /// (the kernel's lie in -1 … -MAX_ERRNO) throws <see cref="NetlinkFormatException"/>, like any other malformed reply.
    /// </summary>
    internal static NetlinkException ParseError(NetlinkMessage message, string description, int error, uint echoedLength)
    {
        if (error is < -MaxErrno or > MaxErrno)
            throw new NetlinkFormatException($"netlink error reply to {description} carries error code {error}, not an errno");
        string? text = null;
        int? offset = null;
        if ((message.Flags & NLM_F_ACK_TLVS) != 0)
        {
            int tlvStart;
            if (message.Type == NLMSG_DONE)
                tlvStart = 4;
            else if ((message.Flags & NLM_F_CAPPED) != 0)
                tlvStart = SizeOfNlmsgerr;
            else
                tlvStart = echoedLength > (uint)message.Payload.Length ? -1 : 4 + Align((int)Math.Max(echoedLength, NLMSG_HDRLEN));
            if (tlvStart >= 0 && tlvStart <= message.Payload.Length)
            {
                try
                {
                    var attrs = new NetlinkAttributeReader(message.Payload[tlvStart..]);
                    while (attrs.TryRead(out var a))
                    {
                        if (a.Type == NLMSGERR_ATTR_MSG)
                            text = a.GetString();
                        else if (a.Type == NLMSGERR_ATTR_OFFS && a.Payload.Length >= 4)
                            offset = (int)a.GetUInt32();
                    }
                }
                catch (NetlinkFormatException)
                {
                    // A malformed extended ACK must not hide the error itself.
                }
            }
        }
        return new NetlinkException(description, -error, text, offset);
    }

    public void Dispose()
    {
        _socket.Dispose();
        _gate.Dispose();
    }
}
