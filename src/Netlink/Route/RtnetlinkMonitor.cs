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

    /// <summary>IPv4 and IPv6 routes (RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE): <see cref="RouteEvent"/>.</summary>
    Routes = 8,

    /// <summary>IPv4 and IPv6 policy rules (RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE): <see cref="RuleEvent"/>.</summary>
    Rules = 16,
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

    /// <param name="subscriptions">The groups joined.</param>
    /// <param name="options">Socket options (the receive buffer size, e.g.); <see cref="NetlinkSocketOptions.Groups"/> is
    /// replaced by <paramref name="subscriptions"/>.</param>
    public static RtnetlinkMonitor Open(RtnetlinkSubscriptions subscriptions = RtnetlinkSubscriptions.All, NetlinkSocketOptions? options = null)
    {
        var groups = new List<uint>();
        if ((subscriptions & RtnetlinkSubscriptions.Links) != 0) groups.Add(RTNLGRP_LINK);
        if ((subscriptions & RtnetlinkSubscriptions.Ipv4Addresses) != 0) groups.Add(RTNLGRP_IPV4_IFADDR);
        if ((subscriptions & RtnetlinkSubscriptions.Ipv6Addresses) != 0) groups.Add(RTNLGRP_IPV6_IFADDR);
        if ((subscriptions & RtnetlinkSubscriptions.Routes) != 0) groups.AddRange([RtnetlinkRouteConstants.RTNLGRP_IPV4_ROUTE, RtnetlinkRouteConstants.RTNLGRP_IPV6_ROUTE]);
        if ((subscriptions & RtnetlinkSubscriptions.Rules) != 0) groups.AddRange([RtnetlinkRouteConstants.RTNLGRP_IPV4_RULE, RtnetlinkRouteConstants.RTNLGRP_IPV6_RULE]);
        return new RtnetlinkMonitor(NetlinkSocket.Open(NetlinkConstants.NETLINK_ROUTE, (options ?? new NetlinkSocketOptions()) with { Groups = groups }));
    }

    /// <summary>The port id of the monitor's socket (the <c>Pid</c> column of <c>/proc/net/netlink</c>).</summary>
    public uint PortId => _socket.PortId;

    /// <summary>
    /// The events of the next datagram, or one <see cref="EventsLostEvent"/> when the kernel dropped notifications (ENOBUFS).
    /// Throws <see cref="NetlinkFormatException"/> for a datagram that does not decode (its events are lost too).
    /// </summary>
    public async ValueTask<IReadOnlyList<RtnetlinkEvent>> ReceiveAsync(CancellationToken cancellationToken)
    {
        int length;
        try
        {
            length = await _socket.ReceiveNotificationAsync(_buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (NetlinkException e) when (e.Errno == Errno.ENOBUFS)
        {
            return [new EventsLostEvent()];
        }
        return Parse(_buffer.AsSpan(0, length));
    }

    /// <summary>Events until <paramref name="cancellationToken"/> is cancelled (then the enumeration ends quietly).</summary>
    public async IAsyncEnumerable<RtnetlinkEvent> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            IReadOnlyList<RtnetlinkEvent> events;
            try
            {
                events = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                yield break;
            }
            foreach (var e in events)
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
            else if (RtnetlinkRouteMessages.TryParseRoute(m, out var route))
                events.Add(new RouteEvent(route, m.Type == RtnetlinkRouteConstants.RTM_DELROUTE));
            else if (RtnetlinkRouteMessages.TryParseRule(m, out var rule))
                events.Add(new RuleEvent(rule, m.Type == RtnetlinkRouteConstants.RTM_DELRULE));
        }
        return events;
    }

    public void Dispose() => _socket.Dispose();
}
