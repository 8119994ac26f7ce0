using System.Net;
using System.Net.Sockets;
using Lb.Netlink;
using Lb.Netlink.Collections;
using Lb.Netlink.Route;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using static Lb.Netlink.Route.RtnetlinkRouteConstants;

namespace Lb.Hosting;

/// <summary>
/// The VRRP subsystem's routes and rules (<see cref="IRouteTable"/>): keepalived's records turned into rtnetlink requests as
/// keepalived 2.2.7's netlink_route / netlink_rule write them, through the cache's command socket; route and rule
/// notifications of the cache's one monitor socket passed on as <see cref="RoutingChangedEventArgs"/>.
/// </summary>
public sealed partial class RtnetlinkHost : IRouteTable
{
    public event EventHandler<RoutingChangedEventArgs>? RoutingChanged;

    public async Task AddRouteAsync(VirtualRoute route, CancellationToken cancellationToken)
    {
        var entry = await ToNetlinkAsync(route, delete: false, cancellationToken).ConfigureAwait(false);
        var mode = route.InsertMode switch
        {
            RouteInsertMode.Add => RouteAddMode.Exclusive,
            RouteInsertMode.Append => RouteAddMode.Append,
            _ => RouteAddMode.Create,
        };
        await _cache.Client.AddRouteAsync(entry, mode, route.Text, cancellationToken).ConfigureAwait(false);
    }

    public async Task RemoveRouteAsync(VirtualRoute route, CancellationToken cancellationToken)
    {
        RouteEntry entry;
        try
        {
            entry = await ToNetlinkAsync(route, delete: true, cancellationToken).ConfigureAwait(false);
        }
        catch (NetlinkException e) when (e.Errno == Errno.ENODEV)
        {
            return; // its interface is gone, and the kernel removed the route with it
        }
        await _cache.Client.DeleteRouteAsync(entry, route.Text, cancellationToken).ConfigureAwait(false);
    }

    public Task AddRuleAsync(VirtualRule rule, CancellationToken cancellationToken) =>
        _cache.Client.AddRuleAsync(ToNetlink(rule), rule.Text, cancellationToken);

    public Task RemoveRuleAsync(VirtualRule rule, CancellationToken cancellationToken) =>
        _cache.Client.DeleteRuleAsync(ToNetlink(rule), rule.Text, cancellationToken);

    private void OnRoutingEvent(RtnetlinkEvent e)
    {
        switch (e)
        {
            case RouteEvent re:
                RoutingChanged?.Invoke(this, new RoutingChangedEventArgs(ToVrrp(re.Route), null, re.Removed));
                break;
            case RuleEvent ru:
                RoutingChanged?.Invoke(this, new RoutingChangedEventArgs(null, ToVrrp(ru.Rule), ru.Removed));
                break;
            case EventsLostEvent:
                RoutingChanged?.Invoke(this, new RoutingChangedEventArgs(null, null, false));
                break;
        }
    }

    private KernelRoute ToVrrp(RouteEntry r) => new(
        r.Family,
        new IpPrefix(r.Destination ?? (r.Family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any), r.DestinationLength),
        r.Table, r.Priority ?? 0, r.Tos,
        r.OutputInterface is { } oif ? _cache.GetLink(oif)?.Name : null,
        r.Protocol);

    private static KernelRule ToVrrp(RuleEntry r) => new(
        r.Family, r.Priority, r.Action, r.Table,
        r.Source is null ? null : new IpPrefix(r.Source, r.SourceLength),
        r.Destination is null ? null : new IpPrefix(r.Destination, r.DestinationLength),
        r.FwMark, r.InputInterface, r.OutputInterface, (r.Flags & FIB_RULE_INVERT) != 0, r.Protocol);

    /// <summary>keepalived's netlink_route: the record as an rtnetlink route, its interfaces resolved to indexes.</summary>
    internal async Task<RouteEntry> ToNetlinkAsync(VirtualRoute r, bool delete, CancellationToken cancellationToken)
    {
        if (r.Encap is not null)
            throw new NotSupportedException($"route {r.Text}: encap is not supported by Lb");
        if (r.Vrf is not null)
            throw new NotSupportedException($"route {r.Text}: vrf is not supported by Lb");
        if (r.Via is { } via && via.AddressFamily != r.Family)
            throw new NotSupportedException($"route {r.Text}: a gateway of another family (RTA_VIA) is not supported by Lb");
        var hops = new List<RouteNextHopEntry>(r.NextHops.Count);
        foreach (var nh in r.NextHops)
        {
            if (nh.Encap is not null)
                throw new NotSupportedException($"route {r.Text}: encap is not supported by Lb");
            hops.Add(new RouteNextHopEntry
            {
                Gateway = nh.Via,
                InterfaceIndex = nh.Device is { } dev ? await IndexAsync(dev, cancellationToken).ConfigureAwait(false) : 0,
                Hops = nh.Weight is { } w ? (byte)(w - 1) : (byte)0,
                Flags = nh.OnLink ? RTNH_F_ONLINK : (byte)0,
                Flow = nh.Realms,
            });
        }
        var m = r.Metrics;
        var metrics = new List<RouteMetric>();
        void Add(ushort type, uint? value)
        {
            if (value is { } v)
                metrics.Add(new RouteMetric(type, v));
        }
        // keepalived's order
        Add(RTAX_RTT, m.Rtt);
        Add(RTAX_RTTVAR, m.RttVar);
        Add(RTAX_RTO_MIN, m.RtoMin);
        Add(RTAX_FEATURES, m.Features == 0 ? null : m.Features);
        Add(RTAX_MTU, m.Mtu);
        Add(RTAX_WINDOW, m.Window);
        Add(RTAX_SSTHRESH, m.SsThresh);
        Add(RTAX_CWND, m.Cwnd);
        Add(RTAX_ADVMSS, m.AdvMss);
        Add(RTAX_REORDERING, m.Reordering);
        Add(RTAX_HOPLIMIT, m.HopLimit);
        Add(RTAX_INITCWND, m.InitCwnd);
        Add(RTAX_INITRWND, m.InitRwnd);
        Add(RTAX_QUICKACK, m.QuickAck is { } q ? (q ? 1u : 0u) : null);
        Add(RTAX_FASTOPEN_NO_COOKIE, m.FastOpenNoCookie is { } f ? (f ? 1u : 0u) : null);
        if ((metrics.Count > 0 || m.CongestionControl is not null) && m.Locked != 0)
            Add(RTAX_LOCK, m.Locked);
        return new RouteEntry
        {
            Family = r.Family,
            Destination = r.Destination.IsDefault ? null : r.Destination.Address,
            DestinationLength = r.Destination.PrefixLength,
            Source = r.From?.Address,
            SourceLength = r.From?.PrefixLength ?? 0,
            Tos = r.Tos ?? 0,
            Table = r.Table,
            Protocol = r.Protocol ?? RTPROT_KEEPALIVED,
            // keepalived: universe to add, nowhere (any) to delete, unless a scope is written; the type only when not unicast
            Scope = r.Scope ?? (delete ? RtnetlinkConstants.RT_SCOPE_NOWHERE : RtnetlinkConstants.RT_SCOPE_UNIVERSE),
            Type = delete && r.Type == RouteType.Unicast ? (byte)0 : (byte)r.Type,
            Flags = r.OnLink ? RTNH_F_ONLINK : 0u,
            Gateway = r.Via,
            OutputInterface = r.Device is { } d ? await IndexAsync(d, cancellationToken).ConfigureAwait(false) : null,
            PreferredSource = r.PreferredSource,
            Priority = r.Metric,
            Flow = r.Realms,
            Expires = r.Expires,
            Preference = r.Preference,
            TtlPropagate = r.TtlPropagate is { } t ? (t ? (byte)1 : (byte)0) : null,
            Metrics = metrics.ToValueList(),
            CongestionControl = m.CongestionControl,
            NextHops = hops.ToValueList(),
        };
    }

    /// <summary>keepalived's netlink_rule: the record as an rtnetlink rule.</summary>
    internal static RuleEntry ToNetlink(VirtualRule r) => new()
    {
        Family = r.Family,
        Source = r.From is { IsDefault: false } from ? from.Address : null,
        SourceLength = r.From?.PrefixLength ?? 0,
        Destination = r.To is { IsDefault: false } to ? to.Address : null,
        DestinationLength = r.To?.PrefixLength ?? 0,
        Tos = r.Tos ?? 0,
        Action = (byte)r.Action,
        Flags = r.Invert ? FIB_RULE_INVERT : 0,
        Table = r.Action == RuleAction.ToTable && !r.L3mdev ? (r.Table is null or 0 ? RT_TABLE_MAIN : r.Table.Value) : 0,
        Priority = r.Priority,
        FwMark = r.FwMark,
        FwMask = r.FwMask,
        InputInterface = r.InputInterface,
        OutputInterface = r.OutputInterface,
        GotoTarget = r.Action == RuleAction.Goto ? r.GotoTarget : null,
        Flow = r.Realms,
        TunnelId = r.TunnelId,
        SuppressIfGroup = r.SuppressGroup,
        SuppressPrefixLength = r.SuppressPrefixLength,
        UidRange = r.UidRange is { } u ? (u.Start, u.End) : null,
        L3mdev = r.L3mdev ? (byte)1 : null,
        Protocol = r.Protocol,
        IpProtocol = r.IpProtocol,
        SourcePorts = r.SourcePorts is { } sp ? ((ushort)sp.Start, (ushort)sp.End) : null,
        DestinationPorts = r.DestinationPorts is { } dp ? ((ushort)dp.Start, (ushort)dp.End) : null,
    };
}
