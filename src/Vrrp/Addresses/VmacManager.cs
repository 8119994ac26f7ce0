using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Lb.Netlink;
using Lb.Netlink.Platform;
using Lb.Netlink.Route;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Runtime;
using Microsoft.Extensions.Logging;
using NlAddress = Lb.Netlink.Route.InterfaceAddress;

namespace Lb.Vrrp.Addresses;

/// <summary>An instance's VMAC: a private-mode macvlan on <see cref="Base"/> carrying the virtual router's MAC.</summary>
/// <param name="Name">Interface name (vrrp.VRID unless configured).</param>
/// <param name="Index">Its ifindex when it was created or found.</param>
/// <param name="Mac">Its MAC (00:00:5e:00:01:VRID, IPv6 00:00:5e:00:02:VRID, unless configured).</param>
/// <param name="Base">The instance's <c>interface</c>, the macvlan's parent.</param>
/// <param name="Family">The instance's address family.</param>
internal sealed record VmacInterface(string Name, int Index, PhysicalAddress Mac, string Base, AddressFamily Family);

/// <summary>
/// <c>use_vmac</c> (keepalived 2.2.7 vrrp_vmac.c, vrrp_if_config.c): for each instance using it, a private-mode macvlan
/// with the virtual router's MAC on the instance's interface, created over rtnetlink when the instance attaches
/// (at start, at a reload that adds it, and again when it or its base interface was deleted and the base is back) and
/// deleted when the instance stops. Its VIPs of the instance's family go on the VMAC (and so their GARPs carry its
/// MAC); adverts are sent from it unless <c>vmac_xmit_base</c>. For IPv4 the kernel parameters keepalived sets are set:
/// on the VMAC arp_ignore=1, accept_local=1, rp_filter=0, promote_secondaries=1; on the base arp_ignore=1 and
/// arp_filter=1 (the base must not answer ARP for the VIPs with its own MAC), restored when its last VMAC goes;
/// net.ipv4.conf.all.rp_filter is set to 0 after raising every interface's own value to it (restored at the end). IPv6
/// is disabled on an IPv4 VMAC (no excluded IPv6 addresses), no automatic link-local address is generated on it, and an
/// IPv6 VMAC sending its own adverts gets the base's link-local address as its advert source.
/// One lock serializes the kernel work of all instances; the rtnetlink socket is opened on first use.
/// </summary>
internal sealed class VmacManager(ILinkMonitor links, ILogger logger) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, Entry> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SavedBase> _bases = new(StringComparer.Ordinal);
    private RtnetlinkClient? _client;
    private SavedRpFilter? _rpFilter;

    private sealed class Entry(VmacInterface vmac)
    {
        public VmacInterface Vmac { get; set; } = vmac;
        public HashSet<InstanceRuntime> Owners { get; } = new();
        public bool BaseCounted { get; set; }
    }

    private sealed record SavedBase(int? ArpIgnore, int? ArpFilter)
    {
        public int Users { get; set; }
    }

    private sealed record SavedRpFilter(int All, int? Default, IReadOnlyDictionary<string, int> Interfaces);

    /// <summary>The interface a VIP of <paramref name="rt"/> goes on: the VMAC for a VIP of the instance's family without a device or on the instance's interface; else its device or the instance's interface.</summary>
    public static string? DeviceOf(InstanceRuntime rt, VirtualAddress v)
    {
        var o = rt.Machine.Settings.Options;
        if (rt.Vmac is { } vmac && (v.Device is null || v.Device == o.Interface) && v.Address.AddressFamily == rt.Machine.Settings.Family)
            return vmac.Name;
        return v.Device ?? o.Interface;
    }

    /// <summary>
    /// Makes sure the instance's VMAC exists and is up (creating it when missing) and sets <see cref="InstanceRuntime.Vmac"/>;
    /// null (logged) for an instance without <c>use_vmac</c>, or when it cannot be created (the instance then works on its interface).
    /// </summary>
    public async Task<VmacInterface?> EnsureAsync(InstanceRuntime rt, CancellationToken ct)
    {
        var s = rt.Machine.Settings;
        var o = s.Options;
        if (o.UseVmac is not { } config || o.Interface is not { } baseName)
            return null;
        if (rt.Vmac is { } current && links.GetLink(current.Name) is { Exists: true } l && l.Index == current.Index)
            return current;
        VmacInterface vmac;
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var client = _client ??= RtnetlinkClient.Open();
            var all = await client.GetLinkDetailsAsync(ct).ConfigureAwait(false);
            var mac = VmacNaming.MacFor(config, o.VirtualRouterId, s.Family);
            var name = config.InterfaceName ?? "vrrp." + o.VirtualRouterId.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var baseLink = all.FirstOrDefault(x => x.Name == baseName);
            if (baseLink is null)
            {
                logger.VmacNoBase(o.Name, rt.Vmac?.Name ?? name, baseName, "does not exist");
                return null;
            }
            bool TakenByOther(string n) => _byName.TryGetValue(n, out var e) && e.Owners.Any(x => x.Name != rt.Name);
            bool Matches(LinkDetails x) => x.Kind == "macvlan" && x.ParentIndex == baseLink.Index && x.MacvlanMode == MacvlanMode.Private
                && x.HardwareAddress is { } m && m.Equals(mac);

            LinkDetails? reuse = null;
            if (config.InterfaceName is { } configured)
            {
                var existing = all.FirstOrDefault(x => x.Name == configured);
                if (existing is not null && existing.Kind != "macvlan")
                {
                    logger.VmacNameTaken(o.Name, configured);
                    name = VmacNaming.DefaultName(o.VirtualRouterId, s.Family, n => TakenByOther(n) || all.Any(x => x.Name == n));
                }
                else if (existing is not null && Matches(existing))
                {
                    reuse = existing;
                }
                else if (existing is not null)
                {
                    logger.VmacRemovingConflicting(o.Name, configured);
                    await client.DeleteLinkAsync(existing.Index, configured, ct).ConfigureAwait(false);
                }
            }
            else
            {
                reuse = all.FirstOrDefault(x => Matches(x) && !TakenByOther(x.Name));
                name = reuse?.Name ?? VmacNaming.DefaultName(o.VirtualRouterId, s.Family, n => TakenByOther(n) || all.Any(x => x.Name == n));
            }

            int index;
            if (reuse is not null)
            {
                logger.VmacFound(o.Name, reuse.Name);
                name = reuse.Name;
                index = reuse.Index;
            }
            else
            {
                try
                {
                    index = await client.CreateMacvlanAsync(new MacvlanLink(name, baseLink.Index, mac), ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is NetlinkException or ArgumentException)
                {
                    logger.VmacCreateFailed(o.Name, name, ex.Message);
                    return null;
                }
                logger.VmacCreated(o.Name, name);
            }

            vmac = new VmacInterface(name, index, mac, baseName, s.Family);
            if (!_byName.TryGetValue(name, out var entry))
                _byName[name] = entry = new Entry(vmac);
            entry.Vmac = vmac;
            entry.Owners.Add(rt);
            await ConfigureAsync(client, entry, o, s.Family, baseLink, ct).ConfigureAwait(false);
            rt.Vmac = vmac;
        }
        finally
        {
            _gate.Release();
        }
        // the host's link view learns of it by its own events: wait (bounded) so the socket and GARPs find it by name
        for (var i = 0; i < 200 && links.GetLink(vmac.Name) is not { Exists: true }; i++)
            await Task.Delay(10, ct).ConfigureAwait(false);
        return vmac;
    }

    private async Task ConfigureAsync(RtnetlinkClient client, Entry entry, VrrpInstanceOptions o, AddressFamily family, LinkDetails baseLink, CancellationToken ct)
    {
        var vmac = entry.Vmac;
        if (family == AddressFamily.InterNetwork)
        {
            ClearRpFilter();
            foreach (var (p, value) in new[] { ("arp_ignore", 1), ("accept_local", 1), ("rp_filter", 0), ("promote_secondaries", 1) })
                Write(Sysctl.InterfaceKey("ipv4", vmac.Name, p), value);
            if (!entry.BaseCounted)
            {
                entry.BaseCounted = true;
                if (!_bases.TryGetValue(vmac.Base, out var saved))
                {
                    saved = new SavedBase(Sysctl.TryRead(Sysctl.InterfaceKey("ipv4", vmac.Base, "arp_ignore")), Sysctl.TryRead(Sysctl.InterfaceKey("ipv4", vmac.Base, "arp_filter")));
                    _bases[vmac.Base] = saved;
                    Write(Sysctl.InterfaceKey("ipv4", vmac.Base, "arp_ignore"), 1);
                    Write(Sysctl.InterfaceKey("ipv4", vmac.Base, "arp_filter"), 1);
                }
                saved.Users++;
            }
        }
        var otherFamily = o.VirtualIpAddressesExcluded.Any(v => v.Address.AddressFamily != family);
        Write(Sysctl.InterfaceKey("ipv6", vmac.Name, "disable_ipv6"), family == AddressFamily.InterNetwork && !otherFamily ? 1 : 0);
        try
        {
            await client.SetIpv6AddressGenerationModeAsync(vmac.Index, Ipv6AddressGenerationMode.None, vmac.Name, ct).ConfigureAwait(false);
        }
        catch (NetlinkException ex)
        {
            logger.ActionFailedVmac(o.Name, $"set ADDR_GEN_MODE to NONE on {vmac.Name}", ex.Message);
        }
        try
        {
            await client.SetLinkUpAsync(vmac.Index, true, ct).ConfigureAwait(false);
        }
        catch (NetlinkException ex)
        {
            logger.ActionFailedVmac(o.Name, $"set {vmac.Name} up", ex.Message);
        }
        if (family == AddressFamily.InterNetworkV6 && !o.VmacXmitBase)
        {
            // the advert source: the base's link-local address (else one made from the base's MAC), on the VMAC
            var baseAddresses = await client.GetAddressesAsync(baseLink.Index, AddressFamily.InterNetworkV6, ct).ConfigureAwait(false);
            var ll = baseAddresses.FirstOrDefault(a => a.Address.IsIPv6LinkLocal)?.Address ?? Eui64LinkLocal(baseLink.HardwareAddress);
            if (ll is not null)
            {
                try
                {
                    await client.EnsureAddressAsync(new NlAddress(vmac.Index, new IPAddress(ll.GetAddressBytes()), 64) { Scope = Lb.Netlink.Route.AddressScope.Link, Flags = AddressFlags.NoDad }, ct).ConfigureAwait(false);
                }
                catch (NetlinkException ex)
                {
                    logger.ActionFailedVmac(o.Name, $"add link-local address {ll} to {vmac.Name}", ex.Message);
                }
            }
        }
    }

    /// <summary>The instance no longer uses its VMAC: deleted when no other instance runtime holds it (a restarted instance's successor may).</summary>
    public async Task ReleaseAsync(InstanceRuntime rt, CancellationToken ct)
    {
        if (rt.Vmac is not { } vmac)
            return;
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            rt.Vmac = null;
            if (!_byName.TryGetValue(vmac.Name, out var entry) || !entry.Owners.Remove(rt) || entry.Owners.Count > 0)
                return;
            _byName.Remove(vmac.Name);
            if (entry.BaseCounted && _bases.TryGetValue(vmac.Base, out var saved) && --saved.Users == 0)
            {
                _bases.Remove(vmac.Base);
                if (saved.ArpIgnore is { } ai)
                    Write(Sysctl.InterfaceKey("ipv4", vmac.Base, "arp_ignore"), ai);
                if (saved.ArpFilter is { } af)
                    Write(Sysctl.InterfaceKey("ipv4", vmac.Base, "arp_filter"), af);
            }
            try
            {
                var client = _client ??= RtnetlinkClient.Open();
                var index = (await client.GetLinkAsync(vmac.Name, ct).ConfigureAwait(false))?.Index;
                if (index is { } i && await client.DeleteLinkAsync(i, vmac.Name, ct).ConfigureAwait(false))
                    logger.VmacRemoved(rt.Name, vmac.Name);
            }
            catch (NetlinkException ex)
            {
                logger.VmacRemoveFailed(rt.Name, vmac.Name, ex.Message);
            }
            if (!_byName.Values.Any(e => e.Vmac.Family == AddressFamily.InterNetwork))
                RestoreRpFilter();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>keepalived's clear_rp_filter: IPv4 VMACs need rp_filter 0, which net.ipv4.conf.all.rp_filter overrides when higher; every interface (and default) is first raised to it, so nothing else changes.</summary>
    private void ClearRpFilter()
    {
        if (_rpFilter is not null || Sysctl.TryRead("net/ipv4/conf/all/rp_filter") is not { } all || all == 0)
            return;
        int? savedDefault = null;
        if (Sysctl.TryRead("net/ipv4/conf/default/rp_filter") is { } d && d < all)
        {
            savedDefault = d;
            Write("net/ipv4/conf/default/rp_filter", all);
        }
        var raised = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var dir in EnumerateInterfaces())
        {
            if (Sysctl.TryRead(Sysctl.InterfaceKey("ipv4", dir, "rp_filter")) is { } v && v < all)
            {
                raised[dir] = v;
                Write(Sysctl.InterfaceKey("ipv4", dir, "rp_filter"), all);
            }
        }
        logger.RpFilterCleared(all);
        Write("net/ipv4/conf/all/rp_filter", 0);
        _rpFilter = new SavedRpFilter(all, savedDefault, raised);
    }

    /// <summary>keepalived's restore_rp_filter: each value put back where it is still what we set.</summary>
    private void RestoreRpFilter()
    {
        if (_rpFilter is not { } saved)
            return;
        _rpFilter = null;
        if (Sysctl.TryRead("net/ipv4/conf/all/rp_filter") == 0)
        {
            logger.RpFilterRestored(saved.All);
            Write("net/ipv4/conf/all/rp_filter", saved.All);
        }
        if (saved.Default is { } d && Sysctl.TryRead("net/ipv4/conf/default/rp_filter") == saved.All)
            Write("net/ipv4/conf/default/rp_filter", d);
        foreach (var (name, value) in saved.Interfaces)
        {
            if (Sysctl.TryRead(Sysctl.InterfaceKey("ipv4", name, "rp_filter")) == saved.All)
                Write(Sysctl.InterfaceKey("ipv4", name, "rp_filter"), value);
        }
    }

    private static IEnumerable<string> EnumerateInterfaces()
    {
        try
        {
            return Directory.EnumerateDirectories("/proc/sys/net/ipv4/conf").Select(Path.GetFileName).OfType<string>()
                .Where(n => n is not ("all" or "default")).ToArray();
        }
        catch (IOException)
        {
            return [];
        }
    }

    private void Write(string key, int value)
    {
        if (Sysctl.TryWrite(key, value) is { } error)
            logger.SysctlFailed(key, value, error);
    }

    /// <summary>fe80::/64 with the EUI-64 interface identifier of <paramref name="mac"/> (keepalived's make_link_local_address).</summary>
    internal static IPAddress? Eui64LinkLocal(PhysicalAddress? mac)
    {
        var m = mac?.GetAddressBytes();
        if (m is not { Length: 6 })
            return null;
        return new IPAddress(new byte[] { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, (byte)(m[0] ^ 2), m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5] });
    }

    public void Dispose()
    {
        _client?.Dispose();
        _gate.Dispose();
    }
}
