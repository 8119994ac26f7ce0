using System.Net;
using System.Net.Sockets;
using Lb.Checkers.Options;
using Lb.Netlink;
using Lb.Netlink.Ipvs;
using CheckerIpvs = Lb.Checkers.Ipvs;

namespace Lb.Hosting;

/// <summary>
/// The checker subsystem's IPVS interface, backed by Lb's generic-netlink IPVS client. Idempotent as keepalived's ipvswrapper
/// is: adding what exists edits it, removing what is gone is not an error.
/// </summary>
public sealed class NetlinkIpvsDestinations(IpvsClient client) : CheckerIpvs.IIpvsDestinations
{
    private readonly IpvsClient _client = client;

    /// <summary>Counts of IPVS operations and errors for metrics/status.</summary>
    public long Operations => Interlocked.Read(ref _operations);

    public long Errors => Interlocked.Read(ref _errors);

    private long _operations;
    private long _errors;

    /// <summary>Set when stopping with <c>-I/--dont-release-ipvs</c>: removals are skipped so the kernel keeps the table.</summary>
    public bool KeepOnStop { get; set; }

    public Task FlushAsync(CancellationToken cancellationToken) => KeepOnStop ? Task.CompletedTask : Run(() => _client.FlushAsync(cancellationToken));

    public Task AddServiceAsync(CheckerIpvs.IpvsService service, CancellationToken cancellationToken) => Run(async () =>
    {
        var s = ToNetlink(service);
        try
        {
            await _client.AddServiceAsync(s, cancellationToken).ConfigureAwait(false);
        }
        catch (ErrnoException e) when (e.Errno == Errno.EEXIST)
        {
            await _client.EditServiceAsync(s, cancellationToken).ConfigureAwait(false);
        }
    });

    public Task EditServiceAsync(CheckerIpvs.IpvsService service, CancellationToken cancellationToken) => Run(async () =>
    {
        var s = ToNetlink(service);
        try
        {
            await _client.EditServiceAsync(s, cancellationToken).ConfigureAwait(false);
        }
        catch (ErrnoException e) when (e.Errno is Errno.ENOENT or Errno.ESRCH)
        {
            await _client.AddServiceAsync(s, cancellationToken).ConfigureAwait(false);
        }
    });

    public Task RemoveServiceAsync(CheckerIpvs.IpvsService service, CancellationToken cancellationToken) => KeepOnStop ? Task.CompletedTask : Run(async () =>
    {
        var key = Key(service);
        try
        {
            await _client.DeleteServiceAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (ErrnoException e) when (e.Errno is Errno.ENOENT or Errno.ESRCH)
        {
        }
    });

    public Task AddDestinationAsync(CheckerIpvs.IpvsService service, CheckerIpvs.IpvsDestination destination, CancellationToken cancellationToken) => Run(async () =>
    {
        var d = ToNetlink(destination);
        try
        {
            await _client.AddDestinationAsync(Key(service), d, cancellationToken).ConfigureAwait(false);
        }
        catch (ErrnoException e) when (e.Errno == Errno.EEXIST)
        {
            await _client.EditDestinationAsync(Key(service), d, cancellationToken).ConfigureAwait(false);
        }
    });

    public Task EditDestinationAsync(CheckerIpvs.IpvsService service, CheckerIpvs.IpvsDestination destination, CancellationToken cancellationToken) => Run(async () =>
    {
        var d = ToNetlink(destination);
        try
        {
            await _client.EditDestinationAsync(Key(service), d, cancellationToken).ConfigureAwait(false);
        }
        catch (ErrnoException e) when (e.Errno is Errno.ENOENT or Errno.ESRCH)
        {
            await _client.AddDestinationAsync(Key(service), d, cancellationToken).ConfigureAwait(false);
        }
    });

    public Task RemoveDestinationAsync(CheckerIpvs.IpvsService service, CheckerIpvs.IpvsDestination destination, CancellationToken cancellationToken) => KeepOnStop ? Task.CompletedTask : Run(async () =>
    {
        try
        {
            await _client.DeleteDestinationAsync(Key(service), new IpvsDestinationKey(destination.Address, destination.Port), cancellationToken).ConfigureAwait(false);
        }
        catch (ErrnoException e) when (e.Errno is Errno.ENOENT or Errno.ESRCH)
        {
        }
    });

    private async Task Run(Func<Task> operation)
    {
        Interlocked.Increment(ref _operations);
        try
        {
            await operation().ConfigureAwait(false);
        }
        catch
        {
            Interlocked.Increment(ref _errors);
            throw;
        }
    }

    public static IpvsServiceKey Key(CheckerIpvs.IpvsService s)
    {
        if (s.FirewallMark != 0)
            return IpvsServiceKey.Fwmark(s.FirewallMark, s.Family);
        var protocol = s.Protocol switch
        {
            Checkers.Options.IpvsProtocol.Udp => Netlink.Ipvs.IpvsProtocol.Udp,
            Checkers.Options.IpvsProtocol.Sctp => Netlink.Ipvs.IpvsProtocol.Sctp,
            _ => Netlink.Ipvs.IpvsProtocol.Tcp,
        };
        return IpvsServiceKey.Create(protocol, s.Address ?? IPAddress.Any, s.Port);
    }

    public static Netlink.Ipvs.IpvsService ToNetlink(CheckerIpvs.IpvsService s)
    {
        var flags = IpvsServiceFlags.None;
        if (s.PersistenceTimeout is not null)
            flags |= IpvsServiceFlags.Persistent;
        if (s.OnePacketScheduling)
            flags |= IpvsServiceFlags.OnePacket;
        if (s.SchedulerFlags.HasFlag(SchedulerFlags.Flag1))
            flags |= IpvsServiceFlags.Scheduler1;
        if (s.SchedulerFlags.HasFlag(SchedulerFlags.Flag2))
            flags |= IpvsServiceFlags.Scheduler2;
        if (s.SchedulerFlags.HasFlag(SchedulerFlags.Flag3))
            flags |= IpvsServiceFlags.Scheduler3;
        return new Netlink.Ipvs.IpvsService(Key(s), s.Scheduler)
        {
            Flags = flags,
            PersistenceTimeout = s.PersistenceTimeout is TimeSpan t ? (uint)Math.Max(1, t.TotalSeconds) : 0,
            PersistenceNetmask = s.PersistenceNetmask is IPAddress mask ? PrefixOf(mask) : null,
            PersistenceEngine = s.PersistenceEngine,
        };
    }

    private static int PrefixOf(IPAddress mask)
    {
        var bits = 0;
        foreach (var b in mask.GetAddressBytes())
            bits += System.Numerics.BitOperations.PopCount(b);
        return bits;
    }

    public static Netlink.Ipvs.IpvsDestination ToNetlink(CheckerIpvs.IpvsDestination d)
    {
        var forwarding = d.ForwardingMethod switch
        {
            ForwardingMethod.DirectRouting => IpvsForwardingMethod.Route,
            ForwardingMethod.Tunnel => IpvsForwardingMethod.Tunnel,
            _ => IpvsForwardingMethod.Masquerade,
        };
        var result = new Netlink.Ipvs.IpvsDestination(d.Address, d.Port, forwarding, d.Weight)
        {
            UpperThreshold = d.UpperThreshold,
            LowerThreshold = d.LowerThreshold,
        };
        if (d.Tunnel is { } tun)
        {
            result = result with
            {
                TunnelType = tun.Type switch { TunnelType.Gue => IpvsTunnelType.Gue, TunnelType.Gre => IpvsTunnelType.Gre, _ => IpvsTunnelType.Ipip },
                TunnelPort = tun.Port ?? 0,
                TunnelFlags = tun.Checksum switch { TunnelChecksum.Checksum => IpvsTunnelFlags.Checksum, TunnelChecksum.RemoteChecksum => IpvsTunnelFlags.RemoteChecksum, _ => IpvsTunnelFlags.NoChecksum },
            };
        }
        return result;
    }
}
