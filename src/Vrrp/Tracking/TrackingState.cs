using Lb.Netlink.TrackFile;
using Lb.Vrrp.Options;

namespace Lb.Vrrp.Tracking;

/// <summary>The kind of a tracked object.</summary>
internal enum TrackerKind
{
    Interface,
    Script,
    File,
    Process,
}

/// <summary>One tracked object as an instance sees it: what it is, its weight and direction.</summary>
internal sealed record TrackerBinding(TrackerKind Kind, string Name, int Weight, bool Reverse);

/// <summary>
/// The current status of every tracked object and, from it, each instance's fault count and priority
/// delta, with keepalived's rules: weight 0 means "down = FAULT" (reverse: "up = FAULT"); a positive
/// weight is added while up; a negative weight is added (subtracted) while down; reverse flips the
/// sign of the adjustment. A track_file value is multiplied by its weight (weight 0: non-zero = FAULT;
/// a result below -253 = FAULT).
/// </summary>
internal sealed class TrackingState
{
    private readonly Dictionary<(TrackerKind, string), bool> _up = new();
    private readonly Dictionary<string, long> _fileValues = new(StringComparer.Ordinal);

    public void SetUp(TrackerKind kind, string name, bool up) => _up[(kind, name)] = up;

    public bool? IsUp(TrackerKind kind, string name) => _up.TryGetValue((kind, name), out var v) ? v : null;

    public void SetFileValue(string name, long value) => _fileValues[name] = value;

    /// <summary>Reload: a stopped or restarted tracker's state is forgotten (unknown counts as up; a file value as 0).</summary>
    public void Forget(TrackerKind kind, string name)
    {
        _up.Remove((kind, name));
        if (kind == TrackerKind.File)
            _fileValues.Remove(name);
    }

    public long? FileValue(string name) => _fileValues.TryGetValue(name, out var v) ? v : null;

    public (int Faults, int Delta, string? FirstFault) Evaluate(IEnumerable<TrackerBinding> bindings)
    {
        var faults = 0;
        var delta = 0;
        string? first = null;
        foreach (var b in bindings)
        {
            var m = b.Reverse ? -1 : 1;
            if (b.Kind == TrackerKind.File)
            {
                var v = _fileValues.TryGetValue(b.Name, out var fv) ? fv : 0;
                var status = TrackFileStatus.ForVrrp(v, b.Weight, b.Reverse);
                if (status.Fault)
                {
                    faults++;
                    first ??= $"track_file {b.Name}";
                }
                else
                {
                    delta += (int)status.Adjustment;
                }
                continue;
            }
            // unknown (not yet run) counts as up
            var up = IsUp(b.Kind, b.Name) ?? true;
            if (b.Weight == 0)
            {
                if (up == b.Reverse)
                {
                    faults++;
                    first ??= $"{KindWord(b.Kind)} {b.Name} {(up ? "up" : "down")}";
                }
            }
            else if (b.Weight > 0 && up)
            {
                delta += b.Weight * m;
            }
            else if (b.Weight < 0 && !up)
            {
                delta += b.Weight * m;
            }
        }
        return (faults, delta, first);
    }

    private static string KindWord(TrackerKind k) => k switch
    {
        TrackerKind.Interface => "track_interface",
        TrackerKind.Script => "track_script",
        TrackerKind.File => "track_file",
        _ => "track_process",
    };

    /// <summary>The bindings of an instance: its own interface (unless dont_track_primary), its track_* and those of its sync groups.</summary>
    public static IReadOnlyList<TrackerBinding> BindingsFor(VrrpInstanceOptions o, VrrpSubsystemOptions g)
    {
        var list = new List<TrackerBinding>();
        var groups = g.SyncGroups.Where(s => s.Members.Contains(o.Name)).ToArray();
        var zeroWeights = groups.Length > 0 && !groups.Any(s => s.SyncGroupTrackingWeight);
        if (o.Interface is not null && !o.DontTrackPrimary)
            list.Add(new TrackerBinding(TrackerKind.Interface, o.Interface, 0, false));
        void Add(IEnumerable<TrackedInterface> ifs, IEnumerable<TrackedReference> scripts, IEnumerable<TrackedReference> files, IEnumerable<TrackedReference> procs, bool zero)
        {
            foreach (var i in ifs)
                list.Add(new TrackerBinding(TrackerKind.Interface, i.Name, zero ? 0 : i.Weight, i.Reverse));
            foreach (var s in scripts)
            {
                var def = g.Scripts.FirstOrDefault(x => x.Name == s.Name);
                if (def is null)
                    continue;
                list.Add(new TrackerBinding(TrackerKind.Script, s.Name, zero ? 0 : s.Weight ?? def.Weight, s.Reverse ?? def.WeightReverse));
            }
            foreach (var f in files)
            {
                var def = g.TrackFiles.FirstOrDefault(x => x.Name == f.Name);
                if (def is null)
                    continue;
                list.Add(new TrackerBinding(TrackerKind.File, f.Name, zero ? 0 : f.Weight ?? def.Weight, f.Reverse ?? def.WeightReverse));
            }
            foreach (var p in procs)
            {
                var def = g.TrackProcesses.FirstOrDefault(x => x.Name == p.Name);
                if (def is null)
                    continue;
                list.Add(new TrackerBinding(TrackerKind.Process, p.Name, zero ? 0 : p.Weight ?? def.Weight, p.Reverse ?? def.WeightReverse));
            }
        }
        Add(o.TrackInterfaces, o.TrackScripts, o.TrackFiles, o.TrackProcesses, zeroWeights);
        foreach (var s in groups)
            Add(s.TrackInterfaces, s.TrackScripts, s.TrackFiles, s.TrackProcesses, false);
        return list;
    }
}
