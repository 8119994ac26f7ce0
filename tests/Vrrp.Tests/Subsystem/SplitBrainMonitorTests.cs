using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using Lb.TestSupport;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Protocol;
using Lb.Vrrp.Tests.Support;
using Lb.Vrrp.Transport;
using Xunit;

namespace Lb.Vrrp.Tests.Subsystem;

/// <summary>
/// The split-brain monitor inside the subsystem, with a recording probe transport and a manual clock: when it probes,
/// what an answer from another MAC does (suspect, confirmed by the next probe, then journal event, status and GARP
/// burst), and what it ignores (our own MAC, answers while not MASTER, probing off).
/// </summary>
public class SplitBrainMonitorTests
{
    private const string If = "lbnone0";
    private static readonly IPAddress Vip = IPAddress.Parse("10.0.0.100");
    private static readonly byte[] OurMac = [0x02, 0, 0, 0, 0, 0x07];
    private static readonly byte[] OtherMac = [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee];

    private sealed class RecordingProbes : IProbeTransport
    {
        public ConcurrentQueue<(int Index, byte[] Frame)> Sent { get; } = new();

        public ProbeFrameHandler? Handler { get; private set; }

        public void Send(int interfaceIndex, ReadOnlySpan<byte> frame) => Sent.Enqueue((interfaceIndex, frame.ToArray()));

        public void StartReceiving(ProbeFrameHandler onFrame) => Handler = onFrame;

        public void Dispose()
        {
        }

        /// <summary>An ARP reply for the VIP from <paramref name="mac"/>, padded to 60 bytes as a NIC delivers it.</summary>
        public void Answer(byte[] mac, int ifindex = 42)
        {
            var f = new byte[60];
            OurMac.CopyTo(f, 0);
            mac.CopyTo(f, 6);
            BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), 0x0806);
            byte[] arp = [0, 1, 8, 0, 6, 4, 0, 2, .. mac, 10, 0, 0, 100, .. OurMac, 0, 0, 0, 0];
            arp.CopyTo(f, 14);
            Handler!(ifindex, f);
        }
    }

    private sealed class Garps : IGarpSender
    {
        public int Count;

        public void Send(int interfaceIndex, ReadOnlySpan<byte> mac, IPAddress vip) => Interlocked.Increment(ref Count);

        public void Dispose()
        {
        }
    }

    private sealed class Sink : IVrrpEventSink
    {
        public ConcurrentQueue<VrrpSplitBrain> SplitBrains { get; } = new();

        public void OnStateChanged(VrrpStateChange change)
        {
        }

        public void OnSplitBrain(VrrpSplitBrain detection) => SplitBrains.Enqueue(detection);
    }

    private static VrrpSubsystemOptions Options(TimeSpan? probe = null) => new()
    {
        GarpMasterDelay = TimeSpan.Zero,
        GarpMasterRepeat = 3,
        SplitBrainProbe = probe ?? TimeSpan.FromSeconds(2),
        Instances =
        [
            new VrrpInstanceOptions
            {
                Name = "VI_1",
                Interface = If,
                VirtualRouterId = 51,
                Priority = 150,
                VirtualIpAddresses = [new VirtualAddress { Address = Vip, PrefixLength = 24 }],
            },
        ],
    };

    private sealed record Lab(VrrpSubsystem S, ManualTimeProvider Time, RecordingProbes Probes, Garps Garps, Sink Sink, InMemoryTransportFactory Transports) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => S.DisposeAsync();
    }

    private static async Task<Lab> MasterAsync(VrrpSubsystemOptions options)
    {
        var time = new ManualTimeProvider();
        var probes = new RecordingProbes();
        var garps = new Garps();
        var sink = new Sink();
        var links = new FakeLinkMonitor();
        links.Set(If, up: true, index: 42);
        var addrs = new FakeAddressTable();
        addrs.Static.Add(new InterfaceAddress(If, 42, IPAddress.Parse("10.0.0.5"), 24));
        var transports = new InMemoryTransportFactory();
        var s = new VrrpSubsystem(options, addrs, links, sink, new ListLogger(), time, () => garps, transports, () => probes);
        await s.StartAsync(CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(VrrpState.Master, s.GetStatus().Instances[0].State);
        Assert.True(Wait.Until(() => Volatile.Read(ref garps.Count) == 3));
        return new Lab(s, time, probes, garps, sink, transports);
    }

    [Fact]
    public async Task A_master_sends_an_arp_probe_for_its_vip_every_interval_from_its_interface()
    {
        await using var lab = await MasterAsync(Options());
        Assert.Empty(lab.Probes.Sent); // not at once: one (jittered) interval after MASTER
        lab.Time.Advance(TimeSpan.FromSeconds(2.5));
        Assert.True(Wait.Until(() => lab.Probes.Sent.Count == 1));
        var (index, frame) = lab.Probes.Sent.Single();
        Assert.Equal(42, index);
        var expected = new byte[64];
        var n = ProbeFrames.WriteArpProbe(expected, OurMac, Vip);
        Assert.Equal(expected[..n], frame);
        // The next probe's timer is armed after the send: advance in steps (at most 2.5 s: the interval is 2 s ± 20 %), so an
        // advance made before the timer exists cannot be lost.
        var advanced = TimeSpan.Zero;
        Assert.True(Wait.Until(() =>
        {
            if (lab.Probes.Sent.Count >= 2)
                return true;
            if (advanced < TimeSpan.FromSeconds(2.5))
            {
                lab.Time.Advance(TimeSpan.FromMilliseconds(100));
                advanced += TimeSpan.FromMilliseconds(100);
            }
            return false;
        }));
        Assert.Equal(2, lab.Probes.Sent.Count);
    }

    [Fact]
    public async Task Another_mac_answering_twice_is_a_split_brain_journalled_shown_and_answered_with_a_garp_burst()
    {
        await using var lab = await MasterAsync(Options());
        lab.Time.Advance(TimeSpan.FromSeconds(2.5));
        Assert.True(Wait.Until(() => lab.Probes.Sent.Count == 1));

        // one answer: a suspect only; the confirming probe goes out one advert interval later
        lab.Probes.Answer(OtherMac);
        Assert.Equal(0, lab.S.GetStatus().Instances[0].SplitBrainDetected);
        Assert.Empty(lab.Sink.SplitBrains);
        lab.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(Wait.Until(() => lab.Probes.Sent.Count == 2));

        lab.Probes.Answer(OtherMac);
        var st = lab.S.GetStatus().Instances[0];
        Assert.Equal(1, st.SplitBrainDetected);
        Assert.NotNull(st.SplitBrain);
        Assert.Equal("02:aa:bb:cc:dd:ee", st.SplitBrain!.OtherMac);
        Assert.Equal("02:00:00:00:00:07", st.SplitBrain.OurMac);
        Assert.Equal(Vip, st.SplitBrain.Vip);
        Assert.Equal(If, st.SplitBrain.Interface);
        var d = Assert.Single(lab.Sink.SplitBrains);
        Assert.Equal("VI_1", d.Instance);
        Assert.True(Wait.Until(() => Volatile.Read(ref lab.Garps.Count) == 6)); // garp_master_repeat more

        // the episode goes on: more answers are not more detections, nor more bursts
        lab.Time.Advance(TimeSpan.FromSeconds(2.5));
        lab.Probes.Answer(OtherMac);
        Assert.Equal(1, lab.S.GetStatus().Instances[0].SplitBrainDetected);
        Assert.Single(lab.Sink.SplitBrains);
        Assert.Equal(6, Volatile.Read(ref lab.Garps.Count));

        // no answer for more than three intervals: over (the status warning goes), the counter stays
        for (var i = 0; i < 4; i++)
            lab.Time.Advance(TimeSpan.FromSeconds(2.5));
        st = lab.S.GetStatus().Instances[0];
        Assert.Null(st.SplitBrain);
        Assert.Equal(1, st.SplitBrainDetected);
    }

    [Fact]
    public async Task Our_own_mac_and_answers_on_another_interface_are_ignored()
    {
        await using var lab = await MasterAsync(Options());
        lab.Time.Advance(TimeSpan.FromSeconds(2.5));
        Assert.True(Wait.Until(() => lab.Probes.Sent.Count == 1));
        for (var i = 0; i < 3; i++)
        {
            lab.Probes.Answer(OurMac);
            lab.Probes.Answer(OtherMac, ifindex: 7);
            lab.Time.Advance(TimeSpan.FromSeconds(2.5));
        }
        Assert.Equal(0, lab.S.GetStatus().Instances[0].SplitBrainDetected);
        Assert.Empty(lab.Sink.SplitBrains);
    }

    [Fact]
    public async Task Probe_off_sends_nothing()
    {
        await using var lab = await MasterAsync(Options(TimeSpan.Zero));
        for (var i = 0; i < 4; i++)
            lab.Time.Advance(TimeSpan.FromSeconds(2.5));
        Assert.Empty(lab.Probes.Sent);
        Assert.Null(lab.Probes.Handler); // the socket is not even opened
    }

    [Fact]
    public async Task Malformed_answers_are_counted_by_reason()
    {
        await using var lab = await MasterAsync(Options());
        lab.Time.Advance(TimeSpan.FromSeconds(2.5));
        Assert.True(Wait.Until(() => lab.Probes.Sent.Count == 1));
        var f = new byte[30];
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), 0x0806);
        f[14 + 7] = 2; // a reply, cut short
        f[14 + 1] = 1;
        f[14 + 2] = 8;
        f[14 + 4] = 6;
        f[14 + 5] = 4;
        lab.Probes.Handler!(42, f);
        Assert.Equal(1, lab.S.GetStatus().ProbeDrops[ProbeFrameDrop.Truncated]);
    }
}
