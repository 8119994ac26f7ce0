using System.Net;
using System.Net.Sockets;
using Lb.Config.IpConfig;
using Lb.Hosting;
using Lb.Netlink.Ipvs;
using Lb.Vrrp.Options;

namespace Lb.Config.Mapping;

/// <summary>
/// Maps <c>lvs_sync_daemon</c> (and a vrrp_instance's deprecated <c>lvs_sync_daemon_interface</c>) and <c>lvs_timeouts</c>
/// onto <see cref="LvsSyncOptions"/>, with keepalived 2.2.7's messages for what it ignores (verified with <c>keepalived -t</c>).
/// </summary>
internal static class LvsSyncOptionsMapper
{
    /// <summary>keepalived's LVS_MAX_TIMEOUT: 31 days.</summary>
    private const ulong MaxTimeout = 86400 * 31;

    public static LvsSyncOptions Map(IReadOnlyList<ConfigNode> nodes, NodeValues v, VrrpSubsystemOptions vrrp)
    {
        var g = KeywordReads.LastOrEmpty(nodes, "global_defs");
        return new LvsSyncOptions
        {
            SyncDaemon = SyncDaemon(g, nodes, v, vrrp),
            Timeouts = Timeouts(g, v.Diagnostics),
        };
    }

    private static LvsSyncDaemonOptions? SyncDaemon(ConfigNode g, IReadOnlyList<ConfigNode> nodes, NodeValues v, VrrpSubsystemOptions vrrp)
    {
        var d = v.Diagnostics;
        LvsSyncDaemonOptions? options = null;
        long? syncId = null;
        // keepalived keeps the first lvs_sync_daemon and ignores the others.
        foreach (var n in g.All("lvs_sync_daemon"))
        {
            if (options is not null)
            {
                d.Error(n.Location, $"lvs_sync_daemon has already been specified as {options.Interface} {options.Instance ?? string.Empty} - ignoring");
                continue;
            }
            var parsed = Parse(n, d, out syncId);
            if (parsed is not null)
                options = parsed;
        }
        // The deprecated per-instance form binds the first instance naming one, when there is no global one (VrrpInstanceChecks
        // reports it as keepalived does). Every instance is looked at, so the keyword-coverage test sees the read.
        var deprecated = KeywordReads.Top(nodes, "vrrp_instance")
            .Select(i => (Name: i.Arg0, Interface: i.Last("lvs_sync_daemon_interface")?.Arg0))
            .ToList()
            .FirstOrDefault(i => i.Name is not null && i.Interface is not null);
        if (options is null && deprecated.Interface is not null)
            options = new LvsSyncDaemonOptions { Interface = deprecated.Interface, Instance = deprecated.Name };
        if (options is null)
            return null;
        if (options.Instance is { } bound)
        {
            var instance = vrrp.Instances.FirstOrDefault(i => i.Name == bound);
            if (instance is null)
            {
                // keepalived -t says nothing; its VRRP process logs this and drops the sync daemon.
                d.Warning(g.All("lvs_sync_daemon").FirstOrDefault()?.Location ?? g.Location,
                    $"Unable to find vrrp instance {bound} for lvs_syncd - clearing lvs_syncd config");
                return null;
            }
            return options with { SyncId = (byte)(syncId ?? instance.VirtualRouterId) };
        }
        return options with { SyncId = (byte)(syncId ?? 0) };
    }

    /// <summary>keepalived's lvs_syncd_handler: the interface, then options; a bad value is reported and ignored.</summary>
    private static LvsSyncDaemonOptions? Parse(ConfigNode n, DiagnosticBag d, out long? syncId)
    {
        syncId = null;
        var a = n.Args;
        if (a.Length < 1)
        {
            d.Error(n.Location, "lvs_sync_daemon requires interface");
            return null;
        }
        if (System.Text.Encoding.UTF8.GetByteCount(a[0]) >= IpvsConstants.IP_VS_IFNAME_MAXLEN)
        {
            d.Error(n.Location, $"lvs_sync_daemon interface name '{a[0]}' too long - ignoring");
            return null;
        }
        var o = new LvsSyncDaemonOptions { Interface = a[0] };
        // Word positions as keepalived counts them: the keyword is 0, the interface 1.
        for (var i = 1; i < a.Length; i++)
        {
            var word = a[i];
            var last = i == a.Length - 1;
            string? Value(string what)
            {
                if (!last)
                    return a[++i];
                d.Error(n.Location, $"No value specified for lvs_sync_daemon {what}");
                return null;
            }
            switch (word)
            {
                case "inst":
                    if (last)
                    {
                        d.Fatal(n.Location, $"*** Configuration line starting `lvs_sync_daemon` is missing a parameter after keyword `inst` at word position {i + 3}");
                        return null;
                    }
                    if (o.Instance is not null)
                        d.Error(n.Location, $"lvs_sync_daemon vrrp instance has already been specified as {o.Instance} - ignoring");
                    else
                        o = o with { Instance = a[i + 1] };
                    i++;
                    continue;
                case "id":
                    if (Value("id, defaulting to vrid") is { } id)
                    {
                        if (CNumber.ReadUnsigned(id, 0, 255, d, n.Location, out var value))
                            syncId = (long)value;
                        else
                            d.Error(n.Location, $"Invalid syncid ({id}) - defaulting to vrid");
                    }
                    continue;
                case "maxlen":
                    if (Value("maxlen - ignoring") is { } maxlen)
                    {
                        if (CNumber.ReadUnsigned(maxlen, 1, 65535 - 20 - 8, d, n.Location, out var value))
                            o = o with { MaxLength = (ushort)value };
                        else
                            d.Error(n.Location, $"Invalid lvs_sync_daemon maxlen ({maxlen}) - ignoring");
                    }
                    continue;
                case "port":
                    if (Value("port - ignoring") is { } port)
                    {
                        if (CNumber.ReadUnsigned(port, 1, 65535, d, n.Location, out var value))
                            o = o with { Port = (ushort)value };
                        else
                            d.Error(n.Location, $"Invalid lvs_sync_daemon port ({port}) - ignoring");
                    }
                    continue;
                case "ttl":
                    if (Value("ttl - ignoring") is { } ttl)
                    {
                        if (CNumber.ReadUnsigned(ttl, 1, 255, d, n.Location, out var value))
                            o = o with { Ttl = (byte)value };
                        else
                            d.Error(n.Location, $"Invalid lvs_sync_daemon ttl ({ttl}) - ignoring");
                    }
                    continue;
                case "group":
                    if (Value("group - ignoring") is { } group)
                    {
                        if (!IPAddress.TryParse(group, out var address) || group.Contains('/', StringComparison.Ordinal))
                            d.Error(n.Location, $"Invalid lvs_sync_daemon group ({group}) - ignoring");
                        else if (!IsMulticast(address))
                            d.Error(n.Location, $"lvs_sync_daemon group address {group} is not multicast - ignoring");
                        else
                            o = o with { Group = address };
                    }
                    continue;
            }
            // The old form: lvs_sync_daemon IF VRRP_INSTANCE [SYNC_ID].
            if (i == 1)
            {
                o = o with { Instance = word };
                continue;
            }
            if (i == 2)
            {
                if (CNumber.ReadUnsigned(word, 0, 255, d, n.Location, out var value))
                {
                    d.Error(n.Location, "Please use keyword \"id\" before lvs_sync_daemon SYNCID");
                    syncId = (long)value;
                }
                else
                    d.Error(n.Location, $"Invalid syncid ({word}) - defaulting to vrid");
                continue;
            }
            d.Error(n.Location, $"Unknown option {word} specified for lvs_sync_daemon");
        }
        return o;
    }

    private static bool IsMulticast(IPAddress address) => address.AddressFamily == AddressFamily.InterNetworkV6
        ? address.IsIPv6Multicast
        : (address.GetAddressBytes()[0] & 0xf0) == 0xe0;

    /// <summary>keepalived's lvs_timeouts handler: every line sets the values it names; a bad one is reported and ignored.</summary>
    private static IpvsTimeouts? Timeouts(ConfigNode g, DiagnosticBag d)
    {
        uint tcp = 0, fin = 0, udp = 0;
        var any = false;
        foreach (var n in g.All("lvs_timeouts"))
        {
            any = true;
            var a = n.Args;
            if (a.Length < 2)
            {
                d.Error(n.Location, "lvs_timeouts requires at least one option");
                continue;
            }
            for (var i = 0; i < a.Length; i++)
            {
                var word = a[i];
                if (word is not ("tcp" or "tcpfin" or "udp"))
                {
                    d.Error(n.Location, $"Unknown option {word} specified for lvs_timeouts");
                    continue;
                }
                if (i == a.Length - 1)
                {
                    d.Error(n.Location, $"No value specified for lvs_timeout {word} - ignoring");
                    continue;
                }
                var text = a[++i];
                if (!CNumber.ReadUnsigned(text, 0, MaxTimeout, d, n.Location, out var value))
                {
                    d.Error(n.Location, $"Invalid lvs_timeout {word} ({text}) - ignoring");
                    continue;
                }
                switch (word)
                {
                    case "tcp": tcp = (uint)value; break;
                    case "tcpfin": fin = (uint)value; break;
                    default: udp = (uint)value; break;
                }
            }
        }
        return any && (tcp | fin | udp) != 0 ? new IpvsTimeouts(tcp, fin, udp) : null;
    }
}
