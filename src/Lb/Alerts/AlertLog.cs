using Microsoft.Extensions.Logging;

namespace Lb.Alerts;

/// <summary>The alert mail's and notify FIFOs' log lines, with keepalived 2.2.7's texts (smtp.c, lib/notify.c, global_data.c).</summary>
internal static partial class AlertLog
{
    [LoggerMessage(1301, LogLevel.Warning, "SMTP connection ERROR to {Server}.")]
    public static partial void SmtpConnectionError(this ILogger logger, string server);

    [LoggerMessage(1302, LogLevel.Warning, "Timeout opening connection to remote SMTP server {Server}.")]
    public static partial void SmtpConnectTimeout(this ILogger logger, string server);

    [LoggerMessage(1303, LogLevel.Warning, "Timeout reading data to remote SMTP server {Server}.")]
    public static partial void SmtpReadTimeout(this ILogger logger, string server);

    [LoggerMessage(1304, LogLevel.Warning, "Remote SMTP server {Server} has closed the connection.")]
    public static partial void SmtpClosed(this ILogger logger, string server);

    [LoggerMessage(1305, LogLevel.Warning, "Error processing {Command} cmd on SMTP server {Server}. SMTP status code = {Code}")]
    public static partial void SmtpBadReply(this ILogger logger, string command, string server, int code);

    [LoggerMessage(1306, LogLevel.Warning, "Cannot send data to remote SMTP server {Server}.")]
    public static partial void SmtpSendFailed(this ILogger logger, string server);

    [LoggerMessage(1307, LogLevel.Debug, "SMTP alert successfully sent.")]
    public static partial void SmtpSent(this ILogger logger);

    [LoggerMessage(1308, LogLevel.Warning, "SMTP alert queue full ({Capacity} mails waiting): dropping the oldest")]
    public static partial void SmtpQueueFull(this ILogger logger, int capacity);

    [LoggerMessage(1309, LogLevel.Warning, "Invalid smtp server {Server}: {Error}")]
    public static partial void SmtpBadServer(this ILogger logger, string server, string error);

    [LoggerMessage(1310, LogLevel.Warning, "({Fifo}) action {Action} failed: {Error}")]
    public static partial void FifoFailed(this ILogger logger, string fifo, string action, string error);

    [LoggerMessage(1311, LogLevel.Information, "notify FIFO {Path} has been specified for global and {Which} FIFO - ignoring {Which} FIFO")]
    public static partial void FifoDuplicate(this ILogger logger, string path, string which);

    [LoggerMessage(1312, LogLevel.Information, "LVS notify FIFO and vrrp FIFO are the same both with scripts - ignoring LVS FIFO script")]
    public static partial void FifoScriptDuplicate(this ILogger logger);

    [LoggerMessage(1313, LogLevel.Warning, "Reload: {What} changed - the notify FIFOs and their scripts in use are kept until a restart")]
    public static partial void FifoReloadIgnored(this ILogger logger, string what);
}
