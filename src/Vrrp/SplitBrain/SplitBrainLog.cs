using System.Net;
using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.SplitBrain;

/// <summary>The split-brain probe's log lines (Lb's own: keepalived has no such probe).</summary>
internal static partial class SplitBrainLog
{
    [LoggerMessage(1401, LogLevel.Warning, "({Instance}) SPLIT BRAIN: {Vip} on {Interface} is also answered by {OtherMac} (we are MASTER with {OurMac}); sending gratuitous ARPs/NAs")]
    public static partial void SplitBrainDetected(this ILogger logger, string instance, IPAddress vip, string @interface, string otherMac, string ourMac);

    [LoggerMessage(1402, LogLevel.Information, "({Instance}) split brain over: no other MAC answered for its VIPs in the last {Probes} probes")]
    public static partial void SplitBrainOver(this ILogger logger, string instance, int probes);

    [LoggerMessage(1403, LogLevel.Warning, "Split-brain probe disabled: cannot open its AF_PACKET socket - {Error}")]
    public static partial void ProbeSocketFailed(this ILogger logger, string error);

    [LoggerMessage(1404, LogLevel.Warning, "({Instance}) split-brain probe for {Vip} on {Interface} not sent: {Error}")]
    public static partial void ProbeSendFailed(this ILogger logger, string instance, IPAddress vip, string @interface, string error);

    [LoggerMessage(1405, LogLevel.Debug, "({Instance}) {Vip} on {Interface} answered by {OtherMac}: probing again to confirm")]
    public static partial void SplitBrainSuspected(this ILogger logger, string instance, IPAddress vip, string @interface, string otherMac);
}
