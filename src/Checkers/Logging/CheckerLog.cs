using Microsoft.Extensions.Logging;

namespace Lb.Checkers.Logging;

/// <summary>Log lines with keepalived 2.2.7's exact texts (ipwrapper.c, check_*.c), so operators' grep keeps working.</summary>
internal static partial class CheckerLog
{
    [LoggerMessage(1, LogLevel.Information, "{Verb} service {RealServer} {Preposition} VS {VirtualServer}")]
    public static partial void ServiceStateChange(this ILogger logger, string verb, string realServer, string preposition, string virtualServer);

    [LoggerMessage(2, LogLevel.Information, "Gained quorum {Quorum}+{Hysteresis}={Threshold} <= {WeightSum} for VS {VirtualServer}")]
    public static partial void GainedQuorum(this ILogger logger, long quorum, long hysteresis, long threshold, long weightSum, string virtualServer);

    [LoggerMessage(3, LogLevel.Information, "{What} {Quorum}-{Hysteresis}={Threshold} > {WeightSum} for VS {VirtualServer}")]
    public static partial void LostQuorum(this ILogger logger, string what, long quorum, long hysteresis, long threshold, long weightSum, string virtualServer);

    [LoggerMessage(4, LogLevel.Information, "{Verb} sorry server {SorryServer} {Preposition} VS {VirtualServer}")]
    public static partial void SorryServer(this ILogger logger, string verb, string sorryServer, string preposition, string virtualServer);

    [LoggerMessage(5, LogLevel.Information, "{What} the pool for VS {VirtualServer}")]
    public static partial void QuorumPool(this ILogger logger, string what, string virtualServer);

    [LoggerMessage(6, LogLevel.Information, "Changing weight from {OldWeight} to {NewWeight} for {Active}active service {RealServer} of VS {VirtualServer}")]
    public static partial void ChangingWeight(this ILogger logger, int oldWeight, int newWeight, string active, string realServer, string virtualServer);

    [LoggerMessage(7, LogLevel.Information, "{Verb} {Inhibited}service {RealServer} from VS {VirtualServer}")]
    public static partial void ClearService(this ILogger logger, string verb, string inhibited, string realServer, string virtualServer);

    [LoggerMessage(10, LogLevel.Information, "Remote Web server {RealServer} succeed on service.")]
    public static partial void HttpSucceeded(this ILogger logger, string realServer);

    [LoggerMessage(11, LogLevel.Information, "HTTP_CHECK on service {RealServer} failed after {Retries} retries.")]
    public static partial void HttpFailedAfterRetries(this ILogger logger, string realServer, int retries);

    [LoggerMessage(12, LogLevel.Information, "HTTP_CHECK on service {RealServer} failed.")]
    public static partial void HttpFailed(this ILogger logger, string realServer);

    [LoggerMessage(13, LogLevel.Information, "TCP connection to {RealServer} success.")]
    public static partial void TcpSucceeded(this ILogger logger, string realServer);

    [LoggerMessage(14, LogLevel.Information, "TCP_CHECK on service {RealServer} failed after {Retries} retries.")]
    public static partial void TcpFailedAfterRetries(this ILogger logger, string realServer, int retries);

    [LoggerMessage(15, LogLevel.Information, "TCP_CHECK on service {RealServer} failed.")]
    public static partial void TcpFailed(this ILogger logger, string realServer);

    [LoggerMessage(16, LogLevel.Information, "Misc check to [{Address}] for [{Script}] {Result}.")]
    public static partial void MiscResult(this ILogger logger, string address, string script, string result);

    [LoggerMessage(17, LogLevel.Information, "Misc check to [{Address}] for [{Script}] {Result} ({Reason} {Code}).")]
    public static partial void MiscResultWithReason(this ILogger logger, string address, string script, string result, string reason, int code);

    [LoggerMessage(18, LogLevel.Information, "{Kind} on service {RealServer} succeeded.")]
    public static partial void GenericSucceeded(this ILogger logger, string kind, string realServer);

    [LoggerMessage(19, LogLevel.Information, "{Kind} on service {RealServer} failed after {Retries} retries.")]
    public static partial void GenericFailedAfterRetries(this ILogger logger, string kind, string realServer, int retries);

    [LoggerMessage(20, LogLevel.Information, "{Kind} on service {RealServer} failed.")]
    public static partial void GenericFailed(this ILogger logger, string kind, string realServer);

    [LoggerMessage(23, LogLevel.Information, "UDP connection to {RealServer} success.")]
    public static partial void UdpSucceeded(this ILogger logger, string realServer);

    [LoggerMessage(24, LogLevel.Information, "ICMP connection to {RealServer} success.")]
    public static partial void IcmpSucceeded(this ILogger logger, string realServer);

    [LoggerMessage(25, LogLevel.Information, "ICMP CHECK on service {RealServer} of {VirtualServer} failed after {Retries} retries.")]
    public static partial void IcmpFailedAfterRetries(this ILogger logger, string realServer, string virtualServer, int retries);

    [LoggerMessage(26, LogLevel.Information, "ICMP CHECK on service {RealServer} failed.")]
    public static partial void IcmpFailed(this ILogger logger, string realServer);

    [LoggerMessage(27, LogLevel.Information, "Remote SMTP server {RealServer} succeed on service.")]
    public static partial void SmtpSucceeded(this ILogger logger, string realServer);

    [LoggerMessage(21, LogLevel.Information, "{Kind} check of {RealServer}: {Reason}")]
    public static partial void CheckAttemptFailed(this ILogger logger, string kind, string realServer, string reason);

    [LoggerMessage(22, LogLevel.Debug, "{Kind} check of {RealServer}: {Reason}")]
    public static partial void CheckAttemptFailedDebug(this ILogger logger, string kind, string realServer, string reason);

    [LoggerMessage(28, LogLevel.Information, "{What} healthcheckers of VS {VirtualServer} (ha_suspend)")]
    public static partial void HaSuspend(this ILogger logger, string what, string virtualServer);

    [LoggerMessage(30, LogLevel.Error, "IPVS: {Operation} failed: {Error}")]
    public static partial void IpvsFailed(this ILogger logger, string operation, string error);

    [LoggerMessage(31, LogLevel.Error, "Journal append failed: {Error}")]
    public static partial void JournalFailed(this ILogger logger, string error);

    [LoggerMessage(32, LogLevel.Warning, "Script {Script} {Result}")]
    public static partial void ScriptProblem(this ILogger logger, string script, string result);

    [LoggerMessage(40, LogLevel.Information, "Reloading checker configuration ({VirtualServers} virtual servers)")]
    public static partial void Reloading(this ILogger logger, int virtualServers);

    [LoggerMessage(41, LogLevel.Information, "{Verb} Virtual Server {VirtualServer}")]
    public static partial void ReloadVirtualServer(this ILogger logger, string verb, string virtualServer);

    [LoggerMessage(42, LogLevel.Information, "Updating Virtual Server {VirtualServer}: {Changes}")]
    public static partial void ReloadUpdatingVirtualServer(this ILogger logger, string virtualServer, string changes);

    [LoggerMessage(43, LogLevel.Information, "Updating service {RealServer} of VS {VirtualServer}: {Changes}")]
    public static partial void ReloadUpdatingRealServer(this ILogger logger, string realServer, string virtualServer, string changes);

    [LoggerMessage(44, LogLevel.Information, "Checker configuration reloaded: {Summary}")]
    public static partial void Reloaded(this ILogger logger, string summary);

    [LoggerMessage(45, LogLevel.Information, "Checker configuration reload skipped: a newer one was applied while it waited")]
    public static partial void ReloadSuperseded(this ILogger logger);

    [LoggerMessage(33, LogLevel.Error, "Checker {Kind} on {RealServer} crashed: {Error}")]
    public static partial void CheckerCrashed(this ILogger logger, string kind, string realServer, string error);

    [LoggerMessage(46, LogLevel.Warning, "Checker stop: {What} did not finish within {Seconds} s; going on")]
    public static partial void StopBoundExceeded(this ILogger logger, string what, double seconds);

    [LoggerMessage(47, LogLevel.Error, "Applying a checker change set failed: {Error}")]
    public static partial void ApplyFailed(this ILogger logger, string error);
}
