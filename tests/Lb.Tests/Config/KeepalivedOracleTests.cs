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
        ["keepalived-samples/SSL_GET.conf"] = (5, 0, "keepalived: '(VI_1) Initial state master is incompatible with AH authentication - clearing'; Lb does not check state/auth_type yet"),
        ["keepalived-samples/vrrp.routes.conf"] = (5, 0, "keepalived checks that 'dev' interfaces of VIPs/routes exist (eth1, eth2, eth3); Lb checks only the instance interface"),
        ["keepalived-samples/vrrp.rules.conf"] = (5, 0, "keepalived: 'dev' interfaces of VIPs must exist and '192.168.100./24' is an invalid rule address; Lb does not parse rules/VIP devs yet"),
        ["keepalived-samples/vrrp.static_ipaddress.conf"] = (5, 0, "keepalived checks that 'dev' interfaces of static addresses/routes exist; Lb does not yet"),
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

    private void Compare(string ns)
    {
        var failures = new List<string>();
        var agree = 0;
        foreach (var relative in CorpusTests.ConfigFiles())
        {
            var path = Path.Combine(CorpusTests.CorpusDirectory, relative);
            var (keepalivedCode, keepalivedText) = RunKeepalived(path, ns);
            var lb = CorpusTests.LoadForTest(relative);
            if (KnownDifferences.TryGetValue(relative, out var known))
            {
                if (known.Keepalived != keepalivedCode || known.Lb != lb.ExitCode)
                    failures.Add($"{relative}: listed difference changed: keepalived {keepalivedCode} (listed {known.Keepalived}), Lb {lb.ExitCode} (listed {known.Lb})");
                continue;
            }
            if (keepalivedCode == lb.ExitCode)
            {
                agree++;
                continue;
            }
            failures.Add($"{relative}: keepalived exit {keepalivedCode}, Lb exit {lb.ExitCode}\n  keepalived: {keepalivedText.Replace("\n", "\n    ", StringComparison.Ordinal)}\n  Lb: {CorpusTests.Render(lb).Replace("\n", "\n    ", StringComparison.Ordinal)}");
        }
        _output.WriteLine($"{agree} configurations agree with keepalived, {KnownDifferences.Count} listed differences");
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

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
