using Lb.Vrrp.Diagnostics;
using Lb.Vrrp.Options;
using Lb.Scripts;
using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.Tracking;

/// <summary>
/// Runs one <c>vrrp_script</c> every interval (never two runs at once) and turns exit statuses into
/// an up/down state with rise/fall hysteresis, logging as keepalived does.
/// </summary>
internal sealed class ScriptTracker : IDisposable
{
    private readonly VrrpScriptOptions _options;
    private readonly VrrpSubsystemOptions _globals;
    private readonly IScriptRunner _runner;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action<string, bool> _changed;
    private readonly CancellationTokenSource _cts = new();
    private ITimer? _timer;
    private int _running;
    private int _successes;
    private int _failures;
    private int? _lastStatus;

    public ScriptTracker(VrrpScriptOptions options, VrrpSubsystemOptions globals, IScriptRunner runner, TimeProvider time, ILogger logger, Action<string, bool> changed)
    {
        _options = options;
        _globals = globals;
        _runner = runner;
        _time = time;
        _logger = logger;
        _changed = changed;
        Up = !options.InitFail;
    }

    public string Name => _options.Name;

    public bool Up { get; private set; }

    public long Runs { get; private set; }

    public void Start() => _timer = _time.CreateTimer(_ => Tick(), null, TimeSpan.Zero, _options.Interval);

    private void Tick()
    {
        if (Interlocked.Exchange(ref _running, 1) == 1)
            return;
        _ = RunOnceAsync();
    }

    internal async Task RunOnceAsync()
    {
        try
        {
            var invocation = ScriptInvocation.Create(_options.Command, _options.User, _options.Group, _globals.ScriptUser, _globals.ScriptGroup, _options.EffectiveTimeout);
            var r = await _runner.RunAsync(invocation, _cts.Token).ConfigureAwait(false);
            Runs++;
            Report(r);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    internal void Report(ScriptResult r)
    {
        if (r.OutputTruncated)
            _logger.ScriptOutputTruncated(Name, ScriptRunner.OutputHeadBytes);
        if (r.TimedOut)
            _logger.ScriptTimedOut(Name);
        var status = r.Error is not null ? 127 : r.ExitCode ?? -1;
        if (!r.TimedOut && _lastStatus != status)
        {
            _logger.ScriptNowReturning(Name, status);
            _lastStatus = status;
        }
        if (r.Succeeded)
        {
            _failures = 0;
            _successes++;
            if (!Up && _successes >= _options.Rise)
            {
                Up = true;
                _logger.ScriptSucceeded(Name);
                _changed(Name, true);
            }
        }
        else
        {
            _successes = 0;
            _failures++;
            if (Up && _failures >= _options.Fall)
            {
                Up = false;
                if (!r.TimedOut)
                    _logger.ScriptFailed(Name, status);
                _changed(Name, false);
            }
        }
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _cts.Cancel();
        _cts.Dispose();
    }
}
