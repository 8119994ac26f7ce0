using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>
/// <c>-I, --dont-release-ipvs</c> through the binary against the real kernel's IPVS (inside the tests/kernel VM): keepalived 2.2.7
/// "Don't remove IPVS topology on daemon stop" — the table stays after SIGTERM; without it lb removes every entry it made.
/// The real <c>ipvsadm -Sn</c> in the director's namespace is the oracle.
/// </summary>
[Collection(KernelLabCollection.Name)]
public sealed class ReleaseFlagsKernelTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(600);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    // Real servers without a checker are up from the start (as in keepalived): no server process needed.
    private const string Config = """
        global_defs {
            router_id director
        }
        virtual_server 10.0.0.100 80 {
            delay_loop 5
            lb_algo wrr
            lb_kind DR
            protocol TCP
            real_server 10.0.0.11 80 {
                weight 3
            }
            real_server 10.0.0.12 80 {
                weight 1
            }
        }
        """;

    private static readonly string[] Table =
    [
        "-A -t 10.0.0.100:80 -s wrr",
        "-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 3",
        "-a -t 10.0.0.100:80 -r 10.0.0.12:80 -g -w 1",
    ];

    private static List<string> Read(NetnsLab lab, string ns) =>
        lab.Exec(ns, "ipvsadm", "-Sn").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()).ToList();

    /// <summary>Starts lb (both subsystems, one process) with <paramref name="flags"/>, waits for its table, stops it with SIGTERM; returns the table left behind.</summary>
    private List<string> TableAfterSigterm(params string[] flags)
    {
        using var lab = new NetnsLab();
        var director = lab.AddHost("dir", "10.0.0.2/24");
        var lb = lab.StartLb(director, "lb", ["-n", "-l", "-f", lab.WriteFile("lb.conf", Config), "--journal", Path.Combine(lab.Directory, "journal.jsonl"),
            "--socket", Path.Combine(lab.Directory, "lb.sock"), .. flags]);
        try
        {
            Assert.True(NetnsLab.WaitFor(() => Read(lab, director).SequenceEqual(Table), StartBound), "lb did not build the table: " + string.Join(" | ", Read(lab, director)));
            lb.Signal("TERM");
            Assert.True(lb.WaitForExit(Bound), "lb did not stop on SIGTERM");
            Assert.Equal(0, lb.ExitCode);
            return Read(lab, director);
        }
        finally
        {
            output.WriteLine(lb.Output);
        }
    }

    [KernelFact]
    public void With_dont_release_ipvs_the_table_stays_after_SIGTERM() =>
        Assert.Equal(Table, TableAfterSigterm("-I"));

    [KernelFact]
    public void Without_dont_release_ipvs_SIGTERM_removes_the_table() =>
        Assert.Empty(TableAfterSigterm());
}
