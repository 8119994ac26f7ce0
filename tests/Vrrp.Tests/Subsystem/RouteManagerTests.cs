using System.Net;
using System.Net.Sockets;
using Lb.TestSupport;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Tests.Support;
using Xunit;

namespace Lb.Vrrp.Tests.Subsystem;

/// <summary>
/// virtual_routes / virtual_rules and static_* with the subsystem on in-memory fakes: the order of the calls (VIPs, routes,
/// rules on MASTER; rules, routes, VIPs on leaving it), the static entries from start to stop, and what is restored when the
/// kernel reports a removal. The real kernel is the oracle of tests/Lb.Tests/EndToEnd/VirtualRoutesTests.
/// </summary>
public class RouteManagerTests
{
    private const string If = "lbnone0";

    /// <summary>Addresses (through <see cref="FakeAddressTable"/>) and routes/rules in one call log.</summary>
    private sealed class FakeRoutingHost : IAddressTable, IRouteTable
    {
        public FakeAddressTable Addresses { get; } = new();

        public List<string> Calls { get; } = [];

        public event EventHandler<AddressChangedEventArgs>? AddressChanged
        {
            add => Addresses.AddressChanged += value;
            remove => Addresses.AddressChanged -= value;
        }

        public event EventHandler<RoutingChangedEventArgs>? RoutingChanged;

        private Task Log(string call)
        {
            lock (Calls)
                Calls.Add(call);
            return Task.CompletedTask;
        }

        public string[] Snapshot()
        {
            lock (Calls)
                return [.. Calls];
        }

        public Task AddAsync(string interfaceName, VirtualAddress address, CancellationToken ct)
        {
            Log($"add address {address.Address}");
            return Addresses.AddAsync(interfaceName, address, ct);
        }

        public Task RemoveAsync(string interfaceName, VirtualAddress address, CancellationToken ct)
        {
            Log($"del address {address.Address}");
            return Addresses.RemoveAsync(interfaceName, address, ct);
        }

        public Task<IReadOnlyList<InterfaceAddress>> ListAsync(string interfaceName, CancellationToken ct) => Addresses.ListAsync(interfaceName, ct);

        public Task AddRouteAsync(VirtualRoute route, CancellationToken ct) => Log($"add route {route.Text}");

        public Task RemoveRouteAsync(VirtualRoute route, CancellationToken ct) => Log($"del route {route.Text}");

        public Task AddRuleAsync(VirtualRule rule, CancellationToken ct) => Log($"add rule {rule.Text}");

        public Task RemoveRuleAsync(VirtualRule rule, CancellationToken ct) => Log($"del rule {rule.Text}");

        public void Raise(RoutingChangedEventArgs e) => RoutingChanged?.Invoke(this, e);
    }

    private static VirtualRoute Route(string text, string dst, int len, string? dev = "eth0", bool noTrack = false, uint table = 254) => new()
    {
        Text = text,
        Destination = new IpPrefix(IPAddress.Parse(dst), len),
        Device = dev,
        Table = table,
        Protocol = 18,
        NoTrack = noTrack,
    };

    private static VirtualRule Rule(string text, uint priority, string from) => new()
    {
        Text = text,
        Action = RuleAction.ToTable,
        Table = 101,
        Priority = priority,
        From = new IpPrefix(IPAddress.Parse(from), 24),
        Protocol = 18,
    };

    private static readonly VirtualRoute R1 = Route("192.168.100.0/24 via 10.0.0.1 dev eth0", "192.168.100.0", 24);
    private static readonly VirtualRoute R2 = Route("192.168.101.0/24 dev eth0 table 101 no_track", "192.168.101.0", 24, noTrack: true, table: 101);
    private static readonly VirtualRule Ru1 = Rule("from 10.0.0.0/24 table 101 priority 200", 200, "10.0.0.0");
    private static readonly VirtualRoute S1 = Route("192.168.110.0/24 via 10.0.0.1 dev eth0", "192.168.110.0", 24);
    private static readonly VirtualRule Su1 = Rule("from 10.0.5.0/24 table 101 priority 300", 300, "10.0.5.0");
    private static readonly VirtualAddress Sa1 = new() { Address = IPAddress.Parse("10.0.5.1"), PrefixLength = 24, Device = "eth0" };

    private static (VrrpSubsystem Subsystem, FakeRoutingHost Host, ManualTimeProvider Time) Rig()
    {
        var host = new FakeRoutingHost();
        var links = new FakeLinkMonitor();
        links.Set(If, up: true);
        host.Addresses.Static.Add(new InterfaceAddress(If, 7, IPAddress.Parse("10.0.0.5"), 24));
        var o = new VrrpSubsystemOptions
        {
            Instances =
            [
                new VrrpInstanceOptions
                {
                    Name = "VI_1",
                    Interface = If,
                    VirtualRouterId = 51,
                    VirtualIpAddresses = [new VirtualAddress { Address = IPAddress.Parse("10.0.0.100"), PrefixLength = 24 }],
                    VirtualRoutes = [R1, R2],
                    VirtualRules = [Ru1],
                },
            ],
            StaticAddresses = [Sa1],
            StaticRoutes = [S1],
            StaticRules = [Su1],
        };
        var time = new ManualTimeProvider();
        return (new VrrpSubsystem(o, host, links, new RecordingEventSink(), new ListLogger(), time, garpFactory: null, new InMemoryTransportFactory()), host, time);
    }

    private static KernelRoute Deleted(VirtualRoute r) =>
        new(AddressFamily.InterNetwork, r.Destination, r.Table, 0, 0, r.Device, 18);

    [Fact]
    public async Task Master_installs_routes_after_vips_and_leaving_removes_rules_routes_then_vips_statics_from_start_to_stop()
    {
        var (vrrp, host, time) = Rig();
        await using var _ = vrrp;
        await vrrp.StartAsync(CancellationToken.None);
        // statics at start (a crashed run's leftovers removed first), before the instance is MASTER
        Assert.Equal(
            ["del rule " + Su1.Text, "del route " + S1.Text, "del address 10.0.5.1", "add address 10.0.5.1", "add route " + S1.Text, "add rule " + Su1.Text],
            host.Snapshot().Where(c => c.Contains("10.0.5.", StringComparison.Ordinal) || c.Contains("192.168.110.", StringComparison.Ordinal)));
        var mark = host.Snapshot().Length;
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(VrrpState.Master, vrrp.GetStatus().Instances[0].State);
        Assert.True(Wait.Until(() => host.Snapshot().Length >= mark + 4));
        Assert.Equal(["add address 10.0.0.100", "add route " + R1.Text, "add route " + R2.Text, "add rule " + Ru1.Text], host.Snapshot()[mark..]);

        // removed by someone else while MASTER: the tracked route and rule come back, the no_track route and a foreign route do not
        mark = host.Snapshot().Length;
        host.Raise(new RoutingChangedEventArgs(Deleted(R1), null, true));
        host.Raise(new RoutingChangedEventArgs(Deleted(R2), null, true));
        host.Raise(new RoutingChangedEventArgs(Deleted(R1) with { Protocol = 4 }, null, true));
        host.Raise(new RoutingChangedEventArgs(Deleted(R1) with { Device = "eth1" }, null, true));
        host.Raise(new RoutingChangedEventArgs(null, new KernelRule(AddressFamily.InterNetwork, 200, 1, 101, new IpPrefix(IPAddress.Parse("10.0.0.0"), 24), null, null, null, null, false, 18), true));
        host.Raise(new RoutingChangedEventArgs(Deleted(S1), null, true));
        host.Addresses.DeleteBehindOurBack("eth0", IPAddress.Parse("10.0.5.1"));
        Assert.True(Wait.Until(() => host.Snapshot().Length >= mark + 4));
        Assert.Equal(["add address 10.0.5.1", "add route " + R1.Text, "add route " + S1.Text, "add rule " + Ru1.Text], host.Snapshot()[mark..].Order());

        mark = host.Snapshot().Length;
        await vrrp.StopAsync(CancellationToken.None);
        Assert.Equal(
            ["del rule " + Ru1.Text, "del route " + R1.Text, "del route " + R2.Text, "del address 10.0.0.100",
             "del rule " + Su1.Text, "del route " + S1.Text, "del address 10.0.5.1"],
            host.Snapshot()[mark..]);
    }

    [Fact]
    public async Task A_backup_restores_nothing()
    {
        var (vrrp, host, _) = Rig();
        await using var __ = vrrp;
        await vrrp.StartAsync(CancellationToken.None);
        var mark = host.Snapshot().Length;
        host.Raise(new RoutingChangedEventArgs(Deleted(R1), null, true));
        host.Raise(new RoutingChangedEventArgs(null, null, false)); // events lost: only the statics are checked again
        Assert.True(Wait.Until(() => host.Snapshot().Length >= mark + 2));
        Assert.Equal(["add route " + S1.Text, "add rule " + Su1.Text], host.Snapshot()[mark..]);
    }
}
