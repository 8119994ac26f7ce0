using Microsoft.Extensions.Logging;

namespace Lb.Checkers.Logging;

/// <summary>FILE_CHECK's log lines, with keepalived 2.2.7's texts (track_file.c; keepalived prints them with <c>-D</c>).</summary>
internal static partial class FileCheckLog
{
    [LoggerMessage(130, LogLevel.Information, "({RealServer}): tracked file {TrackFile} {What} FAULT state")]
    public static partial void FileCheckFault(this ILogger logger, string realServer, string trackFile, string what);
}
