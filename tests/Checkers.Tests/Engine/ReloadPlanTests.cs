using System.Globalization;
using System.Net;
using Lb.Checkers.Engine;
using Lb.Checkers.Options;
using Lb.Checkers.Tests.Support;
using Lb.Netlink;
using Lb.Netlink.Ipvs;
using Lb.TestSupport;
using Xunit;
using static Lb.Checkers.Tests.Support.Rig;

namespace Lb.Checkers.Tests.Engine;

/// <summary>
/// <see cref="CheckerSubsystem.PlanReloadAsync"/> (<c>lb reload --plan</c>): the reload's own decisions on a copy of the
/// running state. The plan changes nothing (IPVS requests, journal, checkers' schedules, status), and the reload that
/// follows does exactly what it said: its lines are the plan's, and the plan's IPVS lines are what the table (the
/// in-memory IPVS, compared before and after) shows changed.
/// </summary>
public class ReloadPlanTests
{
    private static readonly CheckOutcome Refused = CheckOutcome.Fail("connection refused");

    private static RealServerOptions Real(string address, int weight = 1, params CheckerOptions[] checkers) => new()
    {
        Address = IPAddress.Parse(address),
        Port = 80,
        Weight = weight,
        Checkers = checkers.Length == 0 ? [new TcpCheckOptions()] : checkers,
    };

    private static VirtualServerOptions Vs443(params RealServerOptions[] rs) => Vs(rs.Select(r => r with { Port = 443 }).ToArray()) with { Port = 443, Scheduler = "wrr" };

    /// <summary>
    /// The oracle: what changed between two states of the table, in the plan's words, computed from the tables alone
    /// (services and destinations added, removed, re-weighted; a removed service takes its destinations with it).
    /// </summary>
    private static List<string> TableChanges(
        IReadOnlyDictionary<string, IpvsService> servicesBefore, IReadOnlyDictionary<string, IReadOnlyDictionary<string, IpvsDestination>> before,
        IReadOnlyDictionary<string, IpvsService> servicesAfter, IReadOnlyDictionary<string, IReadOnlyDictionary<string, IpvsDestination>> after)
    {
        static string W(IpvsDestination d) => d.Weight.ToString(CultureInfo.InvariantCulture);
        var lines = new List<string>();
        foreach (var s in servicesBefore.Keys.Where(k => !servicesAfter.ContainsKey(k)))
            lines.Add($"ipvs: - service {s}");
        foreach (var (s, svc) in servicesAfter)
        {
            if (!servicesBefore.TryGetValue(s, out var old))
                lines.Add($"ipvs: + service {s} {svc.Scheduler}");
            else if (old.Scheduler != svc.Scheduler)
                lines.Add($"ipvs: ~ service {s} scheduler {old.Scheduler} -> {svc.Scheduler}");
            var was = before.TryGetValue(s, out var b) ? b : new Dictionary<string, IpvsDestination>();
            var now = after.TryGetValue(s, out var a) ? a : new Dictionary<string, IpvsDestination>();
            foreach (var d in was.Keys.Where(d => !now.ContainsKey(d)))
                lines.Add($"ipvs: - destination {d} of {s}");
            foreach (var (d, dest) in now)
            {
                if (!was.TryGetValue(d, out var o))
                    lines.Add($"ipvs: + destination {d} of {s} weight {W(dest)} masq");
                else if (o.Weight != dest.Weight)
                    lines.Add($"ipvs: ~ destination {d} of {s} weight {W(o)} -> {W(dest)}");
            }
        }
        return lines.Order(StringComparer.Ordinal).ToList();
    }

    [Fact]
    public async Task The_plan_changes_nothing_and_the_reload_then_does_exactly_what_it_listed()
    {
        await using var rig = new Rig(Options1(Vs(Real("10.0.0.2"), Real("10.0.0.3"), Real("10.0.0.5"))));
        rig.Checks.For("10.0.0.5").Then(Refused);
        await rig.StartAsync();
        rig.Advance(5.5); // 10.0.0.5 fails (retry 1 after 1 s): down
        rig.Advance(1);
        rig.Ipvs.TakeOperations();
        var journalled = rig.Journal.Entries.Count;
        var timers = rig.Time.ActiveTimers;
        var status = rig.Subsystem.GetSnapshot().VirtualServers.SelectMany(v => v.RealServers).Select(r => $"{r.Name} {r.Alive} {r.InIpvs} {r.Weight}").ToList();

        // 10.0.0.2 re-weighted, 10.0.0.3 removed, 10.0.0.4 added with an HTTP_GET; a new virtual server on :443.
        var next = new CheckerSubsystemOptions
        {
            VirtualServers =
            [
                Vs(Real("10.0.0.2", 3), Real("10.0.0.4", 1, new HttpCheckOptions { Urls = [new UrlOptions { Path = "/" }] }), Real("10.0.0.5")),
                Vs443(Real("10.0.0.7", 2)),
            ],
        };
        var plan = await rig.Subsystem.PlanReloadAsync(next, CancellationToken.None);

        Assert.Equal(
        [
            "virtual_server: - real_server [10.0.0.3]:tcp:80 of [10.0.0.100]:tcp:80",
            "virtual_server: ~ real_server [10.0.0.2]:tcp:80 of [10.0.0.100]:tcp:80: weight 1 -> 3",
            "virtual_server: + real_server [10.0.0.4]:tcp:80 of [10.0.0.100]:tcp:80",
            "virtual_server: + [10.0.0.100]:tcp:443 (1 real servers)",
            "virtual_server: + real_server [10.0.0.7]:tcp:443 of [10.0.0.100]:tcp:443",
            "ipvs: - destination 10.0.0.3:80 of [10.0.0.100]:tcp:80",
            "ipvs: ~ destination 10.0.0.2:80 of [10.0.0.100]:tcp:80 weight 1 -> 3",
            "ipvs: + destination 10.0.0.4:80 of [10.0.0.100]:tcp:80 weight 1 masq",
            "ipvs: + service [10.0.0.100]:tcp:443 wrr",
            "ipvs: + destination 10.0.0.7:443 of [10.0.0.100]:tcp:443 weight 2 masq",
            "checkers: - TCP_CHECK on [10.0.0.3]:tcp:80 of [10.0.0.100]:tcp:80",
            "checkers: + HTTP_GET on [10.0.0.4]:tcp:80 of [10.0.0.100]:tcp:80",
            "checkers: + TCP_CHECK on [10.0.0.7]:tcp:443 of [10.0.0.100]:tcp:443",
        ], plan.Lines);

        // Nothing happened: no IPVS request, no journal entry, no checker started or stopped, status as it was.
        Assert.Empty(rig.Ipvs.TakeOperations());
        Assert.Equal(journalled, rig.Journal.Entries.Count);
        Assert.Equal(timers, rig.Time.ActiveTimers);
        Assert.Equal(status, rig.Subsystem.GetSnapshot().VirtualServers.SelectMany(v => v.RealServers).Select(r => $"{r.Name} {r.Alive} {r.InIpvs} {r.Weight}"));
        Assert.Equal(0, rig.Checks.For("10.0.0.4").Calls);
        Assert.DoesNotContain(rig.Logs.Info(), l => l.Contains("reloaded", StringComparison.Ordinal) || l.Contains("Adding", StringComparison.Ordinal));
        // The checker the plan would stop still runs its rounds (a dry run that retired it would end its loop).
        var calls3 = rig.Checks.For("10.0.0.3").Calls;
        rig.Advance(5);
        rig.Advance(5);
        Assert.Equal(calls3 + 2, rig.Checks.For("10.0.0.3").Calls);
        rig.Ipvs.TakeOperations();

        // The reload: the same lines, and its IPVS lines are what the table shows changed.
        var servicesBefore = rig.Ipvs.Services;
        var before = rig.Ipvs.Table;
        var result = await rig.Subsystem.ReloadAsync(next, CancellationToken.None);
        Assert.Equal(plan.Lines, result.Lines);
        Assert.Equal(TableChanges(servicesBefore, before, rig.Ipvs.Services, rig.Ipvs.Table), result.Lines.Where(l => l.StartsWith("ipvs:", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        rig.AssertDesiredTableMatchesIpvs();

        // And the same configuration again: nothing to plan.
        Assert.Empty((await rig.Subsystem.PlanReloadAsync(next, CancellationToken.None)).Lines);
    }

    [Fact]
    public async Task A_removed_virtual_server_a_changed_scheduler_and_a_changed_checker_are_listed_as_the_reload_does_them()
    {
        var first = new CheckerSubsystemOptions { VirtualServers = [Vs(Real("10.0.0.2")), Vs443(Real("10.0.0.7"))] };
        await using var rig = new Rig(first);
        await rig.StartAsync();
        var next = Options1(Vs(Real("10.0.0.2", 1, new HttpCheckOptions { Urls = [new UrlOptions { Path = "/health" }] })) with { Scheduler = "rr" });

        var plan = await rig.Subsystem.PlanReloadAsync(next, CancellationToken.None);

        Assert.Equal(
        [
            "virtual_server: - [10.0.0.100]:tcp:443 (1 real servers)",
            "virtual_server: - real_server [10.0.0.7]:tcp:443 of [10.0.0.100]:tcp:443 (with its virtual server)",
            "virtual_server: ~ [10.0.0.100]:tcp:80: lb_algo wlc -> rr",
            "virtual_server: ~ real_server [10.0.0.2]:tcp:80 of [10.0.0.100]:tcp:80: checkers TCP_CHECK -> HTTP_GET",
            "ipvs: - service [10.0.0.100]:tcp:443",
            "ipvs: ~ service [10.0.0.100]:tcp:80 scheduler wlc -> rr",
            "checkers: - TCP_CHECK on [10.0.0.7]:tcp:443 of [10.0.0.100]:tcp:443",
            "checkers: ~ TCP_CHECK -> HTTP_GET on [10.0.0.2]:tcp:80 of [10.0.0.100]:tcp:80 (restarted, state kept)",
        ], plan.Lines);
        Assert.Empty(rig.Ipvs.TakeOperations().Skip(4)); // start-up's four requests only

        var servicesBefore = rig.Ipvs.Services;
        var before = rig.Ipvs.Table;
        var result = await rig.Subsystem.ReloadAsync(next, CancellationToken.None);
        Assert.Equal(plan.Lines, result.Lines);
        Assert.Equal(TableChanges(servicesBefore, before, rig.Ipvs.Services, rig.Ipvs.Table), result.Lines.Where(l => l.StartsWith("ipvs:", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_refused_operation_is_listed_as_failed_in_what_the_reload_did()
    {
        await using var rig = new Rig(Options1(Vs(Real("10.0.0.2"))));
        await rig.StartAsync();
        rig.Ipvs.Refuse = op => op.Kind == IpvsOperationKind.AddDestination ? Errno.EINVAL : 0;

        var result = await rig.Subsystem.ReloadAsync(Options1(Vs(Real("10.0.0.2"), Real("10.0.0.3"))), CancellationToken.None);

        var line = Assert.Single(result.Lines, l => l.StartsWith("ipvs:", StringComparison.Ordinal));
        Assert.StartsWith("ipvs: + destination 10.0.0.3:80 of [10.0.0.100]:tcp:80 weight 1 masq FAILED: ", line);
        Assert.DoesNotContain("10.0.0.3:80", rig.Ipvs.Table[VsName].Keys);
    }

    [Fact]
    public void An_edit_names_the_old_and_new_value_read_from_the_table_before_it()
    {
        var key = IpvsServiceKey.Tcp(IPAddress.Parse("10.0.0.100"), 80);
        var old = new IpvsDestination(IPAddress.Parse("10.0.0.11"), 80, IpvsForwardingMethod.Masquerade, 1);
        var before = new IpvsTableSnapshot(
        [
            new IpvsTableEntry(new IpvsServiceStatus(new IpvsService(key, "wlc"), IpvsStats.Zero), [new IpvsDestinationStatus(old, 0, 0, 0, IpvsStats.Zero)]),
        ]);
        Assert.Equal("~ destination 10.0.0.11:80 of [10.0.0.100]:tcp:80 weight 1 -> 3",
            ReloadPlanText.Operation(IpvsOperation.EditDestination(key, old with { Weight = 3 }), before));
        Assert.Equal("~ destination 10.0.0.11:80 of [10.0.0.100]:tcp:80 forward masq -> route",
            ReloadPlanText.Operation(IpvsOperation.EditDestination(key, old with { Forwarding = IpvsForwardingMethod.Route }), before));
        Assert.Equal("~ service [10.0.0.100]:tcp:80 scheduler wlc -> wrr, persistent off -> 300",
            ReloadPlanText.Operation(IpvsOperation.EditService(new IpvsService(key, "wrr") { Flags = IpvsServiceFlags.Persistent, PersistenceTimeout = 300 }), before));
        Assert.Equal("+ service FWM 7 rr", ReloadPlanText.Operation(IpvsOperation.AddService(new IpvsService(IpvsServiceKey.Fwmark(7), "rr")), before));
        Assert.Equal("- destination [2001:db8::1]:80 of [10.0.0.100]:tcp:80",
            ReloadPlanText.Operation(IpvsOperation.DeleteDestination(key, new IpvsDestinationKey(IPAddress.Parse("2001:db8::1"), 80)), before));
    }
}
