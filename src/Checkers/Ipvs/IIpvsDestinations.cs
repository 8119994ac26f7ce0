using System.Net;
using System.Net.Sockets;
using Lb.Checkers.Options;

namespace Lb.Checkers.Ipvs;

/// <summary>
/// The only way the checker subsystem touches the kernel: add/remove virtual services and add/edit/remove their
/// destinations. src/Lb adapts it to the Netlink IPVS client; tests use an in-memory table.
/// A method returns when the change is applied; it throws on failure (the subsystem logs and journals the error).
/// </summary>
public interface IIpvsDestinations
{
    /// <summary>Removes every service (<c>lvs_flush</c>, <c>lvs_flush_on_stop</c>).</summary>
    Task FlushAsync(CancellationToken cancellationToken);

    /// <summary>Adds a virtual service (ipvsadm -A). Adding an existing identical service is not an error.</summary>
    Task AddServiceAsync(IpvsService service, CancellationToken cancellationToken);

    /// <summary>
    /// Changes a virtual service's scheduler, scheduler flags, one-packet scheduling and persistence (timeout, netmask,
    /// engine) in place (ipvsadm -E), keeping its destinations and connections. The service is found by its identity
    /// (family, protocol, address, port, firewall mark). Used by configuration reload.
    /// The default implementation throws <see cref="NotSupportedException"/> (adapters written before reload existed).
    /// </summary>
    Task EditServiceAsync(IpvsService service, CancellationToken cancellationToken) =>
        throw new NotSupportedException("this IPVS adapter cannot edit a service (ipvsadm -E)");

    /// <summary>Removes a virtual service with its destinations (ipvsadm -D).</summary>
    Task RemoveServiceAsync(IpvsService service, CancellationToken cancellationToken);

    /// <summary>Adds a destination (ipvsadm -a).</summary>
    Task AddDestinationAsync(IpvsService service, IpvsDestination destination, CancellationToken cancellationToken);

    /// <summary>Changes a destination's weight/thresholds/method (ipvsadm -e).</summary>
    Task EditDestinationAsync(IpvsService service, IpvsDestination destination, CancellationToken cancellationToken);

    /// <summary>Removes a destination (ipvsadm -d); only address and port of <paramref name="destination"/> matter.</summary>
    Task RemoveDestinationAsync(IpvsService service, IpvsDestination destination, CancellationToken cancellationToken);
}

/// <summary>An IPVS virtual service as the kernel knows it (one per address, or per member of a group).</summary>
public sealed record IpvsService
{
    /// <summary>Address family (for fwmark services too).</summary>
    public required AddressFamily Family { get; init; }

    /// <summary>Protocol (TCP for fwmark services, ignored by the kernel).</summary>
    public IpvsProtocol Protocol { get; init; } = IpvsProtocol.Tcp;

    /// <summary>Virtual address; null for a fwmark service.</summary>
    public IPAddress? Address { get; init; }

    /// <summary>Virtual port (0 for fwmark and all-ports persistent services).</summary>
    public ushort Port { get; init; }

    /// <summary>Firewall mark; 0 for an address service.</summary>
    public uint FirewallMark { get; init; }

    /// <summary>Scheduler name (rr, wlc, …).</summary>
    public string Scheduler { get; init; } = "wlc";

    /// <summary>Scheduler flags (-b).</summary>
    public SchedulerFlags SchedulerFlags { get; init; }

    /// <summary>One-packet scheduling (-o).</summary>
    public bool OnePacketScheduling { get; init; }

    /// <summary>Persistence timeout; null: not persistent.</summary>
    public TimeSpan? PersistenceTimeout { get; init; }

    /// <summary>Persistence netmask (-M); null: the kernel default (/32, /128).</summary>
    public IPAddress? PersistenceNetmask { get; init; }

    /// <summary>Persistence engine (--pe).</summary>
    public string? PersistenceEngine { get; init; }

    /// <summary>keepalived's text for the service: <c>[10.0.0.100]:tcp:80</c>, <c>FWM 1</c>.</summary>
    public override string ToString() => Address is null ? $"FWM {FirewallMark}" : Format.Trio(Address, Protocol, Port);
}

/// <summary>An IPVS destination (real server or sorry server) of a service.</summary>
public sealed record IpvsDestination
{
    /// <summary>Address.</summary>
    public required IPAddress Address { get; init; }

    /// <summary>Port (0 with fwmark services without a port).</summary>
    public ushort Port { get; init; }

    /// <summary>Weight (0: inhibited).</summary>
    public int Weight { get; init; }

    /// <summary>Forwarding method.</summary>
    public ForwardingMethod ForwardingMethod { get; init; } = ForwardingMethod.Nat;

    /// <summary>Tunnel options for <see cref="ForwardingMethod.Tunnel"/>.</summary>
    public TunnelOptions? Tunnel { get; init; }

    /// <summary>Upper connection threshold (0: none).</summary>
    public uint UpperThreshold { get; init; }

    /// <summary>Lower connection threshold.</summary>
    public uint LowerThreshold { get; init; }

    /// <inheritdoc/>
    public override string ToString() => $"{Format.Endpoint(Address, Port)} weight {Weight}";
}
