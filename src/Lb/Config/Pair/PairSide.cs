using System.Net;
using System.Net.Sockets;
using Lb.Vrrp.Options;

namespace Lb.Config.Pair;

/// <summary>
/// One director's configuration as the pair check sees it: the loaded tree (for the lines findings name) and the VRRP
/// options the mappers make of it (for the values, with keepalived's defaults applied once, where the daemon gets them).
/// </summary>
public sealed class PairSide
{
    /// <param name="label">How findings and grouped diagnostics name this side: a file name (<c>--peer</c>) or <c>@ID</c>.</param>
    /// <param name="config">The side's configuration, loaded as <c>lb -t</c> loads it.</param>
    /// <param name="prefixLocations">True when both sides are the same file (<c>@ID</c>): a position is then written
    /// <c>@ID file: Line N</c>, since the line alone does not say which director it applies to.</param>
    public PairSide(string label, LoadedConfig config, bool prefixLocations)
    {
        Label = label;
        Config = config;
        PrefixLocations = prefixLocations;
        Vrrp = config.Options.Vrrp;
        Instances = BuildInstances();
    }

    public string Label { get; }

    public LoadedConfig Config { get; }

    public bool PrefixLocations { get; }

    public VrrpSubsystemOptions Vrrp { get; }

    internal IReadOnlyList<PairInstance> Instances { get; }

    /// <summary>A position as findings print it: <c>a.conf: Line 14</c>, or <c>@director2 k.conf: Line 14</c>.</summary>
    internal string Where(SourceLocation location) =>
        (PrefixLocations || !location.IsKnown ? Label + " " : string.Empty) + (location.IsKnown ? location.ToString() : "default");

    private List<PairInstance> BuildInstances()
    {
        var nodes = Config.Nodes.Where(n => n.Keyword == "vrrp_instance").ToList();
        var used = new bool[nodes.Count];
        var result = new List<PairInstance>();
        foreach (var options in Vrrp.Instances)
        {
            // The mappers keep instance order (dropping those without a virtual_router_id): the first unused node of that name.
            var index = -1;
            for (var i = 0; i < nodes.Count && index < 0; i++)
            {
                if (!used[i] && nodes[i].Arg0 == options.Name)
                    index = i;
            }
            if (index < 0)
                continue;
            used[index] = true;
            result.Add(new PairInstance(this, options, nodes[index]));
        }
        return result;
    }

    internal ConfigNode? TopLevel(string keyword, string name) =>
        Config.Nodes.LastOrDefault(n => n.Keyword == keyword && n.Arg0 == name);

    internal ConfigNode? Global(string keyword) => Config.Nodes.LastOrDefault(n => n.Keyword == "global_defs")?.Last(keyword);
}

/// <summary>A tracker whose weight moves the instance's priority.</summary>
/// <param name="Kind"><c>track_script</c>, <c>track_interface</c>, <c>track_process</c>.</param>
/// <param name="Weight">Non-zero (weight 0 faults the instance instead, which always moves the VIP).</param>
/// <param name="Reverse">The priority moves when the check passes rather than when it fails.</param>
/// <param name="Location">Where the weight is set (the tracking entry, or the script's own <c>weight</c>).</param>
internal sealed record PairTracker(string Kind, string Name, int Weight, bool Reverse, SourceLocation Location)
{
    /// <summary>What the tracker adds to the priority in the state that raises it: |weight| for a positive weight (check
    /// passing) and for a reversed negative one, 0 otherwise (keepalived's vrrp_track.c: the swing is always |weight|).</summary>
    public int Raise => (Weight > 0) != Reverse ? Math.Abs(Weight) : 0;
}

/// <summary>One <c>vrrp_instance</c> of one side, with what the pair check computes from it.</summary>
internal sealed class PairInstance
{
    public PairInstance(PairSide side, VrrpInstanceOptions options, ConfigNode node)
    {
        Side = side;
        Options = options;
        Node = node;
        Family = FamilyOf(options);
        Version = Family == AddressFamily.InterNetworkV6 ? 3 : options.Version ?? side.Vrrp.Version;
        Source = options.UnicastSrcIp ?? options.McastSrcIp;
        var group = side.Vrrp.SyncGroups.FirstOrDefault(g => g.Members.Contains(options.Name, StringComparer.Ordinal));
        // keepalived 2.2.7 (vrrp.c): an address owner, or a sync group member without sync_group_tracking_weight, drops
        // weighted trackers (with its own error); they move nothing, so there is no gap to check.
        WeightsIgnored = options.Priority >= 255 || (group is not null && !group.SyncGroupTrackingWeight);
        Trackers = WeightsIgnored ? [] : CollectTrackers(side, options, node, group);
        var raised = options.Priority + Trackers.Sum(t => t.Raise);
        HighPriorityUnclamped = raised;
        HighPriority = options.Priority >= 255 ? 255 : Math.Clamp(raised, 1, 254);
    }

    public PairSide Side { get; }

    public VrrpInstanceOptions Options { get; }

    public ConfigNode Node { get; }

    public string Name => Options.Name;

    public AddressFamily Family { get; }

    public int Version { get; }

    public bool IsUnicast => Options.UnicastPeers.Count > 0;

    /// <summary>The configured source address (<c>unicast_src_ip</c>, else <c>mcast_src_ip</c>); null means the interface's primary address.</summary>
    public IPAddress? Source { get; }

    public bool WeightsIgnored { get; }

    public IReadOnlyList<PairTracker> Trackers { get; }

    /// <summary>The priority with every weighted tracker in the state that raises it (keepalived keeps it in [1, 254]).</summary>
    public int HighPriority { get; }

    public int HighPriorityUnclamped { get; }

    /// <summary>Where <paramref name="keyword"/> is set in this instance, or the instance's own line when it is a default.</summary>
    public SourceLocation At(string keyword) => Node.Last(keyword) is { Location.IsKnown: true } n ? n.Location : Node.Location;

    public string Where(string keyword) => Side.Where(At(keyword));

    private static AddressFamily FamilyOf(VrrpInstanceOptions o)
    {
        if (o.NativeIpv6)
            return AddressFamily.InterNetworkV6;
        if (o.VirtualIpAddresses.Count > 0)
            return o.VirtualIpAddresses[0].Address.AddressFamily;
        if ((o.UnicastSrcIp ?? o.McastSrcIp) is { } source)
            return source.AddressFamily;
        return o.UnicastPeers.Count > 0 ? o.UnicastPeers[0].Address.AddressFamily : AddressFamily.InterNetwork;
    }

    private static List<PairTracker> CollectTrackers(PairSide side, VrrpInstanceOptions o, ConfigNode node, VrrpSyncGroupOptions? group)
    {
        var result = new List<PairTracker>();
        Add(result, side, node, o.TrackScripts, o.TrackInterfaces, o.TrackProcesses);
        if (group is not null && side.TopLevel("vrrp_sync_group", group.Name) is { } groupNode)
            Add(result, side, groupNode, group.TrackScripts, group.TrackInterfaces, group.TrackProcesses);
        return result;
    }

    private static void Add(List<PairTracker> result, PairSide side, ConfigNode owner,
        IReadOnlyList<TrackedReference> scripts, IReadOnlyList<TrackedInterface> interfaces, IReadOnlyList<TrackedReference> processes)
    {
        // The mapped lists follow the block's entries one for one: entry i gives the line.
        var scriptEntries = owner.Last("track_script")?.Children ?? [];
        for (var i = 0; i < scripts.Count && i < scriptEntries.Length; i++)
        {
            var script = side.Vrrp.Scripts.LastOrDefault(s => s.Name == scripts[i].Name);
            if (script is null)
                continue; // an unknown script is the file's own error
            AddReference(result, side, "track_script", "vrrp_script", scripts[i], scriptEntries[i], script.Weight, script.WeightReverse);
        }
        var processEntries = owner.Last("track_process")?.Children ?? [];
        for (var i = 0; i < processes.Count && i < processEntries.Length; i++)
        {
            var process = side.Vrrp.TrackProcesses.LastOrDefault(p => p.Name == processes[i].Name);
            if (process is null)
                continue;
            AddReference(result, side, "track_process", "vrrp_track_process", processes[i], processEntries[i], process.Weight, process.WeightReverse);
        }
        var interfaceEntries = owner.Last("track_interface")?.Children ?? [];
        for (var i = 0; i < interfaces.Count && i < interfaceEntries.Length; i++)
        {
            if (interfaces[i].Weight != 0)
                result.Add(new PairTracker("track_interface", interfaces[i].Name, interfaces[i].Weight, interfaces[i].Reverse, interfaceEntries[i].Location));
        }
    }

    private static void AddReference(List<PairTracker> result, PairSide side, string kind, string definition, TrackedReference reference,
        ConfigNode entry, int defaultWeight, bool defaultReverse)
    {
        var weight = reference.Weight ?? defaultWeight;
        if (weight == 0)
            return;
        var location = entry.Args.Contains("weight") ? entry.Location
            : side.TopLevel(definition, reference.Name) is { } def ? (def.Last("weight")?.Location ?? def.Location) : entry.Location;
        result.Add(new PairTracker(kind, reference.Name, weight, reference.Reverse ?? defaultReverse, location));
    }
}
