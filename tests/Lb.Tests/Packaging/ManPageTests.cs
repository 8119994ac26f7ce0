using System.Text.RegularExpressions;
using Lb.TestSupport;
using Xunit;

namespace Lb.Lb.Tests.Packaging;

/// <summary>
/// docs/lb.8 and <c>lb --help</c> (<see cref="CliOptions.HelpText"/>) say the same: every command in the one is in the
/// other, the man page documents every daemon flag of the help, and the man page renders without a groff warning.
/// The man page is read as users read it: rendered by groff (wide lines, no hyphenation), not as roff source.
/// </summary>
public sealed partial class ManPageTests
{
    private static readonly string ManSource = Path.Combine(DebPackage.RepoRoot(), "docs", "lb.8");

    /// <summary>The commands this issue's CLI has; both texts must list at least these.</summary>
    private static readonly string[] Expected =
    [
        "status", "journal", "ipvs list", "genhash", "rs drain", "rs disable", "rs enable", "rs weight", "vrrp maintenance",
        "vrrp failover", "announce", "announce maintenance", "announce withdraw", "reload",
    ];

    [ToolFact("groff")]
    public void HelpAndManPageListTheSameCommands()
    {
        var help = CommandsOf(Section(CliOptions.HelpText.Split('\n'), l => l.StartsWith("Commands", StringComparison.Ordinal)));
        var man = CommandsOf(Section(Render(), l => l == "COMMANDS").Where(l => l.StartsWith("       lb ", StringComparison.Ordinal)));

        Assert.Equal(Expected.Order(StringComparer.Ordinal), help.Order(StringComparer.Ordinal));
        Assert.Equal(help.Order(StringComparer.Ordinal), man.Order(StringComparer.Ordinal));
    }

    [ToolFact("groff")]
    public void ManPageDocumentsEveryDaemonFlagOfTheHelp()
    {
        var usage = Section(CliOptions.HelpText.Split('\n'), l => l.StartsWith("Usage:", StringComparison.Ordinal));
        var helpFlags = usage.SelectMany(l => FlagsAtStart().Match(l) is { Success: true } m ? Flags().Matches(m.Value).Select(f => f.Value) : [])
            .ToHashSet(StringComparer.Ordinal);
        // The tags of the OPTIONS section (indented 7; their descriptions are indented 14).
        var manFlags = Section(Render(), l => l == "OPTIONS").Where(l => l.StartsWith("       -", StringComparison.Ordinal))
            .SelectMany(l => Flags().Matches(l).Select(f => f.Value)).ToHashSet(StringComparer.Ordinal);

        Assert.True(helpFlags.Count >= 40, $"parsed only {helpFlags.Count} flags from the help: {string.Join(' ', helpFlags)}");
        Assert.Empty(helpFlags.Except(manFlags).Order());
        Assert.Empty(manFlags.Except(helpFlags).Order());
        // Each is a flag the parser knows (an unknown one throws "unknown option").
        foreach (var flag in helpFlags)
        {
            var e = Record.Exception(() => CliOptions.Parse([flag, "x"]));
            Assert.False(e is CliException && e.Message == $"unknown option '{flag}'", $"{flag}: {e?.Message}");
        }
    }

    [ToolFact("groff")]
    public void ManPageRendersWithoutWarnings()
    {
        var r = ProcessRunner.Run(new ProcessOptions { Label = "groff -ww" }, "groff", "-man", "-Tutf8", "-ww", "-z", ManSource);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        var text = Render();
        Assert.Equal("LB(8)", text[0].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]);
        foreach (var section in (string[])["NAME", "SYNOPSIS", "OPTIONS", "COMMANDS", "EXTENSION KEYWORDS", "SIGNALS", "EXIT STATUS", "FILES"])
            Assert.Contains(section, text);
    }

    /// <summary>The command words of lines "lb WORD [WORD] ARGS…": lower-case words up to the first argument.</summary>
    internal static HashSet<string> CommandsOf(IEnumerable<string> lines) =>
        lines.Select(l => l.Trim()).Where(l => l.StartsWith("lb ", StringComparison.Ordinal))
            .Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).TakeWhile(w => CommandWord().IsMatch(w))))
            .Where(c => c.Length > 0).ToHashSet(StringComparer.Ordinal);

    /// <summary>The lines after the first line <paramref name="header"/> matches, up to the next header (a line at column 0).</summary>
    private static List<string> Section(IEnumerable<string> lines, Func<string, bool> header) =>
        lines.SkipWhile(l => !header(l)).Skip(1).TakeWhile(l => l.Length == 0 || l[0] == ' ').ToList();

    /// <summary>docs/lb.8 as plain text: groff, ASCII, no overstriking, 250-column lines, no hyphenation.</summary>
    private static string[] Render()
    {
        var r = ProcessRunner.Run(new ProcessOptions { Label = "groff" }, "groff", "-man", "-Tascii", "-rLL=250n", "-rHY=0", "-P-cbou", ManSource);
        Assert.True(r.ExitCode == 0, r.Output);
        return r.Stdout.Split('\n').Select(l => l.TrimEnd()).ToArray();
    }

    [GeneratedRegex("^[a-z][a-z-]*$")]
    private static partial Regex CommandWord();

    [GeneratedRegex(@"^\s+(-[A-Za-z], )?--[a-z][a-z_-]*")]
    private static partial Regex FlagsAtStart();

    [GeneratedRegex(@"(?<![\w-])--?[A-Za-z][\w-]*")]
    private static partial Regex Flags();
}
