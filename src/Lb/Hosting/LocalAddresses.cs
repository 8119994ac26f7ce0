using System.Collections.Concurrent;
using System.Net;
using Lb.Netlink.Route;
using Microsoft.Extensions.Logging;

namespace Lb.Hosting;

/// <summary>
/// The addresses configured on this host, kept current from rtnetlink address events (re-read when events are lost), for
/// the checker subsystem's <c>ha_suspend</c> hook (<see cref="Checkers.CheckerSubsystem.IsLocalAddress"/>): a lookup is a
/// dictionary read, never a netlink round trip.
/// </summary>
public sealed class LocalAddresses : IAsyncDisposable
{
    private readonly ConcurrentDictionary<(IPAddress Address, int Index), byte> _addresses = new();
    private readonly RtnetlinkClient _client;
    private readonly RtnetlinkMonitor _monitor;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _cts = new();
    private Task? _pump;

    private LocalAddresses(RtnetlinkClient client, RtnetlinkMonitor monitor, ILogger logger)
    {
        _client = client;
        _monitor = monitor;
        _logger = logger;
    }

    public static async Task<LocalAddresses> StartAsync(ILogger logger, CancellationToken cancellationToken)
    {
        // Subscribe before the dump, so no change between the two is missed.
        var monitor = RtnetlinkMonitor.Open(RtnetlinkSubscriptions.Ipv4Addresses | RtnetlinkSubscriptions.Ipv6Addresses);
        var client = RtnetlinkClient.Open();
        var local = new LocalAddresses(client, monitor, logger);
        await local.ResyncAsync(cancellationToken).ConfigureAwait(false);
        local._pump = Task.Run(() => local.PumpAsync(local._cts.Token), CancellationToken.None);
        return local;
    }

    public bool Contains(IPAddress address) => _addresses.Keys.Any(k => k.Address.Equals(address));

    private async Task ResyncAsync(CancellationToken cancellationToken)
    {
        var list = await _client.GetAddressesAsync(null, null, cancellationToken).ConfigureAwait(false);
        _addresses.Clear();
        foreach (var a in list)
            _addresses[(a.Address, a.InterfaceIndex)] = 0;
    }

    private async Task PumpAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var e in _monitor.ReadEventsAsync(cancellationToken).ConfigureAwait(false))
            {
                switch (e)
                {
                    case AddressEvent { Removed: true } ae:
                        _addresses.TryRemove((ae.Address.Address, ae.Address.InterfaceIndex), out _);
                        break;
                    case AddressEvent ae:
                        _addresses[(ae.Address.Address, ae.Address.InterfaceIndex)] = 0;
                        break;
                    case EventsLostEvent:
                        await ResyncAsync(cancellationToken).ConfigureAwait(false);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Netlink: the address monitor for ha_suspend stopped: {Message}", ex.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync().ConfigureAwait(false);
        _monitor.Dispose();
        if (_pump is not null)
        {
            try
            {
                await _pump.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }
        _client.Dispose();
        _cts.Dispose();
    }
}
