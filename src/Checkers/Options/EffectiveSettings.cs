using System.Net;

namespace Lb.Checkers.Options;

/// <summary>
/// The timing and behaviour of one checker after inheritance checker → real_server → virtual_server → keepalived default
/// (check_api.c: warmup defaults to the checker's delay_loop, delay_before_retry to the kind's default).
/// </summary>
public sealed record EffectiveSettings
{
    /// <summary>keepalived's default <c>delay_loop</c>: 60 s.</summary>
    public static readonly TimeSpan DefaultDelayLoop = TimeSpan.FromSeconds(60);

    /// <summary>keepalived's default <c>connect_timeout</c>: 5 s.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Effective <c>delay_loop</c>.</summary>
    public required TimeSpan DelayLoop { get; init; }

    /// <summary>Effective <c>connect_timeout</c>.</summary>
    public required TimeSpan ConnectTimeout { get; init; }

    /// <summary>Effective <c>retry</c>.</summary>
    public required int Retry { get; init; }

    /// <summary>Effective <c>delay_before_retry</c>.</summary>
    public required TimeSpan DelayBeforeRetry { get; init; }

    /// <summary>Effective <c>warmup</c> (0: start at once).</summary>
    public required TimeSpan Warmup { get; init; }

    /// <summary>Effective <c>alpha</c>.</summary>
    public required bool Alpha { get; init; }

    /// <summary>Effective <c>log_all_failures</c>.</summary>
    public required bool LogAllFailures { get; init; }

    /// <summary>Address the checker connects to (<c>connect_ip</c> or the real server's).</summary>
    public required IPAddress ConnectAddress { get; init; }

    /// <summary>Port the checker connects to (<c>connect_port</c> or the real server's).</summary>
    public required ushort ConnectPort { get; init; }

    /// <summary>Resolves the settings of <paramref name="checker"/> of <paramref name="rs"/> in <paramref name="vs"/>.</summary>
    public static EffectiveSettings Resolve(VirtualServerOptions vs, RealServerOptions rs, CheckerOptions checker, bool globalLogAllFailures = false)
    {
        var delayLoop = checker.DelayLoop ?? rs.DelayLoop ?? vs.DelayLoop ?? DefaultDelayLoop;
        return new EffectiveSettings
        {
            DelayLoop = delayLoop,
            ConnectTimeout = checker.ConnectTimeout ?? rs.ConnectTimeout ?? vs.ConnectTimeout ?? DefaultConnectTimeout,
            Retry = checker.Retry ?? rs.Retry ?? vs.Retry ?? checker.DefaultRetry,
            DelayBeforeRetry = checker.DelayBeforeRetry ?? rs.DelayBeforeRetry ?? vs.DelayBeforeRetry ?? checker.DefaultDelayBeforeRetry(delayLoop),
            Warmup = checker.Warmup ?? rs.Warmup ?? vs.Warmup ?? delayLoop,
            Alpha = checker.Alpha ?? rs.Alpha ?? vs.Alpha,
            LogAllFailures = checker.LogAllFailures ?? globalLogAllFailures,
            ConnectAddress = checker.ConnectIp ?? rs.Address,
            ConnectPort = checker.ConnectPort ?? rs.Port ?? vs.Port ?? 0,
        };
    }
}
