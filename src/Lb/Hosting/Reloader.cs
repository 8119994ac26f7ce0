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

    /// <summary>Reloads completed (applied or refused), for tests and status.</summary>
    public int Completed => Volatile.Read(ref _completed);

    private int _completed;

    /// <summary>Called from the signal handler: never blocks, never throws.</summary>
    public void Request()
    {
        if (Interlocked.Exchange(ref _pending, 1) == 0)
            _wake.Release();
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
                return;
            }
            Interlocked.Exchange(ref _pending, 0);
            try
            {
                await ReloadOnceAsync(_cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_cts.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _log.LogError("Reload failed: {Message}; the running configuration stays in force", e.Message);
            }
            finally
            {
                Interlocked.Increment(ref _completed);
                _notify.Ready(_statusText());
            }
        }
    }

    /// <summary>Diagnostics are compared without their line, so an edit that shifts lines is not a "new" error.</summary>
    private static HashSet<string> ErrorKeys(IEnumerable<Diagnostic> diagnostics) => diagnostics
        .Where(d => d.Severity >= Severity.Error)
        .Select(d => $"{Path.GetFileName(d.Location.File)}|{d.Message}")
        .ToHashSet(StringComparer.Ordinal);

    private async Task ReloadOnceAsync(CancellationToken ct)
    {
        _notify.Reloading();
        _log.LogInformation("Reloading");
        _log.LogInformation("Opening file '{File}'.", _options.ConfigFile);
        var config = ConfigLoader.Load(_options.ConfigFile, new ConfigLoadOptions
        {
            Preprocessor = new PreprocessorOptions { ConfigId = _options.ConfigId ?? PreprocessorOptions.DefaultConfigId() },
            CheckInterfaces = true,
            JournalPath = _options.JournalFile,
        });
        var keys = ErrorKeys(config.Diagnostics);
        var fresh = config.Diagnostics.Where(d => d.Severity >= Severity.Error && !_acceptedErrors.Contains($"{Path.GetFileName(d.Location.File)}|{d.Message}")).ToList();
        foreach (var d in config.Diagnostics)
        {
            if (d.Severity == Severity.Warning)
                _log.LogWarning("{Diagnostic}", d.ToString());
            else
                _log.LogError("{Diagnostic}", d.ToString());
        }
        if (config.HasFatal || fresh.Count > 0)
        {
            _log.LogError("Reload refused: the new configuration has {Count} error(s) (first: {First}); keeping the running configuration",
                fresh.Count > 0 ? fresh.Count : config.Diagnostics.Count(d => d.Severity == Severity.Fatal),
                (fresh.FirstOrDefault() ?? config.Diagnostics.First(d => d.Severity == Severity.Fatal)).ToString());
            return;
        }
        // The mappers ran inside the loader: their findings were among the errors above, judged as lb -t and start judge them.
        var mapped = config.Options;

        if (_vrrp?.Subsystem is { } vrrp)
        {
            var result = await vrrp.ReloadAsync(Apply(mapped.Vrrp, _options), ct).ConfigureAwait(false);
            foreach (var w in result.Warnings)
                _log.LogWarning("VRRP reload: {Warning}", w);
            _log.LogInformation("VRRP reload: {Result}", result.Changes.Count == 0 ? "no change" : string.Join("; ", result.Changes));
        }
        else if (!_options.CheckOnly && mapped.Vrrp.Instances.Count > 0)
            _log.LogWarning("Reload: vrrp_instance blocks were added but the VRRP subsystem is not running; restart lb to start it");

        if (_checkers?.Subsystem is { } checkers)
        {
            var result = await checkers.ReloadAsync(mapped.Checkers, ct).ConfigureAwait(false);
            _log.LogInformation("Checker reload: {Result}", result.IsEmpty ? "no change" : result.ToString());
        }
        else if (!_options.VrrpOnly && mapped.Checkers.VirtualServers.Count > 0)
            _log.LogWarning("Reload: virtual_server blocks were added but the checker subsystem is not running; restart lb to start it");

        Alerts?.Reload(mapped.Alerts);
        if (_lvsSync is not null)
            await _lvsSync.ReloadAsync(mapped.LvsSync, ct).ConfigureAwait(false);

        _acceptedErrors = keys;
        _log.LogInformation("Reload complete");
    }

    /// <summary>The command-line switches that shape VRRP behaviour (-V, -X) carried into its options.</summary>
    public static VrrpSubsystemOptions Apply(VrrpSubsystemOptions options, CliOptions cli) =>
        options with { DontReleaseVrrp = cli.DontReleaseVrrp, ReleaseVips = cli.ReleaseVips };

    public void Dispose()
    {
        _cts.Cancel();
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
