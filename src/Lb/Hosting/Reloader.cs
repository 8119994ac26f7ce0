using Lb.Config;
using Lb.Vrrp.Options;
using Microsoft.Extensions.Logging;

namespace Lb.Hosting;

/// <summary>
/// SIGHUP: re-read keepalived.conf, validate it, and apply it as a diff to each running subsystem. A configuration with new
/// errors is refused and the running one kept (every error logged with file:line). Signals only raise a flag; one loop does
/// the work, so a storm of SIGHUPs coalesces into a few complete reloads and nothing is applied twice or half.
/// </summary>
public sealed class Reloader : IDisposable
{
    private readonly CliOptions _options;
    private readonly ILogger _log;
    private readonly SdNotify _notify;
    private readonly Func<string> _statusText;
    private readonly VrrpService? _vrrp;
    private readonly CheckerService? _checkers;
    private readonly LvsSyncService? _lvsSync;
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly System.Collections.Concurrent.ConcurrentQueue<(bool PlanOnly, TaskCompletionSource<ReloadOutcome> Done)> _requests = new();
    private readonly CancellationTokenSource _cts = new();
    private readonly Task _loop;
    private HashSet<string> _acceptedErrors;
    private int _pending;

    public Reloader(CliOptions options, LoadedConfig running, ILogger log, SdNotify notify, Func<string> statusText, VrrpService? vrrp, CheckerService? checkers,
        LvsSyncService? lvsSync = null)
    {
        _lvsSync = lvsSync;
        _options = options;
        _log = log;
        _notify = notify;
        _statusText = statusText;
        _vrrp = vrrp;
        _checkers = checkers;
        _acceptedErrors = ErrorKeys(running.Diagnostics);
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>The notify FIFOs and alert mail: the mail follows a reload (the FIFOs are kept until a restart).</summary>
    public Alerts.AlertHub? Alerts { get; init; }

    /// <summary>The VIP announcer (null when the checkers do not run): reloaded after the checkers.</summary>
    public Announce.AnnounceService? Announce { get; init; }

    /// <summary>Reloads completed (applied or refused), for tests and status.</summary>
    public int Completed => Volatile.Read(ref _completed);

    private int _completed;

    /// <summary>Called from the signal handler: never blocks, never throws.</summary>
    public void Request()
    {
        if (Interlocked.Exchange(ref _pending, 1) == 0)
            _wake.Release();
    }

    /// <summary>
    /// <c>lb reload [--plan]</c>: queues a reload (or, <paramref name="planOnly"/>, its plan) to the same loop SIGHUP uses,
    /// so a control request and a SIGHUP never run at once; the task completes when it has run. A plan reads the file and
    /// the running state and changes nothing.
    /// </summary>
    public Task<ReloadOutcome> SubmitAsync(bool planOnly)
    {
        var done = new TaskCompletionSource<ReloadOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (_cts.IsCancellationRequested)
        {
            done.SetResult(ReloadOutcome.Failed("the daemon is stopping"));
            return done.Task;
        }
        _requests.Enqueue((planOnly, done));
        _wake.Release();
        return done.Task;
    }

    private async Task LoopAsync()
    {
        while (!_cts.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(_cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            try
            {
                if (Interlocked.Exchange(ref _pending, 0) != 0)
                    await ReloadAsync(_cts.Token).ConfigureAwait(false);
                while (_requests.TryDequeue(out var request))
                {
                    try
                    {
                        var outcome = request.PlanOnly ? await PlanAsync(_cts.Token).ConfigureAwait(false) : await ReloadAsync(_cts.Token).ConfigureAwait(false);
                        request.Done.TrySetResult(outcome);
                    }
                    finally
                    {
                        request.Done.TrySetResult(ReloadOutcome.Failed("the daemon is stopping"));
                    }
                }
            }
            catch (OperationCanceledException) when (_cts.IsCancellationRequested)
            {
                break;
            }
        }
        while (_requests.TryDequeue(out var request))
            request.Done.TrySetResult(ReloadOutcome.Failed("the daemon is stopping"));
    }

    /// <summary>One reload (SIGHUP or <c>lb reload</c>): RELOADING=1, validate, apply, READY=1.</summary>
    private async Task<ReloadOutcome> ReloadAsync(CancellationToken ct)
    {
        try
        {
            return await ReloadOnceAsync(planOnly: false, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            _log.LogError("Reload failed: {Message}; the running configuration stays in force", e.Message);
            return ReloadOutcome.Failed($"reload failed: {e.Message}; the running configuration stays in force");
        }
        finally
        {
            Interlocked.Increment(ref _completed);
            _notify.Ready(_statusText());
        }
    }

    /// <summary>One plan (<c>lb reload --plan</c>): validate, and ask each subsystem what it would change.</summary>
    private async Task<ReloadOutcome> PlanAsync(CancellationToken ct)
    {
        try
        {
            return await ReloadOnceAsync(planOnly: true, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            _log.LogError("Reload plan failed: {Message}", e.Message);
            return ReloadOutcome.Failed($"reload plan failed: {e.Message}");
        }
    }

    /// <summary>Diagnostics are compared without their line, so an edit that shifts lines is not a "new" error.</summary>
    private static HashSet<string> ErrorKeys(IEnumerable<Diagnostic> diagnostics) => diagnostics
        .Where(d => d.Severity >= Severity.Error)
        .Select(d => $"{Path.GetFileName(d.Location.File)}|{d.Message}")
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// Loads and validates the file, then applies it to each running subsystem — or, <paramref name="planOnly"/>, asks each
    /// for the plan of that same reload (the subsystems decide it with the code that applies it) and changes nothing.
    /// </summary>
    private async Task<ReloadOutcome> ReloadOnceAsync(bool planOnly, CancellationToken ct)
    {
        if (!planOnly)
        {
            _notify.Reloading();
            _log.LogInformation("Reloading");
            _log.LogInformation("Opening file '{File}'.", _options.ConfigFile);
        }
        var config = ConfigLoader.Load(_options.ConfigFile, new ConfigLoadOptions
        {
            Preprocessor = new PreprocessorOptions { ConfigId = _options.ConfigId ?? PreprocessorOptions.DefaultConfigId() },
            CheckInterfaces = true,
            JournalPath = _options.JournalFile,
        });
        var keys = ErrorKeys(config.Diagnostics);
        var fresh = config.Diagnostics.Where(d => d.Severity >= Severity.Error && !_acceptedErrors.Contains($"{Path.GetFileName(d.Location.File)}|{d.Message}")).ToList();
        if (!planOnly)
        {
            foreach (var d in config.Diagnostics)
            {
                if (d.Severity == Severity.Warning)
                    _log.LogWarning("{Diagnostic}", d.ToString());
                else
                    _log.LogError("{Diagnostic}", d.ToString());
            }
        }
        var errors = config.Diagnostics.Where(d => d.Severity >= Severity.Error).Select(ReloadOutcome.ErrorLine).ToArray();
        if (config.HasFatal || fresh.Count > 0)
        {
            if (!planOnly)
            {
                _log.LogError("Reload refused: the new configuration has {Count} error(s) (first: {First}); keeping the running configuration",
                    fresh.Count > 0 ? fresh.Count : config.Diagnostics.Count(d => d.Severity == Severity.Fatal),
                    (fresh.FirstOrDefault() ?? config.Diagnostics.First(d => d.Severity == Severity.Fatal)).ToString());
            }
            var refusedFor = fresh.Count > 0 ? fresh : config.Diagnostics.Where(d => d.Severity == Severity.Fatal).ToList();
            return new ReloadOutcome(Refused: true, refusedFor.Select(ReloadOutcome.ErrorLine).ToArray(), []);
        }
        // The mappers ran inside the loader: their findings were among the errors above, judged as lb -t and start judge them.
        var mapped = config.Options;
        var lines = new List<string>();

        if (_vrrp?.Subsystem is { } vrrp)
        {
            if (planOnly)
            {
                lines.AddRange(await vrrp.PlanReloadAsync(Apply(mapped.Vrrp, _options), ct).ConfigureAwait(false));
            }
            else
            {
                var result = await vrrp.ReloadAsync(Apply(mapped.Vrrp, _options), ct).ConfigureAwait(false);
                foreach (var w in result.Warnings)
                    _log.LogWarning("VRRP reload: {Warning}", w);
                _log.LogInformation("VRRP reload: {Result}", result.Changes.Count == 0 ? "no change" : string.Join("; ", result.Changes));
                lines.AddRange(result.Lines);
            }
        }
        else if (!_options.CheckOnly && mapped.Vrrp.Instances.Count > 0)
        {
            const string Message = "vrrp_instance blocks were added but the VRRP subsystem is not running; restart lb to start it";
            if (!planOnly)
                _log.LogWarning("Reload: {Message}", Message);
            lines.Add("vrrp: warning: " + Message);
        }

        if (_checkers?.Subsystem is { } checkers)
        {
            if (planOnly)
            {
                lines.AddRange((await checkers.PlanReloadAsync(mapped.Checkers, ct).ConfigureAwait(false)).Lines);
            }
            else
            {
                var result = await checkers.ReloadAsync(mapped.Checkers, ct).ConfigureAwait(false);
                _log.LogInformation("Checker reload: {Result}", result.IsEmpty ? "no change" : result.ToString());
                lines.AddRange(result.Lines);
            }
        }
        else if (!_options.VrrpOnly && mapped.Checkers.VirtualServers.Count > 0)
        {
            const string Message = "virtual_server blocks were added but the checker subsystem is not running; restart lb to start it";
            if (!planOnly)
                _log.LogWarning("Reload: {Message}", Message);
            lines.Add("virtual_server: warning: " + Message);
        }

        if (planOnly)
            return new ReloadOutcome(Refused: false, errors, lines);

        Alerts?.Reload(mapped.Alerts);
        if (_lvsSync is not null)
            await _lvsSync.ReloadAsync(mapped.LvsSync, ct).ConfigureAwait(false);
        if (Announce is not null)
            await Announce.ReloadAsync(mapped.Announce, ct).ConfigureAwait(false);

        _acceptedErrors = keys;
        _log.LogInformation("Reload complete");
        return new ReloadOutcome(Refused: false, errors, lines);
    }

    /// <summary>The command-line switches that shape VRRP behaviour (-V, -X) carried into its options.</summary>
    public static VrrpSubsystemOptions Apply(VrrpSubsystemOptions options, CliOptions cli) =>
        options with { DontReleaseVrrp = cli.DontReleaseVrrp, ReleaseVips = cli.ReleaseVips };

    public void Dispose()
    {
        _cts.Cancel();
        while (_requests.TryDequeue(out var request))
            request.Done.TrySetResult(ReloadOutcome.Failed("the daemon is stopping"));
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        _cts.Dispose();
        _wake.Dispose();
    }
}

/// <summary>What one reload or plan found (<c>lb reload [--plan]</c>).</summary>
/// <param name="Refused">The configuration has errors the running one did not have (or a fatal one): refused, as SIGHUP refuses it.</param>
/// <param name="Errors">
/// Refused: the errors that refused it; otherwise the errors the file still has that the running configuration had too
/// (accepted, as SIGHUP accepts them). Each <c>FILE:LINE: error: MESSAGE</c>.
/// </param>
/// <param name="Lines">What the reload did (or, a plan, would do), one line per change, grouped: <c>vrrp:</c>,
/// <c>virtual_server:</c>, <c>ipvs:</c>, <c>checkers:</c>. Empty: no change.</param>
/// <param name="Failure">The reload or plan could not run (the daemon is stopping, a subsystem failed), else null.</param>
public sealed record ReloadOutcome(bool Refused, IReadOnlyList<string> Errors, IReadOnlyList<string> Lines, string? Failure = null)
{
    public static ReloadOutcome Failed(string why) => new(false, [], [], why);

    /// <summary><c>/etc/keepalived/keepalived.conf:12: error: virtual_router_id 300 outside range [1, 255]</c>.</summary>
    public static string ErrorLine(Diagnostic d)
    {
        var where = d.Location.IsKnown ? $"{d.Location.File}:{d.Location.Line.ToString(System.Globalization.CultureInfo.InvariantCulture)}: "
            : d.Location.File.Length > 0 ? $"{d.Location.File}: " : "";
        return $"{where}{(d.Severity == Severity.Fatal ? "fatal" : "error")}: {d.Message}";
    }
}
