using System.Net.Sockets;

namespace Lb.Netlink.Route;

/// <summary>Routes and policy rules (what <c>ip route</c> / <c>ip rule</c> do).</summary>
public sealed partial class RtnetlinkClient
{
    /// <summary>Every route of every table (of one family when given).</summary>
    public async Task<IReadOnlyList<RouteEntry>> GetRoutesAsync(AddressFamily? family = null, CancellationToken cancellationToken = default) =>
        await _socket.RequestAsync<RouteEntry>(RtnetlinkRouteMessages.GetRoutes(family), RtnetlinkRouteMessages.TryParseRoute, cancellationToken).ConfigureAwait(false);

    /// <summary>Every rule (of one family when given).</summary>
    public async Task<IReadOnlyList<RuleEntry>> GetRulesAsync(AddressFamily? family = null, CancellationToken cancellationToken = default) =>
        await _socket.RequestAsync<RuleEntry>(RtnetlinkRouteMessages.GetRules(family), RtnetlinkRouteMessages.TryParseRule, cancellationToken).ConfigureAwait(false);

    /// <summary>Adds a route; returns false when the kernel says it exists (EEXIST), throws <see cref="NetlinkException"/> otherwise.</summary>
    public async Task<bool> AddRouteAsync(RouteEntry route, RouteAddMode mode = RouteAddMode.Create, string? description = null, CancellationToken cancellationToken = default)
    {
        try
        {
            await _socket.AcknowledgedAsync(RtnetlinkRouteMessages.NewRoute(route, mode, description), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (NetlinkException e) when (e.Errno == Errno.EEXIST)
        {
            return false;
        }
    }

    /// <summary>Deletes a route; returns false when there is no such route (ESRCH, ENOENT) or its device is gone (ENODEV).</summary>
    public async Task<bool> DeleteRouteAsync(RouteEntry route, string? description = null, CancellationToken cancellationToken = default)
    {
        try
        {
            await _socket.AcknowledgedAsync(RtnetlinkRouteMessages.DelRoute(route, description), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (NetlinkException e) when (e.Errno is Errno.ESRCH or Errno.ENOENT or Errno.ENODEV)
        {
            return false;
        }
    }

    /// <summary>Adds a rule; returns false when an identical rule exists (EEXIST).</summary>
    public async Task<bool> AddRuleAsync(RuleEntry rule, string? description = null, CancellationToken cancellationToken = default)
    {
        try
        {
            await _socket.AcknowledgedAsync(RtnetlinkRouteMessages.NewRule(rule, description), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (NetlinkException e) when (e.Errno == Errno.EEXIST)
        {
            return false;
        }
    }

    /// <summary>Deletes a rule; returns false when there is no such rule (ENOENT).</summary>
    public async Task<bool> DeleteRuleAsync(RuleEntry rule, string? description = null, CancellationToken cancellationToken = default)
    {
        try
        {
            await _socket.AcknowledgedAsync(RtnetlinkRouteMessages.DelRule(rule, description), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (NetlinkException e) when (e.Errno == Errno.ENOENT)
        {
            return false;
        }
    }
}
