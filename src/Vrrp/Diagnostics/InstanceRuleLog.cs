using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.Diagnostics;

/// <summary>
/// Log lines of unicast_fault_no_peer (keepalived 2.2.7 vrrp.c) and of keywords newer than keepalived 2.2.7
/// (timer_expired_backup: 2.2.8; owner_ignore_adverts: 2.3.3), with keepalived's texts.
/// </summary>
internal static partial class InstanceRuleLog
{
    [LoggerMessage(301, LogLevel.Information, "({Instance}) Cannot use unicast without any peers - going to fault state")]
    public static partial void UnicastWithoutPeers(this ILogger logger, string instance);

    [LoggerMessage(302, LogLevel.Information, "VRRP thread timer expired {Seconds} seconds ago")]
    public static partial void ThreadTimerExpired(this ILogger logger, string seconds);

    [LoggerMessage(303, LogLevel.Information, "({Instance}) Dropping packet(s) from {Source} since we are address owner")]
    public static partial void OwnerDroppingAdverts(this ILogger logger, string instance, System.Net.IPAddress source);
}
