using Lb.Vrrp.Diagnostics;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Runtime;
using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.Addresses;

/// <summary>
/// keepalived's virtual and static routes and rules (vrrp_handle_iproutes / vrrp_handle_iprules, netlink_rtlist / netlink_rulelist):
/// an instance's <c>virtual_routes</c> and <c>virtual_rules</c> are installed after its VIPs when it becomes MASTER and removed (rules
/// first, then routes) before its VIPs when it leaves MASTER or stops, on the instance's work queue; <c>static_ipaddress</c>,
/// <c>static_routes</c> and <c>static_rules</c> are installed at start (leftovers of a crashed run removed first) and removed at stop.
/// A tracked route or rule (not <c>no_track</c>) removed by someone else is put back: an instance's while it is MASTER holding its
/// VIPs (keepalived makes the instance leave MASTER and come back, which ends the same way), a static one always.
/// </summary>
internal sealed class RouteManager : IDisposable
{
    private readonly IRouteTable? _table;
    private readonly IAddressTable _addresses;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _staticGate = new(1, 1);
    private volatile VrrpSubsystemOptions? _static; // the static entries installed (null: none, or stopping)

    public RouteManager(IRouteTable? table, IAddressTable addresses, ILogger logger)
    {
        _table = table;
        _addresses = addresses;
        _logger = logger;
    }

    /// <summary>Releases the static gate (after <see cref="StopStaticAsync"/>).</summary>
    public void Dispose() => _staticGate.Dispose();

    /// <summary>Whether routes and rules can be installed on this host.</summary>
    public bool Available => _table is not null;

    /// <summary>Queues the install of the instance's routes, then its rules (after its VIPs, already queued).</summary>
    public void Add(InstanceRuntime rt, VrrpInstanceOptions o)
    {
        if (_table is null || o.VirtualRoutes.Count + o.VirtualRules.Count == 0)
            return;
        _logger.HandlingRoutes(rt.Name, "Setting", o.VirtualRoutes.Count, o.VirtualRules.Count);
        rt.Enqueue(async ct =>
        {
            foreach (var r in o.VirtualRoutes)
                await AddRouteAsync(rt.Name, r, ct).ConfigureAwait(false);
            foreach (var r in o.VirtualRules)
                await AddRuleAsync(rt.Name, r, ct).ConfigureAwait(false);
        });
    }

    /// <summary>Queues the removal of the instance's rules, then its routes (before its VIPs, queued next).</summary>
    public void Remove(InstanceRuntime rt, VrrpInstanceOptions o)
    {
        if (_table is null || o.VirtualRoutes.Count + o.VirtualRules.Count == 0)
            return;
        _logger.HandlingRoutes(rt.Name, "Removing", o.VirtualRoutes.Count, o.VirtualRules.Count);
        rt.Enqueue(async ct =>
        {
            foreach (var r in o.VirtualRules)
                await RemoveRuleAsync(rt.Name, r, ct).ConfigureAwait(false);
            foreach (var r in o.VirtualRoutes)
                await RemoveRouteAsync(rt.Name, r, ct).ConfigureAwait(false);
        });
    }

    /// <summary>
    /// A reload changed the routes or rules of a MASTER holding them: the dropped ones go, and every configured one is added again
    /// (keepalived re-adds them all: the kernel may have dropped a route that depended on a removed VIP without saying so).
    /// </summary>
    public void ApplyDiff(InstanceRuntime rt, VrrpInstanceOptions before, VrrpInstanceOptions after)
    {
        if (_table is null)
            return;
        var droppedRules = before.VirtualRules.Where(r => !after.VirtualRules.Contains(r)).ToList();
        var droppedRoutes = before.VirtualRoutes.Where(r => !after.VirtualRoutes.Contains(r)).ToList();
        rt.Enqueue(async ct =>
        {
            foreach (var r in droppedRules)
                await RemoveRuleAsync(rt.Name, r, ct).ConfigureAwait(false);
            foreach (var r in droppedRoutes)
                await RemoveRouteAsync(rt.Name, r, ct).ConfigureAwait(false);
            foreach (var r in after.VirtualRoutes)
                await AddRouteAsync(rt.Name, r, ct).ConfigureAwait(false);
            foreach (var r in after.VirtualRules)
                await AddRuleAsync(rt.Name, r, ct).ConfigureAwait(false);
        });
    }

    /// <summary>
    /// A route or rule changed in the kernel. A tracked one of ours that was removed is restored: an instance's when
    /// <paramref name="holding"/> says the instance is MASTER with its VIPs set, a static one while the statics are installed.
    /// After lost notifications every one of them is added again (adding one that is there changes nothing).
    /// </summary>
    public void OnRoutingChanged(RoutingChangedEventArgs e, IEnumerable<InstanceRuntime> runtimes, Func<InstanceRuntime, bool> holding)
    {
        if (_table is null || (!e.Removed && !e.EventsLost))
            return;
        foreach (var rt in runtimes)
        {
            var o = rt.Machine.Settings.Options;
            if (o.VirtualRoutes.Count + o.VirtualRules.Count == 0 || !holding(rt))
                continue;
            foreach (var r in o.VirtualRoutes.Where(r => !r.NoTrack && (e.EventsLost || (e.Route is { } k && Matches(r, k)))))
            {
                if (!e.EventsLost)
                    _logger.RoutingRestoring(rt.Name, "route", r.Text);
                rt.Enqueue(ct => AddRouteAsync(rt.Name, r, ct));
            }
            foreach (var r in o.VirtualRules.Where(r => !r.NoTrack && (e.EventsLost || (e.Rule is { } k && Matches(r, k)))))
            {
                if (!e.EventsLost)
                    _logger.RoutingRestoring(rt.Name, "rule", r.Text);
                rt.Enqueue(ct => AddRuleAsync(rt.Name, r, ct));
            }
        }
        if (_static is { } s)
        {
            var routes = s.StaticRoutes.Where(r => !r.NoTrack && (e.EventsLost || (e.Route is { } k && Matches(r, k)))).ToList();
            var rules = s.StaticRules.Where(r => !r.NoTrack && (e.EventsLost || (e.Rule is { } k && Matches(r, k)))).ToList();
            if (routes.Count + rules.Count > 0)
                _ = RestoreStaticAsync(routes, rules, e.EventsLost);
        }
    }

    /// <summary>A static address removed by someone else is added back (keepalived's reinstate_static_address).</summary>
    public void OnAddressChanged(AddressChangedEventArgs e)
    {
        if (!e.Removed || _static is not { } s)
            return;
        foreach (var a in s.StaticAddresses.Where(a => !a.NoTrack && a.Address.Equals(e.Address.Address) && a.Device == e.Address.Interface))
        {
            _logger.RoutingRestoring("static", "address", a.ToString());
            _ = RunStaticAsync(ct => AddAddressAsync(a, ct));
        }
    }

    /// <summary>
    /// At start (keepalived's vrrp_daemon.c start_vrrp): the static addresses, routes and rules a crashed run may have left are
    /// removed, then installed — addresses, routes, rules.
    /// </summary>
    public async Task StartStaticAsync(VrrpSubsystemOptions options, CancellationToken ct)
    {
        var count = options.StaticAddresses.Count + options.StaticRoutes.Count + options.StaticRules.Count;
        if (count == 0)
            return;
        await _staticGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await RemoveStaticCoreAsync(options, ct).ConfigureAwait(false);
            _logger.HandlingStatic("Setting", options.StaticAddresses.Count, options.StaticRoutes.Count, options.StaticRules.Count);
            foreach (var a in options.StaticAddresses)
                await AddAddressAsync(a, ct).ConfigureAwait(false);
            if (_table is not null)
            {
                foreach (var r in options.StaticRoutes)
                    await AddRouteAsync("static", r, ct).ConfigureAwait(false);
                foreach (var r in options.StaticRules)
                    await AddRuleAsync("static", r, ct).ConfigureAwait(false);
            }
            _static = options;
        }
        finally
        {
            _staticGate.Release();
        }
    }

    /// <summary>At stop: the static rules, routes and addresses are removed (keepalived's vrrp_terminate_phase2).</summary>
    public async Task StopStaticAsync(CancellationToken ct)
    {
        if (_static is not { } s)
            return;
        _static = null; // from here on a removal is ours, not someone else's
        await _staticGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            _logger.HandlingStatic("Removing", s.StaticAddresses.Count, s.StaticRoutes.Count, s.StaticRules.Count);
            await RemoveStaticCoreAsync(s, ct).ConfigureAwait(false);
        }
        finally
        {
            _staticGate.Release();
        }
    }

    private async Task RemoveStaticCoreAsync(VrrpSubsystemOptions s, CancellationToken ct)
    {
        if (_table is not null)
        {
            foreach (var r in s.StaticRules)
                await RemoveRuleAsync("static", r, ct).ConfigureAwait(false);
            foreach (var r in s.StaticRoutes)
                await RemoveRouteAsync("static", r, ct).ConfigureAwait(false);
        }
        foreach (var a in s.StaticAddresses)
        {
            if (a.Device is not { } dev)
                continue;
            try
            {
                await _addresses.RemoveAsync(dev, a, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                _logger.ActionFailed("static", $"remove {a.Address} from {dev}", ex.Message);
            }
        }
    }

    private async Task RestoreStaticAsync(IReadOnlyList<VirtualRoute> routes, IReadOnlyList<VirtualRule> rules, bool quiet)
    {
        foreach (var r in routes)
        {
            if (!quiet)
                _logger.RoutingRestoring("static", "route", r.Text);
            await RunStaticAsync(ct => AddRouteAsync("static", r, ct)).ConfigureAwait(false);
        }
        foreach (var r in rules)
        {
            if (!quiet)
                _logger.RoutingRestoring("static", "rule", r.Text);
            await RunStaticAsync(ct => AddRuleAsync("static", r, ct)).ConfigureAwait(false);
        }
    }

    /// <summary>One static restore, serialized with start and stop, and dropped once the statics are being removed.</summary>
    private async Task RunStaticAsync(Func<CancellationToken, Task> work)
    {
        try
        {
            await _staticGate.WaitAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            return;
        }
        try
        {
            if (_static is not null)
                await work(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _staticGate.Release();
        }
    }

    private async Task AddAddressAsync(VirtualAddress a, CancellationToken ct)
    {
        if (a.Device is not { } dev)
            return;
        try
        {
            await _addresses.AddAsync(dev, a, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.ActionFailed("static", $"add {a.Address} on {dev}", ex.Message);
        }
    }

    private Task AddRouteAsync(string owner, VirtualRoute r, CancellationToken ct) =>
        KernelAsync(owner, $"add route {r.Text}", c => _table!.AddRouteAsync(r, c), ct);

    private Task RemoveRouteAsync(string owner, VirtualRoute r, CancellationToken ct) =>
        KernelAsync(owner, $"remove route {r.Text}", c => _table!.RemoveRouteAsync(r, c), ct);

    private Task AddRuleAsync(string owner, VirtualRule r, CancellationToken ct) =>
        KernelAsync(owner, $"add rule {r.Text}", c => _table!.AddRuleAsync(r, c), ct);

    private Task RemoveRuleAsync(string owner, VirtualRule r, CancellationToken ct) =>
        KernelAsync(owner, $"remove rule {r.Text}", c => _table!.RemoveRuleAsync(r, c), ct);

    /// <summary>One kernel change: a refusal is logged with the owner and the object, never thrown (the others go on).</summary>
    private async Task KernelAsync(string owner, string what, Func<CancellationToken, Task> change, CancellationToken ct)
    {
        try
        {
            await change(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.ActionFailed(owner, what, ex.Message);
        }
    }

    /// <summary>keepalived's route_is_ours: family, table, destination, metric and tos, and the interface when the route names one.</summary>
    internal static bool Matches(VirtualRoute r, KernelRoute k) =>
        k.Protocol == (r.Protocol ?? 18) && r.Family == k.Family && r.Table == k.Table && (r.Metric ?? 0) == k.Metric && (r.Tos ?? 0) == k.Tos
        && r.Destination.PrefixLength == k.Destination.PrefixLength && SamePrefixAddress(r.Destination, k.Destination)
        && (r.Device is null || r.Device == k.Device);

    /// <summary>keepalived's compare_rule (its main selectors): family, priority, action, table, from, to, fwmark, interfaces, not.</summary>
    internal static bool Matches(VirtualRule r, KernelRule k) =>
        r.Family == k.Family && r.Priority == k.Priority && (byte)r.Action == k.Action
        && (r.Action != RuleAction.ToTable || r.L3mdev || (r.Table ?? 254) == k.Table)
        && r.Invert == k.Invert && SamePrefix(r.From, k.From) && SamePrefix(r.To, k.To) && r.FwMark == k.FwMark
        && r.InputInterface == k.InputInterface && r.OutputInterface == k.OutputInterface
        && (k.Protocol is null || r.Protocol is null || k.Protocol == r.Protocol);

    /// <summary>Selectors compared as the kernel keeps them: <c>from all</c> (a /0) is no selector.</summary>
    private static bool SamePrefix(IpPrefix? a, IpPrefix? b)
    {
        a = a is { IsDefault: true } ? null : a;
        b = b is { IsDefault: true } ? null : b;
        return a is null || b is null ? a is null == b is null : a.Value.PrefixLength == b.Value.PrefixLength && SamePrefixAddress(a.Value, b.Value);
    }

    private static bool SamePrefixAddress(IpPrefix a, IpPrefix b) => a.IsDefault && b.IsDefault || a.Address.Equals(b.Address);
}
