using System.Text.RegularExpressions;
using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>
/// <c>lb reload --plan</c> against the real kernel's IPVS (tests/kernel VM), through the binary: the plan leaves the table
/// as it was (<c>ipvsadm -Sn</c> before and after it), and its <c>ipvs:</c> lines are exactly what <c>ipvsadm -Sn</c> shows
/// changed by the <c>lb reload</c> that follows (the two dumps turned into the plan's words by the test, independently of
/// lb), which prints the same lines.
/// </summary>
[Collection(KernelLabCollection.Name)]
public sealed partial class ReloadPlanKernelTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(600);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(180);

    private const string First = """
        global_defs {
            router_id plh
        }
        virtual_server 10.0.1.1 80 {
            lb_algo wrr
            lb_kind DR
            protocol TCP
            real_server 10.1.1.1 80 {
                weight 1
            }
            real_server 10.1.1.2 80 {
                weight 1
            }
        }
        virtual_server 10.0.1.2 80 {
            lb_algo rr
            lb_kind NAT
            protocol TCP
            real_server 10.1.2.1 80 {
                weight 2
            }
        }
        """;

    // 10.1.1.1 re-weighted, 10.1.1.2 removed, 10.1.1.3 added; 10.0.1.2's scheduler changed; 10.0.1.3:443 added.
    private const string Second = """
        global_defs {
            router_id plh
        }
        virtual_server 10.0.1.1 80 {
            lb_algo wrr
            lb_kind DR
            protocol TCP
            real_server 10.1.1.1 80 {
                weight 3
            }
            real_server 10.1.1.3 80 {
                weight 1
            }
        }
        virtual_server 10.0.1.2 80 {
            lb_algo wlc
            lb_kind NAT
            protocol TCP
            real_server 10.1.2.1 80 {
                weight 2
            }
        }
        virtual_server 10.0.1.3 443 {
            lb_algo sh
            lb_kind DR
            protocol TCP
            real_server 10.1.3.1 443 {
                weight 5
            }
        }
        """;

    [GeneratedRegex(@"^-A -t (?<vip>[0-9.]+):(?<port>\d+) -s (?<sched>\S+)")]
    private static partial Regex ServiceLine();

    [GeneratedRegex(@"^-a -t (?<vip>[0-9.]+):(?<port>\d+) -r (?<rs>[0-9.]+:\d+) -(?<fwd>[gmi]) -w (?<w>\d+)")]
    private static partial Regex DestinationLine();

    private static List<string> Dump(NetnsLab lab, string ns) =>
        lab.Exec(ns, "ipvsadm", "-Sn").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()).Order(StringComparer.Ordinal).ToList();

    /// <summary>An <c>ipvsadm -Sn</c> dump as services (scheduler) and destinations (weight, forwarding) by the plan's names.</summary>
    private static (Dictionary<string, string> Services, Dictionary<(string Service, string Rs), (string Weight, string Forward)> Destinations) Parse(List<string> dump)
    {
        var services = new Dictionary<string, string>(StringComparer.Ordinal);
        var dests = new Dictionary<(string, string), (string, string)>();
        foreach (var line in dump)
        {
            if (ServiceLine().Match(line) is { Success: true } s)
                services[$"[{s.Groups["vip"].Value}]:tcp:{s.Groups["port"].Value}"] = s.Groups["sched"].Value;
            else if (DestinationLine().Match(line) is { Success: true } d)
            {
                var fwd = d.Groups["fwd"].Value switch { "g" => "route", "m" => "masq", _ => "tunnel" };
                dests[($"[{d.Groups["vip"].Value}]:tcp:{d.Groups["port"].Value}", d.Groups["rs"].Value)] = (d.Groups["w"].Value, fwd);
            }
        }
        return (services, dests);
    }

    /// <summary>What changed between two dumps, in the plan's words (a removed service takes its destinations with it).</summary>
    private static List<string> Changes(List<string> before, List<string> after)
    {
        var (sb, db) = Parse(before);
        var (sa, da) = Parse(after);
        var lines = new List<string>();
        foreach (var s in sb.Keys.Where(k => !sa.ContainsKey(k)))
            lines.Add($"ipvs: - service {s}");
        foreach (var (s, sched) in sa)
        {
            if (!sb.TryGetValue(s, out var old))
                lines.Add($"ipvs: + service {s} {sched}");
            else if (old != sched)
                lines.Add($"ipvs: ~ service {s} scheduler {old} -> {sched}");
        }
        foreach (var ((s, rs), _) in db.Where(d => !da.ContainsKey(d.Key) && sa.ContainsKey(d.Key.Service)))
            lines.Add($"ipvs: - destination {rs} of {s}");
        foreach (var ((s, rs), (w, fwd)) in da)
        {
            if (!db.TryGetValue((s, rs), out var old))
                lines.Add($"ipvs: + destination {rs} of {s} weight {w} {fwd}");
            else if (old.Weight != w)
                lines.Add($"ipvs: ~ destination {rs} of {s} weight {old.Weight} -> {w}");
        }
        return lines.Order(StringComparer.Ordinal).ToList();
    }

    private static List<string> IpvsLines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("ipvs:", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();

    [KernelFact]
    public void The_plans_ipvs_lines_are_what_ipvsadm_shows_changed_by_the_reload_that_follows()
    {
        using var lab = new NetnsLab();
        var director = lab.AddHost("plhd", "10.0.0.2/24");
        var config = lab.WriteFile("plh.conf", First);
        var socket = Path.Combine(lab.Directory, "plh.sock");
        var lb = lab.StartLb(director, "lb", ["-C", "-n", "-l", "-f", config, "--journal", Path.Combine(lab.Directory, "plh.jsonl"), "--socket", socket]);
        try
        {
            Assert.True(NetnsLab.WaitFor(() => Dump(lab, director).Count == 5, StartBound), "lb did not build the table: " + string.Join(" | ", Dump(lab, director)));
            var before = Dump(lab, director);

            File.WriteAllText(config, Second);
            var plan = ProcessRunner.Run(new ProcessOptions { Timeout = Bound }, LbLab.LbPath, "reload", "--plan", "--socket", socket);
            output.WriteLine(plan.Output);
            Assert.Equal(0, plan.ExitCode);
            Assert.Equal(before, Dump(lab, director));

            var reload = ProcessRunner.Run(new ProcessOptions { Timeout = Bound }, LbLab.LbPath, "reload", "--socket", socket);
            output.WriteLine(reload.Output);
            Assert.Equal(0, reload.ExitCode);
            var after = Dump(lab, director);

            var changed = Changes(before, after);
            Assert.Equal(6, changed.Count); // the oracle itself sees every change the file makes
            Assert.Equal(changed, IpvsLines(plan.Stdout));
            Assert.Equal(plan.Stdout, reload.Stdout);
        }
        finally
        {
            output.WriteLine(lb.Output);
        }
    }
}
