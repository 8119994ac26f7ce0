using System.Text;
using Lb.Control;

namespace Lb.Metrics;

/// <summary>
/// What the metrics endpoint answers (the server loop is <see cref="ControlServer"/>): an HTTP/1.x request head;
/// <c>GET</c>/<c>HEAD</c> of <c>/metrics</c> or <c>/</c> get the text exposition from <c>render</c>, other paths 404, other
/// methods 405, a malformed request line 400; a head that never ends (closed early, or longer than the bound) gets nothing.
/// </summary>
public sealed class MetricsRequestHandler(Func<CancellationToken, ValueTask<string>> render) : IControlHandler
{
    public MetricsRequestHandler(Func<string> render)
        : this(_ => ValueTask.FromResult(render()))
    {
    }

    /// <summary>Up to and with the blank line that ends the head (CRLF CRLF, or LF LF from a lenient client).</summary>
    public int RequestLength(ReadOnlySpan<byte> received)
    {
        var crlf = received.IndexOf("\r\n\r\n"u8);
        var lf = received.IndexOf("\n\n"u8);
        return crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf >= 0 ? lf + 2 : -1;
    }

    public async ValueTask<ReadOnlyMemory<byte>?> HandleAsync(ControlRequest request, CancellationToken cancellationToken)
    {
        if (request.End != RequestEnd.Complete)
            return null;
        var head = Encoding.ASCII.GetString(request.Data.Span);
        var requestLine = head.Split('\n', 2)[0].TrimEnd('\r').Split(' ');
        string status, contentType = "text/plain; charset=utf-8", body;
        if (requestLine.Length != 3 || !requestLine[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
            (status, body) = ("400 Bad Request", "bad request\n");
        else if (requestLine[0] is not ("GET" or "HEAD"))
            (status, body) = ("405 Method Not Allowed", "only GET\n");
        else if (requestLine[1].Split('?')[0] is not ("/metrics" or "/"))
            (status, body) = ("404 Not Found", "not found; try /metrics\n");
        else
            (status, contentType, body) = ("200 OK", MetricsText.ContentType, await render(cancellationToken).ConfigureAwait(false));
        var bodyBytes = Encoding.UTF8.GetBytes(body);
        var header = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {status}\r\nContent-Type: {contentType}\r\nContent-Length: {bodyBytes.Length}\r\nConnection: close\r\n" +
            (status.StartsWith("405", StringComparison.Ordinal) ? "Allow: GET, HEAD\r\n" : "") + "\r\n");
        var reply = requestLine[0] == "HEAD" ? header : [.. header, .. bodyBytes];
        return reply;
    }
}
