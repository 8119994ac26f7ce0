using System.Net;
using Lb.TestSupport;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Protocol;
using Lb.Vrrp.Tests.Support;
using Xunit;

namespace Lb.Vrrp.Tests.Netns;

/// <summary>A peer floods forged adverts at a MASTER through the real transport: each is dropped for its reason and counted, the master stays master, logging stays bounded.</summary>
public class ForgedAdvertTests
{
    private const int PerKind = 300;

    [RootFact("ip", "python3")]
    public async Task Forged_flood_is_dropped_by_reason_and_the_master_stays_master()
    {
        using var net = new VethPeer();
        var logs = new ListLogger();
        var events = new RecordingEventSink();
        var options = new VrrpSubsystemOptions
        {
            Instances =
            [
                new VrrpInstanceOptions
                {
                    Name = "VI_1",
                    Interface = net.HostIf,
                    VirtualRouterId = 77,
                    Priority = 150,
                    Authentication = new VrrpAuthentication(VrrpAuthType.Pass, "secret12"),
                    VirtualIpAddresses = [new VirtualAddress { Address = net.Vip, PrefixLength = 24 }],
                },
            ],
        };
        await using var lb = new VrrpSubsystem(options, new IpCommandAddressTable(), new SysfsLinkMonitor(), events, logs, TimeProvider.System);
        await lb.StartAsync(CancellationToken.None);
        Assert.True(Wait.Until(() => lb.GetStatus().Instances[0].State == VrrpState.Master));

        VrrpPacket Claim(byte vrid = 77, string pass = "secret12", int count = 1) => new()
        {
            Version = 2,
            VirtualRouterId = vrid,
            Priority = 254,
            AuthType = VrrpAuthType.Pass,
            AdvertIntervalCentiseconds = 100,
            Addresses = Enumerable.Repeat(net.Vip, count).ToArray(),
            AuthData = VrrpPacket.PasswordBytes(pass),
        };
        string Hex(VrrpPacket p, byte ttl = 255, Action<byte[]>? corrupt = null)
        {
            var b = new byte[256];
            var n = p.WriteIpv4Datagram(b, net.PeerAddress, IPAddress.Parse("224.0.0.18"), ttl);
            var d = b[..n];
            corrupt?.Invoke(d);
            return Convert.ToHexString(d);
        }

        var forged = new[]
        {
            Hex(Claim(pass: "wrongpw!")),
            Hex(Claim(), ttl: 64),
            Hex(Claim(), corrupt: d => d[27] ^= 0xff),
            Hex(Claim(vrid: 99)),
            Hex(Claim(), corrupt: d => d[23] = 100),
        };
        var st = () => lb.GetStatus();
        var kinds = new (string Hex, Func<long> Count)[]
        {
            (forged[0], () => st().Instances[0].Drops.GetValueOrDefault(VrrpDropReason.AuthFailure)),
            (forged[1], () => st().Instances[0].Drops.GetValueOrDefault(VrrpDropReason.BadTtl)),
            (forged[2], () => st().Instances[0].Drops.GetValueOrDefault(VrrpDropReason.BadChecksum)),
            (forged[3], () => st().UnattributedDrops.GetValueOrDefault(VrrpDropReason.UnknownVrid)),
            (forged[4], () => st().Instances[0].Drops.GetValueOrDefault(VrrpDropReason.BadLength)),
        };
        foreach (var (hex, count) in kinds)
        {
            net.InNs("python3", "-c", AdvertInjector.RawSender, net.PeerIf, PerKind.ToString(System.Globalization.CultureInfo.InvariantCulture), hex);
            Assert.True(Wait.Until(() => count() == PerKind), string.Join(", ", st().Instances[0].Drops) + " / " + string.Join(", ", st().UnattributedDrops));
        }
        var drops = st().Instances[0].Drops;
        Assert.Equal(PerKind, drops[VrrpDropReason.AuthFailure]);
        Assert.Equal(PerKind, drops[VrrpDropReason.BadTtl]);
        Assert.Equal(PerKind, drops[VrrpDropReason.BadChecksum]);
        Assert.Equal(VrrpState.Master, st().Instances[0].State);
        Assert.Single(events.Changes, c => c.NewState == VrrpState.Master);
        Assert.Equal(0, st().Instances[0].AdvertsReceived);
        Assert.InRange(logs.Lines.Count(l => l.Contains("invalid passwd", StringComparison.Ordinal)), 1, 10);
        Assert.InRange(logs.Lines.Count(l => l.Contains("unknown VRID(99)", StringComparison.Ordinal)), 1, 10);
    }
}
