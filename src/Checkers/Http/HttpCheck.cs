using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Lb.Checkers.Engine;
using Lb.Checkers.Net;
using Lb.Checkers.Options;

namespace Lb.Checkers.Http;

/// <summary>
/// HTTP_GET / SSL_GET: GET every url (keepalived's request: <c>GET path HTTP/1.x</c>, <c>User-Agent: KeepAliveClient</c>,
/// <c>Host: virtualhost</c> or the address, <c>Connection: close</c> for 1.0C and 1.1); the status must be in the
/// url's status_code ranges (default 200-299), the MD5 of the body must equal <c>digest</c> and the body must
/// (or, with regex_no_match, must not) match <c>regex</c>. Bodies are hashed as they stream, bounded by
/// <see cref="MaxBodyBytes"/>; the whole attempt is bounded by the round's timeout.
/// </summary>
public sealed class HttpCheck : ICheck, IAnswerArrival
{
    /// <summary>A body longer than this fails the check (a never-ending body cannot hold a check forever).</summary>
    public const long MaxBodyBytes = 16 * 1024 * 1024;

    /// <summary>At most this much of the body is kept for regex matching.</summary>
    public const int MaxRegexBytes = 1024 * 1024;

    private readonly HttpCheckOptions _options;
    private readonly VirtualServerOptions _vs;
    private readonly RealServerOptions _rs;
    private readonly EffectiveSettings _settings;
    private readonly TimeProvider _time;
    private readonly IHttpClientFactory? _factory;
    private readonly Regex?[] _regexes;
    private volatile string _phase = "connect";
    private volatile string _path = "/";
    private HttpCheckEndpoint? _endpoint;
    private readonly HttpProbe? _probe;
    private readonly Action<string> _setPhase;

    /// <summary>Creates the probe.</summary>
    public HttpCheck(HttpCheckOptions options, VirtualServerOptions vs, RealServerOptions rs, EffectiveSettings settings, TimeProvider time, IHttpClientFactory? factory)
    {
        _options = options;
        _vs = vs;
        _rs = rs;
        _settings = settings;
        _time = time;
        _factory = factory;
        _setPhase = p =>
        {
            _phase = p;
            _endpoint = null;
        };
        if (options.Urls.Count == 0)
            throw new ArgumentException($"{options.Keyword} on {Format.RealServer(vs, rs)} has no url");
        _regexes = options.Urls.Select(u => u.Regex is null ? null : new Regex(u.Regex, RegexOptionsOf(u), TimeSpan.FromSeconds(1))).ToArray();
        // Without a client factory the lean probe does the work (one socket, no HttpClient objects per check).
        if (factory is null)
        {
            _probe = new HttpProbe(options, new IPEndPoint(settings.ConnectAddress, settings.ConnectPort), HostHeader, Sni,
                settings.ConnectTimeout + settings.ConnectTimeout, time);
        }
    }

    private string? Sni(UrlOptions url) => _options.Ssl && _options.EnableSni ? (url.Virtualhost ?? _options.Virtualhost ?? _rs.Virtualhost ?? _vs.Virtualhost) : null;

    private static RegexOptions RegexOptionsOf(UrlOptions u)
    {
        var o = RegexOptions.CultureInvariant;
        foreach (var s in u.RegexOptions)
        {
            o |= s switch
            {
                "caseless" => RegexOptions.IgnoreCase,
                "multiline" => RegexOptions.Multiline,
                "dotall" => RegexOptions.Singleline,
                "extended" => RegexOptions.IgnorePatternWhitespace,
                _ => RegexOptions.None,
            };
        }
        return o;
    }

    /// <summary>
    /// The Host header keepalived sends for <paramref name="url"/> (check_http.c <c>http_request_thread</c>): the
    /// virtualhost (url, checker, real server, virtual server) as is, else the address dialled and always its port.
    /// </summary>
    public string HostHeader(UrlOptions url)
    {
        var vhost = url.Virtualhost ?? _options.Virtualhost ?? _rs.Virtualhost ?? _vs.Virtualhost;
        if (vhost is not null)
            return vhost;
        var addr = _settings.ConnectAddress.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{_settings.ConnectAddress}]" : _settings.ConnectAddress.ToString();
        return $"{addr}:{_settings.ConnectPort}";
    }

    /// <summary>Builds keepalived's request for <paramref name="url"/>.</summary>
    public HttpRequestMessage BuildRequest(UrlOptions url, HttpCheckEndpoint endpoint)
    {
        var host = _settings.ConnectAddress.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{_settings.ConnectAddress}]" : _settings.ConnectAddress.ToString();
        var path = url.Path.StartsWith('/') ? url.Path : "/" + url.Path;
        var req = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://{host}:{_settings.ConnectPort}{path}"))
        {
            Version = _options.Protocol == HttpProtocol.Http11 ? HttpVersion.Version11 : HttpVersion.Version10,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        req.Headers.TryAddWithoutValidation("User-Agent", "KeepAliveClient");
        req.Headers.TryAddWithoutValidation("Host", HostHeader(url));
        if (_options.Protocol != HttpProtocol.Http10)
            req.Headers.ConnectionClose = true;
        req.Options.Set(CheckerHttp.EndpointKey, endpoint);
        return req;
    }

    private HttpCheckEndpoint Endpoint(UrlOptions url) => new()
    {
        Remote = new IPEndPoint(_settings.ConnectAddress, _settings.ConnectPort),
        BindTo = _options.BindTo,
        BindPort = _options.BindPort,
        BindInterface = _options.BindInterface,
        FirewallMark = _options.FirewallMark,
        Ssl = _options.Ssl,
        Sni = Sni(url),
        // The round's timeout bounds the whole attempt; this inner limit is only a backstop for connect + TLS.
        ConnectTimeout = _settings.ConnectTimeout + _settings.ConnectTimeout,
        Time = _time,
    };

    /// <inheritdoc/>
    public async ValueTask<CheckOutcome> ExecuteAsync(CancellationToken cancellationToken)
    {
        string? last = null;
        for (var i = 0; i < _options.Urls.Count; i++)
        {
            var url = _options.Urls[i];
            _path = url.Path;
            var r = _probe is not null
                ? await _probe.GetAsync(i, _regexes[i], _setPhase, cancellationToken).ConfigureAwait(false)
                : await CheckUrlWithClientAsync(url, _regexes[i], cancellationToken).ConfigureAwait(false);
            if (!r.Success)
                return r;
            last = r.Reason;
        }
        return CheckOutcome.Ok(_options.Urls.Count == 1 ? last! : $"{last} ({_options.Urls.Count} urls)");
    }

    private async Task<CheckOutcome> CheckUrlWithClientAsync(UrlOptions url, Regex? regex, CancellationToken ct)
    {
        _path = url.Path;
        _phase = "connect";
        var ep = Endpoint(url);
        _endpoint = ep;
        // Without a factory this attempt has a private handler of its own, disposed after the client.
        using var ownHandler = _factory is null ? CheckerHttp.CreateHandler() : null;
        HttpClient client = ownHandler is null ? _factory!.CreateClient(CheckerHttp.ClientName) : new HttpClient(ownHandler, disposeHandler: false);
        try
        {
            client.Timeout = Timeout.InfiniteTimeSpan;
            using var req = BuildRequest(url, ep);
            HttpResponseMessage resp;
            try
            {
                resp = await client.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                return CheckOutcome.Fail($"{SocketConnector.Describe(ex)} on {url.Path}");
            }
            using (resp)
            {
                var status = (int)resp.StatusCode;
                var ranges = url.StatusCodes.Count == 0 ? [StatusCodeRange.Default] : url.StatusCodes;
                if (!ranges.Any(r => r.Contains(status)))
                    return CheckOutcome.Fail($"HTTP status {status} on {url.Path}");
                _phase = "body";
                ep.Phase = "body";
                using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
                var kept = regex is null ? null : new MemoryStream();
                var buffer = new byte[16 * 1024];
                long total = 0;
                try
                {
                    await using var body = await resp.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
                    int n;
                    while ((n = await body.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                    {
                        total += n;
                        if (total > MaxBodyBytes)
                            return CheckOutcome.Fail($"body of {url.Path} longer than {MaxBodyBytes} bytes");
                        md5.AppendData(buffer, 0, n);
                        if (kept is not null && kept.Length < MaxRegexBytes)
                            await kept.WriteAsync(buffer.AsMemory(0, (int)Math.Min(n, MaxRegexBytes - kept.Length)), ct).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException)
                {
                    return CheckOutcome.Fail($"error reading body of {url.Path}: {SocketConnector.Describe(ex)}");
                }
                var digest = Convert.ToHexStringLower(md5.GetHashAndReset());
                if (url.Digest is not null && !string.Equals(digest, url.Digest, StringComparison.OrdinalIgnoreCase))
                    return CheckOutcome.Fail($"MD5 digest {digest} on {url.Path}, expected {url.Digest.ToLowerInvariant()}");
                if (regex is not null && HttpProbe.RegexFailure(url, regex, kept!.ToArray()) is { } failed)
                    return failed;
                return CheckOutcome.Ok($"HTTP status {status} on {url.Path}");
            }
        }
        finally
        {
            client.Dispose();
        }
    }

    /// <inheritdoc/>
    public bool AnswerArrived() => _probe?.AnswerArrived() ?? false;

    /// <inheritdoc/>
    public string TimeoutReason(TimeSpan timeout)
    {
        var phase = _phase == "body" ? "body" : _endpoint?.Phase ?? _phase;
        return $"{phase} timeout {SocketConnector.Seconds(timeout)} s on {_path}";
    }
}
