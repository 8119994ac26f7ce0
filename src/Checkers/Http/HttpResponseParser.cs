using System.Buffers;
using System.Text;

namespace Lb.Checkers.Http;

/// <summary>What the parser found in the bytes fed so far.</summary>
internal enum HttpParseState
{
    /// <summary>More bytes are needed.</summary>
    NeedMore,

    /// <summary>The whole response (headers and body) has been read.</summary>
    Done,

    /// <summary>The response is malformed or over a limit; <see cref="HttpResponseParser.Error"/> says why.</summary>
    Failed,
}

/// <summary>
/// An incremental HTTP/1.x response parser for the checkers: status line, headers (only the framing ones are kept),
/// then the body by Content-Length, chunked transfer coding or until the connection closes. Body bytes are handed to
/// a sink as they arrive and never buffered here. Informational (1xx) responses are skipped; 204 and 304 have no body.
/// The line buffer is rented from the shared pool while a line is read and given back by <see cref="Reset"/>.
/// Error texts follow SocketsHttpHandler's, so reasons stay what operators saw before the lean probe.
/// </summary>
internal sealed class HttpResponseParser
{
    private const int MaxLine = 4 * 1024;

    private readonly int _maxHeaderBytes;
    private byte[]? _line;
    private int _lineLength;
    private bool _lineTruncated;
    private int _headerBytes;
    private Phase _phase = Phase.StatusLine;
    private long _contentLength = -1;
    private bool _chunked;
    private long _remaining;

    /// <summary>Creates a parser bounded by <paramref name="maxHeaderBytes"/> of status line and headers.</summary>
    public HttpResponseParser(int maxHeaderBytes) => _maxHeaderBytes = maxHeaderBytes;

    private enum Phase
    {
        StatusLine,
        Headers,
        Body,
        BodyToEnd,
        ChunkSize,
        ChunkData,
        ChunkDataEnd,
        Trailers,
        Done,
    }

    /// <summary>The status code, once the status line has been read.</summary>
    public int StatusCode { get; private set; }

    /// <summary>True once the headers of the final response have been read (the body follows).</summary>
    public bool HeadersDone => _phase is not (Phase.StatusLine or Phase.Headers);

    /// <summary>True once the response is complete (or parsing failed).</summary>
    public bool IsComplete => _phase == Phase.Done;

    /// <summary>Why parsing failed.</summary>
    public string? Error { get; private set; }

    /// <summary>True while the body is framed by the end of the connection (no Content-Length, not chunked).</summary>
    public bool ReadsToEnd => _phase == Phase.BodyToEnd;

    /// <summary>Clears all state, for reuse by the next attempt.</summary>
    public void Reset()
    {
        if (_line is not null)
            ArrayPool<byte>.Shared.Return(_line);
        _line = null;
        _lineLength = 0;
        _lineTruncated = false;
        _headerBytes = 0;
        _phase = Phase.StatusLine;
        _contentLength = -1;
        _chunked = false;
        _remaining = 0;
        StatusCode = 0;
        Error = null;
    }

    /// <summary>
    /// Feeds received bytes. Body bytes go to <paramref name="body"/> as they are recognised; with
    /// <paramref name="stopAfterHeaders"/> parsing pauses once the headers are complete (the caller checks the
    /// status, then calls again with the rest: <paramref name="consumed"/> says how far it got).
    /// </summary>
    public HttpParseState Feed(ReadOnlySpan<byte> data, IHttpBodySink body, bool stopAfterHeaders, out int consumed)
    {
        var i = 0;
        while (i < data.Length)
        {
            switch (_phase)
            {
                case Phase.StatusLine:
                case Phase.Headers:
                case Phase.ChunkSize:
                case Phase.ChunkDataEnd:
                case Phase.Trailers:
                {
                    var headers = _phase is Phase.StatusLine or Phase.Headers;
                    var nl = data[i..].IndexOf((byte)'\n');
                    var take = nl < 0 ? data.Length - i : nl + 1;
                    if (headers)
                    {
                        _headerBytes += take;
                        if (_headerBytes > _maxHeaderBytes)
                            return Fail(out consumed, i + take, $"The HTTP response headers length exceeded the set limit of {_maxHeaderBytes} bytes.");
                    }
                    Append(data.Slice(i, nl < 0 ? take : nl));
                    i += take;
                    if (nl < 0)
                        continue;
                    var line = _line is null ? default : _line.AsSpan(0, _lineLength);
                    if (line.Length > 0 && line[^1] == (byte)'\r')
                        line = line[..^1];
                    var truncated = _lineTruncated;
                    _lineLength = 0;
                    _lineTruncated = false;
                    var state = OnLine(line, truncated);
                    if (state == HttpParseState.Failed)
                        return Fail(out consumed, i, Error!);
                    if (_phase == Phase.Done)
                    {
                        consumed = i;
                        return HttpParseState.Done;
                    }
                    if (stopAfterHeaders && headers && HeadersDone)
                    {
                        consumed = i;
                        return HttpParseState.NeedMore;
                    }
                    break;
                }
                case Phase.Body:
                case Phase.ChunkData:
                {
                    var n = (int)Math.Min(_remaining, data.Length - i);
                    if (!body.Append(data.Slice(i, n)))
                        return Fail(out consumed, i + n, body.Error!);
                    i += n;
                    _remaining -= n;
                    if (_remaining == 0)
                    {
                        _phase = _phase == Phase.Body ? Phase.Done : Phase.ChunkDataEnd;
                        if (_phase == Phase.Done)
                        {
                            consumed = i;
                            return HttpParseState.Done;
                        }
                    }
                    break;
                }
                case Phase.BodyToEnd:
                    if (!body.Append(data[i..]))
                        return Fail(out consumed, data.Length, body.Error!);
                    i = data.Length;
                    break;
                case Phase.Done:
                    // Bytes after a complete response (a server that ignores Connection: close): not ours to read.
                    consumed = i;
                    return HttpParseState.Done;
            }
        }
        consumed = i;
        return _phase == Phase.Done ? HttpParseState.Done : HttpParseState.NeedMore;
    }

    /// <summary>The connection was closed by the peer: completes a body read to the end, fails anything else.</summary>
    public HttpParseState End()
    {
        switch (_phase)
        {
            case Phase.BodyToEnd:
            case Phase.Done:
                _phase = Phase.Done;
                return HttpParseState.Done;
            case Phase.StatusLine when _headerBytes == 0:
                Error = "The server closed the connection without a response.";
                return HttpParseState.Failed;
            case Phase.StatusLine:
            case Phase.Headers:
                Error = "The response ended prematurely.";
                return HttpParseState.Failed;
            default:
                Error = "The response ended prematurely.";
                return HttpParseState.Failed;
        }
    }

    private HttpParseState Fail(out int consumed, int at, string error)
    {
        consumed = at;
        Error = error;
        _phase = Phase.Done;
        return HttpParseState.Failed;
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        var room = MaxLine - _lineLength;
        if (bytes.Length > room)
        {
            _lineTruncated = true;
            bytes = bytes[..room];
        }
        _line ??= ArrayPool<byte>.Shared.Rent(MaxLine);
        bytes.CopyTo(_line.AsSpan(_lineLength));
        _lineLength += bytes.Length;
    }

    private HttpParseState OnLine(ReadOnlySpan<byte> line, bool truncated)
    {
        switch (_phase)
        {
            case Phase.StatusLine:
                // HTTP/1.x SP 3DIGIT [SP reason]
                if (line.Length < 12 || !line.StartsWith("HTTP/1."u8) || !char.IsAsciiDigit((char)line[7]) || line[8] != (byte)' '
                    || !char.IsAsciiDigit((char)line[9]) || !char.IsAsciiDigit((char)line[10]) || !char.IsAsciiDigit((char)line[11])
                    || (line.Length > 12 && line[12] != (byte)' '))
                {
                    Error = $"Received an invalid status line: '{Encoding.Latin1.GetString(line)}'.";
                    return HttpParseState.Failed;
                }
                StatusCode = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
                _phase = Phase.Headers;
                return HttpParseState.NeedMore;
            case Phase.Headers:
                if (line.Length == 0)
                    return EndOfHeaders();
                var colon = line.IndexOf((byte)':');
                if (colon <= 0 && !truncated)
                {
                    Error = $"Received an invalid header line: '{Encoding.Latin1.GetString(line)}'.";
                    return HttpParseState.Failed;
                }
                if (colon <= 0)
                    return HttpParseState.NeedMore;
                var name = line[..colon];
                var value = line[(colon + 1)..].Trim(" \t"u8);
                if (name.EqualsIgnoreCase("Content-Length"u8))
                {
                    if (truncated || !TryParseLong(value, out var length))
                    {
                        Error = $"The value of the Content-Length header is invalid: '{Encoding.Latin1.GetString(value)}'.";
                        return HttpParseState.Failed;
                    }
                    _contentLength = length;
                }
                else if (name.EqualsIgnoreCase("Transfer-Encoding"u8))
                {
                    var last = value.LastIndexOf((byte)',');
                    _chunked = value[(last + 1)..].Trim(" \t"u8).EqualsIgnoreCase("chunked"u8);
                }
                return HttpParseState.NeedMore;
            case Phase.ChunkSize:
            {
                var ext = line.IndexOf((byte)';');
                var hex = (ext < 0 ? line : line[..ext]).Trim(" \t"u8);
                if (hex.Length == 0 || hex.Length > 15 || !TryParseHex(hex, out var size))
                {
                    Error = "Received an invalid chunk header.";
                    return HttpParseState.Failed;
                }
                if (size == 0)
                    _phase = Phase.Trailers;
                else
                {
                    _remaining = size;
                    _phase = Phase.ChunkData;
                }
                return HttpParseState.NeedMore;
            }
            case Phase.ChunkDataEnd:
                if (line.Length != 0)
                {
                    Error = "Received an invalid chunk terminator.";
                    return HttpParseState.Failed;
                }
                _phase = Phase.ChunkSize;
                return HttpParseState.NeedMore;
            case Phase.Trailers:
                if (line.Length == 0)
                    _phase = Phase.Done;
                return HttpParseState.NeedMore;
            default:
                return HttpParseState.NeedMore;
        }
    }

    private HttpParseState EndOfHeaders()
    {
        if (StatusCode is >= 100 and < 200 and not 101)
        {
            // An interim response (100 Continue, 103 Early Hints): the final one follows.
            _phase = Phase.StatusLine;
            _contentLength = -1;
            _chunked = false;
            return HttpParseState.NeedMore;
        }
        if (StatusCode is 204 or 304 or 101)
            _phase = Phase.Done;
        else if (_chunked)
            _phase = Phase.ChunkSize;
        else if (_contentLength == 0)
            _phase = Phase.Done;
        else if (_contentLength > 0)
        {
            _remaining = _contentLength;
            _phase = Phase.Body;
        }
        else
            _phase = Phase.BodyToEnd;
        return HttpParseState.NeedMore;
    }

    private static bool TryParseLong(ReadOnlySpan<byte> s, out long value)
    {
        value = 0;
        if (s.Length == 0 || s.Length > 18)
            return false;
        foreach (var b in s)
        {
            if (b is < (byte)'0' or > (byte)'9')
                return false;
            value = value * 10 + (b - '0');
        }
        return true;
    }

    private static bool TryParseHex(ReadOnlySpan<byte> s, out long value)
    {
        value = 0;
        foreach (var b in s)
        {
            int d = b switch
            {
                >= (byte)'0' and <= (byte)'9' => b - '0',
                >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
                _ => -1,
            };
            if (d < 0)
                return false;
            value = value * 16 + d;
        }
        return true;
    }
}

/// <summary>Receives body bytes as the parser recognises them.</summary>
internal interface IHttpBodySink
{
    /// <summary>Takes <paramref name="bytes"/>; false stops the parse with <see cref="Error"/>.</summary>
    bool Append(ReadOnlySpan<byte> bytes);

    /// <summary>Why <see cref="Append"/> refused.</summary>
    string? Error { get; }
}

internal static class AsciiSpanExtensions
{
    public static bool EqualsIgnoreCase(this ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => Ascii.EqualsIgnoreCase(a, b);
}
