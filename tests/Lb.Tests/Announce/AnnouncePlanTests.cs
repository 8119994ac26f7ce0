using System.Net;
using Lb.Announce;
using Lb.Checkers;
using Xunit;

namespace Lb.Lb.Tests.Announce;

/// <summary>The announce rule as pure functions: decisions from the checkers' state, and the kernel steps from what is installed.</summary>
public sealed class AnnouncePlanTests
{
    internal static readonly IPAddress Vip = IPAddress.Parse("10.0.0.100");
    internal static readonly IPAddress Vip2 = IPAddress.Parse("10.0.0.101");

    internal static readonly AnnounceOptions Options = new()
    {
        Vips =
        [
            new AnnouncedVip(Vip, [new("[10.0.0.100]:tcp:80", "10.0.0.100:80"), new("[10.0.0.100]:tcp:8080", "10.0.0.100:8080")]),
            new AnnouncedVip(Vip2, [new("[10.0.0.101]:tcp:80", "10.0.0.101:80")]),
        ],
    };

    internal static VirtualServerStatus Vs(string name, bool up) => new(name, up, up ? 1 : 0, null, false, []);

    private static readonly VirtualServerStatus[] AllUp = [Vs("[10.0.0.100]:tcp:80", true), Vs("[10.0.0.100]:tcp:8080", true), Vs("[10.0.0.101]:tcp:80", true)];

    private static string[] Text(IEnumerable<VipDecision> d) => [.. d.Select(x => $"{x.Vip.Address} {x.State} {x.Reason}")];

    [Fact]
    public void Every_virtual_server_up_announces()
    {
        Assert.Equal(["10.0.0.100 announced quorum up", "10.0.0.101 announced quorum up"], Text(AnnouncePlan.Decide(Options, AllUp, running: true, maintenance: false)));
    }

    [Fact]
    public void One_virtual_server_down_withdraws_its_vip_only_and_names_it()
    {
        VirtualServerStatus[] status = [Vs("[10.0.0.100]:tcp:80", true), Vs("[10.0.0.100]:tcp:8080", false), Vs("[10.0.0.101]:tcp:80", true)];
        Assert.Equal(["10.0.0.100 withdrawn quorum down: 10.0.0.100:8080", "10.0.0.101 announced quorum up"],
            Text(AnnouncePlan.Decide(Options, status, running: true, maintenance: false)));
    }

    [Fact]
    public void A_virtual_server_the_checkers_do_not_know_counts_as_down()
    {
        Assert.Equal(["10.0.0.100 withdrawn quorum down: 10.0.0.100:80, 10.0.0.100:8080", "10.0.0.101 withdrawn quorum down: 10.0.0.101:80"],
            Text(AnnouncePlan.Decide(Options, null, running: true, maintenance: false)));
        Assert.Equal("10.0.0.100 withdrawn quorum down: 10.0.0.100:8080",
            Text(AnnouncePlan.Decide(Options, [Vs("[10.0.0.100]:tcp:80", true), Vs("[10.0.0.101]:tcp:80", true)], true, false))[0]);
    }

    /// <summary>A virtual server up by quorum whose first real server's checker has (not) completed a round.</summary>
    internal static VirtualServerStatus Checked(string name, bool hasRun) => new(name, true, 1, null, false,
        [new RealServerStatus("[10.0.0.2]:tcp:80", true, true, 1, "starting", [new CheckerStatus("HTTP_GET", true, hasRun, null, "")])]);

    [Fact]
    public void A_withdrawn_vip_waits_for_its_real_servers_first_checks_and_an_announced_one_does_not()
    {
        VirtualServerStatus[] status = [Checked("[10.0.0.100]:tcp:80", hasRun: false), Checked("[10.0.0.100]:tcp:8080", hasRun: true), Vs("[10.0.0.101]:tcp:80", true)];
        var start = AnnouncePlan.Decide(Options, status, running: true, maintenance: false);
        Assert.Equal(["10.0.0.100 withdrawn first checks pending: 10.0.0.100:80", "10.0.0.101 announced quorum up"], Text(start));
        Assert.Equal([true, false], start.Select(d => d.AwaitingChecks));
        // Announced already (a reload added a real server not yet checked): it stays announced.
        Assert.Equal("10.0.0.100 announced quorum up",
            Text(AnnouncePlan.Decide(Options, status, running: true, maintenance: false, announced: new HashSet<IPAddress> { Vip }))[0]);
        // Quorum down is said before pending checks.
        status[1] = Vs("[10.0.0.100]:tcp:8080", false);
        Assert.Equal("10.0.0.100 withdrawn quorum down: 10.0.0.100:8080", Text(AnnouncePlan.Decide(Options, status, true, false))[0]);
    }

    [Fact]
    public void Stopping_comes_before_maintenance_which_comes_before_quorum()
    {
        Assert.All(AnnouncePlan.Decide(Options, AllUp, running: true, maintenance: true), d => Assert.Equal((false, "maintenance"), (d.Announced, d.Reason)));
        Assert.All(AnnouncePlan.Decide(Options, [], running: true, maintenance: true), d => Assert.Equal("maintenance", d.Reason));
        Assert.All(AnnouncePlan.Decide(Options, AllUp, running: false, maintenance: true), d => Assert.Equal((false, "stopping"), (d.Announced, d.Reason)));
    }

    [Fact]
    public void Plan_adds_what_is_wanted_and_deletes_what_is_not()
    {
        var decisions = AnnouncePlan.Decide(Options, [Vs("[10.0.0.100]:tcp:80", true), Vs("[10.0.0.100]:tcp:8080", true), Vs("[10.0.0.101]:tcp:80", false)], true, false);
        var steps = AnnouncePlan.Plan(decisions, new HashSet<IPAddress> { Vip2 }, 200, 200);
        Assert.Equal([new AnnounceStep(AnnounceAction.DeleteRoute, Vip2, 200), new AnnounceStep(AnnounceAction.AddRoute, Vip, 200)], steps);
        Assert.Empty(AnnouncePlan.Plan(decisions, new HashSet<IPAddress> { Vip }, 200, 200));
    }

    [Fact]
    public void Plan_moves_every_route_when_the_table_changes()
    {
        var decisions = AnnouncePlan.Decide(Options, AllUp, true, false);
        var steps = AnnouncePlan.Plan(decisions, new HashSet<IPAddress> { Vip, Vip2 }, 200, 201);
        Assert.Equal(
        [
            new AnnounceStep(AnnounceAction.DeleteRoute, Vip, 200), new AnnounceStep(AnnounceAction.DeleteRoute, Vip2, 200),
            new AnnounceStep(AnnounceAction.AddRoute, Vip, 201), new AnnounceStep(AnnounceAction.AddRoute, Vip2, 201),
        ], steps);
    }

    [Fact]
    public void Leftovers_are_the_found_routes_not_announced()
    {
        var decisions = AnnouncePlan.Decide(Options, [Vs("[10.0.0.100]:tcp:80", true), Vs("[10.0.0.100]:tcp:8080", true)], true, false);
        var stale = IPAddress.Parse("10.0.0.99");
        Assert.Equal([Vip2, stale], AnnouncePlan.Leftovers([Vip, Vip2, stale], decisions));
    }
}
