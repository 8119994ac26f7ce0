using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Lb.Netlink.Namespaces;
using Lb.Netlink.Route;
using Lb.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Lb.Netlink.Tests.Route;

/// <summary>
/// The process's one link/address cache (src/Netlink/Route/RtnetlinkCache.cs) against the real kernel in a fresh network
/// namespace (root): every change is made with <c>ip</c>, and the oracle is <c>ip -o link</c> / <c>ip -o addr</c> in the
/// same namespace. Nothing is fed to the cache by the test: every event comes from the kernel.
/// </summary>
public sealed class RtnetlinkCacheTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static RtnetlinkCache Open(NetnsFixture ns, RtnetlinkCacheOptions? options = null) =>
        NetworkNamespace.Run(ns.Name, () => RtnetlinkCache.Open(NullLogger.Instance, options));

    /// <summary>Links as <c>ip -o link</c> shows them: index, name, MAC (upper-case hex, no separators), IFF_UP.</summary>
    private static HashSet<string> IpLinks(NetnsFixture ns) => ns.Ip("-o", "link", "show").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var flags = parts[2].Trim('<', '>').Split(',');
        var etherAt = Array.IndexOf(parts, "link/ether");
        var mac = etherAt >= 0 ? parts[etherAt + 1].Replace(":", "", StringComparison.Ordinal).ToUpperInvariant() : "";
        return $"{parts[0].TrimEnd(':')} {parts[1].TrimEnd(':').Split('@')[0]} {mac} {flags.Contains("UP")}";
    }).ToHashSet();

    private static HashSet<string> CacheLinks(RtnetlinkCache cache) =>
        cache.GetLinks().Select(l => $"{l.Index} {l.Name} {(l.HardwareAddress is { } m && m.GetAddressBytes().Any(b => b != 0) ? m.ToString() : "")} {l.IsUp}").ToHashSet();

    /// <summary>Addresses as <c>ip -o addr</c> shows them: "index address/prefix".</summary>
    private static HashSet<string> IpAddresses(NetnsFixture ns) => ns.Ip("-o", "addr", "show").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var at = Array.FindIndex(parts, p => p is "inet" or "inet6");
        return $"{parts[0].TrimEnd(':')} {parts[at + 1]}";
    }).ToHashSet();

    private static HashSet<string> CacheAddresses(RtnetlinkCache cache) =>
        cache.GetAddresses().Select(a => $"{a.InterfaceIndex} {a.Address}/{a.PrefixLength}").ToHashSet();

    private static bool Matches(NetnsFixture ns, RtnetlinkCache cache) =>
        IpLinks(ns).SetEquals(CacheLinks(cache)) && IpAddresses(ns).SetEquals(CacheAddresses(cache));

    private static string Describe(NetnsFixture ns, RtnetlinkCache cache) =>
        $"ip links: {string.Join(" | ", IpLinks(ns).Order())}\ncache links: {string.Join(" | ", CacheLinks(cache).Order())}\n" +
        $"ip addresses: {string.Join(" | ", IpAddresses(ns).Order())}\ncache addresses: {string.Join(" | ", CacheAddresses(cache).Order())}";

    /// <summary>
    /// Addresses (IPv4 and IPv6) added and deleted, a link set up, renamed, created and deleted: after each change the
    /// cache holds exactly what <c>ip</c> shows, and <see cref="RtnetlinkCache.Changed"/> passed the kernel's events on.
    /// </summary>
    [RootFact("ip")]
    public async Task Cache_holds_what_ip_shows_through_real_link_and_address_changes()
    {
        using var ns = new NetnsFixture();
        await using var cache = Open(ns);
        var events = new ConcurrentQueue<RtnetlinkEvent>();
        cache.Changed += (_, e) => events.Enqueue(e);
        await cache.StartAsync(CancellationToken.None);
        Assert.True(Matches(ns, cache), Describe(ns, cache));

        string[][] steps =
        [
            ["addr", "add", "10.1.0.1/24", "dev", "va"],
            ["-6", "addr", "add", "fd00::1/64", "dev", "va", "nodad"],
            ["link", "set", "va", "up"],
            ["link", "set", "vb", "up"],
            ["addr", "del", "10.1.0.1/24", "dev", "va"],
            ["link", "set", "vb", "down"],
            ["link", "set", "vb", "name", "vz"],
            ["link", "add", "vc", "type", "veth", "peer", "name", "vd"],
            ["addr", "add", "10.2.0.1/24", "dev", "vc"],
            ["link", "del", "vc"],
        ];
        foreach (var step in steps)
        {
            ns.Ip(step);
            Assert.True(Wait.Until(() => Matches(ns, cache), Bound), $"after `ip {string.Join(' ', step)}`:\n{Describe(ns, cache)}");
        }
        Assert.Null(cache.GetLink("vb"));
        Assert.Single(events.OfType<AddressEvent>(), e => e.Removed && e.Address.Address.Equals(IPAddress.Parse("10.1.0.1")));
        Assert.Contains(events.OfType<LinkEvent>(), e => e.Removed && e.Link.Name == "vc");
        Assert.True(cache.HasAddress(IPAddress.Parse("fd00::1")));
        Assert.False(cache.HasAddress(IPAddress.Parse("10.1.0.1")));
        Assert.Equal(0, cache.Resyncs);
        Assert.Equal(0, cache.Failures);
    }

    /// <summary>
    /// Events lost to a receive-buffer overrun are recovered: the monitor socket's buffer is made as small as the kernel
    /// allows, the event loop is held inside a handler while `ip -batch` makes 300 changes (the kernel drops most of their
    /// notifications and reports ENOBUFS), the last of them deleting the address whose event holds the loop. Released,
    /// the cache re-reads and holds exactly what `ip` shows, and the deletion it never received is raised as an event.
    /// </summary>
    [RootFact("ip")]
    public async Task Events_lost_to_an_overrun_are_recovered_by_a_re_read_and_raised()
    {
        using var ns = new NetnsFixture();
        await using var cache = Open(ns, new RtnetlinkCacheOptions { MonitorSocket = new NetlinkSocketOptions { ReceiveBufferSize = 1 } });
        var plug = IPAddress.Parse("10.9.0.1");
        using var holding = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var events = new ConcurrentQueue<RtnetlinkEvent>();
        cache.Changed += (_, e) =>
        {
            events.Enqueue(e);
            if (e is AddressEvent { Removed: false } ae && ae.Address.Address.Equals(plug) && !holding.IsSet)
            {
                holding.Set();
                // Liveness bound only: the test releases it.
                release.Wait(Bound);
            }
        };
        await cache.StartAsync(CancellationToken.None);
        ns.Ip("link", "set", "va", "up");
        ns.Ip("addr", "add", $"{plug}/32", "dev", "va");
        Assert.True(holding.Wait(Bound), "the plug address's event never reached the handler");

        var batch = Path.GetTempFileName();
        try
        {
            var lines = Enumerable.Range(0, 300).Select(i => string.Create(CultureInfo.InvariantCulture, $"addr add 10.3.{i / 250}.{i % 250 + 1}/32 dev va")).ToList();
            lines.Add($"addr del {plug}/32 dev va");
            File.WriteAllLines(batch, lines);
            ns.Ip("-batch", batch);
        }
        finally
        {
            File.Delete(batch);
        }
        release.Set();

        Assert.True(Wait.Until(() => Matches(ns, cache), Bound), Describe(ns, cache));
        Assert.True(cache.Resyncs >= 1, "the cache matched without re-reading: no notification was lost, the test proves nothing");
        Assert.False(cache.HasAddress(plug));
        Assert.Contains(events.OfType<AddressEvent>(), e => e.Removed && e.Address.Address.Equals(plug));
        Assert.Equal(300, CacheAddresses(cache).Count(a => a.Contains(" 10.3.", StringComparison.Ordinal)));
    }
}
