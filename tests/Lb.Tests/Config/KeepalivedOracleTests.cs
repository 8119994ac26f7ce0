using System.Diagnostics;
using Lb.Config;
using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Tests.Config;

/// <summary>
/// The real keepalived 2.2.7 as oracle: for every corpus configuration, <c>keepalived -t</c> and Lb's loader must give the
/// same exit code (0 clean, 4 cannot run, 5 errors, 6 script security). Legitimate differences are listed with the reason.
/// </summary>
public sealed class KeepalivedOracleTests
{
    /// <summary>Corpus files where Lb deliberately differs from keepalived: file → (keepalived's code, Lb's code, why).</summary>
    private static readonly Dictionary<string, (int Keepalived, int Lb, string Reason)> KnownDifferences = new(StringComparer.Ordinal)
    {
        // third-party/: collected configurations (third-party/SOURCES.md).
        ["third-party/19-issue2067-bad-vs-ip-no-brace.conf"] = (134, 5, "keepalived aborts ('free(): invalid pointer', SIGABRT) after '(Line 2) Invalid virtual server IP address/port 192.168.1.300/22 - skipping' and '(Line 3) Missing '{' at beginning of configuration block': the crash of acassen/keepalived#2067, fixed after 2.2.7. Lb reports the same configuration errors and exits 5, the verdict keepalived means to give"),
        ["third-party/45-augeas-full-example.conf"] = (2, 6, "keepalived: '(Line 87) *** Configuration line starting `preempt_delay` is missing a parameter after keyword `preempt_delay` at word position 2', then exit(2) from the parser (null_strvec, KEEPALIVED_EXIT_CONFIG): -t stops mid-file without its verdict (2 is none of -t's codes 0/4/5/6). Lb reports the missing argument as an error and checks the rest: its script security verdict (6) is what keepalived -t gives once the argument is there"),
    };

    private readonly ITestOutputHelper _output;

    public KeepalivedOracleTests(ITestOutputHelper output) => _output = output;

    [RootFact("keepalived")]
    public void ExitCodesAgreeWithKeepalived()
    {
        Prerequisites.Require(Prerequisites.HasCommand("keepalived"), "keepalived 2.2.7 must be installed for the oracle test");
        // keepalived -t checks the interfaces of the machine it runs on; Lb's side is checked against the goldens' fixed list.
        // Both must see the same interfaces, whatever this host has: keepalived runs in a namespace holding exactly those.
        var ns = $"lb-oracle-{Environment.ProcessId}";
        global::Lb.TestSupport.NetnsLab.Run("ip", "netns", "add", ns);
        try
        {
            global::Lb.TestSupport.NetnsLab.Run("ip", "-n", ns, "link", "set", "lo", "up");
            // No dummy driver on every kernel: each NIC is the namespace end of a veth pair (the pair goes with the namespace).
            var i = 0;
            foreach (var name in CorpusTests.GoldenInterfaces.Where(n => n != "lo"))
                global::Lb.TestSupport.NetnsLab.Run("ip", "link", "add", $"lbo{Environment.ProcessId % 100000}x{i++}", "type", "veth", "peer", "name", name, "netns", ns);
            Compare(ns);
        }
        finally
        {
            global::Lb.TestSupport.NetnsLab.Run("ip", "netns", "del", ns);
        }
    }

    /// <summary>The issue's bar: share of third-party configurations where <c>lb -t</c> and <c>keepalived -t</c> exit alike.</summary>
    private const double ThirdPartyBar = 0.95;

    private void Compare(string ns)
    {
        var failures = new List<string>();
        var files = CorpusTests.ConfigFiles();
        foreach (var stale in KnownDifferences.Keys.Where(k => !files.Contains(k, StringComparer.Ordinal)))
            failures.Add($"{stale}: listed in KnownDifferences but not in the corpus");
        var tally = new SortedDictionary<string, (int Files, int Same)>(StringComparer.Ordinal);
        foreach (var relative in files)
        {
            var path = Path.Combine(CorpusTests.CorpusDirectory, relative);
            var (keepalivedCode, keepalivedText) = RunKeepalived(path, ns);
            var lb = CorpusTests.LoadForTest(relative);
            var slash = relative.IndexOf('/', StringComparison.Ordinal);
            var directory = slash < 0 ? "(top)" : relative[..slash];
            var (count, same) = tally.GetValueOrDefault(directory);
            count++;
            if (keepalivedCode == lb.ExitCode)
                same++;
            if (KnownDifferences.TryGetValue(relative, out var known))
            {
                if (known.Keepalived != keepalivedCode || known.Lb != lb.ExitCode)
                    failures.Add($"{relative}: listed difference changed: keepalived {keepalivedCode} (listed {known.Keepalived}), Lb {lb.ExitCode} (listed {known.Lb})");
            }
            else if (keepalivedCode != lb.ExitCode)
            {
                failures.Add($"{relative}: keepalived exit {keepalivedCode}, Lb exit {lb.ExitCode}\n  keepalived: {keepalivedText.Replace("\n", "\n    ", StringComparison.Ordinal)}\n  Lb: {CorpusTests.Render(lb).Replace("\n", "\n    ", StringComparison.Ordinal)}");
            }
            tally[directory] = (count, same);
        }

        _output.WriteLine("exit codes of lb -t and keepalived -t, per corpus directory");
        _output.WriteLine($"{"directory",-20} {"files",5} {"same",5} {"%",4}");
        foreach (var (directory, (count, same)) in tally)
            _output.WriteLine($"{directory,-20} {count,5} {same,5} {Percent(same, count),4}");
        _output.WriteLine($"{KnownDifferences.Count} listed differences; tests/Lb.Tests/Config/Corpus/compare.sh prints both tools' diagnostics side by side");

        if (tally.TryGetValue("third-party", out var third))
        {
            var share = (double)third.Same / third.Files;
            if (share < ThirdPartyBar)
                failures.Add($"third-party: {third.Same} of {third.Files} configurations give keepalived's exit code ({share:P1}), below the bar of {ThirdPartyBar:P0}");
        }
        else
        {
            failures.Add("no third-party corpus directory");
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    private static int Percent(int part, int whole) => whole == 0 ? 0 : (int)Math.Floor(100.0 * part / whole);

    /// <summary>Runs <c>keepalived -t</c> on <paramref name="path"/>, in network namespace <paramref name="netns"/> when given.</summary>
    internal static (int Code, string Text) RunKeepalived(string path, string? netns = null)
    {
        var temp = Directory.CreateTempSubdirectory("lb-oracle-");
        try
        {
            // The runner waits for the output to end too: keepalived's children may still be writing after the parent exits.
            string[] keepalived = ["keepalived", "-t", "-l", "-f", path, "-p", Path.Combine(temp.FullName, "p"), "-r", Path.Combine(temp.FullName, "r"), "-c", Path.Combine(temp.FullName, "c"), "-b", Path.Combine(temp.FullName, "b")];
            string[] command = netns is null ? keepalived : ["ip", "netns", "exec", netns, .. keepalived];
            var r = ProcessRunner.Run(new ProcessOptions { WorkingDirectory = Path.GetDirectoryName(path)! }, command[0], command[1..]);
            return (r.ExitCode, r.Stderr + r.Stdout);
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }
}
