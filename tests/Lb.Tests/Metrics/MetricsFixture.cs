using System.Net;
using System.Net.Sockets;
using Lb.Checkers;
using Lb.Checkers.Journal;
using Lb.Metrics;
using Lb.Netlink.Ipvs;
using Lb.Status;
using Lb.TestSupport;
using Lb.Vrrp.Host;

namespace Lb.Lb.Tests.Metrics;

/// <summary>A status report, checker and VRRP statistics and an IPVS dump with every kind of object the metrics render.</summary>
internal sealed class MetricsFixture
{
    public const string Vs = "[10.0.0.100]:tcp:80";
    public const string Rs1 = "[10.0.0.2]:tcp:80";
    public const string Rs2 = "[10.0.0.3]:tcp:80";
    public const string FwVs = "FWM 1";
    public const string FwRs = "[10.0.0.4]:none:80";

    public ManualTimeProvider Time { get; } = new(DateTimeOffset.UnixEpoch.AddSeconds(1000));

    public CheckStatistics Checks { get; }

    public VrrpStatistics Vrrp { get; } = new();

    public MetricsFixture()
    {
        Checks = new CheckStatistics(Time);
        // rs1: TCP_CHECK (index 0) succeeds in 3 ms, then fails after 200 ms half a second later; HTTP_GET (index 1) succeeds.
        Checks.OnCheckCompleted(new CheckCompletedEvent(Vs, Rs1, "TCP_CHECK", 0, true, "connected", 0) { Duration = TimeSpan.FromMilliseconds(3) });
        Time.Advance(0.5);
        Checks.OnCheckCompleted(new CheckCompletedEvent(Vs, Rs1, "TCP_CHECK", 0, false, "connection refused", 1) { Duration = TimeSpan.FromMilliseconds(200) });
        Checks.OnCheckCompleted(new CheckCompletedEvent(Vs, Rs1, "HTTP_GET", 1, true, "HTTP status 200", 0) { Duration = TimeSpan.FromMilliseconds(20) });
        // A server a reload removed: its statistics stay, it is not rendered.
        Checks.OnCheckCompleted(new CheckCompletedEvent(Vs, "[10.0.0.9]:tcp:80", "TCP_CHECK", 0, true, "connected", 0) { Duration = TimeSpan.FromMilliseconds(1) });
        Checks.OnStateChanged(Entry("real_server", Rs1, "down", "up"));
        Checks.OnStateChanged(Entry("real_server", Rs1, "up", "down"));
        Checks.OnStateChanged(Entry("real_server", Rs1, "down", "up"));
        Checks.OnStateChanged(Entry("weight", Rs1, "weight 1", "weight 3")); // not a transition
        Checks.OnStateChanged(Entry("real_server", Rs2, "down", "removed")); // shutdown: not up or down

        Vrrp.OnStateChanged(Change(VrrpEntityKind.Instance, "VI_1", VrrpState.Init, VrrpState.Backup));
        Vrrp.OnStateChanged(Change(VrrpEntityKind.Instance, "VI_1", VrrpState.Backup, VrrpState.Master));
        Vrrp.OnStateChanged(Change(VrrpEntityKind.Instance, "VI_1", VrrpState.Master, VrrpState.Backup));
        Vrrp.OnStateChanged(Change(VrrpEntityKind.Instance, "VI_1", VrrpState.Backup, VrrpState.Master));
        Vrrp.OnStateChanged(Change(VrrpEntityKind.Group, "VI_1", VrrpState.Backup, VrrpState.Master)); // a group of the same name
    }

    private static JournalEntry Entry(string kind, string rs, string old, string now) => new()
    {
        Time = DateTimeOffset.UnixEpoch, Subsystem = "checkers", Kind = kind, VirtualServer = Vs, RealServer = rs, OldState = old, NewState = now, Reason = "test",
    };

    private static VrrpStateChange Change(VrrpEntityKind kind, string name, VrrpState from, VrrpState to) =>
        new(DateTimeOffset.UnixEpoch, kind, name, from, to, 100, "test");

    public static StatusReport Report() => new()
    {
        Daemon = new DaemonInfo(42, "0.1.0", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(90), "/etc/keepalived/keepalived.conf", null, true, true),
        VrrpInstances =
        [
            new VrrpInstanceReport
            {
                Name = "VI_1", State = "MASTER", BasePriority = 100, EffectivePriority = 90, VirtualRouterId = 51, Version = 2, Interface = "eth0",
                VirtualAddresses = ["10.0.0.100/24"], VipsSet = true, LastReason = "init", Transitions = 4, AdvertsSent = 7, AdvertsReceived = 3,
                AdvertsDropped = new Dictionary<string, long> { ["BadTtl"] = 4 },
            },
        ],
        SyncGroups = [],
        UnattributedDrops = new Dictionary<string, long>(),
        VirtualServers =
        [
            new VirtualServerReport
            {
                Name = Vs, QuorumUp = true, LiveWeight = 3, SorryServerActive = false,
                RealServers =
                [
                    new RealServerReport
                    {
                        Name = Rs1, Up = true, InIpvs = true, Weight = 3, LastReason = "ok",
                        Checkers = [new CheckerReport("TCP_CHECK", false, true, null, "connection refused", 2, 1), new CheckerReport("HTTP_GET", true, true, null, "HTTP status 200", 1, 0)],
                    },
                    new RealServerReport { Name = Rs2, Up = false, InIpvs = false, Weight = 1, LastReason = "never checked", Checkers = [new CheckerReport("TCP_CHECK", false, false, null, "", 0, 0)] },
                ],
            },
            new VirtualServerReport
            {
                Name = FwVs, QuorumUp = false, LiveWeight = 0, SorryServerActive = false,
                RealServers = [new RealServerReport { Name = FwRs, Up = false, InIpvs = false, Weight = 1, LastReason = "init", Checkers = [] }],
            },
        ],
        Ipvs = new IpvsReport(12, 1),
    };

    /// <summary>The kernel's table: the TCP service with two destinations, fwmark 1 for IPv4 and for IPv6.</summary>
    public static IpvsScrape Scrape()
    {
        var tcp = IpvsServiceKey.Tcp(IPAddress.Parse("10.0.0.100"), 80);
        var fw4 = IpvsServiceKey.Fwmark(1);
        var fw6 = IpvsServiceKey.Fwmark(1, AddressFamily.InterNetworkV6);
        static IpvsStats Stats(ulong conns, ulong inPkts, ulong outPkts, ulong inBytes, ulong outBytes) => new(conns, inPkts, outPkts, inBytes, outBytes, 0, 0, 0, 0, 0);
        var table = new IpvsTableSnapshot(
        [
            new IpvsTableEntry(new IpvsServiceStatus(new IpvsService(fw6), Stats(0, 0, 0, 0, 0)), []),
            new IpvsTableEntry(new IpvsServiceStatus(new IpvsService(tcp, "wrr"), Stats(10, 100, 90, 6000, 50000)),
            [
                new IpvsDestinationStatus(new IpvsDestination(IPAddress.Parse("10.0.0.3"), 80, IpvsForwardingMethod.Masquerade, 0), 0, 1, 0, Stats(3, 30, 25, 1800, 15000)),
                new IpvsDestinationStatus(new IpvsDestination(IPAddress.Parse("10.0.0.2"), 80, IpvsForwardingMethod.Masquerade, 3), 2, 5, 1, Stats(7, 70, 65, 4200, 35000)),
            ]),
            new IpvsTableEntry(new IpvsServiceStatus(new IpvsService(fw4), Stats(1, 2, 0, 120, 0)),
                [new IpvsDestinationStatus(new IpvsDestination(IPAddress.Parse("10.0.0.4"), 80), 0, 0, 0, Stats(1, 2, 0, 120, 0))]),
        ]);
        return new IpvsScrape(table, TimeSpan.FromMilliseconds(1.5), 2, null);
    }

    public static global::Lb.Checkers.Engine.CheckPacerSnapshot Pacing() => new(Stretch: 1, LagMilliseconds: 0, InFlight: 1, Waiting: 0, StretchedRounds: 0, IgnoredTimeouts: 0, LateRounds: 0);

    public string Render() => MetricsText.Render(Report(), Checks, Pacing(), Scrape(), Vrrp);
}
