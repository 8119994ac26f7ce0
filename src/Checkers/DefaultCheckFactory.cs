using Lb.Checkers.Dns;
using Lb.Checkers.Engine;
using Lb.Checkers.Http;
using Lb.Checkers.Misc;
using Lb.Checkers.Options;
using Lb.Checkers.Ping;
using Lb.Scripts;
using Lb.Checkers.Smtp;
using Lb.Checkers.Tcp;
using Lb.Checkers.Udp;
using Microsoft.Extensions.DependencyInjection;

namespace Lb.Checkers;

/// <summary>Creates the real probes for each checker kind.</summary>
public sealed class DefaultCheckFactory : ICheckFactory
{
    private readonly CheckerSubsystemOptions _options;
    private readonly TimeProvider _time;
    private readonly IScriptRunner _scripts;

    /// <summary>Creates the factory.</summary>
    public DefaultCheckFactory(CheckerSubsystemOptions options, TimeProvider time, IHttpClientFactory? httpClientFactory, IScriptRunner scripts)
    {
        _options = options;
        _time = time;
        _ = httpClientFactory; // see Create: the lean probe replaced the factory's client for HTTP_GET/SSL_GET
        _scripts = scripts;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// HTTP_GET/SSL_GET use the lean probe (<see cref="HttpProbe"/>): through the <see cref="IHttpClientFactory"/>
    /// client a check cost several times keepalived's CPU and most of the checker's memory (docs/benchmarks.md,
    /// "Checkers"). The factory stays accepted for callers that build <see cref="HttpCheck"/> with it themselves.
    /// </remarks>
    public ICheck Create(CheckTarget target) => target.Checker switch
    {
        HttpCheckOptions h => new HttpCheck(h, target.VirtualServer, target.RealServer, target.Settings, _time, null),
        TcpCheckOptions t => new TcpCheck(t, target.Settings, _time),
        MiscCheckOptions m => new MiscCheck(m, target.Settings, _scripts, _options.ScriptUser, _options.ScriptGroup),
        DnsCheckOptions d => new DnsCheck(d, target.Settings),
        UdpCheckOptions u => new UdpCheck(u, target.Settings, _time),
        PingCheckOptions p => new PingCheck(p, target.Settings),
        SmtpCheckOptions s => new SmtpCheck(s, target.Settings, _time),
        FileCheckOptions f => new Files.FileCheck(f),
        _ => throw new NotSupportedException($"checker {target.Checker.Keyword} is not supported"),
    };
}

/// <summary>Registration of the checker HTTP client in a service collection.</summary>
public static class CheckerServiceCollectionExtensions
{
    /// <summary>Registers the named client <see cref="CheckerHttp.ClientName"/> with the checker handler (no pooling, dial-by-option, TLS without validation).</summary>
    public static IServiceCollection AddLbCheckers(this IServiceCollection services)
    {
        services.AddHttpClient(CheckerHttp.ClientName)
            .ConfigurePrimaryHttpMessageHandler(CheckerHttp.CreateHandler)
            .SetHandlerLifetime(TimeSpan.FromMinutes(5));
        return services;
    }
}
