using System.Runtime.CompilerServices;
using Lb.Netlink.Protocol;
using static Lb.Netlink.Route.RtnetlinkConstants;

namespace Lb.Netlink.Route;

/// <summary>Which notifications a <see cref="RtnetlinkMonitor"/> subscribes to.</summary>
[Flags]
public enum RtnetlinkSubscriptions
{
    Links = 1,
    Ipv4Addresses = 2,
    Ipv6Addresses = 4,
    All = Links | Ipv4Addresses | Ipv6Addresses,
}

/// <summary>
/// Link and address change notifications (RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR) as an
/// async stream. When the kernel drops notifications (the socket overflowed) the stream yields an
/// <see cref="EventsLostEvent"/>: the consumer should re-read the state.
/// </summary>
public sealed class RtnetlinkMonitor : IDisposable
{
    private readonly NetlinkSocket _socket;
    private readonly byte[] _buffer = new byte[64 * 1024];

    private RtnetlinkMonitor(NetlinkSocket socket)
    {
        _socket = socket;
    }

    public static RtnetlinkMonitor Open(RtnetlinkSubscriptions subscriptions = RtnetlinkSubscriptions.All)
    {
        var groups = new List<uint>();
        if ((subscriptions & RtnetlinkSubscriptions.Links) != 0) groups.Add(RTNLGRP_LINK);
        if ((subscriptions & RtnetlinkSubscriptions.Ipv4Addresses) != 0) groups.Add(RTNLGRP_IPV4_IFADDR);
        if ((subscriptions & RtnetlinkSubscriptions.Ipv6Addresses) != 0) groups.Add(RTNLGRP_IPV6_IFADDR);
        return new RtnetlinkMonitor(NetlinkSocket.Open(NetlinkConstants.NETLINK_ROUTE, new NetlinkSocketOptions { Groups = groups }));
    }

    /// <summary>Events until <paramref name="cancellationToken"/> is cancelled (then the enumeration ends quietly).</summary>
    public async IAsyncEnumerable<RtnetlinkEvent> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            int length;
            try
            {
                length = await _socket.ReceiveNotificationAsync(_buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                yield break;
            }
            catch (NetlinkException e) when (e.Errno == Errno.ENOBUFS)
            {
                length = -1;
            }
            if (length < 0)
            {
                yield return new EventsLostEvent();
                continue;
            }
            foreach (var e in Parse(_buffer.AsSpan(0, length)))
                yield return e;
        }
    }

    /// <summary>Decodes the notifications of one datagram.</summary>
    public static List<RtnetlinkEvent> Parse(ReadOnlySpan<byte> datagram)
    {
        var events = new List<RtnetlinkEvent>();
        var reader = new NetlinkMessageReader(datagram);
        while (reader.TryRead(out var m))
        {
            if (RtnetlinkMessages.TryParseLink(m, out var link))
                events.Add(new LinkEvent(link, m.Type == RTM_DELLINK));
            else if (RtnetlinkMessages.TryParseAddress(m, out var address))
                events.Add(new AddressEvent(address, m.Type == RTM_DELADDR));
        }
        return events;
    }

    public void Dispose() => _socket.Dispose();
}
