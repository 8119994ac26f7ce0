using System.Diagnostics;
using System.Security.Cryptography;
using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.EndToEnd.Ecmp;

/// <summary>
/// Active-active directors behind BGP ECMP (issue 15) with the real lb, FRR and IPVS (inside the tests/kernel VM), in
/// <see cref="EcmpLab"/>. Oracles: the router's kernel route to the VIP (<c>ip route show VIP</c>: its next hops), FRR's
/// <c>show bgp</c> through vtysh, each director's <c>ipvsadm -Ln --stats</c> / <c>-Lnc</c>, and the client's own requests
/// and download (its bytes' SHA-256 against the served file).
/// </summary>
[Collection(KernelLabCollection.Name)]
public sealed class EcmpKernelTests(ITestOutputHelper output)
{
    /// <summary>lb's start (NativeAOT, but checkers and two FRR daemons per director under emulation) and BGP's first convergence.</summary>
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(300);

    /// <summary>A liveness bound for a withdrawal to reach the router (hold time 3 s, check failure ~5 s; emulation is slow).</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private static readonly string[] All = EcmpLab.Directors;

    private void StartAll(EcmpLab lab)
    {
        foreach (var d in All)
            lab.StartDirector(d);
        Assert.True(NetnsLab.WaitFor(() => lab.NextHopsAre(All), StartBound),
            "the router never had the three directors as next hops: " + lab.RouterRoutes() + Logs(lab));
        output.WriteLine("router: ip route show " + EcmpLab.Vip + "\n" + lab.RouterRoutes());
    }

    private static string Logs(EcmpLab lab) =>
        string.Concat(All.Select(d => $"\n--- lb {d}:\n{Tail(lab.Lb(d).Output)}"));

    private static string Tail(string text) => text.Length > 3000 ? text[^3000..] : text;

    /// <summary>What each director holds now (its IPVS table, its journal, its routes) and the router's route: for failure messages.</summary>
    private static string State(EcmpLab lab) =>
        "\n--- router: " + lab.RouterRoutes() + string.Concat(All.Select(d =>
            $"\n--- {d}: ipvsadm -Ln\n{lab.Lab.Exec(lab.Ns[d], "ipvsadm", "-Ln")}--- {d}: table 200\n" +
            $"{lab.Lab.Exec(lab.Ns[d], "ip", "route", "show", "table", "200")}--- {d}: journal\n{Tail(lab.Journal(d))}"));

    [KernelFact]
    public void All_three_directors_announce_and_carry_flows_from_many_client_ports()
    {
        using var lab = new EcmpLab(bfd: false);
        StartAll(lab);
        var bgp = lab.Vtysh("rt", $"show bgp ipv4 unicast {EcmpLab.Vip}/32");
        output.WriteLine(bgp);
        Assert.Contains("Paths: (3 available", bgp, StringComparison.Ordinal);
        foreach (var d in All)
        {
            Assert.Contains($"{EcmpLab.Ip(d)} from {EcmpLab.Ip(d)}", bgp, StringComparison.Ordinal);
            // what lb installed and FRR imported: the host route in table 200, proto 249
            Assert.Contains(EcmpLab.Vip + " dev lo", lab.Lab.Exec(lab.Ns[d], "ip", "route", "show", "table", "200", "proto", "249"), StringComparison.Ordinal);
            // mh with mh-port (the source port in the hash), as the example asks: ipvsadm names the kernel's flag
            Assert.Contains($"{EcmpLab.Vip}:80 mh (mh-port)", lab.Lab.Exec(lab.Ns[d], "ipvsadm", "-Ln"), StringComparison.Ordinal);
            Assert.Equal("1", lab.Lab.Exec(lab.Ns[d], "cat", "/proc/sys/net/ipv4/vs/sloppy_tcp").Trim());
        }

        var answers = lab.Requests(90);
        output.WriteLine(string.Join(", ", answers.GroupBy(a => a).Select(g => $"{g.Key}: {g.Count()}")));
        Assert.Equal(90, answers.Count);
        Assert.All(answers, a => Assert.StartsWith("ok w", a, StringComparison.Ordinal));
        Assert.Equal(["ok w1", "ok w2", "ok w3"], answers.Distinct().Order(StringComparer.Ordinal));
        // Every director forwarded some of them: its own IPVS counters. The kernel folds its per-CPU counters into the
        // totals every 2 s, so a read right after the requests can lag: wait (bounded) for all 90 to be counted.
        Dictionary<string, long> counts = [];
        NetnsLab.WaitFor(() => (counts = All.ToDictionary(d => d, lab.Connections)).Values.Sum() >= 90, TimeSpan.FromSeconds(30));
        output.WriteLine("IPVS connections per director: " + string.Join(", ", counts.Select(c => $"{c.Key}={c.Value}")));
        Assert.All(counts, c => Assert.True(c.Value > 0, $"{c.Key} forwarded no connection"));
        Assert.Equal(90, counts.Values.Sum());
    }

    [KernelFact]
    public void A_director_whose_real_servers_all_fail_its_checks_withdraws_and_no_request_fails_after()
    {
        using var lab = new EcmpLab(bfd: false);
        StartAll(lab);
        // d2's health checks (from 192.0.2.12) get no answer: every web server refuses to route to d2's address. The
        // forwarded client traffic (from the client's address) and the other directors' checks are untouched.
        foreach (var w in EcmpLab.Webs)
            NetnsLab.Run("ip", "-n", lab.Ns[w], "route", "add", "prohibit", EcmpLab.Ip("d2") + "/32");
        var watch = Stopwatch.StartNew();
        Assert.True(NetnsLab.WaitFor(() => lab.NextHopsAre("d1", "d3"), Bound),
            "the router kept d2: " + lab.RouterRoutes() + Logs(lab));
        output.WriteLine($"d2 withdrawn from the router {watch.Elapsed.TotalSeconds:F1} s after its checks began to fail\n" + lab.RouterRoutes());
        Assert.Equal(string.Empty, lab.Lab.Exec(lab.Ns["d2"], "ip", "route", "show", "table", "200", "proto", "249").Trim());
        var bgp = lab.Vtysh("rt", $"show bgp ipv4 unicast {EcmpLab.Vip}/32");
        output.WriteLine(bgp);
        Assert.Contains("Paths: (2 available", bgp, StringComparison.Ordinal);
        Assert.DoesNotContain(EcmpLab.Ip("d2") + " from", bgp, StringComparison.Ordinal);
        // the others still announce
        Assert.Contains(EcmpLab.Vip + " dev lo", lab.Lab.Exec(lab.Ns["d1"], "ip", "route", "show", "table", "200", "proto", "249"), StringComparison.Ordinal);

        var d2Before = lab.Connections("d2");
        var answers = lab.Requests(60);
        output.WriteLine(string.Join(", ", answers.GroupBy(a => a).Select(g => $"{g.Key}: {g.Count()}")));
        Assert.Equal(60, answers.Count);
        Assert.All(answers, a => Assert.StartsWith("ok w", a, StringComparison.Ordinal));
        Assert.Equal(["ok w1", "ok w2", "ok w3"], answers.Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(d2Before, lab.Connections("d2"));
    }

    [KernelFact]
    public void A_dead_director_is_withdrawn_and_a_slow_download_through_it_completes_through_another()
    {
        using var lab = new EcmpLab(bfd: true);
        StartAll(lab);
        var bfd = lab.Vtysh("rt", "show bfd peers brief");
        output.WriteLine(bfd);
        var target = Path.Combine(lab.Lab.Directory, "download.bin");
        // ~3 MiB at 150 KiB/s: ~20 s, through whichever director the router's hash picks.
        var curl = lab.Lab.Start(lab.Client, "curl", "curl", "-sS", "--fail", "--limit-rate", "150k", "--max-time", "600", "-o", target,
            $"http://{EcmpLab.Vip}/big.bin");
        string? carrier = null;
        (string State, string From, string To) entry = default;
        Assert.True(NetnsLab.WaitFor(() =>
        {
            foreach (var d in All)
            {
                var c = lab.ClientConnections(d).FirstOrDefault(c => c.State == "ESTABLISHED");
                if (c.From is not null)
                {
                    (carrier, entry) = (d, c);
                    return true;
                }
            }
            return false;
        }, Bound), "no director shows the download's connection: " + curl.Output + State(lab) + Logs(lab));
        output.WriteLine($"the download {entry.From} -> {entry.To} goes through {carrier} ({EcmpLab.Ip(carrier!)})");
        Assert.False(curl.HasExited, "the download ended before the director died: " + curl.Output);

        // The director dies as a box does: its cable is cut (lb, bgpd and bfdd lose the network at once).
        var watch = Stopwatch.StartNew();
        lab.Lab.Unplug("ecm" + carrier);
        var rest = All.Where(d => d != carrier).ToArray();
        Assert.True(NetnsLab.WaitFor(() => lab.NextHopsAre(rest), Bound), $"the router kept {carrier}: " + lab.RouterRoutes());
        output.WriteLine($"{carrier} withdrawn from the router {watch.Elapsed.TotalMilliseconds:F0} ms after its link was cut (BFD)\n" + lab.RouterRoutes());

        Assert.True(curl.WaitForExit(TimeSpan.FromSeconds(600)), "the download did not finish: " + curl.Output + State(lab));
        Assert.True(curl.ExitCode == 0, $"curl exited {curl.ExitCode}: {curl.Output}" + State(lab));
        Assert.Equal(lab.BigFileSha256, Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(target))));
        // Another director carried the rest of the connection (sloppy_tcp: it never saw the SYN) to the same real
        // server (mh: the same choice on every director).
        var after = rest.Select(d => (d, c: lab.ClientConnections(d).FirstOrDefault(c => c.From == entry.From))).Where(x => x.c.From is not null).ToList();
        foreach (var (d, c) in after)
            output.WriteLine($"ipvsadm -Lnc on {d}: {c.State} {c.From} -> {c.To}");
        output.WriteLine(State(lab));
        Assert.NotEmpty(after);
        Assert.All(after, x => Assert.Equal(entry.To, x.c.To));
    }

    [KernelFact]
    public void A_crashed_lb_is_withdrawn_by_the_units_ExecStopPost_while_its_FRR_lives_on()
    {
        using var lab = new EcmpLab(bfd: false);
        StartAll(lab);
        // lb alone dies (SIGKILL: no stop handler runs); zebra and bgpd live on and would keep announcing its route.
        lab.Lb("d2").Signal("KILL");
        Assert.True(lab.Lb("d2").WaitForExit(TimeSpan.FromSeconds(30)), "lb d2 did not die");
        Assert.Contains(EcmpLab.Vip + " dev lo", lab.Lab.Exec(lab.Ns["d2"], "ip", "route", "show", "table", "200", "proto", "249"), StringComparison.Ordinal);
        // What systemd runs next: packaging/lb.service's ExecStopPost, with this lab's lb, pid file and journal.
        var unit = Packaging.DebPackage.UnitSettings(File.ReadAllText(EcmpLab.RepoFile("packaging/lb.service")));
        var post = Packaging.DebPackage.Exec(unit, "ExecStopPost");
        Assert.Equal("/usr/sbin/lb", post[0]);
        var dir = Path.Combine(lab.Lab.Directory, "lb-d2");
        string[] command = [LbLab.LbPath, .. post[1..]];
        command[Array.IndexOf(command, "-p") + 1] = Path.Combine(dir, "lb.pid");
        command[Array.IndexOf(command, "--journal") + 1] = Path.Combine(dir, "journal.jsonl");
        var watch = Stopwatch.StartNew();
        var withdraw = lab.Lab.Exec(lab.Ns["d2"], command);
        Assert.Equal($"deleted route {EcmpLab.Vip}/32 table 200 proto 249", withdraw.Trim());
        Assert.True(NetnsLab.WaitFor(() => lab.NextHopsAre("d1", "d3"), Bound), "the router kept d2: " + lab.RouterRoutes() + State(lab));
        output.WriteLine($"d2 withdrawn from the router {watch.Elapsed.TotalMilliseconds:F0} ms after ExecStopPost began\n" + lab.RouterRoutes());
        Assert.Contains("lb not running (lb announce withdraw)", lab.Journal("d2"), StringComparison.Ordinal);
        var answers = lab.Requests(60);
        Assert.Equal(60, answers.Count);
        Assert.All(answers, a => Assert.StartsWith("ok w", a, StringComparison.Ordinal));
    }

    [KernelFact]
    public void Stop_withdraws_everywhere_and_leaves_no_route()
    {
        using var lab = new EcmpLab(bfd: false);
        StartAll(lab);
        foreach (var d in All)
            lab.Lb(d).Signal("TERM");
        foreach (var d in All)
            Assert.True(lab.Lb(d).WaitForExit(TimeSpan.FromSeconds(60)), $"lb {d} did not stop");
        Assert.True(NetnsLab.WaitFor(() => lab.NextHops().Count == 0 && lab.RouterRoutes().Trim().Length == 0, Bound),
            "the router still routes the VIP: " + lab.RouterRoutes());
        var bgp = lab.Vtysh("rt", "show bgp ipv4 unicast");
        output.WriteLine(bgp);
        Assert.DoesNotContain(EcmpLab.Vip, bgp, StringComparison.Ordinal);
        foreach (var d in All)
        {
            // zebra drops its copy of the imported route once it saw lb's delete: bounded poll, then nothing of the VIP
            var ns = lab.Ns[d];
            Assert.True(NetnsLab.WaitFor(() => !NetnsLab.Run("ip", "-n", ns, "route", "show", "table", "all").Contains(EcmpLab.Vip, StringComparison.Ordinal), Bound),
                $"{d} still has a route to the VIP: " + NetnsLab.Run("ip", "-n", ns, "route", "show", "table", "all"));
            Assert.Equal(string.Empty, NetnsLab.Run("ip", "-n", ns, "route", "show", "table", "all", "proto", "249").Trim());
            Assert.DoesNotContain(EcmpLab.Vip, NetnsLab.Run("ip", "-n", ns, "addr", "show", "dev", "lo"), StringComparison.Ordinal);
        }
    }
}
