using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Lb.Checkers.Http;
using Lb.Checkers.Net;
using Lb.Checkers.Options;

namespace Lb.Checkers.Genhash;

/// <summary>
/// <c>lb genhash</c>, keepalived's <c>genhash</c>: fetch a URL from a server exactly as HTTP_GET/SSL_GET would and print
/// the MD5 of the body (<c>MD5SUM = &lt;hex&gt;</c>) to paste into <c>digest</c>.
/// </summary>
public static class GenhashCli
{
    /// <summary>Usage text (genhash's options).</summary>
    public const string Usage =
        "usage: lb genhash -s server -p port -u url [-S] [-H virtualhost] [-r 1.0|1.0C|1.1] [-t timeout] [-v]\n" +
        "  -s, --server        server address (IPv4 or IPv6)\n" +
        "  -p, --port          server port\n" +
        "  -u, --url           path to fetch, e.g. /index.html\n" +
        "  -S, --use-ssl       use TLS (SSL_GET)\n" +
        "  -H, --use-virtualhost  Host header (and SNI with -S)\n" +
        "  -r, --protocol      http_protocol: 1.0, 1.0C or 1.1 (default 1.0)\n" +
        "  -t, --timeout       timeout in seconds (default 5)\n" +
        "  -v, --verbose       print the response header and body";

    /// <summary>Runs genhash; returns the exit code (0 ok, 1 fetch failed, 2 usage).</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        string? server = null, url = null, vhost = null;
        ushort? port = null;
        var ssl = false;
        var verbose = false;
        var protocol = HttpProtocol.Http10;
        var timeout = TimeSpan.FromSeconds(5);
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            string? Value() => i + 1 < args.Count ? args[++i] : null;
            switch (a)
            {
                case "-s" or "--server":
                    server = Value();
                    break;
                case "-p" or "--port":
                    if (!ushort.TryParse(Value(), out var p))
                        return Bad(stderr, "invalid port");
                    port = p;
                    break;
                case "-u" or "--url":
                    url = Value();
                    break;
                case "-S" or "--use-ssl":
                    ssl = true;
                    break;
                case "-H" or "--use-virtualhost":
                    vhost = Value();
                    break;
                case "-r" or "--protocol":
                    var r = Value();
                    protocol = r switch
                    {
                        "1.0" => HttpProtocol.Http10,
                        "1.0C" or "1.0c" => HttpProtocol.Http10Close,
                        "1.1" => HttpProtocol.Http11,
                        _ => (HttpProtocol)(-1),
                    };
                    if ((int)protocol < 0)
                        return Bad(stderr, $"invalid http protocol '{r}'");
                    break;
                case "-t" or "--timeout":
                    if (!double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out var t) || t <= 0)
                        return Bad(stderr, "invalid timeout");
                    timeout = TimeSpan.FromSeconds(t);
                    break;
                case "-v" or "--verbose":
                    verbose = true;
                    break;
                case "-h" or "--help":
                    await stdout.WriteLineAsync(Usage).ConfigureAwait(false);
                    return 0;
                default:
                    return Bad(stderr, $"unknown option '{a}'");
            }
        }
        if (server is null || url is null)
            return Bad(stderr, "-s server and -u url are required");
        if (!IPAddress.TryParse(server, out var address))
            return Bad(stderr, $"invalid server address '{server}'");
        var result = await FetchAsync(address, port ?? (ushort)(ssl ? 443 : 80), url, ssl, vhost, protocol, timeout, cancellationToken).ConfigureAwait(false);
        if (result.Error is not null)
        {
            await stderr.WriteLineAsync($"lb genhash: {result.Error}").ConfigureAwait(false);
            return 1;
        }
        if (verbose)
        {
            await stdout.WriteLineAsync("-----------------------[    HTTP Header Buffer    ]-----------------------").ConfigureAwait(false);
            await stdout.WriteLineAsync(result.Header).ConfigureAwait(false);
            await stdout.WriteLineAsync("-----------------------[        HTML Buffer        ]-----------------------").ConfigureAwait(false);
            await stdout.WriteLineAsync($"({result.BodyBytes} bytes)").ConfigureAwait(false);
            await stdout.WriteLineAsync("-----------------------[ HTML hash final resulting ]-----------------------").ConfigureAwait(false);
        }
        await stdout.WriteLineAsync($"MD5SUM = {result.Digest}").ConfigureAwait(false);
        return 0;
    }

    private static int Bad(TextWriter stderr, string message)
    {
        stderr.WriteLine($"lb genhash: {message}");
        stderr.WriteLine(Usage);
        return 2;
    }

    /// <summary>What <see cref="FetchAsync"/> got.</summary>
    public sealed record FetchResult(int Status, string Header, string Digest, long BodyBytes, string? Error);

    /// <summary>Fetches <paramref name="path"/> as HTTP_GET/SSL_GET would and hashes the body.</summary>
    public static async Task<FetchResult> FetchAsync(IPAddress address, ushort port, string path, bool ssl, string? virtualhost, HttpProtocol protocol,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        var options = new HttpCheckOptions { Ssl = ssl, EnableSni = ssl && virtualhost is not null, Protocol = protocol, Virtualhost = virtualhost, Urls = [new UrlOptions { Path = path }] };
        var rs = new RealServerOptions { Address = address, Port = port, Checkers = [options] };
        var vs = new VirtualServerOptions { Address = address, Port = port, RealServers = [rs] };
        var settings = EffectiveSettings.Resolve(vs, rs, options) with { ConnectTimeout = timeout };
        var check = new HttpCheck(options, vs, rs, settings, TimeProvider.System, null);
        var endpoint = new HttpCheckEndpoint
        {
            Remote = new IPEndPoint(address, port),
            Ssl = ssl,
            Sni = options.EnableSni ? virtualhost : null,
            ConnectTimeout = timeout,
        };
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        using var handler = CheckerHttp.CreateHandler();
        using var client = new HttpClient(handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        try
        {
            using var req = check.BuildRequest(options.Urls[0], endpoint);
            using var resp = await client.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, cts.Token).ConfigureAwait(false);
            var header = $"HTTP/{resp.Version} {(int)resp.StatusCode} {resp.ReasonPhrase}\n{resp.Headers}{resp.Content.Headers}".TrimEnd();
            using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
            var buffer = new byte[16384];
            long total = 0;
            await using var body = await resp.Content.ReadAsStreamAsync(cts.Token).ConfigureAwait(false);
            int n;
            while ((n = await body.ReadAsync(buffer, cts.Token).ConfigureAwait(false)) > 0)
            {
                total += n;
                if (total > HttpCheck.MaxBodyBytes)
                    return new FetchResult((int)resp.StatusCode, header, "", total, $"body longer than {HttpCheck.MaxBodyBytes} bytes");
                md5.AppendData(buffer, 0, n);
            }
            return new FetchResult((int)resp.StatusCode, header, Convert.ToHexStringLower(md5.GetHashAndReset()), total, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new FetchResult(0, "", "", 0, $"timeout {SocketConnector.Seconds(timeout)} s");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return new FetchResult(0, "", "", 0, SocketConnector.Describe(ex));
        }
    }
}
