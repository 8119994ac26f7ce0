namespace Lb.Config.Pair;

/// <summary>
/// <c>lb -t</c>: keepalived's verdict for this director (the <c>-i</c> id, or the host name), then the other directors the
/// file describes with <c>@ID</c> lines, or the <c>--peer</c> file, and the pair check between them.
/// <list type="bullet">
/// <item>The exit code is keepalived's: the verdict of the <c>-f</c> file loaded for the <c>-i</c>/default id, printed
/// exactly as before. Everything else is a warning and changes nothing in it: another id's or the peer's diagnostics
/// (printed prefixed <c>@ID: </c> / <c>peer: </c>, with a last line naming the exit code <c>lb -t -i ID</c> would give) and
/// every pair finding. CI that must fail on every director runs <c>lb -t -i ID</c> once per id.</item>
/// <item>Another director's load does not check interfaces: they are that host's, not this one's.</item>
/// </list>
/// </summary>
public static class ConfigTestCommand
{
    /// <summary>More ids than this in one file: the first ones are checked and a warning says so.</summary>
    public const int MaxIds = 16;

    /// <param name="interfaces">The interfaces this host's load is checked against; null: this host's (tests pass a fixed set).</param>
    public static int Run(string file, string? configId, string? peerFile, TextWriter stderr, IReadOnlySet<string>? interfaces = null)
    {
        var id = configId ?? PreprocessorOptions.DefaultConfigId();
        var seen = new SortedSet<string>(StringComparer.Ordinal);
        var primary = Load(file, id, seen, checkInterfaces: true, interfaces);
        foreach (var d in primary.Diagnostics)
            stderr.WriteLine(d.ToString());

        var others = new List<(string Label, string Hint, LoadedConfig Config)>();
        List<PairSide> sides;
        if (peerFile is not null)
        {
            var peer = Load(peerFile, id, null, checkInterfaces: false);
            var (la, lb) = (Path.GetFileName(file), Path.GetFileName(peerFile));
            var collide = string.Equals(la, lb, StringComparison.Ordinal);
            if (collide)
                (la, lb) = (file, peerFile);
            others.Add(("peer", $"lb -t -f {peerFile}", peer));
            sides = [new PairSide(la, primary, collide), new PairSide(lb, peer, collide)];
        }
        else if (seen.Count > 0)
        {
            var loads = new Dictionary<string, LoadedConfig>(StringComparer.Ordinal) { [id] = primary };
            // An id can be named only in lines another id reaches (an include behind @ID): load until no new id appears.
            while (seen.FirstOrDefault(s => !loads.ContainsKey(s)) is { } next && loads.Count <= MaxIds)
                loads[next] = Load(file, next, seen, checkInterfaces: false);
            if (seen.Any(s => !loads.ContainsKey(s)))
                stderr.WriteLine($"lb: {file} names more than {MaxIds} config ids; only {string.Join(' ', loads.Keys.Where(k => k != id).Select(k => "@" + k))} checked");
            foreach (var (other, config) in loads.Where(l => l.Key != id))
                others.Add(("@" + other, $"lb -t -i {other}", config));

            // The ids the file names are its directors. A file naming one id X describes two: X, and every other host
            // ("@director2 priority 100"); that other one is loaded under an id that is not X when this host is X. With two
            // or more named ids, a host matching none is not taken for a director of the pair.
            sides = [];
            if (seen.Count == 1)
            {
                var x = seen.Min!;
                if (id == x)
                {
                    var notX = PreprocessorOptions.DefaultConfigId() is var host && host != x ? host : "^" + x;
                    var other = Load(file, notX, null, checkInterfaces: false);
                    others.Add(("@^" + x, $"lb -t -i {notX}", other));
                    sides = [new PairSide("@" + x, primary, true), new PairSide("@^" + x, other, true)];
                }
                else
                {
                    sides = [new PairSide("@^" + x, primary, true), new PairSide("@" + x, loads[x], true)];
                }
            }
            else
            {
                if (seen.Contains(id))
                    sides.Add(new PairSide("@" + id, primary, true));
                sides.AddRange(loads.Where(l => l.Key != id).Select(l => new PairSide("@" + l.Key, l.Value, true)));
            }
        }
        else
        {
            return primary.ExitCode;
        }

        foreach (var (label, _, config) in others)
        {
            foreach (var d in config.Diagnostics)
                stderr.WriteLine($"{label}: {d}");
        }
        if (sides.Count >= 2 && sides.All(s => !s.Config.HasFatal))
        {
            foreach (var finding in PairCheck.Run(sides))
                stderr.WriteLine(finding.ToString());
        }
        foreach (var (label, hint, config) in others.Where(o => o.Config.ExitCode != 0))
            stderr.WriteLine($"{label}: '{hint}' exits {config.ExitCode} (this exit code is keepalived's verdict for {(peerFile is null ? "-i " + id : file)} only)");
        return primary.ExitCode;
    }

    private static LoadedConfig Load(string file, string id, ISet<string>? seen, bool checkInterfaces, IReadOnlySet<string>? interfaces = null) =>
        ConfigLoader.Load(file, new ConfigLoadOptions
        {
            Preprocessor = new PreprocessorOptions { ConfigId = id, SeenConfigIds = seen },
            CheckInterfaces = checkInterfaces,
            Interfaces = interfaces,
        });
}
