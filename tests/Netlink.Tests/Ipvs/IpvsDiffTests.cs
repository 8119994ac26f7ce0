using System.Net;
using Lb.Netlink.Ipvs;
using Lb.TestSupport;
using Xunit;

namespace Lb.Netlink.Tests.Ipvs;

public class IpvsDiffTests
{
    private static readonly IpvsServiceKey Web = IpvsServiceKey.Tcp(IPAddress.Parse("10.0.0.1"), 80);
    private static readonly IpvsServiceKey Dns = IpvsServiceKey.Udp(IPAddress.Parse("10.0.0.1"), 53);
    private static readonly IpvsServiceKey Foreign = IpvsServiceKey.Tcp(IPAddress.Parse("10.9.9.9"), 22);

    private static IpvsDestination D(string ip, int weight = 1, IpvsForwardingMethod fwd = IpvsForwardingMethod.Route) => new(IPAddress.Parse(ip), 80, fwd, weight);

    private static IpvsTableSnapshot Table(params (IpvsService Service, IpvsDestination[] Dests)[] entries) =>
        new(entries.Select(e => new IpvsTableEntry(
            new IpvsServiceStatus(e.Service with { Flags = e.Service.Flags | IpvsServiceFlags.Hashed }, IpvsStats.Zero),
            e.Dests.Select(d => new IpvsDestinationStatus(d, 3, 4, 0, IpvsStats.Zero)).ToList())).ToList());

    [Fact]
    public void Empty_kernel_gets_services_then_their_destinations()
    {
        var desired = new[] { new IpvsVirtualServer(new IpvsService(Web, "wrr"), [D("10.0.1.1"), D("10.0.1.2")]) };
        var ops = IpvsDiff.Compute(Table(), desired, IpvsOwnership.DesiredOnly);
        Assert.Equal(
            ["add service TCP 10.0.0.1:80 wrr", "add destination 10.0.1.1:80 Route weight 1 to TCP 10.0.0.1:80", "add destination 10.0.1.2:80 Route weight 1 to TCP 10.0.0.1:80"],
            ops.Select(o => o.ToString()));
    }

    [Fact]
    public void Identical_table_gives_no_operations_even_with_the_hashed_flag_and_connection_counts()
    {
        var svc = new IpvsService(Web, "wrr") { Flags = IpvsServiceFlags.Persistent, PersistenceTimeout = 300 };
        var current = Table((svc with { PersistenceNetmask = 32 }, [D("10.0.1.1")]));
        var ops = IpvsDiff.Compute(current, [new IpvsVirtualServer(svc, [D("10.0.1.1")])], IpvsOwnership.Everything);
        Assert.Empty(ops);
    }

    [Theory]
    [InlineData("scheduler")]
    [InlineData("flags")]
    [InlineData("timeout")]
    [InlineData("netmask")]
    [InlineData("pe")]
    public void A_changed_service_setting_is_one_edit(string what)
    {
        var svc = new IpvsService(Web, "wrr") { Flags = IpvsServiceFlags.Persistent, PersistenceTimeout = 300 };
        var changed = what switch
        {
            "scheduler" => svc with { Scheduler = "lc" },
            "flags" => svc with { Flags = svc.Flags | IpvsServiceFlags.OnePacket },
            "timeout" => svc with { PersistenceTimeout = 301 },
            "netmask" => svc with { PersistenceNetmask = 24 },
            _ => svc with { PersistenceEngine = "sip" },
        };
        var ops = IpvsDiff.Compute(Table((svc, [D("10.0.1.1")])), [new IpvsVirtualServer(changed, [D("10.0.1.1")])], IpvsOwnership.DesiredOnly);
        var op = Assert.Single(ops);
        Assert.Equal(IpvsOperationKind.EditService, op.Kind);
        Assert.Same(changed, op.Service);
    }

    [Theory]
    [InlineData("weight")]
    [InlineData("fwd")]
    [InlineData("upper")]
    [InlineData("lower")]
    [InlineData("tunnel")]
    public void A_changed_destination_setting_is_one_edit(string what)
    {
        var d = D("10.0.1.1") with { Forwarding = IpvsForwardingMethod.Tunnel, UpperThreshold = 10 };
        var changed = what switch
        {
            "weight" => d with { Weight = 0 },
            "fwd" => d with { Forwarding = IpvsForwardingMethod.Masquerade },
            "upper" => d with { UpperThreshold = 20 },
            "lower" => d with { LowerThreshold = 5 },
            _ => d with { TunnelType = IpvsTunnelType.Gre },
        };
        var svc = new IpvsService(Web, "rr");
        var op = Assert.Single(IpvsDiff.Compute(Table((svc, [d])), [new IpvsVirtualServer(svc, [changed])], IpvsOwnership.DesiredOnly));
        Assert.Equal(IpvsOperationKind.EditDestination, op.Kind);
        Assert.Equal(changed, op.Destination);
    }

    [Fact]
    public void Stale_destinations_are_deleted_before_new_ones_are_added()
    {
        var svc = new IpvsService(Web, "rr");
        var ops = IpvsDiff.Compute(Table((svc, [D("10.0.1.1"), D("10.0.1.2")])), [new IpvsVirtualServer(svc, [D("10.0.1.2"), D("10.0.1.3")])], IpvsOwnership.DesiredOnly);
        Assert.Equal([IpvsOperationKind.DeleteDestination, IpvsOperationKind.AddDestination], ops.Select(o => o.Kind));
        Assert.Equal(IPAddress.Parse("10.0.1.1"), ops[0].DestinationKey!.Value.Address);
        Assert.Equal(IPAddress.Parse("10.0.1.3"), ops[1].Destination!.Address);
    }

    [Fact]
    public void Services_not_owned_are_left_alone_and_owned_ones_are_deleted()
    {
        var current = Table((new IpvsService(Web, "rr"), []), (new IpvsService(Dns, "rr"), []), (new IpvsService(Foreign, "rr"), [D("10.9.9.10")]));
        var desired = new[] { new IpvsVirtualServer(new IpvsService(Web, "rr"), []) };

        Assert.Empty(IpvsDiff.Compute(current, desired, IpvsOwnership.DesiredOnly));

        var ops = IpvsDiff.Compute(current, desired, IpvsOwnership.Of([Web, Dns]));
        var op = Assert.Single(ops);
        Assert.Equal(IpvsOperation.DeleteService(Dns), op);

        var all = IpvsDiff.Compute(current, desired, IpvsOwnership.Everything);
        Assert.Equal([IpvsOperation.DeleteService(Dns), IpvsOperation.DeleteService(Foreign)], all);
    }

    [Fact]
    public void Duplicates_in_the_desired_table_are_rejected()
    {
        var svc = new IpvsService(Web, "rr");
        Assert.Throws<ArgumentException>(() => IpvsDiff.Compute(Table(), [new(svc, []), new(svc, [])], IpvsOwnership.DesiredOnly));
        Assert.Throws<ArgumentException>(() => IpvsDiff.Compute(Table(), [new(svc, [D("10.0.1.1"), D("10.0.1.1", 2)])], IpvsOwnership.DesiredOnly));
    }
}

public class InMemoryIpvsTableTests
{
    private static readonly IpvsServiceKey Web = IpvsServiceKey.Tcp(IPAddress.Parse("10.0.0.1"), 80);

    [Fact]
    public async Task Reconcile_is_idempotent_and_reports_counts()
    {
        var table = new InMemoryIpvsTable();
        var desired = new[]
        {
            new IpvsVirtualServer(new IpvsService(Web, "wrr"), [new IpvsDestination(IPAddress.Parse("10.0.1.1"), 80), new IpvsDestination(IPAddress.Parse("10.0.1.2"), 80, weight: 3)]),
            new IpvsVirtualServer(new IpvsService(IpvsServiceKey.Fwmark(5), "rr"), [new IpvsDestination(IPAddress.Parse("10.0.2.1"), 0, IpvsForwardingMethod.Masquerade)]),
        };
        var first = await table.ReconcileAsync(desired, IpvsOwnership.DesiredOnly);
        Assert.True(first.Succeeded);
        Assert.Equal((2, 3), (first.ServicesAdded, first.DestinationsAdded));
        var second = await table.ReconcileAsync(desired, IpvsOwnership.DesiredOnly);
        Assert.Empty(second.Operations);

        var changed = new[] { desired[0] with { Destinations = [new IpvsDestination(IPAddress.Parse("10.0.1.2"), 80, weight: 0)] } };
        var third = await table.ReconcileAsync(changed, IpvsOwnership.Everything);
        Assert.Equal((1, 1, 1), (third.ServicesDeleted, third.DestinationsDeleted, third.DestinationsEdited));
        var dump = await table.DumpAsync();
        var entry = Assert.Single(dump.Services);
        Assert.Equal(0, Assert.Single(entry.Destinations).Destination.Weight);
    }

    [Fact]
    public async Task Stale_operations_are_states_not_failures()
    {
        var table = new InMemoryIpvsTable();
        var svc = new IpvsService(Web, "rr");
        var dest = new IpvsDestination(IPAddress.Parse("10.0.1.1"), 80);
        await table.ApplyAsync([IpvsOperation.AddService(svc), IpvsOperation.AddDestination(Web, dest)]);

        // Add of something that exists becomes an edit; edit of something missing becomes an add; delete of something gone is done.
        var result = await table.ApplyAsync([
            IpvsOperation.AddService(svc with { Scheduler = "wrr" }),
            IpvsOperation.AddDestination(Web, dest with { Weight = 9 }),
            IpvsOperation.EditDestination(Web, new IpvsDestination(IPAddress.Parse("10.0.1.2"), 80)),
            IpvsOperation.DeleteDestination(Web, new IpvsDestinationKey(IPAddress.Parse("10.0.1.7"), 80)),
            IpvsOperation.DeleteService(IpvsServiceKey.Tcp(IPAddress.Parse("10.0.0.9"), 80)),
        ]);
        Assert.True(result.Succeeded, string.Join("; ", result.Failures));
        Assert.All(result.Operations, o => Assert.Equal(IpvsOperationOutcome.AlreadyInState, o.Outcome));
        var entry = Assert.Single((await table.DumpAsync()).Services);
        Assert.Equal("wrr", entry.Service.Scheduler);
        Assert.Equal([9, 1], entry.Destinations.Select(d => d.Destination.Weight));
    }

    [Fact]
    public async Task A_destination_for_a_missing_service_fails_with_ESRCH_naming_it()
    {
        var table = new InMemoryIpvsTable();
        var result = await table.ApplyAsync([IpvsOperation.AddDestination(Web, new IpvsDestination(IPAddress.Parse("10.0.1.1"), 80))]);
        var failure = Assert.Single(result.Failures);
        Assert.Equal("ESRCH", failure.Error!.ErrnoName);
        Assert.Contains("10.0.1.1:80", failure.Error.Message);
        var thrown = Assert.Throws<NetlinkException>(() => result.ThrowOnFailure());
        Assert.Equal("ESRCH", thrown.ErrnoName);
    }

    [Fact]
    public async Task Set_and_remove_destination_are_upsert_and_idempotent()
    {
        var table = new InMemoryIpvsTable();
        await table.ApplyAsync([IpvsOperation.AddService(new IpvsService(Web, "rr"))]);
        var d = new IpvsDestination(IPAddress.Parse("10.0.1.1"), 80);
        await table.SetDestinationAsync(Web, d);
        await table.SetDestinationAsync(Web, d with { Weight = 4 });
        Assert.Equal(4, Assert.Single(Assert.Single((await table.DumpAsync()).Services).Destinations).Destination.Weight);
        await table.RemoveDestinationAsync(Web, d.Key);
        await table.RemoveDestinationAsync(Web, d.Key);
        Assert.Empty(Assert.Single((await table.DumpAsync()).Services).Destinations);
    }

    [Fact]
    public async Task Applied_and_failed_operations_are_logged_with_stable_event_ids()
    {
        var logger = new ListLogger();
        var table = new InMemoryIpvsTable { Logger = logger };
        await table.ApplyAsync([
            IpvsOperation.AddService(new IpvsService(Web, "rr")),
            IpvsOperation.AddDestination(IpvsServiceKey.Udp(IPAddress.Parse("10.0.0.1"), 53), new IpvsDestination(IPAddress.Parse("10.0.1.1"), 53)),
        ]);
        Assert.Contains(logger.Entries, e => e.Id == 2002 && e.Text == "IPVS: add service TCP 10.0.0.1:80 rr");
        Assert.Contains(logger.Entries, e => e.Id == 2004 && e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Text.Contains("ESRCH", StringComparison.Ordinal));
    }
}
