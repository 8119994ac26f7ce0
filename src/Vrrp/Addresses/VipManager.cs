using System.Net;
using System.Net.Sockets;
using Lb.Vrrp.Diagnostics;
using Lb.Vrrp.Engine;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Runtime;
using Lb.Vrrp.Transport;
using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.Addresses;

/// <summary>
/// The VIPs of every instance (keepalived's vrrp_handle_ipaddress / vrrp_send_link_update): address adds and
/// removals on the instance's work queue, in order, through the host's <see cref="IAddressTable"/>; GARP/NA bursts
/// through the <see cref="GarpScheduler"/>, beside the add, from the ifindex and MAC in the <see cref="LinkCache"/>.
/// Holds no instance state: the runtime passed in owns the queue, the burst state and the "being removed" marks.
/// </summary>
internal sealed class VipManager
{
    private readonly IAddressTable _addresses;
    private readonly ILinkMonitor _links;
    private readonly LinkCache _linkCache;
    private readonly GarpScheduler _garps;
    private readonly ILogger _logger;
    private readonly Func<VrrpSubsystemOptions> _options;

    /// <param name="options">The current global options (garp/gna intervals), read when a burst starts.</param>
    public VipManager(IAddressTable addresses, ILinkMonitor links, TimeProvider timers, ILogger logger, Func<VrrpSubsystemOptions> options)
    {
        _addresses = addresses;
        _links = links;
        _linkCache = new LinkCache(links);
        _garps = new GarpScheduler(_linkCache, timers, logger);
        _logger = logger;
        _options = options;
    }

    /// <summary>The ifindex and MAC of every interface an instance announces on (the split-brain probe sends from them too).</summary>
    public LinkCache Links => _linkCache;

    /// <summary>The AF_PACKET sender (null: GARP disabled).</summary>
    public IGarpSender? Sender
    {
        get => _garps.Sender;
        set => _garps.Sender = value;
    }

    /// <summary>VIPs then excluded VIPs.</summary>
    public static IEnumerable<VirtualAddress> AllVips(VrrpInstanceOptions o) => o.VirtualIpAddresses.Concat(o.VirtualIpAddressesExcluded);

    /// <summary>Caches the ifindex and MAC of the instance's interface and of every device its VIPs name.</summary>
    public void ResolveLinks(VrrpInstanceOptions o)
    {
        if (o.Interface is { } ifname)
            _linkCache.Resolve(ifname);
        foreach (var dev in AllVips(o).Select(v => v.Device).OfType<string>().Distinct(StringComparer.Ordinal))
            _linkCache.Resolve(dev);
    }

    public void OnLinkChanged(LinkInfo link) => _linkCache.OnLinkChanged(link);

    /// <summary>Accept mode's drop rules (null: none); its addresses go in before the VIPs are added and out after they are removed.</summary>
    public AcceptModeFirewall? Firewall { get; set; }

    /// <summary>Queues the add of <paramref name="vips"/> on the instance's work queue.</summary>
    public void Add(InstanceRuntime rt, IReadOnlyList<VirtualAddress> vips) => rt.Enqueue(async ct =>
    {
        await AcceptModeAddAsync(rt, vips, ct).ConfigureAwait(false);
        foreach (var v in vips)
            await AddOneAsync(rt, v, ct).ConfigureAwait(false);
    });

    /// <summary>Queues the removal of <paramref name="vips"/> on the instance's work queue.</summary>
    public void Remove(InstanceRuntime rt, IReadOnlyList<VirtualAddress> vips) => rt.Enqueue(async ct =>
    {
        foreach (var v in vips)
            await RemoveOneAsync(rt, v, ct).ConfigureAwait(false);
        await AcceptModeRemoveAsync(rt, vips, ct).ConfigureAwait(false);
    });

    private Task AcceptModeAddAsync(InstanceRuntime rt, IReadOnlyList<VirtualAddress> vips, CancellationToken ct)
    {
        var o = rt.Machine.Settings.Options;
        if (Firewall is null || vips.Count == 0 || !AcceptModeFirewall.Drops(o, _options()))
            return Task.CompletedTask;
        return Firewall.AddAsync(rt.Name, vips.Select(v => (v.Address, _linkCache.Get(v.Device ?? o.Interface ?? "")?.Index ?? 0)).ToList(), ct);
    }

    private Task AcceptModeRemoveAsync(InstanceRuntime rt, IReadOnlyList<VirtualAddress> vips, CancellationToken ct) =>
        Firewall is null || vips.Count == 0 ? Task.CompletedTask : Firewall.RemoveAsync(rt.Name, vips.Select(v => v.Address).ToList(), ct);

    /// <summary>A reload changed the VIPs of a MASTER holding them: the dropped ones go, the new ones come and are announced.</summary>
    public void ApplyDiff(InstanceRuntime rt, IReadOnlyList<VirtualAddress> dropped, IReadOnlyList<VirtualAddress> added, int garpRepeat)
    {
        foreach (var v in dropped)
            rt.Enqueue(ct => RemoveOneAsync(rt, v, ct));
        rt.Enqueue(async ct =>
        {
            await AcceptModeRemoveAsync(rt, dropped, ct).ConfigureAwait(false);
            await AcceptModeAddAsync(rt, added, ct).ConfigureAwait(false);
        });
        foreach (var v in added)
            rt.Enqueue(ct => AddOneAsync(rt, v, ct));
        if (added.Count > 0 && garpRepeat > 0)
            GarpNow(rt, garpRepeat, added);
    }

    /// <summary>
    /// A VIP of a MASTER holding its VIPs was removed by someone else (not by us): it is added back and announced once.
    /// </summary>
    public void Restore(InstanceRuntime rt, VirtualAddress v, string dev)
    {
        if (rt.IsRemoving(v))
            return;
        _logger.VipRestoring(rt.Name, v.Address, dev);
        rt.Enqueue(ct => AddOneAsync(rt, v, ct));
        GarpNow(rt, 1, [v]);
    }

    /// <summary>keepalived's "Sending/queueing gratuitous ARPs" log, then the burst (started now, see <see cref="GarpNow"/>).</summary>
    public void Announce(InstanceRuntime rt, IReadOnlyList<VirtualAddress> vips, int repeat)
    {
        foreach (var v in vips)
        {
            var dev = VmacManager.DeviceOf(rt, v) ?? "?";
            if (v.Address.AddressFamily == AddressFamily.InterNetwork)
                _logger.SendingQueueingGarps(rt.Name, dev, v.Address);
            else
                _logger.SendingQueueingNas(rt.Name, dev, v.Address);
        }
        GarpNow(rt, repeat, vips);
    }

    /// <summary>
    /// A GARP/NA burst for <paramref name="vips"/>, started now: not queued behind the instance's address work, so it
    /// goes out while the VIP add is still waiting for its netlink ACK (see <see cref="GarpScheduler"/>).
    /// </summary>
    private void GarpNow(InstanceRuntime rt, int repeat, IReadOnlyList<VirtualAddress> vips)
    {
        var targets = new List<GarpTarget>(vips.Count);
        foreach (var v in vips)
        {
            if (VmacManager.DeviceOf(rt, v) is { } dev)
                targets.Add(new GarpTarget(dev, v.Address));
        }
        var o = _options();
        _garps.Burst(rt.Garps, rt.Name, targets, repeat, o.GarpInterval, o.GnaInterval, rt.GarpToken);
    }

    /// <summary>
    /// keepalived 2.2.7 (vrrp_restore_interfaces_startup): at start — not at reload — every configured VIP and
    /// eVIP of every instance is removed before the instances start, whatever state they then enter and whatever
    /// the command line (-X, -V) says: a crashed run may have left them, and a BACKUP holding them would answer
    /// ARP next to the real MASTER. A MASTER adds them back. Runs on each instance's work queue (so it comes
    /// before any later address work) and is awaited with a bound.
    /// </summary>
    public async Task RemoveLeftoversAsync(IEnumerable<InstanceRuntime> runtimes, CancellationToken ct)
    {
        var done = new List<Task>();
        foreach (var rt in runtimes)
        {
            var vips = AllVips(rt.Machine.Settings.Options).ToArray();
            if (vips.Length == 0)
                continue;
            rt.Enqueue(async wct =>
            {
                foreach (var group in vips.GroupBy(v => VmacManager.DeviceOf(rt, v)))
                {
                    if (group.Key is not { } dev || _links.GetLink(dev) is not { Exists: true })
                        continue;
                    HashSet<IPAddress>? present = null;
                    try
                    {
                        present = (await _addresses.ListAsync(dev, wct).ConfigureAwait(false)).Select(a => a.Address).ToHashSet();
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        _logger.ActionFailed(rt.Name, $"list addresses of {dev}", ex.Message);
                    }
                    foreach (var v in group)
                    {
                        // the address list failed: remove blindly, as keepalived does (removing an absent address is not an error)
                        if (present is not null && !present.Contains(v.Address))
                            continue;
                        if (present is not null)
                            _logger.RemovingLeftoverVip(rt.Name, v.Address, dev);
                        await RemoveOneAsync(rt, v, wct).ConfigureAwait(false);
                    }
                }
            });
            done.Add(rt.Barrier());
        }
        try
        {
            await Task.WhenAll(done).WaitAsync(TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // a stuck address operation must not block start-up; later address work still queues behind it
        }
    }

    /// <summary>The advert source of an instance: the interface's primary IPv4 address (not a VIP), or its IPv6 link-local one.</summary>
    public async Task<IPAddress?> PrimaryAddressAsync(string ifname, InstanceSettings s, CancellationToken ct)
    {
        IReadOnlyList<InterfaceAddress> list;
        try
        {
            list = await _addresses.ListAsync(ifname, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.ActionFailed(s.Name, $"list addresses of {ifname}", ex.Message);
            return null;
        }
        var vips = AllVips(s.Options).Select(v => v.Address).ToHashSet();
        if (s.Family == AddressFamily.InterNetwork)
            return list.FirstOrDefault(a => a.Address.AddressFamily == AddressFamily.InterNetwork && !a.Secondary && !vips.Contains(a.Address))?.Address
                ?? list.FirstOrDefault(a => a.Address.AddressFamily == AddressFamily.InterNetwork && !vips.Contains(a.Address))?.Address;
        var ll = list.FirstOrDefault(a => a.Address.IsIPv6LinkLocal && !vips.Contains(a.Address))?.Address;
        return ll is null ? null : new IPAddress(ll.GetAddressBytes());
    }

    private async Task AddOneAsync(InstanceRuntime rt, VirtualAddress v, CancellationToken ct)
    {
        var dev = VmacManager.DeviceOf(rt, v);
        if (dev is null)
            return;
        try
        {
            await _addresses.AddAsync(dev, v, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.ActionFailed(rt.Name, $"add {v.Address} on {dev}", ex.Message);
        }
    }

    private async Task RemoveOneAsync(InstanceRuntime rt, VirtualAddress v, CancellationToken ct)
    {
        var dev = VmacManager.DeviceOf(rt, v);
        if (dev is null)
            return;
        rt.MarkRemoving(v, true);
        try
        {
            await _addresses.RemoveAsync(dev, v, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.ActionFailed(rt.Name, $"remove {v.Address} from {dev}", ex.Message);
        }
        finally
        {
            rt.MarkRemoving(v, false);
        }
    }
}
