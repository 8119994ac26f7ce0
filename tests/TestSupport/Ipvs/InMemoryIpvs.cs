using System.Net;
using System.Net.Sockets;
using Lb.Checkers;
using Lb.Checkers.Ipvs;
using Lb.Checkers.Options;
using Nl = Lb.Netlink.Ipvs;

namespace Lb.TestSupport;

/// <summary>
/// The checker subsystem's <see cref="IIpvsDestinations"/> over the one in-memory IPVS table
/// (<see cref="Kernel"/>, an <see cref="InMemoryIpvsTable"/>). Strict like the raw kernel: adding what exists, or
/// editing/removing what is missing, throws the kernel's error (EEXIST/ESRCH/ENOENT), so a test sees a subsystem that
/// loses track of the table. Records every operation as text, in order (<c>add-service [10.0.0.100]:tcp:80</c>,
/// <c>edit-service … rr</c>, <c>del-service …</c>, <c>add 10.0.0.2:80 w1</c>, <c>edit …</c>, <c>del …</c>, <c>flush</c>).
/// Used where the real kernel cannot run (the host kernel has no IPVS); the kernel tier runs the real one.
/// </summary>
public sealed class InMemoryIpvs : IIpvsDestinations
{
    private readonly object _gate = new();

    /// <summary>The table the operations change.</summary>
    public InMemoryIpvsTable Kernel { get; } = new();

    /// <summary>Every operation requested, as text, in order (also the ones the table refused).</summary>
    public List<string> Operations { get; } = new();

    /// <summary>Called at the start of each operation, with its text (e.g. to check the journal already has the entry, or to throw).</summary>
    public Action<string>? BeforeOperation { get; set; }

    /// <summary>The destinations now, by service text (<c>[10.0.0.100]:tcp:80</c>) and destination text (<c>10.0.0.2:80</c>).</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, IpvsDestination>> Table =>
        Kernel.Snapshot().Services.ToDictionary(
            e => ToCheckers(e.Service).ToString(),
            e => (IReadOnlyDictionary<string, IpvsDestination>)e.Destinations.ToDictionary(d => Key(d.Destination.Address, d.Destination.Port), d => ToCheckers(d.Destination)));

    /// <summary>The services now (scheduler, persistence…), by their text.</summary>
    public IReadOnlyDictionary<string, IpvsService> Services =>
        Kernel.Snapshot().Services.Select(e => ToCheckers(e.Service)).ToDictionary(s => s.ToString());

    /// <summary>The weights in the table of <paramref name="service"/>: "10.0.0.2:80=1".</summary>
    public List<string> Weights(string service) =>
        Table.TryGetValue(service, out var d) ? d.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key}={k.Value.Weight}").ToList() : new();

    /// <summary>The operations recorded since the last call.</summary>
    public List<string> TakeOperations()
    {
        lock (_gate)
        {
            var copy = Operations.ToList();
            Operations.Clear();
            return copy;
        }
    }

    /// <summary>This table seen through an adapter that does not implement <see cref="IIpvsDestinations.EditServiceAsync"/>
    /// (the interface's default, which throws <see cref="NotSupportedException"/>).</summary>
    public IIpvsDestinations WithoutEditService() => new NoEditService(this);

    public Task FlushAsync(CancellationToken cancellationToken)
    {
        Record("flush");
        return Kernel.FlushAsync(cancellationToken);
    }

    public Task AddServiceAsync(IpvsService service, CancellationToken cancellationToken) =>
        Run($"add-service {service}", Nl.IpvsOperation.AddService(ToNetlink(service)));

    public Task EditServiceAsync(IpvsService service, CancellationToken cancellationToken) =>
        Run($"edit-service {service} {service.Scheduler}", Nl.IpvsOperation.EditService(ToNetlink(service)));

    public Task RemoveServiceAsync(IpvsService service, CancellationToken cancellationToken) =>
        Run($"del-service {service}", Nl.IpvsOperation.DeleteService(KeyOf(service)));

    public Task AddDestinationAsync(IpvsService service, IpvsDestination destination, CancellationToken cancellationToken) =>
        Run($"add {Key(destination.Address, destination.Port)} w{destination.Weight}", Nl.IpvsOperation.AddDestination(KeyOf(service), ToNetlink(destination)));

    public Task EditDestinationAsync(IpvsService service, IpvsDestination destination, CancellationToken cancellationToken) =>
        Run($"edit {Key(destination.Address, destination.Port)} w{destination.Weight}", Nl.IpvsOperation.EditDestination(KeyOf(service), ToNetlink(destination)));

    public Task RemoveDestinationAsync(IpvsService service, IpvsDestination destination, CancellationToken cancellationToken) =>
        Run($"del {Key(destination.Address, destination.Port)}", Nl.IpvsOperation.DeleteDestination(KeyOf(service), new Nl.IpvsDestinationKey(destination.Address, destination.Port)));

    private void Record(string op)
    {
        BeforeOperation?.Invoke(op);
        lock (_gate)
            Operations.Add(op);
    }

    private Task Run(string text, Nl.IpvsOperation operation)
    {
        Record(text);
        if (Kernel.Execute(operation) is { } error)
            throw error;
        return Task.CompletedTask;
    }

    private static string Key(IPAddress address, ushort port) => Format.Endpoint(address, port);

    // The mapping between the checkers' records and Netlink's (the product's is src/Lb/Hosting/NetlinkIpvsDestinations.cs,
    // which the checker tests do not reference; a follow-up moves the checkers onto Netlink's IIpvsTable and removes both).

    private static Nl.IpvsServiceKey KeyOf(IpvsService s)
    {
        if (s.FirewallMark != 0)
            return Nl.IpvsServiceKey.Fwmark(s.FirewallMark, s.Family);
        var protocol = s.Protocol switch
        {
            IpvsProtocol.Udp => Nl.IpvsProtocol.Udp,
            IpvsProtocol.Sctp => Nl.IpvsProtocol.Sctp,
            _ => Nl.IpvsProtocol.Tcp,
        };
        return Nl.IpvsServiceKey.Create(protocol, s.Address ?? IPAddress.Any, s.Port);
    }

    private static Nl.IpvsService ToNetlink(IpvsService s)
    {
        var flags = Nl.IpvsServiceFlags.None;
        if (s.PersistenceTimeout is not null)
            flags |= Nl.IpvsServiceFlags.Persistent;
        if (s.OnePacketScheduling)
            flags |= Nl.IpvsServiceFlags.OnePacket;
        if (s.SchedulerFlags.HasFlag(SchedulerFlags.Flag1))
            flags |= Nl.IpvsServiceFlags.Scheduler1;
        if (s.SchedulerFlags.HasFlag(SchedulerFlags.Flag2))
            flags |= Nl.IpvsServiceFlags.Scheduler2;
        if (s.SchedulerFlags.HasFlag(SchedulerFlags.Flag3))
            flags |= Nl.IpvsServiceFlags.Scheduler3;
        return new Nl.IpvsService(KeyOf(s), s.Scheduler)
        {
            Flags = flags,
            PersistenceTimeout = s.PersistenceTimeout is TimeSpan t ? (uint)Math.Max(1, t.TotalSeconds) : 0,
            PersistenceNetmask = s.PersistenceNetmask is IPAddress mask ? mask.GetAddressBytes().Sum(b => System.Numerics.BitOperations.PopCount(b)) : null,
            PersistenceEngine = s.PersistenceEngine,
        };
    }

    private static IpvsService ToCheckers(Nl.IpvsService s)
    {
        var k = s.Key;
        var flags = SchedulerFlags.None;
        if (s.Flags.HasFlag(Nl.IpvsServiceFlags.Scheduler1))
            flags |= SchedulerFlags.Flag1;
        if (s.Flags.HasFlag(Nl.IpvsServiceFlags.Scheduler2))
            flags |= SchedulerFlags.Flag2;
        if (s.Flags.HasFlag(Nl.IpvsServiceFlags.Scheduler3))
            flags |= SchedulerFlags.Flag3;
        return new IpvsService
        {
            Family = k.Family,
            Protocol = k.Protocol switch { Nl.IpvsProtocol.Udp => IpvsProtocol.Udp, Nl.IpvsProtocol.Sctp => IpvsProtocol.Sctp, _ => IpvsProtocol.Tcp },
            Address = k.IsFirewallMark ? null : k.Address,
            Port = k.Port,
            FirewallMark = k.FirewallMark,
            Scheduler = s.Scheduler,
            SchedulerFlags = flags,
            OnePacketScheduling = s.Flags.HasFlag(Nl.IpvsServiceFlags.OnePacket),
            PersistenceTimeout = s.Flags.HasFlag(Nl.IpvsServiceFlags.Persistent) ? TimeSpan.FromSeconds(s.PersistenceTimeout) : null,
            PersistenceNetmask = s.PersistenceNetmask is int prefix ? Mask(k.Family, prefix) : null,
            PersistenceEngine = s.PersistenceEngine,
        };
    }

    private static IPAddress Mask(AddressFamily family, int prefix)
    {
        var bytes = new byte[family == AddressFamily.InterNetworkV6 ? 16 : 4];
        for (var i = 0; i < prefix; i++)
            bytes[i / 8] |= (byte)(0x80 >> (i % 8));
        return new IPAddress(bytes);
    }

    private static Nl.IpvsDestination ToNetlink(IpvsDestination d)
    {
        var forwarding = d.ForwardingMethod switch
        {
            ForwardingMethod.DirectRouting => Nl.IpvsForwardingMethod.Route,
            ForwardingMethod.Tunnel => Nl.IpvsForwardingMethod.Tunnel,
            _ => Nl.IpvsForwardingMethod.Masquerade,
        };
        var result = new Nl.IpvsDestination(d.Address, d.Port, forwarding, d.Weight)
        {
            UpperThreshold = d.UpperThreshold,
            LowerThreshold = d.LowerThreshold,
        };
        if (d.Tunnel is { } tun)
        {
            result = result with
            {
                TunnelType = tun.Type switch { TunnelType.Gue => Nl.IpvsTunnelType.Gue, TunnelType.Gre => Nl.IpvsTunnelType.Gre, _ => Nl.IpvsTunnelType.Ipip },
                TunnelPort = tun.Port ?? 0,
                TunnelFlags = tun.Checksum switch { TunnelChecksum.Checksum => Nl.IpvsTunnelFlags.Checksum, TunnelChecksum.RemoteChecksum => Nl.IpvsTunnelFlags.RemoteChecksum, _ => Nl.IpvsTunnelFlags.NoChecksum },
            };
        }
        return result;
    }

    private static IpvsDestination ToCheckers(Nl.IpvsDestination d) => new()
    {
        Address = d.Address,
        Port = d.Port,
        Weight = d.Weight,
        ForwardingMethod = d.Forwarding switch
        {
            Nl.IpvsForwardingMethod.Route => ForwardingMethod.DirectRouting,
            Nl.IpvsForwardingMethod.Tunnel => ForwardingMethod.Tunnel,
            _ => ForwardingMethod.Nat,
        },
        Tunnel = d.Forwarding != Nl.IpvsForwardingMethod.Tunnel ? null : new TunnelOptions
        {
            Type = d.TunnelType switch { Nl.IpvsTunnelType.Gue => TunnelType.Gue, Nl.IpvsTunnelType.Gre => TunnelType.Gre, _ => TunnelType.IpIp },
            Port = d.TunnelPort == 0 ? null : d.TunnelPort,
            Checksum = d.TunnelFlags switch { Nl.IpvsTunnelFlags.Checksum => TunnelChecksum.Checksum, Nl.IpvsTunnelFlags.RemoteChecksum => TunnelChecksum.RemoteChecksum, _ => TunnelChecksum.NoChecksum },
        },
        UpperThreshold = d.UpperThreshold,
        LowerThreshold = d.LowerThreshold,
    };

    private sealed class NoEditService(InMemoryIpvs table) : IIpvsDestinations
    {
        public Task FlushAsync(CancellationToken cancellationToken) => table.FlushAsync(cancellationToken);
        public Task AddServiceAsync(IpvsService service, CancellationToken cancellationToken) => table.AddServiceAsync(service, cancellationToken);
        public Task RemoveServiceAsync(IpvsService service, CancellationToken cancellationToken) => table.RemoveServiceAsync(service, cancellationToken);
        public Task AddDestinationAsync(IpvsService service, IpvsDestination destination, CancellationToken cancellationToken) => table.AddDestinationAsync(service, destination, cancellationToken);
        public Task EditDestinationAsync(IpvsService service, IpvsDestination destination, CancellationToken cancellationToken) => table.EditDestinationAsync(service, destination, cancellationToken);
        public Task RemoveDestinationAsync(IpvsService service, IpvsDestination destination, CancellationToken cancellationToken) => table.RemoveDestinationAsync(service, destination, cancellationToken);
    }
}
