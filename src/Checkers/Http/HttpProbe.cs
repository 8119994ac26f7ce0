using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Lb.Checkers.Engine;
using Lb.Checkers.Net;
using Lb.Checkers.Options;

namespace Lb.Checkers.Http;

/// <summary>
/// The lean HTTP_GET/SSL_GET probe: one socket, keepalived's request written once (prebuilt bytes), the response
/// parsed as it arrives (<see cref="HttpResponseParser"/>), status checked after the headers, MD5 computed only when a
/// digest is configured and the body kept (bounded) only when a regex is. SSL_GET runs the same code over an
/// <see cref="SslStream"/> on that socket. No HttpClient objects; buffers, parser and hash come from a small pool.
/// The round's token bounds the whole attempt (phases are reported through <paramref name="phase"/>).
/// </summary>
internal sealed class HttpProbe
{
    private const int ReceiveBufferBytes = 4 * 1024;

    private readonly HttpCheckOptions _options;
    private readonly IPEndPoint _remote;
    private readonly TimeSpan _backstop;
    private readonly TimeProvider _time;
    private readonly byte[][] _requests;
    private readonly SslClientAuthenticationOptions?[] _tls;
    private readonly StatusCodeRange[][] _ranges;
    private readonly (int Status, string Reason)?[] _okReasons;
    private readonly InFlightSocket _inFlight = new();

    public HttpProbe(HttpCheckOptions options, IPEndPoint remote, Func<UrlOptions, string> hostHeader, Func<UrlOptions, string?> sni, TimeSpan backstop, TimeProvider time)
    {
        _options = options;
        _remote = remote;
        _backstop = backstop;
        _time = time;
        var n = options.Urls.Count;
        _requests = new byte[n][];
        _tls = new SslClientAuthenticationOptions?[n];
        _ranges = new StatusCodeRange[n][];
        _okReasons = new (int, string)?[n];
        for (var i = 0; i < n; i++)
        {
            var url = options.Urls[i];
            _requests[i] = Encoding.Latin1.GetBytes(Request(url.Path, options.Protocol, hostHeader(url)));
            _ranges[i] = url.StatusCodes.Count == 0 ? [StatusCodeRange.Default] : url.StatusCodes.ToArray();
            if (options.Ssl)
            {
                _tls[i] = new SslClientAuthenticationOptions
                {
                    TargetHost = sni(url) ?? "",
                    RemoteCertificateValidationCallback = static (_, _, _, _) => true,
                };
            }
        }
    }

    /// <summary>keepalived's request (check_http.c <c>request_template</c>): GET line, User-Agent, Connection: close for 1.0C and 1.1, Host.</summary>
    public static string Request(string path, HttpProtocol protocol, string host) =>
        $"GET {path} HTTP/1.{(protocol == HttpProtocol.Http11 ? 1 : 0)}\r\nUser-Agent: KeepAliveClient\r\n"
        + (protocol == HttpProtocol.Http10 ? "" : "Connection: close\r\n")
        + $"Host: {host}\r\n\r\n";

    /// <summary>The attempt in flight has its answer (the connect's completion, or response bytes) waiting at its socket.</summary>
    public bool AnswerArrived() => _inFlight.AnswerArrived();

    /// <summary>GETs url <paramref name="index"/>; never throws except cancellation on <paramref name="cancellationToken"/>.</summary>
    public async Task<CheckOutcome> GetAsync(int index, Regex? regex, Action<string> phase, CancellationToken cancellationToken)
    {
        var url = _options.Urls[index];
        // Without a caller's limit (no round timeout), a backstop keeps a silent server from holding the attempt forever.
        using var backstop = cancellationToken.CanBeCanceled ? null : new CancellationTokenSource(_backstop, _time);
        var ct = backstop?.Token ?? cancellationToken;
        Attempt? attempt = null;
        Socket? socket = null;
        SslStream? ssl = null;
        try
        {
            phase("connect");
            try
            {
                socket = await SocketConnector.ConnectTcpAsync(_remote, _options.BindTo, _options.BindPort, _options.BindInterface, _options.FirewallMark, ct, _inFlight).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                return CheckOutcome.Fail($"{SocketConnector.Describe(ex)} on {url.Path}");
            }
            _inFlight.AwaitingData();
            if (_tls[index] is { } tls)
            {
                phase("TLS handshake");
#pragma warning disable CA2000 // the SslStream owns the NetworkStream, which owns the socket; both disposed in the finally below
                ssl = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
#pragma warning restore CA2000
                socket = null;
                try
                {
                    await ssl.AuthenticateAsClientAsync(tls, ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is AuthenticationException or IOException or SocketException)
                {
                    return CheckOutcome.Fail($"{SocketConnector.Describe(ex)} on {url.Path}");
                }
            }
            phase("response");
            // Buffers only from here: an attempt still connecting (a silent server) holds none.
            attempt = Attempt.Rent();
            var parser = attempt.Parser;
            try
            {
                if (ssl is null)
                    await socket!.SendAsync(_requests[index], SocketFlags.None, ct).ConfigureAwait(false);
                else
                    await ssl.WriteAsync(_requests[index], ct).ConfigureAwait(false);
                while (!parser.HeadersDone)
                {
                    var n = await ReadAsync(socket, ssl, attempt.Buffer, ct).ConfigureAwait(false);
                    var consumed = 0;
                    var state = n == 0 ? parser.End() : parser.Feed(attempt.Buffer.AsSpan(0, n), attempt.Body, stopAfterHeaders: true, out consumed);
                    if (state == HttpParseState.Failed)
                        return CheckOutcome.Fail($"{parser.Error} on {url.Path}");
                    if (n == 0)
                        break;
                    if (parser.HeadersDone)
                    {
                        var status = parser.StatusCode;
                        if (!InRanges(_ranges[index], status))
                            return CheckOutcome.Fail($"HTTP status {status} on {url.Path}");
                        phase("body");
                        attempt.Body.Start(url, digest: url.Digest is not null, regex: regex is not null);
                        if (state != HttpParseState.Done && consumed < n
                            && parser.Feed(attempt.Buffer.AsSpan(consumed, n - consumed), attempt.Body, stopAfterHeaders: false, out _) == HttpParseState.Failed)
                            return BodyFailure(url, parser, attempt.Body);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException)
            {
                return CheckOutcome.Fail($"{SocketConnector.Describe(ex)} on {url.Path}");
            }
            try
            {
                var last = HttpParseState.NeedMore;
                while (last == HttpParseState.NeedMore && !parser.IsComplete)
                {
                    var n = await ReadAsync(socket, ssl, attempt.Buffer, ct).ConfigureAwait(false);
                    last = n == 0 ? parser.End() : parser.Feed(attempt.Buffer.AsSpan(0, n), attempt.Body, stopAfterHeaders: false, out _);
                }
                if (last == HttpParseState.Failed)
                    return BodyFailure(url, parser, attempt.Body);
            }
            catch (Exception ex) when (ex is IOException or SocketException)
            {
                return CheckOutcome.Fail($"error reading body of {url.Path}: {SocketConnector.Describe(ex)}");
            }
            return Verdict(index, url, regex, parser.StatusCode, attempt.Body);
        }
        finally
        {
            _inFlight.Done();
            if (ssl is not null)
                await ssl.DisposeAsync().ConfigureAwait(false);
            socket?.Dispose();
            attempt?.Return();
        }
    }

    private static CheckOutcome BodyFailure(UrlOptions url, HttpResponseParser parser, BodySink body) =>
        body.Error is { } e ? CheckOutcome.Fail(e) : CheckOutcome.Fail($"error reading body of {url.Path}: {parser.Error}");

    private static ValueTask<int> ReadAsync(Socket? socket, SslStream? ssl, byte[] buffer, CancellationToken ct) =>
        ssl is null ? socket!.ReceiveAsync(buffer, SocketFlags.None, ct) : ssl.ReadAsync(buffer, ct);

    private static bool InRanges(StatusCodeRange[] ranges, int status)
    {
        foreach (var r in ranges)
        {
            if (r.Contains(status))
                return true;
        }
        return false;
    }

    /// <summary>keepalived's regex rule on the kept body (from <c>regex_min_offset</c>, a match must start by
    /// <c>regex_max_offset</c>; <c>regex_no_match</c> inverts it): the failure, or null when the rule passes.
    /// Shared by this probe and <see cref="HttpCheck"/>'s HttpClient path.</summary>
    internal static CheckOutcome? RegexFailure(UrlOptions url, Regex regex, ReadOnlySpan<byte> kept)
    {
        var start = Math.Min(kept.Length, url.RegexMinOffset ?? 0);
        var text = Encoding.Latin1.GetString(kept[start..]);
        bool matched;
        try
        {
            var m = regex.Match(text);
            matched = m.Success && (url.RegexMaxOffset is null || start + m.Index <= url.RegexMaxOffset);
        }
        catch (RegexMatchTimeoutException)
        {
            return CheckOutcome.Fail($"regex timed out on {url.Path}");
        }
        if (matched == url.RegexNoMatch)
            return CheckOutcome.Fail(url.RegexNoMatch ? $"regex '{url.Regex}' matched on {url.Path}" : $"regex '{url.Regex}' not matched on {url.Path}");
        return null;
    }

    private CheckOutcome Verdict(int index, UrlOptions url, Regex? regex, int status, BodySink body)
    {
        if (url.Digest is not null)
        {
            var digest = body.Digest();
            if (!string.Equals(digest, url.Digest, StringComparison.OrdinalIgnoreCase))
                return CheckOutcome.Fail($"MD5 digest {digest} on {url.Path}, expected {url.Digest.ToLowerInvariant()}");
        }
        if (regex is not null && RegexFailure(url, regex, body.Kept) is { } failed)
            return failed;
        // The success text is the same every time for a given status: keep the last one instead of formatting it per check.
        if (_okReasons[index] is { } ok && ok.Status == status)
            return CheckOutcome.Ok(ok.Reason);
        var reason = $"HTTP status {status} on {url.Path}";
        _okReasons[index] = (status, reason);
        return CheckOutcome.Ok(reason);
    }

    /// <summary>Per-attempt state (receive buffer, parser, body sink with its hash), pooled between attempts.</summary>
    private sealed class Attempt
    {
        private const int MaxPooled = 256;
        private static readonly ConcurrentQueue<Attempt> Pool = new();
        private static int _pooled;

        public byte[] Buffer { get; } = new byte[ReceiveBufferBytes];
        public HttpResponseParser Parser { get; } = new(CheckerHttp.MaxResponseHeadersKiB * 1024);
        public BodySink Body { get; } = new();

        public static Attempt Rent()
        {
            if (Pool.TryDequeue(out var a))
            {
                Interlocked.Decrement(ref _pooled);
                return a;
            }
            return new Attempt();
        }

        public void Return()
        {
            Parser.Reset();
            Body.Clear();
            if (Interlocked.Increment(ref _pooled) <= MaxPooled)
                Pool.Enqueue(this);
            else
            {
                Interlocked.Decrement(ref _pooled);
                Body.Dispose();
            }
        }
    }

    /// <summary>Counts the body against <see cref="HttpCheck.MaxBodyBytes"/>, hashes it (digest) and keeps its head (regex).</summary>
    private sealed class BodySink : IHttpBodySink, IDisposable
    {
        private IncrementalHash? _md5;
        private bool _hash;
        private byte[]? _kept;
        private int _keptLength;
        private bool _keep;
        private long _total;
        private string _path = "";

        public string? Error { get; private set; }

        public ReadOnlySpan<byte> Kept => _kept is null ? default : _kept.AsSpan(0, _keptLength);

        public void Start(UrlOptions url, bool digest, bool regex)
        {
            _path = url.Path;
            _hash = digest;
            _keep = regex;
            if (digest)
                _md5 ??= IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        }

        public bool Append(ReadOnlySpan<byte> bytes)
        {
            _total += bytes.Length;
            if (_total > HttpCheck.MaxBodyBytes)
            {
                Error = $"body of {_path} longer than {HttpCheck.MaxBodyBytes} bytes";
                return false;
            }
            if (_hash)
                _md5!.AppendData(bytes);
            if (_keep && _keptLength < HttpCheck.MaxRegexBytes)
            {
                var take = Math.Min(bytes.Length, HttpCheck.MaxRegexBytes - _keptLength);
                if (_kept is null || _kept.Length < _keptLength + take)
                {
                    var grown = ArrayPool<byte>.Shared.Rent(Math.Max(_keptLength + take, Math.Min(HttpCheck.MaxRegexBytes, (_kept?.Length ?? 2048) * 2)));
                    if (_kept is not null)
                    {
                        _kept.AsSpan(0, _keptLength).CopyTo(grown);
                        ArrayPool<byte>.Shared.Return(_kept);
                    }
                    _kept = grown;
                }
                bytes[..take].CopyTo(_kept.AsSpan(_keptLength));
                _keptLength += take;
            }
            return true;
        }

        public string Digest()
        {
            Span<byte> hash = stackalloc byte[16];
            _md5!.GetHashAndReset(hash);
            return Convert.ToHexStringLower(hash);
        }

        public void Clear()
        {
            if (_hash)
                _md5?.GetHashAndReset(stackalloc byte[16]);
            if (_kept is not null)
                ArrayPool<byte>.Shared.Return(_kept);
            _kept = null;
            _keptLength = 0;
            _total = 0;
            _hash = false;
            _keep = false;
            Error = null;
        }

        public void Dispose() => _md5?.Dispose();
    }
}
