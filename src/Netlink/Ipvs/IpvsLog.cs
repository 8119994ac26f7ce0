using Microsoft.Extensions.Logging;

namespace Lb.Netlink.Ipvs;

/// <summary>Source-generated log messages of the IPVS table (event ids 2000–2099).</summary>
internal static partial class IpvsLog
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "IPVS: applying {Count} operations")]
    public static partial void Applying(this ILogger logger, int count);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "IPVS: {Operation}")]
    public static partial void OperationApplied(this ILogger logger, IpvsOperation operation);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Debug, Message = "IPVS: {Operation}: already in that state ({Errno})")]
    public static partial void OperationAlreadyInState(this ILogger logger, IpvsOperation operation, string errno);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "IPVS: {Message}")]
    public static partial void OperationFailed(this ILogger logger, string message);
}
