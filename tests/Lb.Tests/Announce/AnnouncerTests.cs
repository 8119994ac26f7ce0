using System.Collections.Concurrent;
using System.Net;
using Lb.Announce;
using Lb.Checkers;
using Lb.Checkers.Journal;
using Lb.Netlink;
using Lb.TestSupport;
using Xunit;

namespace Lb.Lb.Tests.Announce;

/// <summary>
/// The <see cref="Announcer"/> against <see cref="FakeAnnounceKernel"/>, a test stand-in for the kernel used by these unit
/// tests only (the kernel itself is the oracle of AnnounceKernelTests, in the tests/kernel VM): what it installs at start,
/// on checker changes, in maintenance, after a kernel error and at stop; what it journals.
/// </summary>
public sealed class AnnouncerTests
{
    private static readonly IPAddress Vip = AnnouncePlanTests.Vip;
    private static readonly IPAddress Vip2 = AnnouncePlanTests.Vip2;

    /// <summary>A test stand-in for the kernel (unit tests only): routes of proto 249, local routes, addresses and sysctls in memory; scripted errors.</summary>
    internal sealed class FakeAnnounceKernel : IAnnounceKernel
    {
        public ConcurrentDictionary<(IPAddress, uint), bool> Routes { get; } = new();
        /// <summary>Lb's local routes (table local, proto 249).</summary>
        public ConcurrentDictionary<IPAddress, bool> Local { get; } = new();
        public ConcurrentDictionary<string, int> Sysctls { get; } = new(StringComparer.Ordinal) { [Announcer.SloppyTcp] = 0, [Announcer.SloppySctp] = 0 };
        public ConcurrentQueue<string> Log { get; } = new();

        /// <summary>Add-route requests that fail (ENETDOWN) while positive.</summary>
        public int FailAdds;

        public bool Has(IPAddress vip, uint table = 200) => Routes.ContainsKey((vip, table));

        public Task<IReadOnlyList<IPAddress>> ListRoutesAsync(uint table, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<IPAddress>>([.. Routes.Keys.Where(k => k.Item2 == table).Select(k => k.Item1)]);

        public Task AddRouteAsync(IPAddress vip, uint table, CancellationToken cancellationToken)
        {
            if (Interlocked.Decrement(ref FailAdds) >= 0)
                throw new ErrnoException($"add route {vip}/32 dev lo table {table} proto 249", 100);
            Routes[(vip, table)] = true;
            Log.Enqueue($"add {vip} {table}");
            return Task.CompletedTask;
        }

        public Task DeleteRouteAsync(IPAddress vip, uint table, CancellationToken cancellationToken)
        {
            Routes.TryRemove((vip, table), out _);
            Log.Enqueue($"delete {vip} {table}");
            return Task.CompletedTask;
        }

        /// <summary>Addresses of the host's interfaces (local, not Lb's).</summary>
        public ConcurrentDictionary<IPAddress, bool> Addresses { get; } = new();

        public Task<bool> IsLocalAsync(IPAddress vip, CancellationToken cancellationToken) => Task.FromResult(Addresses.ContainsKey(vip));

        public Task<IReadOnlyList<IPAddress>> ListLocalRoutesAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<IPAddress>>([.. Local.Keys]);

        public Task AddLocalRouteAsync(IPAddress vip, CancellationToken cancellationToken)
        {
            Local[vip] = true;
            Log.Enqueue($"local add {vip}");
            return Task.CompletedTask;
        }

        public Task RemoveLocalRouteAsync(IPAddress vip, CancellationToken cancellationToken)
        {
            Local.TryRemove(vip, out _);
            Log.Enqueue($"local delete {vip}");
            return Task.CompletedTask;
        }

        public int? ReadSysctl(string key) => Sysctls.TryGetValue(key, out var v) ? v : null;

        public string? WriteSysctl(string key, int value)
        {
            if (!Sysctls.ContainsKey(key))
                return "No such file or directory";
            Sysctls[key] = value;
            return null;
        }

        public void Dispose()
        {
        }
    }

    private sealed class Journal : IJournal
    {
        public List<JournalEntry> Entries { get; } = [];

        public ValueTask AppendAsync(JournalEntry entry, CancellationToken cancellationToken = default)
        {
            lock (Entries)
                Entries.Add(entry);
            return ValueTask.CompletedTask;
        }

        public List<string> Lines()
        {
            lock (Entries)
                return [.. Entries.Select(e => $"{e.Kind} {e.Instance} {e.OldState}->{e.NewState} | {e.Reason}{(e.By is null ? "" : " | by " + e.By)}")];
        }
    }

    private sealed class Rig : IAsyncDisposable
    {
        public FakeAnnounceKernel Kernel { get; } = new();
        public Journal Journal { get; } = new();
        public ListLogger Log { get; } = new();
        public ManualTimeProvider Time { get; } = new();
        public volatile VirtualServerStatus[]? Status =
            [AnnouncePlanTests.Vs("[10.0.0.100]:tcp:80", true), AnnouncePlanTests.Vs("[10.0.0.100]:tcp:8080", true), AnnouncePlanTests.Vs("[10.0.0.101]:tcp:80", true)];
        public Announcer Announcer { get; }

        public Rig(AnnounceOptions? options = null, bool maintenance = false)
        {
            Announcer = new Announcer(options ?? AnnouncePlanTests.Options, () => Status, _ => Task.FromResult<IAnnounceKernel>(Kernel), Journal, Log, Time, maintenance);
        }

        public void SetUp(string name, bool up)
        {
            Status = [.. Status!.Select(v => v.Name == name ? v with { QuorumUp = up } : v)];
            Announcer.Wake();
        }

        public ValueTask DisposeAsync() => Announcer.DisposeAsync();
    }

    [Fact]
    public async Task Start_makes_the_vips_local_sets_sloppy_tcp_clears_leftovers_and_announces()
    {
        await using var rig = new Rig();
        rig.Kernel.Addresses[Vip2] = true; // already an address of the host
        rig.Kernel.Local[IPAddress.Parse("10.0.0.97")] = true; // an earlier run's local route, no longer configured
        rig.Kernel.Routes[(IPAddress.Parse("10.0.0.99"), 200)] = true; // an earlier run's leftover
        rig.Kernel.Routes[(IPAddress.Parse("10.0.0.99"), 201)] = true; // another table: not Lb's business
        await rig.Announcer.StartAsync(CancellationToken.None);
        Assert.True(rig.Kernel.Has(Vip) && rig.Kernel.Has(Vip2));
        Assert.False(rig.Kernel.Has(IPAddress.Parse("10.0.0.99")));
        Assert.True(rig.Kernel.Has(IPAddress.Parse("10.0.0.99"), 201));
        Assert.Equal(["local delete 10.0.0.97", "local add 10.0.0.100", "delete 10.0.0.99 200", "add 10.0.0.100 200", "add 10.0.0.101 200"], rig.Kernel.Log);
        Assert.Equal(1, rig.Kernel.Sysctls[Announcer.SloppyTcp]);
        Assert.Equal(0, rig.Kernel.Sysctls[Announcer.SloppySctp]); // no SCTP virtual server
        Assert.Equal(["announce 10.0.0.100/32 withdrawn->announced | quorum up", "announce 10.0.0.101/32 withdrawn->announced | quorum up"], rig.Journal.Lines());
        Assert.All(rig.Announcer.Snapshot().Vips, v => Assert.Equal((true, true, 1L), (v.Announced, v.RouteInstalled, v.ToAnnounced)));
    }

    [Fact]
    public async Task A_checker_change_withdraws_and_announces_again()
    {
        await using var rig = new Rig();
        await rig.Announcer.StartAsync(CancellationToken.None);
        rig.SetUp("[10.0.0.100]:tcp:8080", false);
        Assert.True(Wait.Until(() => !rig.Kernel.Has(Vip)), "not withdrawn");
        Assert.True(rig.Kernel.Has(Vip2));
        var v = rig.Announcer.Snapshot().Vips[0];
        Assert.Equal((false, "quorum down: 10.0.0.100:8080", false), (v.Announced, v.Reason, v.RouteInstalled));
        rig.SetUp("[10.0.0.100]:tcp:8080", true);
        Assert.True(Wait.Until(() => rig.Kernel.Has(Vip)), "not announced again");
        Assert.Equal(
        [
            "announce 10.0.0.100/32 withdrawn->announced | quorum up", "announce 10.0.0.101/32 withdrawn->announced | quorum up",
            "announce 10.0.0.100/32 announced->withdrawn | quorum down: 10.0.0.100:8080", "announce 10.0.0.100/32 withdrawn->announced | quorum up",
        ], rig.Journal.Lines());
        Assert.Equal((2L, 1L), (rig.Announcer.Snapshot().Vips[0].ToAnnounced, rig.Announcer.Snapshot().Vips[0].ToWithdrawn));
    }

    [Fact]
    public async Task A_vip_is_first_announced_once_its_real_servers_first_checks_passed_without_a_checker_event()
    {
        await using var rig = new Rig();
        rig.Status = [AnnouncePlanTests.Checked("[10.0.0.100]:tcp:80", hasRun: false), AnnouncePlanTests.Vs("[10.0.0.100]:tcp:8080", true), AnnouncePlanTests.Vs("[10.0.0.101]:tcp:80", true)];
        await rig.Announcer.StartAsync(CancellationToken.None);
        Assert.False(rig.Kernel.Has(Vip));
        Assert.True(rig.Kernel.Has(Vip2));
        Assert.Equal("first checks pending: 10.0.0.100:80", rig.Announcer.Snapshot().Vips[0].Reason);
        // The first round passes: the checker's state does not change, no event wakes the announcer; its poll does.
        rig.Status = [AnnouncePlanTests.Checked("[10.0.0.100]:tcp:80", hasRun: true), .. rig.Status![1..]];
        rig.Time.Advance(rig.Announcer.AwaitingChecksPoll);
        Assert.True(Wait.Until(() => rig.Kernel.Has(Vip)), "not announced after the first checks");
        Assert.Equal(["announce 10.0.0.101/32 withdrawn->announced | quorum up", "announce 10.0.0.100/32 withdrawn->announced | quorum up"], rig.Journal.Lines());
    }

    [Fact]
    public async Task Maintenance_withdraws_every_vip_and_is_journaled_with_the_caller()
    {
        await using var rig = new Rig();
        await rig.Announcer.StartAsync(CancellationToken.None);
        var s = await rig.Announcer.SetMaintenanceAsync(true, "root (uid 0, pid 1)", CancellationToken.None);
        Assert.True(s.Maintenance);
        Assert.Empty(rig.Kernel.Routes);
        Assert.All(s.Vips, v => Assert.Equal("maintenance", v.Reason));
        Assert.Contains("announce 10.0.0.101/32 announced->withdrawn | maintenance | by root (uid 0, pid 1)", rig.Journal.Lines());
        // A checker change meanwhile does not bring anything back.
        rig.SetUp("[10.0.0.100]:tcp:8080", false);
        rig.SetUp("[10.0.0.100]:tcp:8080", true);
        await rig.Announcer.SetMaintenanceAsync(false, "root (uid 0, pid 2)", CancellationToken.None);
        Assert.True(rig.Kernel.Has(Vip) && rig.Kernel.Has(Vip2));
    }

    [Fact]
    public async Task A_local_route_of_an_earlier_run_for_a_configured_vip_is_adopted_and_deleted_at_stop()
    {
        await using var rig = new Rig();
        rig.Kernel.Local[Vip] = true;
        await rig.Announcer.StartAsync(CancellationToken.None);
        Assert.DoesNotContain("local add 10.0.0.100", rig.Kernel.Log);
        await rig.Announcer.StopAsync(CancellationToken.None);
        Assert.Empty(rig.Kernel.Local);
    }

    [Fact]
    public async Task Started_in_maintenance_announces_nothing()
    {
        await using var rig = new Rig(maintenance: true);
        await rig.Announcer.StartAsync(CancellationToken.None);
        Assert.Empty(rig.Kernel.Routes);
        Assert.True(rig.Kernel.Local.ContainsKey(Vip)); // the VIP is still served locally
    }

    [Fact]
    public async Task A_kernel_error_is_logged_with_the_object_and_retried()
    {
        await using var rig = new Rig();
        rig.Kernel.FailAdds = 1;
        await rig.Announcer.StartAsync(CancellationToken.None);
        Assert.False(rig.Kernel.Has(Vip));
        Assert.True(rig.Kernel.Has(Vip2));
        Assert.Contains(rig.Log.Lines, l => l.Contains("add route 10.0.0.100/32 dev lo table 200 proto 249", StringComparison.Ordinal) && l.Contains("ENETDOWN", StringComparison.Ordinal));
        var v = rig.Announcer.Snapshot().Vips[0];
        Assert.True(v.Announced && !v.RouteInstalled && v.LastError is not null);
        rig.Time.Advance(rig.Announcer.RetryDelay);
        Assert.True(Wait.Until(() => rig.Kernel.Has(Vip)), "not retried");
        Assert.True(Wait.Until(() => rig.Announcer.Snapshot().Vips[0].LastError is null));
    }

    [Fact]
    public async Task Stop_withdraws_everything_and_removes_only_the_local_routes_it_added()
    {
        await using var rig = new Rig();
        rig.Kernel.Addresses[Vip2] = true;
        await rig.Announcer.StartAsync(CancellationToken.None);
        Assert.Equal([Vip], rig.Kernel.Local.Keys);
        await rig.Announcer.StopAsync(CancellationToken.None);
        Assert.Empty(rig.Kernel.Routes);
        Assert.Empty(rig.Kernel.Local);
        Assert.True(rig.Kernel.Addresses.ContainsKey(Vip2));
        Assert.Contains("announce 10.0.0.100/32 announced->withdrawn | stopping", rig.Journal.Lines());
        Assert.Equal(1, rig.Kernel.Sysctls[Announcer.SloppyTcp]); // not restored
    }

    [Fact]
    public async Task Without_ipvs_loaded_sloppy_tcp_is_a_warning_and_routes_still_follow_health()
    {
        await using var rig = new Rig();
        rig.Kernel.Sysctls.Clear();
        await rig.Announcer.StartAsync(CancellationToken.None);
        Assert.Contains(rig.Log.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Text.Contains("/proc/sys/net/ipv4/vs/sloppy_tcp does not exist", StringComparison.Ordinal));
        Assert.True(rig.Kernel.Has(Vip));
    }

    [Fact]
    public async Task An_sctp_virtual_server_sets_sloppy_sctp_too()
    {
        await using var rig = new Rig(new AnnounceOptions { Vips = [new AnnouncedVip(Vip, [new("[10.0.0.100]:sctp:80", "10.0.0.100:80/sctp", Sctp: true)])] });
        rig.Status = [AnnouncePlanTests.Vs("[10.0.0.100]:sctp:80", true)];
        await rig.Announcer.StartAsync(CancellationToken.None);
        Assert.Equal((1, 1), (rig.Kernel.Sysctls[Announcer.SloppyTcp], rig.Kernel.Sysctls[Announcer.SloppySctp]));
    }

    [Fact]
    public async Task A_reload_withdraws_a_vip_no_longer_announced_and_moves_routes_to_a_new_table()
    {
        await using var rig = new Rig();
        await rig.Announcer.StartAsync(CancellationToken.None);
        var next = new AnnounceOptions { Table = 201, Vips = [AnnouncePlanTests.Options.Vips[1]] };
        await rig.Announcer.ReloadAsync(next, CancellationToken.None);
        Assert.Equal([(Vip2, 201u)], rig.Kernel.Routes.Keys);
        Assert.False(rig.Kernel.Local.ContainsKey(Vip)); // Lb had added it
        Assert.True(rig.Kernel.Local.ContainsKey(Vip2));
        Assert.Equal([Vip2], rig.Announcer.Snapshot().Vips.Select(v => v.Vip));
        Assert.Contains("announce 10.0.0.100/32 announced->withdrawn | configuration reload: no longer announced", rig.Journal.Lines());
    }
}
