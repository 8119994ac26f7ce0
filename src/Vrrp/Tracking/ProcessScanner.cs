using Lb.Vrrp.Options;

namespace Lb.Vrrp.Tracking;

/// <summary>Counts running processes matching each <c>vrrp_track_process</c> by scanning /proc (comm, or cmdline with parameters / full_command).</summary>
internal static class ProcessScanner
{
    public static Dictionary<string, int> Count(IReadOnlyList<VrrpTrackProcessOptions> procs)
    {
        var counts = procs.ToDictionary(p => p.Name, _ => 0, StringComparer.Ordinal);
        IEnumerable<string> dirs;
        try
        {
            dirs = Directory.EnumerateDirectories("/proc");
        }
        catch (IOException)
        {
            return counts;
        }
        foreach (var dir in dirs)
        {
            var pid = Path.GetFileName(dir);
            if (pid.Length == 0 || !char.IsDigit(pid[0]))
                continue;
            string? comm = null;
            string[]? cmdline = null;
            foreach (var p in procs)
            {
                try
                {
                    if (p.FullCommand || p.Parameters.Count > 0 || p.ParamMatch != ProcessParamMatch.None)
                    {
                        cmdline ??= File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0', StringSplitOptions.None);
                        if (Matches(p, cmdline))
                            counts[p.Name]++;
                    }
                    else
                    {
                        comm ??= File.ReadAllText(Path.Combine(dir, "comm")).TrimEnd('\n');
                        if (comm == (p.Process.Length > 15 ? p.Process[..15] : p.Process))
                            counts[p.Name]++;
                    }
                }
                catch (IOException)
                {
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
        }
        return counts;
    }

    private static bool Matches(VrrpTrackProcessOptions p, string[] cmdline)
    {
        var args = cmdline.Length > 0 && cmdline[^1].Length == 0 ? cmdline[..^1] : cmdline;
        if (args.Length == 0 || args[0] != p.Process)
            return false;
        var have = args.Length - 1;
        var want = p.Parameters.Count;
        switch (p.ParamMatch)
        {
            case ProcessParamMatch.None when want == 0:
                return true;
            case ProcessParamMatch.Partial:
            case ProcessParamMatch.Initial:
                if (have < want)
                    return false;
                for (var i = 0; i < want; i++)
                {
                    var last = i == want - 1;
                    if (p.ParamMatch == ProcessParamMatch.Initial && last ? !args[i + 1].StartsWith(p.Parameters[i], StringComparison.Ordinal) : args[i + 1] != p.Parameters[i])
                        return false;
                }
                return true;
            default:
                return have == want && p.Parameters.Select((x, i) => x == args[i + 1]).All(b => b);
        }
    }
}
