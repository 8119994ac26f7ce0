using Microsoft.Extensions.Logging;

namespace Lb.Checkers.Logging;

/// <summary>Log lines of operator overrides (<c>lb rs</c>) and slow start (Lb's own; keepalived has neither).</summary>
internal static partial class OperatorLog
{
    [LoggerMessage(140, LogLevel.Information, "Operator {By}: {Command}: real server {RealServer} of VS {VirtualServer} is {State} ({Action})")]
    public static partial void OperatorAction(this ILogger logger, string by, string command, string realServer, string virtualServer, string state, string action);

    [LoggerMessage(141, LogLevel.Information, "Drain of real server {RealServer} of VS {VirtualServer} done: {Reason}")]
    public static partial void DrainDone(this ILogger logger, string realServer, string virtualServer, string reason);

    [LoggerMessage(142, LogLevel.Information, "Slow start of real server {RealServer} of VS {VirtualServer}: weight {Weight} reached")]
    public static partial void SlowStartDone(this ILogger logger, string realServer, string virtualServer, int weight);

    [LoggerMessage(143, LogLevel.Warning, "Reading the active connections of {RealServer} of VS {VirtualServer} failed: {Error}")]
    public static partial void DrainReadFailed(this ILogger logger, string realServer, string virtualServer, string error);

    [LoggerMessage(144, LogLevel.Error, "Persisting the operator state of {Key} failed: {Error}")]
    public static partial void PersistFailed(this ILogger logger, string key, string error);

    [LoggerMessage(145, LogLevel.Information, "Operator state of real server {RealServer} of VS {VirtualServer} restored: {State}")]
    public static partial void OperatorRestored(this ILogger logger, string realServer, string virtualServer, string state);

    [LoggerMessage(146, LogLevel.Information, "Operator state of {Key} dropped: no such real server in the configuration")]
    public static partial void OperatorDropped(this ILogger logger, string key);
}
