using System.Net;
using Microsoft.Extensions.Logging;

namespace Lb.Netlink.Route;

/// <summary>Options of <see cref="RtnetlinkCache.Open"/>.</summary>
public sealed record RtnetlinkCacheOptions
{
    /// <summary>The monitor socket's options (its receive buffer: a test makes it small to force an overrun).</summary>
    public NetlinkSocketOptions MonitorSocket { get; init; } = new();

    /// <summary>The command socket's options (dumps, address changes).</summary>
    public NetlinkSocketOptions CommandSocket { get; init; } = new();

    /// <summary>First wait before retrying after the event loop failed (a dump refused, a socket error); doubles up to
    /// <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The one view of the kernel's links and addresses a process needs: one rtnetlink socket joined to the link, IPv4 and
/// IPv6 address groups (subscribed before the first dump, so no change between the two is missed), one dump of links
/// and addresses, then every notification applied to a cache of links (ifindex, name, MAC, flags, operational state)
/// and addresses, and passed on through <see cref="Changed"/>. When the kernel drops notifications (ENOBUFS: the socket
/// overflowed) or a datagram does not decode, links and addresses are dumped again and the differences are raised as
/// events, so a consumer also learns what it missed. The loop never stops on a failure: it logs it and retries (the
/// waits bounded by <see cref="RtnetlinkCacheOptions.MaxRetryDelay"/>) until disposed.
/// A second socket (<see cref="Client"/>) carries the dumps and the callers' requests; it joins no group.
/// </summary>
public sealed class RtnetlinkCache : IAsyncDisposable
{
    private readonly RtnetlinkMonitor _monitor;
    private readonly RtnetlinkClient _client;
    private readonly RtnetlinkCacheOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _cts = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<int, LinkInfo> _links = [];
    private readonly Dictionary<string, LinkInfo> _linksByName = new(StringComparer.Ordinal);
    private readonly Dictionary<(int Index, IPAddress Address, int PrefixLength), InterfaceAddress> _addresses = [];
    private readonly Dictionary<IPAddress, int> _addressCount = [];
    private Task? _pump;
    private long _resyncs;
    private long _failures;
    private int _disposed;

    private RtnetlinkCache(RtnetlinkMonitor monitor, RtnetlinkClient client, RtnetlinkCacheOptions options, ILogger logger)
    {
        _monitor = monitor;
        _client = client;
        _options = options;
        _logger = logger;
    }

    /// <summary>
    /// Opens the two sockets in the calling thread's network namespace (run it inside <c>NetworkNamespace.Run</c> for
    /// another one) and joins the groups; nothing is read until <see cref="StartAsync"/>.
    /// </summary>
    public static RtnetlinkCache Open(ILogger logger, RtnetlinkCacheOptions? options = null)
    {
        options ??= new RtnetlinkCacheOptions();
        var monitor = RtnetlinkMonitor.Open(RtnetlinkSubscriptions.All | RtnetlinkSubscriptions.Routes | RtnetlinkSubscriptions.Rules, options.MonitorSocket);
        try
        {
            return new RtnetlinkCache(monitor, RtnetlinkClient.Open(options.CommandSocket), options, logger);
        }
        catch
        {
            monitor.Dispose();
            throw;
        }
    }

    /// <summary>Reads the links and addresses, then starts applying notifications. Call once.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_pump is not null)
            throw new InvalidOperationException("the rtnetlink cache is already started");
        await ResyncAsync(raise: false, cancellationToken).ConfigureAwait(false);
        _pump = Task.Run(() => PumpAsync(_cts.Token), CancellationToken.None);
    }

    /// <summary>The command socket: address changes and ordered reads (it joins no group).</summary>
    public RtnetlinkClient Client => _client;

    /// <summary>The monitor socket's port id (the <c>Pid</c> column of <c>/proc/net/netlink</c>).</summary>
    public uint MonitorPortId => _monitor.PortId;

    /// <summary>How many times the state was dumped again after lost notifications or a failure (not counting the first dump).</summary>
    public long Resyncs => Interlocked.Read(ref _resyncs);

    /// <summary>How many times the event loop failed (and retried).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>
    /// Raised on the event loop after the cache applied a change: each <see cref="LinkEvent"/> and <see cref="AddressEvent"/>
    /// the kernel sent, and after a re-read, one for each difference found, then one <see cref="EventsLostEvent"/>. Route and
    /// rule notifications (<see cref="RouteEvent"/>, <see cref="RuleEvent"/>) are passed on as they come, not cached. A handler that throws is logged; it does not
    /// stop the loop or the other handlers. A handler that blocks holds every later event (the kernel drops them when the
    /// socket fills, and the cache re-reads): it should hand the work off.
    /// </summary>
    public event EventHandler<RtnetlinkEvent>? Changed;

    public LinkInfo? GetLink(string name)
    {
        lock (_lock)
            return _linksByName.GetValueOrDefault(name);
    }

    public LinkInfo? GetLink(int index)
    {
        lock (_lock)
            return _links.GetValueOrDefault(index);
    }

    public IReadOnlyList<LinkInfo> GetLinks()
    {
        lock (_lock)
            return [.. _links.Values.OrderBy(l => l.Index)];
    }

    /// <summary>The addresses (of one interface when given), by interface index.</summary>
    public IReadOnlyList<InterfaceAddress> GetAddresses(int? interfaceIndex = null)
    {
        lock (_lock)
            return [.. _addresses.Values.Where(a => interfaceIndex is null || a.InterfaceIndex == interfaceIndex).OrderBy(a => a.InterfaceIndex)];
    }

    /// <summary>Whether <paramref name="address"/> is configured on any interface (a dictionary read).</summary>
    public bool HasAddress(IPAddress address)
    {
        lock (_lock)
            return _addressCount.ContainsKey(address);
    }

    private async Task PumpAsync(CancellationToken cancellationToken)
    {
        var resync = false;
        var delay = _options.RetryDelay;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (resync)
                {
                    await ResyncAsync(raise: true, cancellationToken).ConfigureAwait(false);
                    resync = false;
                }
                foreach (var e in await _monitor.ReceiveAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (e is EventsLostEvent)
                    {
                        _logger.LogWarning("Netlink: kernel link/address events were lost (receive buffer overrun); re-reading links and addresses");
                        resync = true;
                        continue;
                    }
                    Apply(e);
                    Raise(e);
                }
                delay = _options.RetryDelay;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                // Disposed: the socket closed under the pending receive.
                return;
            }
            catch (Exception e)
            {
                // Whatever failed (a datagram that does not decode, a dump refused, a socket error), what was missed is
                // recovered by re-reading; the retries are spaced so a persistent failure cannot spin.
                Interlocked.Increment(ref _failures);
                _logger.LogError("Netlink: the link/address monitor failed ({Message}); re-reading links and addresses in {Delay} ms", e.Message, delay.TotalMilliseconds);
                resync = true;
                try
                {
                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
            }
        }
    }

    private void Apply(RtnetlinkEvent e)
    {
        lock (_lock)
        {
            switch (e)
            {
                case LinkEvent { Removed: true } le:
                    RemoveLink(le.Link.Index);
                    break;
                case LinkEvent le:
                    PutLink(le.Link);
                    break;
                case AddressEvent { Removed: true } ae:
                    RemoveAddress(ae.Address);
                    break;
                case AddressEvent ae:
                    PutAddress(ae.Address);
                    break;
            }
        }
    }

    private void PutLink(LinkInfo link)
    {
        if (_links.TryGetValue(link.Index, out var old) && old.Name != link.Name && _linksByName.GetValueOrDefault(old.Name)?.Index == old.Index)
            _linksByName.Remove(old.Name);
        _links[link.Index] = link;
        _linksByName[link.Name] = link;
    }

    private void RemoveLink(int index)
    {
        if (!_links.Remove(index, out var old))
            return;
        if (_linksByName.GetValueOrDefault(old.Name)?.Index == index)
            _linksByName.Remove(old.Name);
        // The kernel sends RTM_DELADDR for them as well; a link that is gone has no addresses either way.
        foreach (var a in _addresses.Values.Where(a => a.InterfaceIndex == index).ToList())
            RemoveAddress(a);
    }

    private static (int, IPAddress, int) Key(InterfaceAddress a) => (a.InterfaceIndex, a.Address, a.PrefixLength);

    private void PutAddress(InterfaceAddress address)
    {
        if (_addresses.TryAdd(Key(address), address))
            _addressCount[address.Address] = _addressCount.GetValueOrDefault(address.Address) + 1;
        else
            _addresses[Key(address)] = address;
    }

    private void RemoveAddress(InterfaceAddress address)
    {
        if (!_addresses.Remove(Key(address)))
            return;
        var n = _addressCount.GetValueOrDefault(address.Address) - 1;
        if (n <= 0)
            _addressCount.Remove(address.Address);
        else
            _addressCount[address.Address] = n;
    }

    /// <summary>Dumps links and addresses, replaces the cache and (when <paramref name="raise"/>) raises the differences.</summary>
    private async Task ResyncAsync(bool raise, CancellationToken cancellationToken)
    {
        var links = await _client.GetLinksAsync(cancellationToken).ConfigureAwait(false);
        var addresses = await _client.GetAddressesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var changes = new List<RtnetlinkEvent>();
        lock (_lock)
        {
            var linkIndexes = links.Select(l => l.Index).ToHashSet();
            var addressKeys = addresses.Select(Key).ToHashSet();
            // Removals first (an address goes with its link), then what is new or changed.
            foreach (var old in _addresses.Values.Where(a => !addressKeys.Contains(Key(a))).ToList())
            {
                RemoveAddress(old);
                changes.Add(new AddressEvent(old, Removed: true));
            }
            foreach (var old in _links.Values.Where(l => !linkIndexes.Contains(l.Index)).ToList())
            {
                RemoveLink(old.Index);
                changes.Add(new LinkEvent(old, Removed: true));
            }
            foreach (var link in links)
            {
                if (_links.TryGetValue(link.Index, out var old) && old.Equals(link))
                    continue;
                PutLink(link);
                changes.Add(new LinkEvent(link, Removed: false));
            }
            foreach (var address in addresses)
            {
                if (_addresses.TryGetValue(Key(address), out var old) && old.Equals(address))
                    continue;
                PutAddress(address);
                changes.Add(new AddressEvent(address, Removed: false));
            }
        }
        if (_pump is not null)
        {
            Interlocked.Increment(ref _resyncs);
            _logger.LogInformation("Netlink: re-read {Links} links and {Addresses} addresses; {Changes} changes had been missed", links.Count, addresses.Count, changes.Count);
        }
        if (raise)
        {
            foreach (var c in changes)
                Raise(c);
            // Routes and rules are not cached: a handler that owns some re-checks them.
            Raise(new EventsLostEvent());
        }
    }

    private void Raise(RtnetlinkEvent e)
    {
        if (Changed is not { } handlers)
            return;
        foreach (var h in handlers.GetInvocationList().Cast<EventHandler<RtnetlinkEvent>>())
        {
            try
            {
                h(this, e);
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "Netlink: a link/address event handler failed: {Message}", ex.Message);
            }
        }
    }

    /// <summary>Stops the event loop (bounded) and closes both sockets.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await _cts.CancelAsync().ConfigureAwait(false);
        _monitor.Dispose();
        if (_pump is not null)
        {
            try
            {
                await _pump.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // A handler that never returns: its loop ends when it does; the sockets are closed regardless.
            }
        }
        _client.Dispose();
        if (_pump is null || _pump.IsCompleted)
            _cts.Dispose();
    }
}
