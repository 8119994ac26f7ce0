using System.Net;
using Lb.TestSupport;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Protocol;
using Lb.Vrrp.Tests.Support;
using Xunit;

namespace Lb.Vrrp.Tests.Netns;

/// <summary>
/// A physical NIC pads every Ethernet frame to 60 bytes, and Lb's AF_PACKET socket receives the padding.
/// veth never pads and a bridge forwards what it got, so this test runs over <see cref="LabWire.PaddingSwitch"/>, which pads
/// as a NIC does. The real keepalived heard (and hearing Lb) through the same switch is
/// <see cref="KeepalivedInteropTests"/> over <see cref="LabWire.PaddingSwitch"/>.
/// </summary>
public class PaddedFrameTests
{
    private static VrrpSubsystemOptions Options(VethPeer net, int version, int priority) => new()
    {
        Version = version,
        Instances =
        [
            new VrrpInstanceOptions
            {
                Name = "VI_1",
                Interface = net.HostIf,
                VirtualRouterId = 77,
                Priority = priority,
                Authentication = version == 2 ? new VrrpAuthentication(VrrpAuthType.Pass, "secret12") : null,
                VirtualIpAddresses = [new VirtualAddress { Address = net.Vip, PrefixLength = 24 }],
            },
        ],
    };

    [RootTheory("ip", "python3")]
    [InlineData(2)]
    [InlineData(3)]
    public async Task A_higher_priority_advert_in_a_padded_60_byte_frame_makes_the_master_back_off(int version)
    {
        using var net = new VethPeer(LabWire.PaddingSwitch);
        var logs = new ListLogger();
        var events = new RecordingEventSink();
        await using var lb = new VrrpSubsystem(Options(net, version, 150), new IpCommandAddressTable(), new SysfsLinkMonitor(), events, logs, TimeProvider.System);
        await lb.StartAsync(CancellationToken.None);
        Assert.True(Wait.Until(() => lb.GetStatus().Instances[0].State == VrrpState.Master));
        Assert.True(Wait.Until(() => IpCommandAddressTable.Has(net.HostIf, net.Vip)));

        var claim = new VrrpPacket
        {
            Version = (byte)version,
            VirtualRouterId = 77,
            Priority = 254,
            AuthType = version == 2 ? VrrpAuthType.Pass : VrrpAuthType.None,
            AdvertIntervalCentiseconds = 100,
            Addresses = [net.Vip],
            AuthData = version == 2 ? VrrpPacket.PasswordBytes("secret12") : new byte[VrrpPacket.AuthDataLength],
        };
        var buf = new byte[128];
        var n = claim.WriteIpv4Datagram(buf, net.PeerAddress, IPAddress.Parse("224.0.0.18"), 255);
        Assert.True(n + 14 < 60, "the advert must be short enough for the NIC to pad it");

        // sent as an IP datagram from the peer namespace: the kernel frames it in 14 + n < 60 bytes, the switch pads it
        net.InNs("python3", "-c", AdvertInjector.RawSender, net.PeerIf, "5", Convert.ToHexString(buf, 0, n));

        Assert.True(Wait.Until(() => net.Switch!.Padded(112, from: VethPeer.PeerHost) >= 5), net.Switch!.Process.Output);
        Assert.True(Wait.Until(() => lb.GetStatus().Instances[0].AdvertsReceived >= 1),
            $"received {lb.GetStatus().Instances[0].AdvertsReceived}, drops: {string.Join(", ", lb.GetStatus().Instances[0].Drops)}; {string.Join(", ", lb.GetStatus().UnattributedDrops)}");
        Assert.True(Wait.Until(() => events.Changes.Any(c => c.NewState == VrrpState.Backup)));
        var status = lb.GetStatus().Instances[0];
        Assert.Equal(0, status.Drops.Values.Sum());
        Assert.True(logs.Contains($"(VI_1) Master received advert from {net.PeerAddress} with higher priority 254, ours 150"), string.Join('\n', logs.Lines));
    }
}
