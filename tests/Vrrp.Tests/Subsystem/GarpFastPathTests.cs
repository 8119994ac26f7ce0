using System.Collections.Concurrent;
using System.Net;
using Lb.TestSupport;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Tests.Support;
using Xunit;

namespace Lb.Vrrp.Tests.Subsystem;

/// <summary>
/// The GARP/NA burst of a new MASTER goes out beside the VIP add, not after its netlink ACK, and is sent from the
/// ifindex and MAC cached at attach (kept current by link events), never from a name looked up per packet.
/// </summary>
public class GarpFastPathTests
{
    private const string If = "lbnone0";
    private static readonly IPAddress Vip = IPAddress.Parse("10.0.0.100");

    private sealed class RecordingGarp : Lb.Vrrp.Transport.IGarpSender
    {
        public ConcurrentQueue<(int Index, string Mac, IPAddress Vip)> Sent { get; } = new();

        public void Send(int interfaceIndex, ReadOnlySpan<byte> mac, IPAddress vip)
            => Sent.Enqueue((interfaceIndex, Convert.ToHexString(mac), vip));

        public void Dispose()
        {
        }
    }

    /// <summary>
    /// The in-memory address table whose add does not return until the test says so: a netlink request whose ACK
    /// has not arrived. A mock because a real kernel answers in microseconds, so the order could not be observed.
    /// </summary>
    private sealed class AckHeldAddressTable : IAddressTable
    {
        private readonly FakeAddressTable _inner = new();
        private readonly TaskCompletionSource _ack = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _pending;
        private int _completed;

        public List<InterfaceAddress> Static => _inner.Static;

        public int Pending => Volatile.Read(ref _pending);

        public int Completed => Volatile.Read(ref _completed);

        public IReadOnlyList<(string Interface, VirtualAddress Address)> Vips => _inner.Vips;

        public event EventHandler<AddressChangedEventArgs>? AddressChanged
        {
            add => _inner.AddressChanged += value;
            remove => _inner.AddressChanged -= value;
        }

        public void Ack() => _ack.TrySetResult();

        public async Task AddAsync(string interfaceName, VirtualAddress address, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _pending);
            await _ack.Task.WaitAsync(cancellationToken);
            await _inner.AddAsync(interfaceName, address, cancellationToken);
            Interlocked.Increment(ref _completed);
        }

        public Task RemoveAsync(string interfaceName, VirtualAddress address, CancellationToken cancellationToken) => _inner.RemoveAsync(interfaceName, address, cancellationToken);

        public Task<IReadOnlyList<InterfaceAddress>> ListAsync(string interfaceName, CancellationToken cancellationToken) => _inner.ListAsync(interfaceName, cancellationToken);
    }

    private static VrrpSubsystemOptions Options(Func<VrrpSubsystemOptions, VrrpSubsystemOptions>? with = null)
    {
        var o = new VrrpSubsystemOptions
        {
            GarpMasterDelay = TimeSpan.Zero,
            GarpMasterRepeat = 3,
            Instances =
            [
                new VrrpInstanceOptions
                {
                    Name = "VI_1",
                    Interface = If,
                    VirtualRouterId = 51,
                    VirtualIpAddresses = [new VirtualAddress { Address = Vip, PrefixLength = 24 }],
                },
            ],
        };
        return with is null ? o : with(o);
    }

    [Fact]
    public async Task The_garp_burst_goes_out_while_the_vip_add_still_waits_for_its_ack()
    {
        var time = new ManualTimeProvider();
        var garp = new RecordingGarp();
        var links = new FakeLinkMonitor();
        links.Set(If, up: true, index: 42);
        var addrs = new AckHeldAddressTable();
        addrs.Static.Add(new InterfaceAddress(If, 42, IPAddress.Parse("10.0.0.5"), 24));
        await using var s = new VrrpSubsystem(Options(), addrs, links, new RecordingEventSink(), new ListLogger(), time, () => garp, new InMemoryTransportFactory());
        await s.StartAsync(CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(VrrpState.Master, s.GetStatus().Instances[0].State);

        // the add is in flight and unanswered; the whole burst is already out
        Assert.True(Wait.Until(() => addrs.Pending == 1));
        Assert.True(Wait.Until(() => garp.Sent.Count == 3));
        Assert.Equal(0, addrs.Completed);
        Assert.Empty(addrs.Vips);
        Assert.All(garp.Sent, g => Assert.Equal((42, "020000000007", Vip), g));

        addrs.Ack();
        Assert.True(Wait.Until(() => addrs.Vips.Count == 1));
        Assert.Equal(3, garp.Sent.Count);
    }

    [Fact]
    public async Task Garps_are_sent_from_the_cached_ifindex_and_mac_and_follow_link_events()
    {
        var time = new ManualTimeProvider();
        var garp = new RecordingGarp();
        var links = new FakeLinkMonitor();
        links.Set(If, up: true, index: 42);
        var addrs = new FakeAddressTable();
        addrs.Static.Add(new InterfaceAddress(If, 42, IPAddress.Parse("10.0.0.5"), 24));
        var options = Options(o => o with { GarpMasterRefresh = TimeSpan.FromSeconds(1), GarpMasterRefreshRepeat = 1 });
        await using var s = new VrrpSubsystem(options, addrs, links, new RecordingEventSink(), new ListLogger(), time, () => garp, new InMemoryTransportFactory());
        await s.StartAsync(CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.True(Wait.Until(() => garp.Sent.Count == 3));
        var lookups = links.Lookups;

        // refresh bursts: no name lookup, the attach-time ifindex and MAC
        time.Advance(TimeSpan.FromSeconds(1));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(Wait.Until(() => garp.Sent.Count == 5));
        Assert.Equal(lookups, links.Lookups);
        Assert.All(garp.Sent, g => Assert.Equal((42, "020000000007", Vip), g));

        // the interface is re-created (new ifindex, new MAC): the link event updates the cache the next burst uses
        links.Set(If, up: true, index: 43, mac: "02-00-00-00-00-08");
        var before = garp.Sent.Count;
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(Wait.Until(() => garp.Sent.Count == before + 1));
        Assert.Equal((43, "020000000008", Vip), garp.Sent.Last());
    }

    [Fact]
    public void The_link_cache_follows_a_rename_a_deletion_and_a_recreation()
    {
        var links = new FakeLinkMonitor();
        links.Set("eth0", up: true, index: 5);
        var cache = new Lb.Vrrp.Addresses.LinkCache(links);
        Assert.Equal(5, cache.Resolve("eth0")!.Index);

        cache.OnLinkChanged(new LinkInfo("wan0", 5, System.Net.NetworkInformation.PhysicalAddress.Parse("02-00-00-00-00-05"), true));
        Assert.Null(cache.Get("eth0"));
        Assert.Equal((5, "020000000005"), (cache.Get("wan0")!.Index, Convert.ToHexString(cache.Get("wan0")!.Mac)));

        cache.OnLinkChanged(new LinkInfo("wan0", 5, null, false, Exists: false));
        Assert.Null(cache.Get("wan0"));

        cache.OnLinkChanged(new LinkInfo("wan0", 9, System.Net.NetworkInformation.PhysicalAddress.Parse("02-00-00-00-00-09"), true));
        Assert.Equal(9, cache.Get("wan0")!.Index);
    }
}
