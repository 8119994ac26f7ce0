using Lb.Netlink.TrackFile;
using Lb.Scripts;
using Lb.Vrrp.Diagnostics;
using Lb.Vrrp.Engine;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Reload;
using Lb.Vrrp.Runtime;
using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.Tracking;

/// <summary>
/// The trackers (keepalived's vrrp_track.c): vrrp_script runs, track_file reads and polls, vrrp_track_process scans,
/// track_interface link states, all into one <see cref="TrackingState"/>, and the instances bound to a tracker that
/// changed re-evaluated. Its state is changed under the engine lock (<paramref name="gate"/>); file and /proc I/O
/// never happens under it.
/// </summary>
internal sealed class TrackerHost(object gate, ILinkMonitor links, ScriptRunner scripts, TimeProvider time, ILogger logger, Func<VrrpSubsystemOptions> options, Func<IEnumerable<InstanceRuntime>> runtimes)
{
    /// <summary>Time a start or a reload waits for the first read of a tracked file (wall clock: it bounds I/O, not protocol timing).</summary>
    private static readonly TimeSpan FileReadBound = TimeSpan.FromSeconds(1);

    private readonly TrackingState _tracking = new();
    private readonly Dictionary<string, ScriptTracker> _scriptTrackers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, VrrpScriptOptions> _runningScripts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, VrrpTrackFileOptions> _runningFiles = new(StringComparer.Ordinal);
    private readonly Dictionary<string, VrrpTrackProcessOptions> _runningProcesses = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TrackFileReader> _fileReaders = new(StringComparer.Ordinal);
    private volatile VrrpTrackFileOptions[] _polledFiles = [];
    private volatile VrrpTrackProcessOptions[] _polledProcesses = [];
    private ITimer? _filePoller;
    private ITimer? _processPoller;
    private volatile bool _stopped;

    /// <summary>First values of the track_file and vrrp_track_process trackers about to (re)start.</summary>
    internal sealed record FirstValues(IReadOnlyDictionary<string, long> Files, IReadOnlyDictionary<string, int> Processes);

    /// <summary>The trackers running (read by the reload planner; changed only by <see cref="Apply"/>, under the lifecycle gate).</summary>
    public RunningTrackers Running => new(_runningScripts, _runningFiles, _runningProcesses);

    /// <summary>Test seam: reads of tracked files in flight (at most one per file).</summary>
    internal int FileReadsInFlight
    {
        get
        {
            lock (_fileReaders)
                return _fileReaders.Values.Count(r => r.Busy);
        }
    }

    /// <summary>Starts the trackers the instances use (start-up).</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        var o = options();
        var rts = runtimes().ToArray();
        var scriptsUsed = o.Scripts.Where(s => rts.Any(r => r.Bindings.Any(b => b.Kind == TrackerKind.Script && b.Name == s.Name))).ToArray();
        if (!o.EnableScriptSecurity && (scriptsUsed.Length > 0 || o.Instances.Any(i => i.Notify is not null || i.NotifyMaster is not null || i.NotifyBackup is not null || i.NotifyFault is not null || i.NotifyStop is not null)))
            logger.InstanceWarning("vrrp", "SECURITY VIOLATION - scripts are being executed but script_security not enabled.");
        var changes = ReloadPlanner.PlanTrackers(null, o, RunningTrackers.None);
        var first = await ReadFirstValuesAsync(changes, ct).ConfigureAwait(false);
        lock (gate)
            Apply(changes, first, null);
    }

    /// <summary>Stops every tracker; polls and reads returning later change nothing.</summary>
    public void Stop()
    {
        _stopped = true;
        foreach (var t in _scriptTrackers.Values)
            t.Dispose();
        _filePoller?.Dispose();
        _processPoller?.Dispose();
    }

    /// <summary>
    /// Reads, off the engine lock, the files and processes of the trackers <paramref name="changes"/> starts or restarts
    /// (init_file written first). A file whose read does not return within <see cref="FileReadBound"/> counts as
    /// unreadable (0), as keepalived counts a file it cannot read; its value follows when the read returns.
    /// </summary>
    public async Task<FirstValues> ReadFirstValuesAsync(IReadOnlyList<TrackerChange> changes, CancellationToken ct)
    {
        var starting = changes.Where(c => c.Action != Reload.VrrpReloadAction.Removed).Select(c => c.Definition).ToArray();
        var files = starting.OfType<VrrpTrackFileOptions>().ToArray();
        var procs = starting.OfType<VrrpTrackProcessOptions>().ToArray();
        var fileValues = new Dictionary<string, long>(StringComparer.Ordinal);
        if (files.Length > 0)
        {
            var readers = files.Select(f => (File: f, Reader: ReaderFor(f.Path))).ToArray();
            foreach (var (f, r) in readers)
                r.TryStart(f.InitFileValue is { } iv ? new TrackFileInit(iv, f.InitFileOverwrite) : null); // a read already in flight for this path (a poll) is waited for instead
            try
            {
                await Task.WhenAll(readers.Select(x => x.Reader.Current)).WaitAsync(FileReadBound, TimeProvider.System, ct).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
            foreach (var (f, r) in readers)
            {
                var t = r.Current;
                if (!t.IsCompleted)
                {
                    if (r.MarkStuck())
                        logger.TrackFileStuck(f.Name, f.Path);
                    fileValues[f.Name] = 0;
                    continue;
                }
                var read = await t.ConfigureAwait(false);
                fileValues[f.Name] = read.Value ?? 0;
                if (read.Value is null)
                    logger.TrackFileInvalidNumber(read.Invalid!, f.Path);
            }
        }
        var counts = procs.Length > 0 ? ProcessScanner.Count(procs) : new Dictionary<string, int>();
        return new FirstValues(fileValues, counts);
    }

    /// <summary>
    /// Stops, restarts and starts the trackers as planned (a restarted one from its initial state), with the first
    /// values read before (<see cref="ReadFirstValuesAsync"/>: no I/O here). Returns the trackers whose state was
    /// reset: the caller re-evaluates the instances bound to them. Caller holds the engine lock.
    /// </summary>
    public HashSet<(TrackerKind, string)> Apply(IReadOnlyList<TrackerChange> changes, FirstValues first, Action<TrackerChange>? journal)
    {
        var touched = new HashSet<(TrackerKind, string)>();
        foreach (var c in changes)
        {
            if (c.Action != Reload.VrrpReloadAction.Added)
            {
                StopOne(c.Kind, c.Name);
                _tracking.Forget(c.Kind, c.Name);
            }
            if (c.Definition is not null)
                StartOne(c.Definition, first);
            touched.Add((c.Kind, c.Name));
            journal?.Invoke(c);
        }
        _polledFiles = [.. _runningFiles.Values];
        _polledProcesses = [.. _runningProcesses.Values];
        if (_polledFiles.Length > 0)
            _filePoller ??= time.CreateTimer(_ => PollFiles(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        if (_polledProcesses.Length > 0)
            _processPoller ??= time.CreateTimer(_ => PollProcesses(_polledProcesses), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        return touched;
    }

    private void StopOne(TrackerKind kind, string name)
    {
        switch (kind)
        {
            case TrackerKind.Script:
                _runningScripts.Remove(name);
                if (_scriptTrackers.Remove(name, out var t))
                    t.Dispose();
                break;
            case TrackerKind.File:
                _runningFiles.Remove(name);
                break;
            case TrackerKind.Process:
                _runningProcesses.Remove(name);
                break;
        }
    }

    private void StartOne(object definition, FirstValues first)
    {
        switch (definition)
        {
            case VrrpScriptOptions s:
                _runningScripts[s.Name] = s;
                StartScript(s);
                break;
            case VrrpTrackFileOptions f:
                _runningFiles[f.Name] = f;
                _tracking.SetFileValue(f.Name, first.Files.GetValueOrDefault(f.Name));
                break;
            case VrrpTrackProcessOptions p:
                _runningProcesses[p.Name] = p;
                var n = first.Processes.GetValueOrDefault(p.Name);
                _tracking.SetUp(TrackerKind.Process, p.Name, n >= p.Quorum && n <= p.QuorumMax);
                break;
        }
    }

    private void StartScript(VrrpScriptOptions so)
    {
        var o = options();
        if (o.EnableScriptSecurity && ScriptInvocation.Create(so.Command, so.User, so.Group, o.ScriptUser, o.ScriptGroup, so.EffectiveTimeout) is var inv
            && ScriptRunner.Identity(inv, out _) is { } id && ScriptSecurity.Check(so.Command[0], id, true) is { Disabled: true } check)
        {
            logger.InstanceWarning("vrrp", $"Disabling track script {so.Name} due to insecure ({string.Join("; ", check.Messages)})");
            return;
        }
        ScriptTracker? tracker = null;
        tracker = new ScriptTracker(so, o, scripts, time, logger, (name, up) =>
        {
            lock (gate)
            {
                // a run that ends after its tracker was stopped or restarted by a reload reports nothing
                if (_scriptTrackers.TryGetValue(name, out var current) && current == tracker)
                    Changed(TrackerKind.Script, name, up);
            }
        });
        _tracking.SetUp(TrackerKind.Script, so.Name, tracker.Up);
        _scriptTrackers[so.Name] = tracker;
        tracker.Start();
    }

    /// <summary>
    /// Re-reads the linked interfaces' states and gives the instance its tracking verdict (faults, priority delta).
    /// Caller holds the engine lock.
    /// </summary>
    public void Reevaluate(InstanceRuntime rt, string reason)
    {
        foreach (var b in rt.Bindings.Where(b => b.Kind == TrackerKind.Interface))
        {
            var link = links.GetLink(b.Name);
            _tracking.SetUp(TrackerKind.Interface, b.Name, link is { Exists: true, IsUp: true });
        }
        var (faults, delta, first) = _tracking.Evaluate(rt.Bindings);
        rt.Machine.UpdateTracking(faults, delta, faults > 0 && first is not null ? first : reason);
    }

    private TrackFileReader ReaderFor(string path)
    {
        lock (_fileReaders)
        {
            if (!_fileReaders.TryGetValue(path, out var r))
                _fileReaders[path] = r = new TrackFileReader(path, OnFileRead);
            return r;
        }
    }

    /// <summary>The file poller (every second): starts one read per file, never blocks, takes no lock across I/O.</summary>
    private void PollFiles()
    {
        if (_stopped)
            return;
        foreach (var path in _polledFiles.Select(f => f.Path).Distinct(StringComparer.Ordinal))
        {
            if (ReaderFor(path).Poll() != TrackFilePoll.BecameStuck)
                continue;
            lock (gate)
            {
                foreach (var f in _runningFiles.Values.Where(f => f.Path == path))
                {
                    logger.TrackFileStuck(f.Name, f.Path);
                    SetFileValueLocked(f, 0);
                }
            }
        }
    }

    /// <summary>A read of <paramref name="path"/> returned (on the reading thread).</summary>
    private void OnFileRead(string path, TrackFileRead read)
    {
        if (_stopped)
            return;
        lock (gate)
        {
            foreach (var f in _runningFiles.Values.Where(f => f.Path == path))
            {
                if (read.Value is { } value)
                    SetFileValueLocked(f, value);
                else
                    logger.TrackFileInvalidNumber(read.Invalid!, path);
            }
        }
    }

    private void SetFileValueLocked(VrrpTrackFileOptions f, long value)
    {
        if (_tracking.FileValue(f.Name) == value)
            return;
        _tracking.SetFileValue(f.Name, value);
        foreach (var rt in runtimes().Where(r => r.Bindings.Any(b => b.Kind == TrackerKind.File && b.Name == f.Name)))
            Reevaluate(rt, $"track_file {f.Name} = {value}");
    }

    private void PollProcesses(IReadOnlyList<VrrpTrackProcessOptions> procs)
    {
        if (_stopped || procs.Count == 0)
            return;
        var counts = ProcessScanner.Count(procs);
        lock (gate)
        {
            foreach (var p in procs)
            {
                var up = counts[p.Name] >= p.Quorum && counts[p.Name] <= p.QuorumMax;
                if (_tracking.IsUp(TrackerKind.Process, p.Name) == up)
                    continue;
                Changed(TrackerKind.Process, p.Name, up);
            }
        }
    }

    /// <summary>A tracker's state changed: the instances bound to it are re-evaluated. Caller holds the engine lock.</summary>
    private void Changed(TrackerKind kind, string name, bool up)
    {
        _tracking.SetUp(kind, name, up);
        var word = kind switch
        {
            TrackerKind.Script => "track_script",
            TrackerKind.Process => "track_process",
            _ => "track",
        };
        foreach (var rt in runtimes().Where(r => r.Bindings.Any(b => b.Kind == kind && b.Name == name)))
            Reevaluate(rt, $"{word} {name} {(up ? "up" : "down")}");
    }
}
