using System.Net;
using System.Net.Sockets;
using Lb.TestSupport;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Protocol;
using Lb.Vrrp.Tests.Support;
using Xunit;

namespace Lb.Vrrp.Tests.Subsystem;

/// <summary>
/// The subsystem over the socket pool's transport seam: the pool opens one transport per (interface, family) for the
/// instance, adverts go out through it, and adverts it delivers drive the instance — without a bind that fails.
/// </summary>
public class TransportSeamTests
{
    private const string If = "lbnone0";
    private static readonly IPAddress Group = IPAddress.Parse("224.0.0.18");
    private static readonly IPAddress Ours = IPAddress.Parse("10.0.0.5");
    private static readonly IPAddress Peer = IPAddress.Parse("10.0.0.9");

    private sealed class NoGarp : Lb.Vrrp.Transport.IGarpSender
    {
        public void Send(int interfaceIndex, ReadOnlySpan<byte> mac, IPAddress vip)
        {
        }

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task The_pool_opens_the_instance_transport_sends_adverts_through_it_and_a_higher_advert_it_delivers_makes_the_master_back_off()
    {
        var time = new ManualTimeProvider();
        var links = new FakeLinkMonitor();
        links.Set(If, up: true, index: 7);
        var addrs = new FakeAddressTable();
        addrs.Static.Add(new InterfaceAddress(If, 7, Ours, 24));
        var transports = new InMemoryTransportFactory();
        var options = new VrrpSubsystemOptions
        {
            Instances =
            [
                new VrrpInstanceOptions
                {
                    Name = "VI_1",
                    Interface = If,
                    VirtualRouterId = 51,
                    VirtualIpAddresses = [new VirtualAddress { Address = IPAddress.Parse("10.0.0.100"), PrefixLength = 24 }],
                },
            ],
        };
        var events = new RecordingEventSink();
        await using var s = new VrrpSubsystem(options, addrs, links, events, new ListLogger(), time, () => new NoGarp(), transports);
        await s.StartAsync(CancellationToken.None);

        var opened = Assert.Single(transports.Opened);
        Assert.Equal((If, 7, AddressFamily.InterNetwork, Group), (opened.Interface, opened.Index, opened.Family, opened.Group));
        var wire = opened.Transport;

        time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(VrrpState.Master, s.GetStatus().Instances[0].State);
        var advert = Assert.Single(wire.Sent);
        Assert.Equal((Ours, Group, (byte)255, (byte)51, (byte)100), (advert.Source, advert.Destination, advert.Ttl, advert.Packet.VirtualRouterId, advert.Packet.Priority));

        var higher = new VrrpPacket
        {
            Version = 2,
            VirtualRouterId = 51,
            Priority = 200,
            AdvertIntervalCentiseconds = 100,
            Addresses = [IPAddress.Parse("10.0.0.100")],
            AuthData = new byte[VrrpPacket.AuthDataLength],
        };
        wire.Deliver(higher, Peer, Group);
        Assert.Equal(VrrpState.Backup, s.GetStatus().Instances[0].State);
        Assert.Equal(Peer, s.GetStatus().Instances[0].MasterAddress);
        Assert.True(Wait.Until(() => addrs.Vips.Count == 0));

        // an advert for a VRID nobody runs is counted on the socket, not on the instance
        var stranger = new VrrpPacket
        {
            Version = 2,
            VirtualRouterId = 52,
            Priority = 200,
            AdvertIntervalCentiseconds = 100,
            Addresses = [IPAddress.Parse("10.0.0.100")],
            AuthData = new byte[VrrpPacket.AuthDataLength],
        };
        wire.Deliver(stranger, Peer, Group);
        Assert.Equal(1, s.GetStatus().UnattributedDrops.GetValueOrDefault(VrrpDropReason.UnknownVrid));

        await s.StopAsync(CancellationToken.None);
        Assert.True(wire.Disposed);
    }
}
