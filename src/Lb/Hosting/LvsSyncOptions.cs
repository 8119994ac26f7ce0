using System.Net;
using Lb.Netlink.Ipvs;

namespace Lb.Hosting;

/// <summary>
/// keepalived's global IPVS settings that neither subsystem owns: the kernel's connection-synchronisation daemons
/// (<c>lvs_sync_daemon</c>, or a vrrp_instance's deprecated <c>lvs_sync_daemon_interface</c>) and the connection timeouts
/// (<c>lvs_timeouts</c>). The host applies them (<see cref="LvsSyncController"/>): a daemon bound to a VRRP instance follows
/// that instance's state, so this record lives with the host, which sees both subsystems, and not with either of them.
/// </summary>
public sealed record LvsSyncOptions
{
    /// <summary>The sync daemon settings; null when none is configured.</summary>
    public LvsSyncDaemonOptions? SyncDaemon { get; init; }

    /// <summary>The timeouts to set (a 0 field leaves the kernel's value as it was when Lb started); null when not configured.</summary>
    public IpvsTimeouts? Timeouts { get; init; }
}

/// <summary>One <c>lvs_sync_daemon IF [[inst] INSTANCE] [id N] [maxlen N] [port N] [ttl N] [group IP]</c>.</summary>
public sealed record LvsSyncDaemonOptions
{
    /// <summary>The interface the daemons send and receive sync messages on.</summary>
    public required string Interface { get; init; }

    /// <summary>
    /// The VRRP instance the daemons follow (master daemon while it is MASTER, backup daemon otherwise); null: both daemons
    /// run while the checker subsystem runs (keepalived's checker process starts both).
    /// </summary>
    public string? Instance { get; init; }

    /// <summary>The sync id: <c>id N</c>, else the bound instance's virtual_router_id, else 0.</summary>
    public byte SyncId { get; init; }

    /// <summary>Sync message payload size (<c>maxlen</c>); 0 for the kernel's default.</summary>
    public ushort MaxLength { get; init; }

    /// <summary>Multicast port (<c>port</c>); 0 for the kernel's default 8848.</summary>
    public ushort Port { get; init; }

    /// <summary>Multicast TTL (<c>ttl</c>); 0 for the kernel's default 1.</summary>
    public byte Ttl { get; init; }

    /// <summary>Multicast group (<c>group</c>); null for the kernel's default 224.0.0.81.</summary>
    public IPAddress? Group { get; init; }

    /// <summary>The daemon the kernel is asked to start in <paramref name="state"/>.</summary>
    public IpvsSyncDaemon Daemon(IpvsSyncDaemonState state) => new(state, Interface, SyncId)
    {
        SyncMaxLength = MaxLength,
        MulticastPort = Port,
        MulticastTtl = Ttl,
        MulticastGroup = Group,
    };
}
