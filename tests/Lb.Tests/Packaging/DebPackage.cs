using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Lb.Lb.Tests.EndToEnd;
using Lb.TestSupport;

namespace Lb.Lb.Tests.Packaging;

/// <summary>
/// The Debian package as packaging/build-deb.sh builds it, from the NativeAOT lb the test build already published
/// (<see cref="LbLab.LbPath"/>: no second publish), once per test process (<see cref="Deb"/>), gzip-compressed (xz
/// takes minutes under emulation; the contents are the same).
/// </summary>
internal static partial class DebPackage
{
    /// <summary>Liveness bound for packaging commands (dpkg-deb over a 19 MB binary is slow under emulation).</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromMinutes(Prerequisites.InKernelVm ? 10 : 3);

    private static readonly Lazy<string> Built = new(() => Build(Directory.CreateTempSubdirectory("dbh-deb-").FullName), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The .deb (built on first use; the directory is left in the temp dir of the run, ~9 MB).</summary>
    public static string Deb => Built.Value;

    /// <summary>The repository (this file's location at build time; the kernel VM sees the same path).</summary>
    public static string RepoRoot([CallerFilePath] string self = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(self)!, "..", "..", ".."));

    /// <summary>&lt;Version&gt; of src/Lb/Lb.csproj: what lb --version prints and the package's version.</summary>
    public static string ProjectVersion => VersionElement().Match(File.ReadAllText(Path.Combine(RepoRoot(), "src", "Lb", "Lb.csproj"))).Groups[1].Value;

    /// <summary>Runs packaging/build-deb.sh into <paramref name="outDir"/>; returns the .deb's path (its last output line).</summary>
    public static string Build(string outDir)
    {
        var r = ProcessRunner.Run(new ProcessOptions { Timeout = Bound, Label = "build-deb.sh" }, "bash",
            Path.Combine(RepoRoot(), "packaging", "build-deb.sh"), "--lb", LbLab.LbPath, "-o", outDir, "-Z", "gzip");
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"packaging/build-deb.sh failed ({r.ExitCode}):\n{r.Output}");
        var deb = r.Stdout.Trim().Split('\n')[^1];
        if (!File.Exists(deb))
            throw new InvalidOperationException($"packaging/build-deb.sh printed '{deb}', which does not exist:\n{r.Output}");
        return deb;
    }

    /// <summary>The unit's [Section] Key= values (last one wins, as systemd reads a unit without drop-ins).</summary>
    public static Dictionary<string, string> UnitSettings(string unitText)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        var section = "";
        foreach (var raw in unitText.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
                continue;
            if (line[0] == '[')
            {
                section = line.Trim('[', ']');
                continue;
            }
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
                settings[$"{section}.{line[..eq].Trim()}"] = line[(eq + 1)..].Trim();
        }
        return settings;
    }

    /// <summary>ExecStart= split into words (the package's unit has no quoting, continuation or $VARIABLES; asserted).</summary>
    public static string[] ExecStart(Dictionary<string, string> unit) => Exec(unit, "ExecStart");

    /// <summary>The command line of [Service] <paramref name="key"/> (ExecStart, ExecStopPost) split into words, as <see cref="ExecStart"/>.</summary>
    public static string[] Exec(Dictionary<string, string> unit, string key)
    {
        var exec = unit["Service." + key];
        if (exec.IndexOfAny(['"', '\'', '\\', '$', '%']) >= 0 || exec.Length == 0 || exec[0] is '-' or '@' or '+' or '!' or ':')
            throw new InvalidOperationException($"{key} has syntax this test does not expand: {exec}");
        return exec.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>The value after <paramref name="flag"/> in a command line.</summary>
    public static string ArgumentOf(string[] command, string flag)
    {
        var i = Array.IndexOf(command, flag);
        if (i < 0 || i + 1 >= command.Length)
            throw new Xunit.Sdk.XunitException($"'{flag} VALUE' is not in: {string.Join(' ', command)}");
        return command[i + 1];
    }

    [GeneratedRegex(@"<Version>([^<]+)</Version>")]
    private static partial Regex VersionElement();
}
