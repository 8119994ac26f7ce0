using System.Net;
using Lb.Netlink;
using Lb.Netlink.Nftables;
using Lb.Vrrp.Engine;
using Lb.Vrrp.Options;
using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.Addresses;

/// <summary>
/// Accept mode (keepalived's vrrp_handle_accept_mode with nftables): a MASTER that is not the address owner
/// (priority != 255) and does not accept (<c>no_accept</c>, or <c>vrrp_strict</c> without <c>accept</c>) drops traffic
/// to and from its VIPs. Their addresses go into the <c>vips</c> sets of the table (<see cref="AcceptModeRules"/>) before
/// the VIPs are added, and leave them after the VIPs are removed; the table of a family is created at the first address
/// and deleted at stop. An address held by two instances is one element, removed with the last. Called from the
/// instances' work queues; serialized here.
/// </summary>
internal sealed class AcceptModeFirewall : IDisposable
{
    private readonly Func<VrrpSubsystemOptions> _options;
    private readonly Func<IReadOnlyList<NetlinkRequest>, CancellationToken, Task> _commit;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<NftFamily, AcceptModeTable> _tables = new();
    private readonly Dictionary<(IPAddress Address, int Index), int> _references = new();
    private readonly Dictionary<string, HashSet<(IPAddress Address, int Index)>> _installed = new(StringComparer.Ordinal);

    /// <param name="commit">Commits one nf_tables transaction (tests record it; the subsystem's default opens an <see cref="NftablesClient"/>).</param>
    public AcceptModeFirewall(Func<VrrpSubsystemOptions> options, Func<IReadOnlyList<NetlinkRequest>, CancellationToken, Task> commit, ILogger logger)
    {
        _options = options;
        _commit = commit;
        _logger = logger;
    }

    /// <summary>keepalived's rule: drop unless the address owner (priority 255) or accepting; accept defaults to on, off under strict mode.</summary>
    public static bool Drops(VrrpInstanceOptions o, VrrpSubsystemOptions g) =>
        o.Priority != VrrpDefaults.OwnerPriority && !(o.Accept ?? !(o.StrictMode ?? g.Strict));

    /// <summary>A commit that opens a netfilter socket for each transaction (rare: at VIP changes of non-accepting instances).</summary>
    public static async Task CommitWithNewSocketAsync(IReadOnlyList<NetlinkRequest> requests, CancellationToken ct)
    {
        using var client = NftablesClient.Open();
        await client.CommitAsync(requests, ct).ConfigureAwait(false);
    }

    /// <summary>Adds the addresses of <paramref name="instance"/> that are not in the sets yet (the table created first when needed).</summary>
    public async Task AddAsync(string instance, IReadOnlyList<(IPAddress Address, int Index)> addresses, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var mine = _installed.TryGetValue(instance, out var held) ? held : _installed[instance] = new();
            var fresh = addresses.Distinct().Where(a => !mine.Contains(a)).ToList();
            var requests = new List<NetlinkRequest>();
            var creating = new Dictionary<NftFamily, AcceptModeTable>();
            var table = Table();
            foreach (var group in fresh.Where(a => _references.GetValueOrDefault(a) == 0).GroupBy(a => AcceptModeRules.SetFor(table, a.Address)))
            {
                var family = group.Key.Family;
                if (!_tables.ContainsKey(family) && !creating.ContainsKey(family))
                {
                    creating[family] = table;
                    requests.AddRange(AcceptModeRules.CreateTable(table, family));
                }
                var set = group.Key with { Table = _tables.TryGetValue(family, out var existing) ? existing.Name : table.Name };
                requests.Add(NftablesMessages.NewSetElements(set, group.Select(a => AcceptModeRules.ElementFor(a.Address, a.Index)).ToList()));
            }
            if (fresh.Count == 0)
                return;
            _logger.SettingFirewallDropRule(instance, string.Join(", ", fresh.Select(a => a.Address)));
            try
            {
                await _commit(requests, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NetlinkException or ErrnoException or ArgumentException)
            {
                _logger.AcceptModeFailed(instance, ex.Message);
                return;
            }
            foreach (var (family, t) in creating)
                _tables[family] = t;
            foreach (var a in fresh)
            {
                mine.Add(a);
                _references[a] = _references.GetValueOrDefault(a) + 1;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Removes <paramref name="addresses"/> that <paramref name="instance"/> put in the sets (elements go with their last holder).</summary>
    public async Task RemoveAsync(string instance, IReadOnlyList<IPAddress> addresses, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (!_installed.TryGetValue(instance, out var mine) || mine.Count == 0)
                return;
            var wanted = addresses.ToHashSet();
            var leaving = mine.Where(a => wanted.Contains(a.Address)).ToList();
            if (leaving.Count == 0)
                return;
            var last = leaving.Where(a => _references.GetValueOrDefault(a) <= 1).ToList();
            var requests = new List<NetlinkRequest>();
            foreach (var group in last.GroupBy(a => AcceptModeRules.SetFor(Table(), a.Address)))
            {
                if (!_tables.TryGetValue(group.Key.Family, out var t))
                    continue;
                requests.Add(NftablesMessages.DeleteSetElements(group.Key with { Table = t.Name }, group.Select(a => AcceptModeRules.ElementFor(a.Address, a.Index)).ToList()));
            }
            _logger.RemovingFirewallDropRule(instance, string.Join(", ", leaving.Select(a => a.Address)));
            try
            {
                await _commit(requests, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NetlinkException or ErrnoException or ArgumentException)
            {
                // the element is gone from our books either way: a retry would fail the same way
                _logger.AcceptModeFailed(instance, ex.Message);
            }
            foreach (var a in leaving)
            {
                mine.Remove(a);
                if (_references.GetValueOrDefault(a) <= 1)
                    _references.Remove(a);
                else
                    _references[a]--;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Deletes the tables this process created (keepalived's nft_cleanup at shutdown).</summary>
    public async Task StopAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_tables.Count == 0)
                return;
            var requests = _tables.Select(t => NftablesMessages.DeleteTable(t.Key, t.Value.Name)).ToList();
            try
            {
                await _commit(requests, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NetlinkException or ErrnoException)
            {
                _logger.AcceptModeFailed("vrrp", ex.Message);
            }
            _tables.Clear();
            _references.Clear();
            _installed.Clear();
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private AcceptModeTable Table()
    {
        var o = _options();
        return new AcceptModeTable(o.NftablesTable, o.NftablesPriority, o.NftablesCounters);
    }
}

/// <summary>Accept mode's log lines (keepalived's "(VI_1) setting firewall drop rule" wording).</summary>
internal static partial class AcceptModeLog
{
    [LoggerMessage(311, LogLevel.Information, "({Instance}) setting firewall drop rule for {Addresses}")]
    public static partial void SettingFirewallDropRule(this ILogger logger, string instance, string addresses);

    [LoggerMessage(312, LogLevel.Information, "({Instance}) removing firewall drop rule for {Addresses}")]
    public static partial void RemovingFirewallDropRule(this ILogger logger, string instance, string addresses);

    [LoggerMessage(313, LogLevel.Warning, "({Instance}) accept mode: nftables change failed: {Error}")]
    public static partial void AcceptModeFailed(this ILogger logger, string instance, string error);
}
