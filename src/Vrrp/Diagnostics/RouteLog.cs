using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.Diagnostics;

/// <summary>Log texts of virtual/static routes and rules (event ids 130–139).</summary>
internal static partial class RouteLog
{
    [LoggerMessage(130, LogLevel.Information, "({Instance}) {Verb} Virtual Routes and Rules ({Routes} routes, {Rules} rules)")]
    public static partial void HandlingRoutes(this ILogger logger, string instance, string verb, int routes, int rules);

    [LoggerMessage(131, LogLevel.Warning, "({Instance}) {What} {Entry} was removed by someone else - restoring it")]
    public static partial void RoutingRestoring(this ILogger logger, string instance, string what, string entry);

    [LoggerMessage(132, LogLevel.Information, "{Verb} static addresses, routes and rules ({Addresses} addresses, {Routes} routes, {Rules} rules)")]
    public static partial void HandlingStatic(this ILogger logger, string verb, int addresses, int routes, int rules);

    [LoggerMessage(133, LogLevel.Warning, "virtual_routes/virtual_rules/static_routes/static_rules are configured but this host installs no routes - ignoring {Count} entries")]
    public static partial void NoRouteTable(this ILogger logger, int count);
}
