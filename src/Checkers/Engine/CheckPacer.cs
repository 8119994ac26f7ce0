using Microsoft.Extensions.Logging;

namespace Lb.Checkers.Engine;

/// <summary>Limits and thresholds of <see cref="CheckPacer"/>.</summary>
public sealed record CheckPacerOptions
{
    /// <summary>Check rounds running at once; more wait for a turn (and that wait counts as lag).</summary>
    public int MaxInFlight { get; init; } = 2048;

    /// <summary>A round that starts this much later than it was due means the process is not keeping up.</summary>
    public TimeSpan LagThreshold { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The effective delay_loop is never stretched beyond this multiple.</summary>
    public double MaxStretch { get; init; } = 16;

    /// <summary>
    /// How often the stretch is re-evaluated: a window in which every round started late (the backlog never drained)
    /// means the process is behind; one in which some round started on time means it keeps up, however late others were.
    /// </summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>What the pacer measured; read by status and metrics without waiting.</summary>
/// <param name="Stretch">Multiple applied to every delay_loop (1: on schedule).</param>
/// <param name="LagMilliseconds">Largest lag (round start after its due time) in the last complete window.</param>
/// <param name="InFlight">Rounds running now.</param>
/// <param name="Waiting">Rounds due and waiting for a turn.</param>
/// <param name="StretchedRounds">Rounds scheduled with a stretched delay since start.</param>
/// <param name="IgnoredTimeouts">Timeouts not counted against a server because the process was overloaded.</param>
/// <param name="LateRounds">Rounds that started later than the lag threshold.</param>
public sealed record CheckPacerSnapshot(double Stretch, double LagMilliseconds, int InFlight, int Waiting, long StretchedRounds, long IgnoredTimeouts, long LateRounds)
{
    /// <summary>True while checks run less often than configured.</summary>
    public bool Degraded => Stretch > 1;

    /// <summary>
    /// Smallest lag of the rounds started in the last complete window: above the threshold, every round of that window
    /// started late (the process was behind); near zero, the process kept up however late a burst's last rounds were.
    /// </summary>
    public double MinLagMilliseconds { get; init; }

    /// <summary>Windows in which the process was behind (every round started late) since start.</summary>
    public long BehindWindows { get; init; }

    /// <summary>
    /// Attempts whose time limit passed with their answer already waiting at the socket, not yet processed: not
    /// timeouts (the round waited for them), and a sign the process is behind on its socket events.
    /// </summary>
    public long AnswersLate { get; init; }
}

/// <summary>
/// Degrade, don't fail: measures how late check rounds start compared with when they were due (timer lateness and
/// waiting for one of <see cref="CheckPacerOptions.MaxInFlight"/> turns). When the process cannot keep up it stretches
/// every checker's delay_loop (checks less often), says so in the log and in <see cref="Snapshot"/>, and lets
/// <see cref="CheckRound"/> treat a timeout measured while the process was late as "not a verdict" instead of failing
/// the server.
/// </summary>
/// <remarks>
/// "Cannot keep up" is a backlog that never drains: in a window (<see cref="CheckPacerOptions.Window"/>) EVERY round
/// started more than <see cref="CheckPacerOptions.LagThreshold"/> after it was due (the smallest lag of the window is
/// above it). Rounds due together (a thousand checkers started in the same second) start one after the other, the last
/// of a burst late by the time the burst takes; that is not being behind as long as the process gets through the burst
/// and starts some round on time in the window. (The largest lag was the signal before: such bursts alone then
/// stretched delay_loop to its 16× bound while the process sat idle 15 seconds in 16.) The round's own duration
/// (connect waits, a slow server) is never lag: the next round is due delay_loop after the round ends. Waiting for a
/// turn is counted as a late round but is our own queueing, not the process being behind: it does not stretch.
/// When behind, the stretch grows ×1.5, then holds for one stretched delay_loop (rounds scheduled before the change are
/// still due at the old pace: growing again before they are through would overshoot); a window in which the process
/// kept up shrinks it ÷1.1.
/// </remarks>
/// <remarks>
/// Use from a checker loop (one <see cref="PacedLoop"/> per loop):
/// <code>
/// using var pace = pacer.Track();
/// while (…) { await pace.WaitTurnAsync(ct); var r = await round.RunAsync(…); if (!round.Verdict) { await pace.DelayAsync(delayLoop, ct); continue; } …; await pace.DelayAsync(delayLoop, ct); }
/// </code>
/// </remarks>
public sealed class CheckPacer : IDisposable
{
    private readonly TimeProvider _time;
    private readonly ILogger? _logger;
    private readonly CheckPacerOptions _options;
    private readonly SemaphoreSlim _turns;
    private readonly long _thresholdTicks;
    private readonly long _windowTicks;
    private readonly object _gate = new();
    private long _windowStart;
    private long _windowMaxLag;
    private long _windowMinLag = long.MaxValue;
    private long _lastWindowMaxLag;
    private long _lastWindowMinLag;
    private long _windowStartOfLast;
    private long _windowRounds;
    private long _windowIgnored;
    private long _behindWindows;
    private long _holdUntil = long.MinValue;
    private long _longestDelayLoop;
    private double _stretch = 1;
    private double _loggedStretch = 1;
    private long _lastOverload = long.MinValue;
    private int _inFlight;
    private int _waiting;
    private long _stretchedRounds;
    private long _answersLate;
    private long _ignoredTimeouts;
    private long _lateRounds;

    /// <summary>Creates a pacer on <paramref name="time"/>.</summary>
    public CheckPacer(TimeProvider time, ILogger? logger = null, CheckPacerOptions? options = null)
    {
        _time = time;
        _logger = logger;
        _options = options ?? new CheckPacerOptions();
        _turns = new SemaphoreSlim(_options.MaxInFlight, _options.MaxInFlight);
        _thresholdTicks = ToTimestamp(_options.LagThreshold);
        _windowTicks = ToTimestamp(_options.Window);
        _windowStart = time.GetTimestamp();
    }

    /// <summary>The current multiple of delay_loop.</summary>
    public double Stretch
    {
        get
        {
            lock (_gate)
                return _stretch;
        }
    }

    /// <summary>The measurements so far.</summary>
    public CheckPacerSnapshot Snapshot()
    {
        lock (_gate)
        {
            return new CheckPacerSnapshot(_stretch, TicksToMs(Math.Max(_lastWindowMaxLag, _windowMaxLag)), Volatile.Read(ref _inFlight), Volatile.Read(ref _waiting),
                Interlocked.Read(ref _stretchedRounds), Interlocked.Read(ref _ignoredTimeouts), Interlocked.Read(ref _lateRounds))
            {
                MinLagMilliseconds = TicksToMs(_lastWindowMinLag),
                BehindWindows = _behindWindows,
                AnswersLate = Interlocked.Read(ref _answersLate),
            };
        }
    }

    /// <summary>State for one checker loop: when its next round is due and whether it holds a turn.</summary>
    public PacedLoop Track() => new(this);

    /// <summary><paramref name="delayLoop"/> as it is applied now (stretched while overloaded).</summary>
    public TimeSpan Apply(TimeSpan delayLoop)
    {
        double s;
        lock (_gate)
        {
            s = _stretch;
            var ticks = ToTimestamp(delayLoop);
            if (ticks > _longestDelayLoop)
                _longestDelayLoop = ticks;
        }
        if (s <= 1)
            return delayLoop;
        Interlocked.Increment(ref _stretchedRounds);
        return TimeSpan.FromTicks((long)(delayLoop.Ticks * s));
    }

    /// <summary>
    /// Whether a timeout of an attempt that started at <paramref name="attemptStart"/> (a <see cref="TimeProvider"/>
    /// timestamp) and whose timer fired <paramref name="timerLateness"/> late is "not a verdict": the process was
    /// lagging meanwhile. Counts it when so.
    /// </summary>
    public bool IgnoreTimeout(long attemptStart, TimeSpan timerLateness)
    {
        var now = _time.GetTimestamp();
        bool overloaded;
        lock (_gate)
        {
            if (ToTimestamp(timerLateness) > _thresholdTicks)
                Overloaded(now, ToTimestamp(timerLateness));
            overloaded = _lastOverload >= attemptStart;
        }
        if (overloaded)
        {
            Interlocked.Increment(ref _ignoredTimeouts);
            lock (_gate)
                _windowIgnored++;
        }
        return overloaded;
    }

    /// <summary>
    /// An attempt's time limit passed while its answer was waiting at the socket (see <see cref="IAnswerArrival"/>): counted,
    /// and weighed like a timeout not counted, since both say the process is behind on its socket events.
    /// </summary>
    internal void AnswerArrivedLate()
    {
        Interlocked.Increment(ref _answersLate);
        lock (_gate)
            _windowIgnored++;
    }

    /// <summary>Records that a round started <paramref name="lagTicks"/> (timestamp units) after it was due.</summary>
    internal void ReportLag(long lagTicks, bool scheduling)
    {
        var now = _time.GetTimestamp();
        lock (_gate)
        {
            if (lagTicks > _thresholdTicks)
            {
                Interlocked.Increment(ref _lateRounds);
                // A timeout measured around a late start is not trusted (IgnoreTimeout); waiting for a turn is our own queueing.
                if (scheduling)
                    _lastOverload = now;
            }
            // Only timer lateness says whether the process keeps up; a turn's wait does not stretch delay_loop.
            if (scheduling)
            {
                _windowMaxLag = Math.Max(_windowMaxLag, lagTicks);
                _windowMinLag = Math.Min(_windowMinLag, lagTicks);
                _windowRounds++;
            }
            CloseWindows(now);
        }
    }

    private void Overloaded(long now, long lagTicks)
    {
        _lastOverload = now;
        _windowMaxLag = Math.Max(_windowMaxLag, lagTicks);
    }

    private void CloseWindows(long now)
    {
        if (now - _windowStart < _windowTicks || _windowMinLag == long.MaxValue)
            return; // a window without a round start says nothing either way: it goes on until one starts
        var lag = _windowMaxLag;
        var before = _stretch;
        // Behind: every round of the window started late, or at least 1 % of its rounds ended on a timeout that could
        // not be counted because the process was late (the backlog is where the answers wait, not where rounds start:
        // socket completions run on the event thread, the round timers on the pool).
        var behind = _windowMinLag > _thresholdTicks || (_windowIgnored > 0 && _windowIgnored * 100 >= _windowRounds);
        if (behind)
        {
            _behindWindows++;
            _lastOverload = now;
            if (now >= _holdUntil && _stretch < _options.MaxStretch)
            {
                _stretch = Math.Min(_options.MaxStretch, _stretch * 1.5);
                _holdUntil = now + (long)(_longestDelayLoop * _stretch);
            }
        }
        else if (_stretch > 1)
            _stretch = Math.Max(1, _stretch / 1.1);
        _lastWindowMaxLag = lag;
        _lastWindowMinLag = _windowMinLag;
        _windowMaxLag = 0;
        _windowMinLag = long.MaxValue;
        _windowRounds = 0;
        _windowIgnored = 0;
        _windowStartOfLast = _windowStart;
        _windowStart = now;
        if (_stretch == before)
            return;
        if (before == 1 || _stretch >= _loggedStretch * 2 || (_stretch == _options.MaxStretch && _loggedStretch < _options.MaxStretch))
        {
            _loggedStretch = _stretch;
            _logger?.PacerStretched(Math.Round(TicksToMs(now - _windowStartOfLast)), Math.Round(TicksToMs(_lastWindowMinLag)), Math.Round(TicksToMs(lag)),
                Volatile.Read(ref _inFlight), Volatile.Read(ref _waiting), Math.Round(_stretch, 1));
        }
        else if (_stretch == 1)
        {
            _loggedStretch = 1;
            _logger?.PacerRecovered(Interlocked.Read(ref _ignoredTimeouts));
        }
    }

    internal async ValueTask AcquireAsync(CancellationToken ct)
    {
        if (!_turns.Wait(0, CancellationToken.None))
        {
            Interlocked.Increment(ref _waiting);
            try
            {
                await _turns.WaitAsync(ct).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }
        Interlocked.Increment(ref _inFlight);
    }

    internal void Release()
    {
        Interlocked.Decrement(ref _inFlight);
        _turns.Release();
    }

    internal TimeProvider Time => _time;

    /// <inheritdoc/>
    public void Dispose() => _turns.Dispose();

    private long ToTimestamp(TimeSpan t) => (long)(t.Ticks * (double)_time.TimestampFrequency / TimeSpan.TicksPerSecond);

    private double TicksToMs(long ticks) => ticks * 1000.0 / _time.TimestampFrequency;
}

/// <summary>One checker loop's view of the <see cref="CheckPacer"/>: when its next round is due, and its turn.</summary>
public sealed class PacedLoop : IDisposable
{
    private readonly CheckPacer _pacer;
    private long _due = -1;
    private bool _holding;

    internal PacedLoop(CheckPacer pacer) => _pacer = pacer;

    /// <summary>Waits for a turn to run a round; measures how late it starts compared with when it was due.</summary>
    public async ValueTask WaitTurnAsync(CancellationToken cancellationToken)
    {
        if (_holding)
            return;
        var time = _pacer.Time;
        if (_due >= 0)
            _pacer.ReportLag(Math.Max(0, time.GetTimestamp() - _due), scheduling: true);
        var asked = time.GetTimestamp();
        await _pacer.AcquireAsync(cancellationToken).ConfigureAwait(false);
        _holding = true;
        var waited = time.GetTimestamp() - asked;
        if (waited > 0)
            _pacer.ReportLag(waited, scheduling: false);
    }

    /// <summary>Gives the turn back and waits until the next round is due: <paramref name="delayLoop"/>, stretched while overloaded.</summary>
    public Task DelayAsync(TimeSpan delayLoop, CancellationToken cancellationToken)
    {
        Release();
        var delay = _pacer.Apply(delayLoop);
        var time = _pacer.Time;
        _due = time.GetTimestamp() + (long)(delay.Ticks * (double)time.TimestampFrequency / TimeSpan.TicksPerSecond);
        return TimerDelay.DelayAsync(time, delay, cancellationToken);
    }

    /// <summary>Gives the turn back (end of the loop).</summary>
    public void Dispose() => Release();

    private void Release()
    {
        if (!_holding)
            return;
        _holding = false;
        _pacer.Release();
    }
}

internal static partial class PacerLog
{
    [LoggerMessage(60, LogLevel.Warning, "Checkers cannot keep up (for {WindowMs} ms every round started at least {MinLagMs} ms late, up to {LagMs} ms; {InFlight} in flight, {Waiting} waiting): checking every {Stretch}x delay_loop")]
    public static partial void PacerStretched(this ILogger logger, double windowMs, double minLagMs, double lagMs, int inFlight, int waiting, double stretch);

    [LoggerMessage(61, LogLevel.Information, "Checkers keep up again: checking every delay_loop as configured ({Ignored} timeouts not counted while late so far)")]
    public static partial void PacerRecovered(this ILogger logger, long ignored);
}
