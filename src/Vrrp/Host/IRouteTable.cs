using System.Net.Sockets;
using Lb.Vrrp.Options;

namespace Lb.Vrrp.Host;

/// <summary>A route as the kernel reported it, reduced to what tells one route from another (keepalived's <c>route_is_ours</c>).</summary>
/// <param name="Family">IPv4 or IPv6.</param>
/// <param name="Destination">The destination prefix.</param>
/// <param name="Table">The routing table.</param>
/// <param name="Metric">RTA_PRIORITY (0 when absent).</param>
/// <param name="Tos">The TOS.</param>
/// <param name="Device">The output interface (RTA_OIF), by name; null when absent or unknown.</param>
/// <param name="Protocol">The route's protocol (18: keepalived's, as Lb installs tracked routes).</param>
public sealed record KernelRoute(AddressFamily Family, IpPrefix Destination, uint Table, uint Metric, byte Tos, string? Device, byte Protocol);

/// <summary>A policy rule as the kernel reported it, reduced to its selectors and action (keepalived's <c>compare_rule</c>, in part).</summary>
/// <param name="Family">IPv4 or IPv6.</param>
/// <param name="Priority">FRA_PRIORITY (null: none).</param>
/// <param name="Action">The action (<c>FR_ACT_*</c>).</param>
/// <param name="Table">The table (0 when none).</param>
/// <param name="From">FRA_SRC.</param>
/// <param name="To">FRA_DST.</param>
/// <param name="FwMark">FRA_FWMARK.</param>
/// <param name="InputInterface">FRA_IIFNAME.</param>
/// <param name="OutputInterface">FRA_OIFNAME.</param>
/// <param name="Invert">FIB_RULE_INVERT.</param>
/// <param name="Protocol">FRA_PROTOCOL (null: the kernel sent none).</param>
public sealed record KernelRule(AddressFamily Family, uint? Priority, byte Action, uint Table, IpPrefix? From, IpPrefix? To, uint? FwMark,
    string? InputInterface, string? OutputInterface, bool Invert, byte? Protocol);

/// <summary>
/// A route or rule appeared or vanished (<see cref="Route"/> or <see cref="Rule"/> set), or — neither set — notifications were lost and
/// whoever owns routes or rules should check them again.
/// </summary>
/// <param name="Route">The route, for a route change.</param>
/// <param name="Rule">The rule, for a rule change.</param>
/// <param name="Removed">True for RTM_DELROUTE / RTM_DELRULE.</param>
public sealed record RoutingChangedEventArgs(KernelRoute? Route, KernelRule? Rule, bool Removed)
{
    /// <summary>True when notifications were lost (neither a route nor a rule).</summary>
    public bool EventsLost => Route is null && Rule is null;
}

/// <summary>
/// Routes and policy rules the host installs for the subsystem (src/Lb adapts it to rtnetlink): keepalived's <c>virtual_routes</c>,
/// <c>virtual_rules</c>, <c>static_routes</c>, <c>static_rules</c>. Adding what is there and removing what is gone return normally;
/// anything else the kernel refuses throws, with the kernel's reason.
/// </summary>
public interface IRouteTable
{
    /// <summary>Installs <paramref name="route"/> (its interfaces resolved now).</summary>
    Task AddRouteAsync(VirtualRoute route, CancellationToken cancellationToken);

    /// <summary>Removes <paramref name="route"/>.</summary>
    Task RemoveRouteAsync(VirtualRoute route, CancellationToken cancellationToken);

    /// <summary>Installs <paramref name="rule"/>.</summary>
    Task AddRuleAsync(VirtualRule rule, CancellationToken cancellationToken);

    /// <summary>Removes <paramref name="rule"/>.</summary>
    Task RemoveRuleAsync(VirtualRule rule, CancellationToken cancellationToken);

    /// <summary>Raised (on any thread) for each route or rule added or removed, and after lost notifications.</summary>
    event EventHandler<RoutingChangedEventArgs>? RoutingChanged;
}
