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
    private readonly IHttpClientFactory? _http;
    private readonly IScriptRunner _scripts;

    /// <summary>Creates the factory.</summary>
    public DefaultCheckFactory(CheckerSubsystemOptions options, TimeProvider time, IHttpClientFactory? httpClientFactory, IScriptRunner scripts)
    {
        _options = options;
        _time = time;
        _http = httpClientFactory;
        _scripts = scripts;
    }

    /// <inheritdoc/>
    public ICheck Create(CheckTarget target) => target.Checker switch
    {
        HttpCheckOptions h => new HttpCheck(h, target.VirtualServer, target.RealServer, target.Settings, _time, _http),
        TcpCheckOptions t => new TcpCheck(t, target.Settings, _time),
        MiscCheckOptions m => new MiscCheck(m, target.Settings, _scripts, _options.ScriptUser, _options.ScriptGroup),
        DnsCheckOptions d => new DnsCheck(d, target.Settings),
        UdpCheckOptions u => new UdpCheck(u, target.Settings, _time),
        PingCheckOptions p => new PingCheck(p, target.Settings),
        SmtpCheckOptions s => new SmtpCheck(s, target.Settings, _time),
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
