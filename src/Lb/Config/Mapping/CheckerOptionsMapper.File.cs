using System.Globalization;
using Lb.Checkers.Options;

namespace Lb.Config.Mapping;

/// <summary>FILE_CHECK (keepalived 2.2.7 check_file.c) and the top-level track_file blocks it names.</summary>
internal static partial class CheckerOptionsMapper
{
    private static Dictionary<string, ConfigNode> TrackFiles(IReadOnlyList<ConfigNode> nodes)
    {
        var byName = new Dictionary<string, ConfigNode>(StringComparer.Ordinal);
        foreach (var n in KeywordReads.Top(nodes, "track_file"))
        {
            // a track_file without a file is dropped by keepalived ("No file set for track_file … - ignoring", reported by the VRRP mapper)
            if (n.Arg0 is { } name && n.Last("file")?.Arg0 is not null)
                byName.TryAdd(name, n);
        }
        return byName;
    }

    /// <summary>
    /// <c>FILE_CHECK { track_file NAME weight N [reverse|noreverse] }</c>: keepalived's two errors ("track_file NAME not
    /// found", "FILE_CHECK has no track_file specified - ignoring"); without its own weight the track_file's weight and
    /// reverse apply (check_file.c file_end_handler).
    /// </summary>
    private static FileCheckOptions? FileCheck(ConfigNode n, NodeValues v)
    {
        ConfigNode? tf = null;
        if (n.Last("track_file") is { Arg0: { } name } reference && !v.TrackFiles.TryGetValue(name, out tf))
            v.Diagnostics.Error(reference.Location, $"track_file {name} not found");
        if (tf is null)
        {
            v.Diagnostics.Error(n.Location, "FILE_CHECK has no track_file specified - ignoring");
            return null;
        }
        var weight = n.Last("weight") is { Args.Length: > 0 } own ? own : tf.Last("weight");
        var init = tf.Last("init_file");
        return new FileCheckOptions
        {
            TrackFile = tf.Arg0!,
            Path = tf.Last("file")!.Arg0!,
            Weight = weight is { Args.Length: > 0 } && int.TryParse(weight.Args[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var w) ? w : 1,
            WeightReverse = weight is { Args.Length: > 1 } && weight.Args[1] == "reverse",
            InitFileValue = init is { Args.Length: > 0 } && long.TryParse(init.Args[0], CultureInfo.InvariantCulture, out var iv) ? iv : init is null ? null : 0,
            InitFileOverwrite = init?.Args.Contains("overwrite") ?? false,
            SourceLocation = NodeValues.Where(n),
        };
    }
}
