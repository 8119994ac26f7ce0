using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.Addresses;

/// <summary>The VMAC's log lines, in keepalived 2.2.7's wording where it has one (vrrp_vmac.c, vrrp_if_config.c).</summary>
internal static partial class VmacLog
{
    [LoggerMessage(1301, LogLevel.Information, "({Instance}): Success creating VMAC interface {Name}")]
    public static partial void VmacCreated(this ILogger logger, string instance, string name);

    [LoggerMessage(1302, LogLevel.Information, "({Instance}) Success removing VMAC interface {Name}")]
    public static partial void VmacRemoved(this ILogger logger, string instance, string name);

    [LoggerMessage(1303, LogLevel.Warning, "({Instance}): Unable to create VMAC interface {Name}: {Error}")]
    public static partial void VmacCreateFailed(this ILogger logger, string instance, string name, string error);

    [LoggerMessage(1304, LogLevel.Warning, "({Instance}) Error removing VMAC interface {Name}: {Error}")]
    public static partial void VmacRemoveFailed(this ILogger logger, string instance, string name, string error);

    [LoggerMessage(1305, LogLevel.Information, "({Instance}) Found matching interface {Name}")]
    public static partial void VmacFound(this ILogger logger, string instance, string name);

    [LoggerMessage(1306, LogLevel.Information, "({Instance}) Removing old VMAC interface {Name} due to conflicting interface")]
    public static partial void VmacRemovingConflicting(this ILogger logger, string instance, string name);

    [LoggerMessage(1307, LogLevel.Warning, "({Instance}) VMAC interface name {Name} already exists as a non VMAC interface. ignoring configured name")]
    public static partial void VmacNameTaken(this ILogger logger, string instance, string name);

    [LoggerMessage(1308, LogLevel.Warning, "VMAC: setting {Key} to {Value} failed: {Error}")]
    public static partial void SysctlFailed(this ILogger logger, string key, int value, string error);

    [LoggerMessage(1309, LogLevel.Information, "NOTICE: setting sysctl net.ipv4.conf.all.rp_filter from {Old} to 0")]
    public static partial void RpFilterCleared(this ILogger logger, int old);

    [LoggerMessage(1310, LogLevel.Information, "NOTICE: resetting sysctl net.ipv4.conf.all.rp_filter to {Value}")]
    public static partial void RpFilterRestored(this ILogger logger, int value);

    [LoggerMessage(1311, LogLevel.Warning, "({Instance}) VMAC interface {Name} not created: base interface {Base} {Reason}")]
    public static partial void VmacNoBase(this ILogger logger, string instance, string name, string @base, string reason);

    [LoggerMessage(1313, LogLevel.Warning, "({Instance}) {Action} failed: {Error}")]
    public static partial void ActionFailedVmac(this ILogger logger, string instance, string action, string error);

    [LoggerMessage(1312, LogLevel.Information, "({Instance}) VMAC interface {Name} was deleted - creating it again")]
    public static partial void VmacRecreating(this ILogger logger, string instance, string name);
}
