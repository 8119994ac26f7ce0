using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>
/// Lb's main job, as demo/lab.sh shows it, against the real kernel's IPVS (inside the tests/kernel VM): two directors each
/// running ONE <c>lb</c> process (VRRP and checkers) with the repository's keepalived.conf.example, in front of three
/// direct-routing web servers, and a client. The client's HTTP answers, <c>ipvsadm</c> and <c>ip addr</c> in the namespaces
/// are the oracles — across a web server stopping, the MASTER director dying, and the web server coming back.
/// </summary>
[Collection(KernelLabCollection.Name)]
public sealed class MainJobKernelTests(ITestOutputHelper output)
{
    // Liveness bounds, not timing claims: under software emulation (TCG) .NET start-up alone takes tens of seconds, and two
    // lb processes start at once.
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(600);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(180);
    private const string VipCidr = "10.0.0.100/24";

    // keepalived.conf.example: wrr, weights 3 / 3 (inhibit_on_failure) / 1; web1 and web2 HTTP_GET /health, web3 TCP_CHECK.
    private const string Svc = "-A -t 10.0.0.100:80 -s wrr";
    private const string Web1 = "-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 3";
    private const string Web2 = "-a -t 10.0.0.100:80 -r 10.0.0.12:80 -g -w 3";
    private const string Web3 = "-a -t 10.0.0.100:80 -r 10.0.0.13:80 -g -w 1";
    private static readonly string[] AllUp = [Svc, Web1, Web2, Web3];
    private static readonly string[] Web1Down = [Svc, Web2, Web3];

    // wrr with weights 3:3:1 hands out 7 connections per round; with 1 (web1 gone) 4 per round. Two rounds reach every
    // server of a stable table at least once.
    private const int Requests = 14;

    /// <summary>The repository's keepalived.conf.example (the demo's configuration): the copy the build puts beside the test binary, else the one above it or the working directory.</summary>
    internal static string ExampleConfig()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var path = Path.Combine(dir.FullName, "keepalived.conf.example");
                if (File.Exists(path))
                    return path;
            }
        }
        throw new FileNotFoundException("keepalived.conf.example not found above " + AppContext.BaseDirectory + " or " + Environment.CurrentDirectory);
    }

    /// <summary>
    /// The director's table is <paramref name="expected"/> and has stayed so while each HTTP-checked web server answered two
    /// more of that director's health checks: under emulation a first check can time out, so a table seen once is not yet
    /// settled.
    /// </summary>
    private static bool Settled(DrLab lab, string director, string directorIp, string[] expected, string[] httpChecked, TimeSpan bound)
    {
        Dictionary<string, int>? seen = null;
        return NetnsLab.WaitFor(() =>
        {
            if (!lab.Table(director).SequenceEqual(expected))
            {
                seen = null;
                return false;
            }
            if (seen is null)
            {
                seen = httpChecked.ToDictionary(w => w, w => lab.HealthChecks(w, directorIp));
                return false;
            }
            return httpChecked.All(w => lab.HealthChecks(w, directorIp) - seen[w] >= 2);
        }, bound);
    }

    private static string Show(IEnumerable<string> lines) => string.Join(" | ", lines);

    private List<string> Ask(DrLab lab, int n, string what)
    {
        var by = lab.Requests(n);
        output.WriteLine($"{what}: {string.Join(", ", by)}");
        return by;
    }

    [KernelFact]
    public void Traffic_through_the_VIP_survives_a_web_server_failure_and_a_director_failover()
    {
        using var lab = new DrLab();
        var config = ExampleConfig();
        var sockets = Directory.CreateTempSubdirectory("lb-mainjob-").FullName;
        var lb1 = lab.Lab.StartLb(lab.Dir1, "lb-dir1", "-n", "-l", "-f", config,
            "--journal", Path.Combine(lab.Lab.Directory, "journal-dir1.jsonl"), "--socket", Path.Combine(sockets, "dir1.sock"));
        var lb2 = lab.Lab.StartLb(lab.Dir2, "lb-dir2", "-n", "-l", "-f", config, "-i", "director2",
            "--journal", Path.Combine(lab.Lab.Directory, "journal-dir2.jsonl"), "--socket", Path.Combine(sockets, "dir2.sock"));
        try
        {
            // 1. dir1 (priority 150) is MASTER: the VIP is on dir1 only; dir1's IPVS table lists the three real servers;
            //    every request through the VIP is answered, by each web server, and dir1's IPVS scheduled them.
            Assert.True(NetnsLab.WaitFor(() => lab.HasVip(lab.Dir1) && !lab.HasVip(lab.Dir2), StartBound),
                $"the VIP is not on dir1 only: dir1 {Show(lab.Lab.Addresses(lab.Dir1))}; dir2 {Show(lab.Lab.Addresses(lab.Dir2))}");
            Assert.Contains(VipCidr, lab.Lab.Addresses(lab.Dir1));
            Assert.True(Settled(lab, lab.Dir1, "10.0.0.2", AllUp, ["web1", "web2"], StartBound),
                "dir1's table: " + Show(lab.Table(lab.Dir1)));
            Assert.True(NetnsLab.WaitFor(() => lab.Table(lab.Dir2).SequenceEqual(AllUp), Bound), "dir2's table: " + Show(lab.Table(lab.Dir2)));
            Assert.False(lab.HasVip(lab.Dir2), "dir2 took the VIP while dir1 was MASTER");

            var before = lab.SettledConnections(lab.Dir1);
            var by = Ask(lab, Requests, "through dir1");
            Assert.DoesNotContain("(no answer)", by);
            Assert.All(DrLab.Webs, w => Assert.Contains(w, by));
            Assert.True(NetnsLab.WaitFor(() => lab.Connections(lab.Dir1) - before >= Requests, Bound), $"dir1's IPVS scheduled {lab.Connections(lab.Dir1) - before} of {Requests} connections");

            // 2. web1's httpd stops: web1 leaves dir1's table (no inhibit_on_failure for it); every request is answered, none by web1.
            lab.StopHttpd("web1");
            Assert.True(Settled(lab, lab.Dir1, "10.0.0.2", Web1Down, ["web2"], Bound), "dir1's table after web1 stopped: " + Show(lab.Table(lab.Dir1)));
            by = Ask(lab, Requests, "web1 stopped");
            Assert.DoesNotContain("(no answer)", by);
            Assert.DoesNotContain("web1", by);
            Assert.Contains("web2", by);
            Assert.Contains("web3", by);

            // 3. dir1 dies: kill -9 its lb (nothing is released) and pull its cable. dir2 takes the VIP; its table holds the
            //    healthy real servers; every request is answered through dir2 (its IPVS counted them; dir1 is unreachable).
            lb1.Signal("KILL");
            Assert.True(lb1.WaitForExit(Bound), "lb on dir1 survived SIGKILL");
            Assert.Contains(VipCidr, lab.Lab.Addresses(lab.Dir1)); // kill -9: the VIP stays on the dead director's eth0
            lab.Unplug("dir1");
            Assert.True(NetnsLab.WaitFor(() => lab.HasVip(lab.Dir2), Bound), "dir2 did not take the VIP: " + Show(lab.Lab.Addresses(lab.Dir2)));
            Assert.Contains(VipCidr, lab.Lab.Addresses(lab.Dir2));
            Assert.True(Settled(lab, lab.Dir2, "10.0.0.3", Web1Down, ["web2"], Bound), "dir2's table: " + Show(lab.Table(lab.Dir2)));
            Assert.True(NetnsLab.WaitFor(() => lab.Request() is not null, Bound), "the VIP does not answer after the failover");

            before = lab.SettledConnections(lab.Dir2);
            by = Ask(lab, Requests, "through dir2");
            Assert.DoesNotContain("(no answer)", by);
            Assert.DoesNotContain("web1", by);
            Assert.Contains("web2", by);
            Assert.Contains("web3", by);
            Assert.True(NetnsLab.WaitFor(() => lab.Connections(lab.Dir2) - before >= Requests, Bound), $"dir2's IPVS scheduled {lab.Connections(lab.Dir2) - before} of {Requests} connections");

            // 4. web1 comes back: it returns to dir2's table and answers again.
            lab.StartHttpd("web1");
            Assert.True(Settled(lab, lab.Dir2, "10.0.0.3", AllUp, ["web1", "web2"], Bound), "dir2's table after web1 came back: " + Show(lab.Table(lab.Dir2)));
            by = Ask(lab, Requests, "web1 back");
            Assert.DoesNotContain("(no answer)", by);
            Assert.All(DrLab.Webs, w => Assert.Contains(w, by));
            Assert.False(lb2.HasExited, "lb on dir2 exited");
        }
        finally
        {
            foreach (var d in new[] { lab.Dir1, lab.Dir2 })
            {
                try
                {
                    output.WriteLine($"----- {d}: {Show(lab.Lab.Addresses(d))}\n{lab.Lab.Exec(d, "ipvsadm", "-Ln", "--stats")}");
                }
                catch (InvalidOperationException e)
                {
                    output.WriteLine(e.Message);
                }
            }
            output.WriteLine("----- lb-dir1\n" + lb1.Output);
            output.WriteLine("----- lb-dir2\n" + lb2.Output);
            Directory.Delete(sockets, true);
        }
    }
}
