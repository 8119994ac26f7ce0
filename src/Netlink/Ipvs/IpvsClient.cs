using System.Net.Sockets;
using Lb.Netlink.Generic;
using Lb.Netlink.Protocol;
using Microsoft.Extensions.Logging;

namespace Lb.Netlink.Ipvs;

/// <summary>IPVS is not in the running kernel: the generic netlink family "IPVS" is not registered.</summary>
public sealed class IpvsNotAvailableException : GenericNetlinkFamilyNotFoundException
{
    public const string Text = "IPVS is not available in this kernel (genl family IPVS not found): load the ip_vs module";

    public IpvsNotAvailableException()
        : base(IpvsConstants.IPVS_GENL_NAME, Text, customMessage: true)
    {
    }
}

/// <summary>
/// The kernel's IPVS table over generic netlink: services, destinations, dumps with statistics,
/// timeouts, sync daemons, zero and flush; batched changes and reconcile (<see cref="IIpvsTable"/>).
/// Needs CAP_NET_ADMIN for everything but nothing else. Thread-safe: requests are serialized.
/// </summary>
public sealed class IpvsClient : IpvsTableBase, IDisposable
{
    private readonly NetlinkSocket _socket;

    private IpvsClient(NetlinkSocket socket, GenericNetlinkFamily family)
    {
        _socket = socket;
        Family = family;
    }

    public GenericNetlinkFamily Family { get; }

    private ushort FamilyId => Family.Id;

    /// <summary>Opens a generic netlink socket and resolves the IPVS family; throws <see cref="IpvsNotAvailableException"/> without IPVS.</summary>
    public static async Task<IpvsClient> OpenAsync(NetlinkSocketOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        var socket = NetlinkSocket.Open(NetlinkConstants.NETLINK_GENERIC, options);
        try
        {
            GenericNetlinkFamily family;
            try
            {
                family = await GenericNetlinkFamily.ResolveAsync(socket, IpvsConstants.IPVS_GENL_NAME, cancellationToken).ConfigureAwait(false);
            }
            catch (GenericNetlinkFamilyNotFoundException)
            {
                throw new IpvsNotAvailableException();
            }
            return logger is null ? new IpvsClient(socket, family) : new IpvsClient(socket, family) { Logger = logger };
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    // ---- reads ----------------------------------------------------------------------------

    public async Task<IpvsInfo> GetInfoAsync(CancellationToken cancellationToken = default)
    {
        var replies = await _socket.RequestAsync<IpvsInfo>(IpvsMessages.GetInfo(FamilyId), IpvsMessages.TryParseInfo, cancellationToken).ConfigureAwait(false);
        return replies.Count > 0 ? replies[0] : throw new NetlinkFormatException("no reply to IPVS_CMD_GET_INFO");
    }

    public async Task<IReadOnlyList<IpvsServiceStatus>> GetServicesAsync(CancellationToken cancellationToken = default) =>
        await _socket.RequestAsync<IpvsServiceStatus>(IpvsMessages.GetServices(FamilyId), IpvsMessages.TryParseService, cancellationToken).ConfigureAwait(false);

    /// <summary>One service, or null when the kernel has no such service.</summary>
    public async Task<IpvsServiceStatus?> GetServiceAsync(IpvsServiceKey key, CancellationToken cancellationToken = default)
    {
        try
        {
            var replies = await _socket.RequestAsync<IpvsServiceStatus>(IpvsMessages.GetService(FamilyId, key), IpvsMessages.TryParseService, cancellationToken).ConfigureAwait(false);
            return replies.Count > 0 ? replies[0] : null;
        }
        catch (NetlinkException e) when (e.Errno == Errno.ESRCH)
        {
            return null;
        }
    }

    public override async Task<IReadOnlyList<IpvsDestinationStatus>> GetDestinationsAsync(IpvsServiceKey key, CancellationToken cancellationToken = default)
    {
        var family = key.Family;
        return await _socket.RequestAsync(IpvsMessages.GetDestinations(FamilyId, key),
            (NetlinkMessage m, out IpvsDestinationStatus d) => IpvsMessages.TryParseDestination(m, family, out d), cancellationToken).ConfigureAwait(false);
    }

    public override async Task<IpvsTableSnapshot> DumpAsync(CancellationToken cancellationToken = default)
    {
        var services = await GetServicesAsync(cancellationToken).ConfigureAwait(false);
        var entries = new List<IpvsTableEntry>(services.Count);
        foreach (var s in services)
        {
            IReadOnlyList<IpvsDestinationStatus> dests;
            try
            {
                dests = await GetDestinationsAsync(s.Service.Key, cancellationToken).ConfigureAwait(false);
            }
            catch (NetlinkException e) when (e.Errno == Errno.ESRCH)
            {
                continue; // deleted between the two dumps
            }
            entries.Add(new IpvsTableEntry(s, dests));
        }
        return new IpvsTableSnapshot(entries);
    }

    public async Task<IpvsTimeouts> GetTimeoutsAsync(CancellationToken cancellationToken = default)
    {
        var replies = await _socket.RequestAsync<IpvsTimeouts>(IpvsMessages.GetConfig(FamilyId), IpvsMessages.TryParseConfig, cancellationToken).ConfigureAwait(false);
        return replies.Count > 0 ? replies[0] : throw new NetlinkFormatException("no reply to IPVS_CMD_GET_CONFIG");
    }

    public async Task<IReadOnlyList<IpvsSyncDaemon>> GetSyncDaemonsAsync(CancellationToken cancellationToken = default) =>
        await _socket.RequestAsync<IpvsSyncDaemon>(IpvsMessages.GetDaemons(FamilyId), IpvsMessages.TryParseDaemon, cancellationToken).ConfigureAwait(false);

    // ---- single changes (throw on failure) ----------------------------------------------------

    public Task AddServiceAsync(IpvsService service, CancellationToken cancellationToken = default) =>
        AckAsync(IpvsMessages.NewService(FamilyId, service), cancellationToken, service);

    public Task EditServiceAsync(IpvsService service, CancellationToken cancellationToken = default) =>
        AckAsync(IpvsMessages.SetService(FamilyId, service), cancellationToken, service);

    public Task DeleteServiceAsync(IpvsServiceKey key, CancellationToken cancellationToken = default) =>
        AckAsync(IpvsMessages.DelService(FamilyId, key), cancellationToken);

    public Task AddDestinationAsync(IpvsServiceKey service, IpvsDestination destination, CancellationToken cancellationToken = default) =>
        AckAsync(IpvsMessages.NewDestination(FamilyId, service, destination), cancellationToken);

    public Task EditDestinationAsync(IpvsServiceKey service, IpvsDestination destination, CancellationToken cancellationToken = default) =>
        AckAsync(IpvsMessages.SetDestination(FamilyId, service, destination), cancellationToken);

    public Task DeleteDestinationAsync(IpvsServiceKey service, IpvsDestinationKey destination, CancellationToken cancellationToken = default) =>
        AckAsync(IpvsMessages.DelDestination(FamilyId, service, destination), cancellationToken);

    /// <summary>Sets connection timeouts; a 0 leaves that timeout unchanged.</summary>
    public Task SetTimeoutsAsync(IpvsTimeouts timeouts, CancellationToken cancellationToken = default) =>
        AckAsync(IpvsMessages.SetConfig(FamilyId, timeouts), cancellationToken);

    public Task StartSyncDaemonAsync(IpvsSyncDaemon daemon, CancellationToken cancellationToken = default) =>
        AckAsync(IpvsMessages.NewDaemon(FamilyId, daemon), cancellationToken);

    public Task StopSyncDaemonAsync(IpvsSyncDaemonState state, CancellationToken cancellationToken = default) =>
        AckAsync(IpvsMessages.DelDaemon(FamilyId, state), cancellationToken);

    /// <summary>Zeroes the counters of one service, or of all when <paramref name="service"/> is null.</summary>
    public Task ZeroAsync(IpvsServiceKey? service = null, CancellationToken cancellationToken = default) =>
        AckAsync(IpvsMessages.Zero(FamilyId, service), cancellationToken);

    public override Task FlushAsync(CancellationToken cancellationToken = default) =>
        AckAsync(IpvsMessages.Flush(FamilyId), cancellationToken);

    private async Task AckAsync(NetlinkRequest request, CancellationToken cancellationToken, IpvsService? service = null)
    {
        try
        {
            await _socket.AcknowledgedAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (NetlinkException e) when (Explain(request, e, service) is { } better)
        {
            throw better;
        }
    }

    /// <summary>
    /// Adds what the kernel's bare errno does not say: on a service add/edit ENOENT means the
    /// scheduler (or persistence engine) module is missing.
    /// </summary>
    internal static NetlinkException? Explain(NetlinkRequest request, NetlinkException e, IpvsService? service)
    {
        if (service is null || e.Errno != Errno.ENOENT)
            return null;
        var hint = string.IsNullOrEmpty(service.PersistenceEngine)
            ? $"no IPVS scheduler '{service.Scheduler}' (is the module ip_vs_{service.Scheduler} available?)"
            : $"no IPVS scheduler '{service.Scheduler}' or persistence engine '{service.PersistenceEngine}' (are the modules ip_vs_{service.Scheduler} and ip_vs_pe_{service.PersistenceEngine} available?)";
        return new NetlinkException(request.Description, e.Errno, e.KernelMessage, e.AttributeOffset, hint);
    }

    protected override async Task<IReadOnlyList<NetlinkException?>> ExecuteAsync(IReadOnlyList<IpvsOperation> operations, CancellationToken cancellationToken)
    {
        var requests = operations.Select(o => o.ToRequest(FamilyId)).ToList();
        var results = await _socket.SendBatchAsync(requests, cancellationToken).ConfigureAwait(false);
        var errors = new NetlinkException?[results.Count];
        for (var i = 0; i < results.Count; i++)
        {
            var e = results[i].Error;
            errors[i] = e is not null && operations[i].Service is { } svc ? Explain(requests[i], e, svc) ?? e : e;
        }
        return errors;
    }

    public void Dispose() => _socket.Dispose();
}
