using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Lb.Netlink.Ipvs;

/// <summary>
/// Prints an IPVS table the way <c>ipvsadm -Ln</c> and <c>ipvsadm -Ln --stats</c> do (same sort order,
/// column widths and number abbreviations), and as JSON for <c>lb ipvs list --json</c>.
/// </summary>
public static class IpvsTableFormatter
{
    /// <summary><c>ipvsadm -Ln</c>.</summary>
    public static string FormatList(IpvsInfo info, IpvsTableSnapshot table)
    {
        var sb = new StringBuilder();
        AppendVersion(sb, info);
        sb.Append("Prot LocalAddress:Port Scheduler Flags\n");
        sb.Append("  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
        foreach (var entry in Sorted(table))
        {
            var s = entry.Service;
            sb.Append(ServiceName(s.Key)).Append(' ').Append(s.Scheduler);
            var schedFlags = SchedulerFlagsText(s);
            if (schedFlags.Length > 0)
                sb.Append(" (").Append(schedFlags).Append(')');
            if ((s.Flags & IpvsServiceFlags.Persistent) != 0)
            {
                sb.Append(" persistent ").Append(s.PersistenceTimeout.ToString(CultureInfo.InvariantCulture));
                var mask = MaskText(s);
                if (mask is not null)
                    sb.Append(" mask ").Append(mask);
                if (!string.IsNullOrEmpty(s.PersistenceEngine))
                    sb.Append(" pe ").Append(s.PersistenceEngine);
            }
            if ((s.Flags & IpvsServiceFlags.OnePacket) != 0)
                sb.Append(" ops");
            sb.Append('\n');
            foreach (var d in SortedDestinations(entry))
            {
                sb.Append("  -> ").Append(DestinationName(s.Key, d.Destination).PadRight(28))
                  .Append(' ').Append(IpvsText.ForwardName(d.Destination.Forwarding).PadRight(7))
                  .Append(' ').Append(d.Destination.Weight.ToString(CultureInfo.InvariantCulture).PadRight(6))
                  .Append(' ').Append(d.ActiveConnections.ToString(CultureInfo.InvariantCulture).PadRight(10))
                  .Append(' ').Append(d.InactiveConnections.ToString(CultureInfo.InvariantCulture).PadRight(10))
                  .Append('\n');
            }
        }
        return sb.ToString();
    }

    /// <summary><c>ipvsadm -Ln --stats</c>.</summary>
    public static string FormatStats(IpvsInfo info, IpvsTableSnapshot table)
    {
        var sb = new StringBuilder();
        AppendVersion(sb, info);
        sb.Append(CultureInfo.InvariantCulture, $"{"Prot LocalAddress:Port",-33} {"Conns",8} {"InPkts",8} {"OutPkts",8} {"InBytes",8} {"OutBytes",8}\n");
        sb.Append("  -> RemoteAddress:Port\n");
        foreach (var entry in Sorted(table))
        {
            sb.Append(ServiceName(entry.Service.Key).PadRight(33));
            AppendStats(sb, entry.Status.Stats);
            sb.Append('\n');
            foreach (var d in SortedDestinations(entry))
            {
                sb.Append("  -> ").Append(DestinationName(entry.Service.Key, d.Destination).PadRight(28));
                AppendStats(sb, d.Stats);
                sb.Append('\n');
            }
        }
        return sb.ToString();
    }

    /// <summary>The table as a JSON document.</summary>
    public static void WriteJson(Utf8JsonWriter json, IpvsInfo info, IpvsTableSnapshot table, bool includeStats)
    {
        json.WriteStartObject();
        json.WriteString("version", info.VersionText);
        json.WriteNumber("connectionTableSize", info.ConnectionTableSize);
        json.WriteStartArray("services");
        foreach (var entry in Sorted(table))
        {
            var s = entry.Service;
            json.WriteStartObject();
            json.WriteString("family", s.Key.Family == AddressFamily.InterNetworkV6 ? "inet6" : "inet");
            if (s.Key.IsFirewallMark)
            {
                json.WriteNumber("fwmark", s.Key.FirewallMark);
            }
            else
            {
                json.WriteString("protocol", IpvsServiceKey.ProtocolName(s.Key.Protocol));
                json.WriteString("address", s.Key.Address!.ToString());
                json.WriteNumber("port", s.Key.Port);
            }
            json.WriteString("scheduler", s.Scheduler);
            json.WriteStartArray("flags");
            foreach (var f in FlagNames(s))
                json.WriteStringValue(f);
            json.WriteEndArray();
            if ((s.Flags & IpvsServiceFlags.Persistent) != 0)
            {
                json.WriteNumber("persistenceTimeout", s.PersistenceTimeout);
                json.WriteNumber("persistenceNetmask", s.EffectiveNetmask);
            }
            if (!string.IsNullOrEmpty(s.PersistenceEngine))
                json.WriteString("persistenceEngine", s.PersistenceEngine);
            if (includeStats)
                WriteStats(json, entry.Status.Stats);
            json.WriteStartArray("destinations");
            foreach (var d in SortedDestinations(entry))
            {
                var x = d.Destination;
                json.WriteStartObject();
                json.WriteString("address", x.Address.ToString());
                json.WriteNumber("port", x.Port);
                json.WriteString("forward", IpvsText.ForwardName(x.Forwarding));
                json.WriteNumber("weight", x.Weight);
                json.WriteNumber("upperThreshold", x.UpperThreshold);
                json.WriteNumber("lowerThreshold", x.LowerThreshold);
                if (x.Forwarding == IpvsForwardingMethod.Tunnel)
                {
                    json.WriteString("tunnelType", x.TunnelType.ToString().ToLowerInvariant());
                    json.WriteNumber("tunnelPort", x.TunnelPort);
                    json.WriteNumber("tunnelFlags", (ushort)x.TunnelFlags);
                }
                json.WriteNumber("activeConnections", d.ActiveConnections);
                json.WriteNumber("inactiveConnections", d.InactiveConnections);
                json.WriteNumber("persistentConnections", d.PersistentConnections);
                if (includeStats)
                    WriteStats(json, d.Stats);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static string FormatJson(IpvsInfo info, IpvsTableSnapshot table, bool includeStats)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            WriteJson(json, info, table, includeStats);
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>ipvsadm's order: fwmark, family, protocol, address, port.</summary>
    public static IEnumerable<IpvsTableEntry> Sorted(IpvsTableSnapshot table) =>
        table.Services.OrderBy(e => e.Service.Key.FirewallMark)
            .ThenBy(e => e.Service.Key.Family == AddressFamily.InterNetworkV6 ? 1 : 0)
            .ThenBy(e => (ushort)e.Service.Key.Protocol)
            .ThenBy(e => e.Service.Key.Address, AddressComparer.Instance)
            .ThenBy(e => e.Service.Key.Port);

    /// <summary>ipvsadm's order for destinations: family, address, port.</summary>
    public static IEnumerable<IpvsDestinationStatus> SortedDestinations(IpvsTableEntry entry) =>
        entry.Destinations.OrderBy(d => d.Destination.Address.AddressFamily == AddressFamily.InterNetworkV6 ? 1 : 0)
            .ThenBy(d => d.Destination.Address, AddressComparer.Instance)
            .ThenBy(d => d.Destination.Port);

    private static void AppendVersion(StringBuilder sb, IpvsInfo info) =>
        sb.Append(CultureInfo.InvariantCulture, $"IP Virtual Server version {info.VersionText} (size={info.ConnectionTableSize})\n");

    /// <summary>"TCP  10.0.0.1:80" (two spaces, like ipvsadm), "FWM  5", "FWM  5 IPv6"; IPv4 names cut at 33 characters.</summary>
    private static string ServiceName(IpvsServiceKey key)
    {
        if (key.IsFirewallMark)
            return key.Family == AddressFamily.InterNetworkV6
                ? $"FWM  {key.FirewallMark.ToString(CultureInfo.InvariantCulture)} IPv6"
                : $"FWM  {key.FirewallMark.ToString(CultureInfo.InvariantCulture)}";
        var name = $"{IpvsServiceKey.ProtocolName(key.Protocol)}  {IpvsText.Endpoint(key.Address!, key.Port)}";
        return key.Family != AddressFamily.InterNetworkV6 && name.Length > 33 ? name[..33] : name;
    }

    private static string DestinationName(IpvsServiceKey service, IpvsDestination d)
    {
        var name = IpvsText.Endpoint(d.Address, d.Port);
        return service.Family != AddressFamily.InterNetworkV6 && name.Length > 28 ? name[..28] : name;
    }

    private static string? MaskText(IpvsService s)
    {
        if (s.Key.Family == AddressFamily.InterNetworkV6)
            return s.EffectiveNetmask != 128 ? s.EffectiveNetmask.ToString(CultureInfo.InvariantCulture) : null;
        if (s.EffectiveNetmask == 32)
            return null;
        var mask = s.EffectiveNetmask == 0 ? 0u : uint.MaxValue << (32 - s.EffectiveNetmask);
        return new IPAddress([(byte)(mask >> 24), (byte)(mask >> 16), (byte)(mask >> 8), (byte)mask]).ToString();
    }

    /// <summary>ipvsadm's scheduler flag names: sh-fallback/sh-port for sh, mh-fallback/mh-port for mh, flag-N otherwise.</summary>
    public static string SchedulerFlagsText(IpvsService s)
    {
        var names = new List<string>(3);
        var f = s.Flags;
        if (s.Scheduler == "sh")
        {
            if ((f & IpvsServiceFlags.ShFallback) != 0) names.Add("sh-fallback");
            if ((f & IpvsServiceFlags.ShPort) != 0) names.Add("sh-port");
        }
        else if (s.Scheduler == "mh")
        {
            if ((f & IpvsServiceFlags.MhFallback) != 0) names.Add("mh-fallback");
            if ((f & IpvsServiceFlags.MhPort) != 0) names.Add("mh-port");
        }
        else
        {
            if ((f & IpvsServiceFlags.Scheduler1) != 0) names.Add("flag-1");
            if ((f & IpvsServiceFlags.Scheduler2) != 0) names.Add("flag-2");
        }
        if ((f & IpvsServiceFlags.Scheduler3) != 0) names.Add("flag-3");
        return string.Join(',', names);
    }

    private static IEnumerable<string> FlagNames(IpvsService s)
    {
        if ((s.Flags & IpvsServiceFlags.Persistent) != 0) yield return "persistent";
        if ((s.Flags & IpvsServiceFlags.OnePacket) != 0) yield return "one-packet";
        var sched = SchedulerFlagsText(s);
        if (sched.Length > 0)
        {
            foreach (var n in sched.Split(','))
                yield return n;
        }
    }

    /// <summary>ipvsadm's print_largenum: 9 columns, K/M/G/T beyond 100 million.</summary>
    internal static string LargeNumber(ulong i)
    {
        var c = CultureInfo.InvariantCulture;
        if (i < 100_000_000UL) return i.ToString(c).PadLeft(9);
        if (i < 1_000_000_000UL) return (i / 1000).ToString(c).PadLeft(8) + "K";
        if (i < 100_000_000_000UL) return (i / 1_000_000).ToString(c).PadLeft(8) + "M";
        if (i < 100_000_000_000_000UL) return (i / 1_000_000_000UL).ToString(c).PadLeft(8) + "G";
        return (i / 1_000_000_000_000UL).ToString(c).PadLeft(8) + "T";
    }

    private static void AppendStats(StringBuilder sb, IpvsStats s) =>
        sb.Append(LargeNumber(s.Connections)).Append(LargeNumber(s.InPackets)).Append(LargeNumber(s.OutPackets))
          .Append(LargeNumber(s.InBytes)).Append(LargeNumber(s.OutBytes));

    private static void WriteStats(Utf8JsonWriter json, IpvsStats s)
    {
        json.WriteStartObject("stats");
        json.WriteNumber("connections", s.Connections);
        json.WriteNumber("inPackets", s.InPackets);
        json.WriteNumber("outPackets", s.OutPackets);
        json.WriteNumber("inBytes", s.InBytes);
        json.WriteNumber("outBytes", s.OutBytes);
        json.WriteNumber("connectionRate", s.ConnectionRate);
        json.WriteNumber("inPacketRate", s.InPacketRate);
        json.WriteNumber("outPacketRate", s.OutPacketRate);
        json.WriteNumber("inByteRate", s.InByteRate);
        json.WriteNumber("outByteRate", s.OutByteRate);
        json.WriteEndObject();
    }

    private sealed class AddressComparer : IComparer<IPAddress?>
    {
        public static AddressComparer Instance { get; } = new();

        public int Compare(IPAddress? x, IPAddress? y)
        {
            if (x is null || y is null)
                return (x is null ? 0 : 1) - (y is null ? 0 : 1);
            Span<byte> a = stackalloc byte[16], b = stackalloc byte[16];
            x.TryWriteBytes(a, out var la);
            y.TryWriteBytes(b, out var lb);
            var c = la.CompareTo(lb);
            return c != 0 ? c : a[..la].SequenceCompareTo(b[..lb]);
        }
    }
}
