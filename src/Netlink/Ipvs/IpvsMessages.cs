using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Lb.Netlink.Protocol;
using static Lb.Netlink.Ipvs.IpvsConstants;
using static Lb.Netlink.Protocol.NetlinkConstants;

namespace Lb.Netlink.Ipvs;

/// <summary>
/// Encodes IPVS generic netlink requests and decodes the kernel's replies (pure: no I/O, unit-tested
/// byte for byte). Every request is validated before it is encoded so that the kernel never sees an
/// oversize name or a field out of range.
/// </summary>
public static class IpvsMessages
{
    private const ushort AckRequest = NLM_F_REQUEST | NLM_F_ACK;
    private const ushort DumpRequest = NLM_F_REQUEST | NLM_F_DUMP;

    // ---- services -------------------------------------------------------------------------

    public static NetlinkRequest NewService(ushort familyId, IpvsService service) =>
        ServiceRequest(familyId, IPVS_CMD_NEW_SERVICE, service, $"add IPVS service {Describe(service)}");

    public static NetlinkRequest SetService(ushort familyId, IpvsService service) =>
        ServiceRequest(familyId, IPVS_CMD_SET_SERVICE, service, $"edit IPVS service {Describe(service)}");

    public static NetlinkRequest DelService(ushort familyId, IpvsServiceKey key)
    {
        ValidateKey(key);
        return NetlinkRequest.Create($"delete IPVS service {key}", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(familyId, AckRequest))
            {
                w.WriteGenericHeader(IPVS_CMD_DEL_SERVICE, IPVS_GENL_VERSION);
                WriteServiceKey(ref w, key);
            }
        });
    }

    public static NetlinkRequest GetServices(ushort familyId) =>
        NetlinkRequest.Create("dump IPVS services", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(familyId, DumpRequest))
                w.WriteGenericHeader(IPVS_CMD_GET_SERVICE, IPVS_GENL_VERSION);
        });

    public static NetlinkRequest GetService(ushort familyId, IpvsServiceKey key)
    {
        ValidateKey(key);
        return NetlinkRequest.Create($"get IPVS service {key}", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(familyId, AckRequest))
            {
                w.WriteGenericHeader(IPVS_CMD_GET_SERVICE, IPVS_GENL_VERSION);
                WriteServiceKey(ref w, key);
            }
        });
    }

    private static NetlinkRequest ServiceRequest(ushort familyId, byte command, IpvsService service, string description)
    {
        Validate(service);
        return NetlinkRequest.Create(description, (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(familyId, AckRequest))
            {
                w.WriteGenericHeader(command, IPVS_GENL_VERSION);
                using (w.BeginNested(IPVS_CMD_ATTR_SERVICE))
                {
                    WriteServiceKeyFields(ref w, service.Key);
                    w.WriteString(IPVS_SVC_ATTR_SCHED_NAME, service.Scheduler);
                    if (!string.IsNullOrEmpty(service.PersistenceEngine))
                        w.WriteString(IPVS_SVC_ATTR_PE_NAME, service.PersistenceEngine);
                    Span<byte> flags = stackalloc byte[SizeOfIpVsFlags];
                    NetlinkWriter.WriteHost32(flags, (uint)service.EffectiveFlags);
                    NetlinkWriter.WriteHost32(flags[4..], uint.MaxValue);
                    w.WriteAttribute(IPVS_SVC_ATTR_FLAGS, flags);
                    w.WriteUInt32(IPVS_SVC_ATTR_TIMEOUT, service.PersistenceTimeout);
                    w.WriteUInt32(IPVS_SVC_ATTR_NETMASK, EncodeNetmask(service.Key.Family, service.EffectiveNetmask));
                }
            }
        });
    }

    /// <summary>The NETMASK attribute value: for IPv4 the mask's bytes in network order (a __be32), for IPv6 the prefix length.</summary>
    internal static uint EncodeNetmask(AddressFamily family, int prefix)
    {
        if (family == AddressFamily.InterNetworkV6)
            return (uint)prefix;
        var mask = prefix == 0 ? 0u : uint.MaxValue << (32 - prefix);
        Span<byte> be = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(be, mask);
        return NetlinkMessageReader.ReadHost32(be);
    }

    internal static int DecodeNetmask(AddressFamily family, uint value)
    {
        if (family == AddressFamily.InterNetworkV6)
            return (int)value;
        Span<byte> raw = stackalloc byte[4];
        NetlinkWriter.WriteHost32(raw, value);
        var mask = BinaryPrimitives.ReadUInt32BigEndian(raw);
        return System.Numerics.BitOperations.LeadingZeroCount(~mask);
    }

    private static void WriteServiceKey(ref NetlinkWriter w, IpvsServiceKey key)
    {
        using (w.BeginNested(IPVS_CMD_ATTR_SERVICE))
            WriteServiceKeyFields(ref w, key);
    }

    private static void WriteServiceKeyFields(ref NetlinkWriter w, IpvsServiceKey key)
    {
        w.WriteUInt16(IPVS_SVC_ATTR_AF, (ushort)ToLinuxFamily(key.Family));
        if (key.IsFirewallMark)
        {
            w.WriteUInt32(IPVS_SVC_ATTR_FWMARK, key.FirewallMark);
        }
        else
        {
            w.WriteUInt16(IPVS_SVC_ATTR_PROTOCOL, (ushort)key.Protocol);
            w.WriteAddress(IPVS_SVC_ATTR_ADDR, key.Address!, SizeOfInetAddr);
            w.WriteUInt16BigEndian(IPVS_SVC_ATTR_PORT, key.Port);
        }
    }

    // ---- destinations ---------------------------------------------------------------------

    public static NetlinkRequest NewDestination(ushort familyId, IpvsServiceKey service, IpvsDestination destination) =>
        DestinationRequest(familyId, IPVS_CMD_NEW_DEST, service, destination, $"add IPVS destination {Describe(destination)} to service {service}");

    public static NetlinkRequest SetDestination(ushort familyId, IpvsServiceKey service, IpvsDestination destination) =>
        DestinationRequest(familyId, IPVS_CMD_SET_DEST, service, destination, $"edit IPVS destination {Describe(destination)} of service {service}");

    public static NetlinkRequest DelDestination(ushort familyId, IpvsServiceKey service, IpvsDestinationKey destination)
    {
        ValidateKey(service);
        ValidateAddress(destination.Address, $"destination {destination} of service {service}");
        return NetlinkRequest.Create($"delete IPVS destination {destination} from service {service}", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(familyId, AckRequest))
            {
                w.WriteGenericHeader(IPVS_CMD_DEL_DEST, IPVS_GENL_VERSION);
                WriteServiceKey(ref w, service);
                using (w.BeginNested(IPVS_CMD_ATTR_DEST))
                {
                    w.WriteAddress(IPVS_DEST_ATTR_ADDR, destination.Address, SizeOfInetAddr);
                    w.WriteUInt16BigEndian(IPVS_DEST_ATTR_PORT, destination.Port);
                    w.WriteUInt16(IPVS_DEST_ATTR_ADDR_FAMILY, (ushort)ToLinuxFamily(destination.Address.AddressFamily));
                }
            }
        });
    }

    public static NetlinkRequest GetDestinations(ushort familyId, IpvsServiceKey service)
    {
        ValidateKey(service);
        return NetlinkRequest.Create($"dump IPVS destinations of service {service}", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(familyId, DumpRequest))
            {
                w.WriteGenericHeader(IPVS_CMD_GET_DEST, IPVS_GENL_VERSION);
                WriteServiceKey(ref w, service);
            }
        });
    }

    private static NetlinkRequest DestinationRequest(ushort familyId, byte command, IpvsServiceKey service, IpvsDestination d, string description)
    {
        ValidateKey(service);
        Validate(d, description);
        return NetlinkRequest.Create(description, (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(familyId, AckRequest))
            {
                w.WriteGenericHeader(command, IPVS_GENL_VERSION);
                WriteServiceKey(ref w, service);
                using (w.BeginNested(IPVS_CMD_ATTR_DEST))
                {
                    w.WriteAddress(IPVS_DEST_ATTR_ADDR, d.Address, SizeOfInetAddr);
                    w.WriteUInt16BigEndian(IPVS_DEST_ATTR_PORT, d.Port);
                    w.WriteUInt16(IPVS_DEST_ATTR_ADDR_FAMILY, (ushort)ToLinuxFamily(d.Address.AddressFamily));
                    w.WriteUInt32(IPVS_DEST_ATTR_FWD_METHOD, (uint)d.Forwarding);
                    w.WriteUInt32(IPVS_DEST_ATTR_WEIGHT, unchecked((uint)d.Weight));
                    w.WriteUInt32(IPVS_DEST_ATTR_U_THRESH, d.UpperThreshold);
                    w.WriteUInt32(IPVS_DEST_ATTR_L_THRESH, d.LowerThreshold);
                    if (d.Forwarding == IpvsForwardingMethod.Tunnel)
                    {
                        w.WriteUInt8(IPVS_DEST_ATTR_TUN_TYPE, (byte)d.TunnelType);
                        w.WriteUInt16BigEndian(IPVS_DEST_ATTR_TUN_PORT, d.TunnelPort);
                        w.WriteUInt16(IPVS_DEST_ATTR_TUN_FLAGS, (ushort)d.TunnelFlags);
                    }
                }
            }
        });
    }

    // ---- daemon, config, info, zero, flush ---------------------------------------------------

    public static NetlinkRequest NewDaemon(ushort familyId, IpvsSyncDaemon daemon)
    {
        Validate(daemon);
        return NetlinkRequest.Create($"start IPVS {daemon}", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(familyId, AckRequest))
            {
                w.WriteGenericHeader(IPVS_CMD_NEW_DAEMON, IPVS_GENL_VERSION);
                using (w.BeginNested(IPVS_CMD_ATTR_DAEMON))
                {
                    w.WriteUInt32(IPVS_DAEMON_ATTR_STATE, (uint)daemon.State);
                    w.WriteString(IPVS_DAEMON_ATTR_MCAST_IFN, daemon.Interface);
                    w.WriteUInt32(IPVS_DAEMON_ATTR_SYNC_ID, daemon.SyncId);
                    if (daemon.SyncMaxLength != 0)
                        w.WriteUInt16(IPVS_DAEMON_ATTR_SYNC_MAXLEN, daemon.SyncMaxLength);
                    if (daemon.MulticastGroup is { } group)
                    {
                        if (group.AddressFamily == AddressFamily.InterNetworkV6)
                            w.WriteAddress(IPVS_DAEMON_ATTR_MCAST_GROUP6, group);
                        else
                            w.WriteAddress(IPVS_DAEMON_ATTR_MCAST_GROUP, group);
                    }
                    if (daemon.MulticastPort != 0)
                        w.WriteUInt16(IPVS_DAEMON_ATTR_MCAST_PORT, daemon.MulticastPort);
                    if (daemon.MulticastTtl != 0)
                        w.WriteUInt8(IPVS_DAEMON_ATTR_MCAST_TTL, daemon.MulticastTtl);
                }
            }
        });
    }

    public static NetlinkRequest DelDaemon(ushort familyId, IpvsSyncDaemonState state) =>
        NetlinkRequest.Create($"stop IPVS {state.ToString().ToLowerInvariant()} sync daemon", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(familyId, AckRequest))
            {
                w.WriteGenericHeader(IPVS_CMD_DEL_DAEMON, IPVS_GENL_VERSION);
                using (w.BeginNested(IPVS_CMD_ATTR_DAEMON))
                    w.WriteUInt32(IPVS_DAEMON_ATTR_STATE, (uint)state);
            }
        });

    public static NetlinkRequest GetDaemons(ushort familyId) => Simple(familyId, IPVS_CMD_GET_DAEMON, DumpRequest, "dump IPVS sync daemons");

    public static NetlinkRequest SetConfig(ushort familyId, IpvsTimeouts timeouts) =>
        NetlinkRequest.Create($"set IPVS timeouts tcp {timeouts.Tcp} tcpfin {timeouts.TcpFin} udp {timeouts.Udp}", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(familyId, AckRequest))
            {
                w.WriteGenericHeader(IPVS_CMD_SET_CONFIG, IPVS_GENL_VERSION);
                w.WriteUInt32(IPVS_CMD_ATTR_TIMEOUT_TCP, timeouts.Tcp);
                w.WriteUInt32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, timeouts.TcpFin);
                w.WriteUInt32(IPVS_CMD_ATTR_TIMEOUT_UDP, timeouts.Udp);
            }
        });

    public static NetlinkRequest GetConfig(ushort familyId) => Simple(familyId, IPVS_CMD_GET_CONFIG, AckRequest, "get IPVS timeouts");

    public static NetlinkRequest GetInfo(ushort familyId) => Simple(familyId, IPVS_CMD_GET_INFO, AckRequest, "get IPVS info");

    public static NetlinkRequest Flush(ushort familyId) => Simple(familyId, IPVS_CMD_FLUSH, AckRequest, "flush IPVS table");

    /// <summary>Zeroes the counters of one service, or of every service when <paramref name="service"/> is null.</summary>
    public static NetlinkRequest Zero(ushort familyId, IpvsServiceKey? service)
    {
        if (service is null)
            return Simple(familyId, IPVS_CMD_ZERO, AckRequest, "zero IPVS counters");
        var key = service.Value;
        ValidateKey(key);
        return NetlinkRequest.Create($"zero IPVS counters of service {key}", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(familyId, AckRequest))
            {
                w.WriteGenericHeader(IPVS_CMD_ZERO, IPVS_GENL_VERSION);
                WriteServiceKey(ref w, key);
            }
        });
    }

    private static NetlinkRequest Simple(ushort familyId, byte command, ushort flags, string description) =>
        NetlinkRequest.Create(description, (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(familyId, flags))
                w.WriteGenericHeader(command, IPVS_GENL_VERSION);
        });

    // ---- decoding -------------------------------------------------------------------------

    /// <summary>Decodes an IPVS_CMD_NEW_SERVICE reply (one per service in a dump).</summary>
    public static bool TryParseService(NetlinkMessage message, out IpvsServiceStatus service)
    {
        service = null!;
        if (message.GenericCommand != IPVS_CMD_NEW_SERVICE)
            return false;
        var attrs = message.Attributes(Generic.GenericNetlinkConstants.GENL_HDRLEN);
        while (attrs.TryRead(out var a))
        {
            if (a.Type == IPVS_CMD_ATTR_SERVICE)
            {
                service = ParseService(a.Nested);
                return true;
            }
        }
        throw new NetlinkFormatException("IPVS_CMD_NEW_SERVICE reply without IPVS_CMD_ATTR_SERVICE");
    }

    internal static IpvsServiceStatus ParseService(NetlinkAttributeReader attrs)
    {
        ushort? af = null, protocol = null;
        ushort port = 0;
        uint fwmark = 0, timeout = 0, netmask = uint.MaxValue, flags = 0;
        byte[]? address = null;
        string? scheduler = null, pe = null;
        IpvsStats? stats32 = null, stats64 = null;
        while (attrs.TryRead(out var a))
        {
            switch (a.Type)
            {
                case IPVS_SVC_ATTR_AF: af = a.GetUInt16(); break;
                case IPVS_SVC_ATTR_PROTOCOL: protocol = a.GetUInt16(); break;
                case IPVS_SVC_ATTR_ADDR: address = a.Payload.ToArray(); break;
                case IPVS_SVC_ATTR_PORT: port = a.GetUInt16BigEndian(); break;
                case IPVS_SVC_ATTR_FWMARK: fwmark = a.GetUInt32(); break;
                case IPVS_SVC_ATTR_SCHED_NAME: scheduler = a.GetString(); break;
                case IPVS_SVC_ATTR_PE_NAME: pe = a.GetString(); break;
                case IPVS_SVC_ATTR_FLAGS: flags = a.GetUInt32(); break;
                case IPVS_SVC_ATTR_TIMEOUT: timeout = a.GetUInt32(); break;
                case IPVS_SVC_ATTR_NETMASK: netmask = a.GetUInt32(); break;
                case IPVS_SVC_ATTR_STATS: stats32 = ParseStats(a.Nested, is64: false); break;
                case IPVS_SVC_ATTR_STATS64: stats64 = ParseStats(a.Nested, is64: true); break;
            }
        }
        if (af is null)
            throw new NetlinkFormatException("IPVS service without IPVS_SVC_ATTR_AF");
        var family = FromLinuxFamily(af.Value, "IPVS service");
        IpvsServiceKey key;
        if (fwmark != 0)
        {
            key = IpvsServiceKey.Fwmark(fwmark, family);
        }
        else
        {
            if (address is null || protocol is null)
                throw new NetlinkFormatException("IPVS service without a firewall mark and without IPVS_SVC_ATTR_ADDR/PROTOCOL");
            var proto = (IpvsProtocol)protocol.Value;
            if (proto is not (IpvsProtocol.Tcp or IpvsProtocol.Udp or IpvsProtocol.Sctp))
                throw new NetlinkFormatException($"IPVS service with protocol {protocol.Value}, not TCP, UDP or SCTP");
            key = IpvsServiceKey.Create(proto, ReadAddress(address, family, "IPVS_SVC_ATTR_ADDR"), port);
        }
        var service = new IpvsService(key, scheduler ?? "")
        {
            Flags = (IpvsServiceFlags)flags,
            PersistenceTimeout = timeout,
            PersistenceNetmask = DecodeNetmask(family, netmask),
            PersistenceEngine = string.IsNullOrEmpty(pe) ? null : pe,
        };
        return new IpvsServiceStatus(service, stats64 ?? stats32 ?? IpvsStats.Zero);
    }

    /// <summary>Decodes an IPVS_CMD_NEW_DEST reply; <paramref name="serviceFamily"/> is used when the kernel omits the destination's family.</summary>
    public static bool TryParseDestination(NetlinkMessage message, AddressFamily serviceFamily, out IpvsDestinationStatus destination)
    {
        destination = null!;
        if (message.GenericCommand != IPVS_CMD_NEW_DEST)
            return false;
        var attrs = message.Attributes(Generic.GenericNetlinkConstants.GENL_HDRLEN);
        while (attrs.TryRead(out var a))
        {
            if (a.Type == IPVS_CMD_ATTR_DEST)
            {
                destination = ParseDestination(a.Nested, serviceFamily);
                return true;
            }
        }
        throw new NetlinkFormatException("IPVS_CMD_NEW_DEST reply without IPVS_CMD_ATTR_DEST");
    }

    internal static IpvsDestinationStatus ParseDestination(NetlinkAttributeReader attrs, AddressFamily serviceFamily)
    {
        byte[]? address = null;
        ushort port = 0, tunPort = 0, tunFlags = 0;
        ushort? af = null;
        byte tunType = 0;
        uint fwd = 0, weight = 0, upper = 0, lower = 0, active = 0, inactive = 0, persist = 0;
        IpvsStats? stats32 = null, stats64 = null;
        while (attrs.TryRead(out var a))
        {
            switch (a.Type)
            {
                case IPVS_DEST_ATTR_ADDR: address = a.Payload.ToArray(); break;
                case IPVS_DEST_ATTR_PORT: port = a.GetUInt16BigEndian(); break;
                case IPVS_DEST_ATTR_FWD_METHOD: fwd = a.GetUInt32() & IP_VS_CONN_F_FWD_MASK; break;
                case IPVS_DEST_ATTR_WEIGHT: weight = a.GetUInt32(); break;
                case IPVS_DEST_ATTR_U_THRESH: upper = a.GetUInt32(); break;
                case IPVS_DEST_ATTR_L_THRESH: lower = a.GetUInt32(); break;
                case IPVS_DEST_ATTR_ACTIVE_CONNS: active = a.GetUInt32(); break;
                case IPVS_DEST_ATTR_INACT_CONNS: inactive = a.GetUInt32(); break;
                case IPVS_DEST_ATTR_PERSIST_CONNS: persist = a.GetUInt32(); break;
                case IPVS_DEST_ATTR_ADDR_FAMILY: af = a.GetUInt16(); break;
                case IPVS_DEST_ATTR_TUN_TYPE: tunType = a.GetUInt8(); break;
                case IPVS_DEST_ATTR_TUN_PORT: tunPort = a.GetUInt16BigEndian(); break;
                case IPVS_DEST_ATTR_TUN_FLAGS: tunFlags = a.GetUInt16(); break;
                case IPVS_DEST_ATTR_STATS: stats32 = ParseStats(a.Nested, is64: false); break;
                case IPVS_DEST_ATTR_STATS64: stats64 = ParseStats(a.Nested, is64: true); break;
            }
        }
        if (address is null)
            throw new NetlinkFormatException("IPVS destination without IPVS_DEST_ATTR_ADDR");
        var family = af is null or 0 ? serviceFamily : FromLinuxFamily(af.Value, "IPVS destination");
        var d = new IpvsDestination(ReadAddress(address, family, "IPVS_DEST_ATTR_ADDR"), port, (IpvsForwardingMethod)fwd, unchecked((int)weight))
        {
            UpperThreshold = upper,
            LowerThreshold = lower,
            TunnelType = (IpvsTunnelType)tunType,
            TunnelPort = tunPort,
            TunnelFlags = (IpvsTunnelFlags)tunFlags,
        };
        return new IpvsDestinationStatus(d, active, inactive, persist, stats64 ?? stats32 ?? IpvsStats.Zero);
    }

    internal static IpvsStats ParseStats(NetlinkAttributeReader attrs, bool is64)
    {
        Span<ulong> v = stackalloc ulong[11];
        while (attrs.TryRead(out var a))
        {
            if (a.Type is < IPVS_STATS_ATTR_CONNS or > IPVS_STATS_ATTR_OUTBPS)
                continue;
            var wide = is64 || a.Type is IPVS_STATS_ATTR_INBYTES or IPVS_STATS_ATTR_OUTBYTES;
            v[a.Type] = wide ? a.GetUInt64() : a.GetUInt32();
        }
        return new IpvsStats(v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10]);
    }

    /// <summary>Decodes an IPVS_CMD_NEW_DAEMON reply (one per running daemon).</summary>
    public static bool TryParseDaemon(NetlinkMessage message, out IpvsSyncDaemon daemon)
    {
        daemon = null!;
        if (message.GenericCommand != IPVS_CMD_NEW_DAEMON)
            return false;
        var attrs = message.Attributes(Generic.GenericNetlinkConstants.GENL_HDRLEN);
        while (attrs.TryRead(out var a))
        {
            if (a.Type != IPVS_CMD_ATTR_DAEMON)
                continue;
            uint state = 0, syncId = 0;
            string ifn = "";
            ushort maxLen = 0, mport = 0;
            byte ttl = 0;
            IPAddress? group = null;
            var fields = a.Nested;
            while (fields.TryRead(out var f))
            {
                switch (f.Type)
                {
                    case IPVS_DAEMON_ATTR_STATE: state = f.GetUInt32(); break;
                    case IPVS_DAEMON_ATTR_MCAST_IFN: ifn = f.GetString(); break;
                    case IPVS_DAEMON_ATTR_SYNC_ID: syncId = f.GetUInt32(); break;
                    case IPVS_DAEMON_ATTR_SYNC_MAXLEN: maxLen = f.GetUInt16(); break;
                    case IPVS_DAEMON_ATTR_MCAST_GROUP: group = f.GetAddress(AddressFamily.InterNetwork); break;
                    case IPVS_DAEMON_ATTR_MCAST_GROUP6: group = f.GetAddress(AddressFamily.InterNetworkV6); break;
                    case IPVS_DAEMON_ATTR_MCAST_PORT: mport = f.GetUInt16(); break;
                    case IPVS_DAEMON_ATTR_MCAST_TTL: ttl = f.GetUInt8(); break;
                }
            }
            daemon = new IpvsSyncDaemon((IpvsSyncDaemonState)state, ifn, (byte)syncId)
            {
                SyncMaxLength = maxLen,
                MulticastGroup = group,
                MulticastPort = mport,
                MulticastTtl = ttl,
            };
            return true;
        }
        return false;
    }

    /// <summary>Decodes the IPVS_CMD_SET_CONFIG reply to GET_CONFIG.</summary>
    public static bool TryParseConfig(NetlinkMessage message, out IpvsTimeouts timeouts)
    {
        timeouts = null!;
        if (message.GenericCommand != IPVS_CMD_SET_CONFIG)
            return false;
        uint tcp = 0, fin = 0, udp = 0;
        var attrs = message.Attributes(Generic.GenericNetlinkConstants.GENL_HDRLEN);
        while (attrs.TryRead(out var a))
        {
            switch (a.Type)
            {
                case IPVS_CMD_ATTR_TIMEOUT_TCP: tcp = a.GetUInt32(); break;
                case IPVS_CMD_ATTR_TIMEOUT_TCP_FIN: fin = a.GetUInt32(); break;
                case IPVS_CMD_ATTR_TIMEOUT_UDP: udp = a.GetUInt32(); break;
            }
        }
        timeouts = new IpvsTimeouts(tcp, fin, udp);
        return true;
    }

    /// <summary>Decodes the IPVS_CMD_SET_INFO reply to GET_INFO.</summary>
    public static bool TryParseInfo(NetlinkMessage message, out IpvsInfo info)
    {
        info = null!;
        if (message.GenericCommand != IPVS_CMD_SET_INFO)
            return false;
        uint version = 0, size = 0;
        var attrs = message.Attributes(Generic.GenericNetlinkConstants.GENL_HDRLEN);
        while (attrs.TryRead(out var a))
        {
            if (a.Type == IPVS_INFO_ATTR_VERSION)
                version = a.GetUInt32();
            else if (a.Type == IPVS_INFO_ATTR_CONN_TAB_SIZE)
                size = a.GetUInt32();
        }
        info = new IpvsInfo(version, size);
        return true;
    }

    // ---- validation and helpers --------------------------------------------------------------

    /// <summary>Checks a service before it is sent; throws <see cref="ArgumentException"/> naming the service and the problem.</summary>
    public static void Validate(IpvsService service)
    {
        ValidateKey(service.Key);
        ValidateName(service.Scheduler, IP_VS_SCHEDNAME_MAXLEN, "scheduler", service.Key, required: true);
        if (service.PersistenceEngine is { Length: > 0 } pe)
            ValidateName(pe, IP_VS_PENAME_MAXLEN, "persistence engine", service.Key, required: false);
        var max = service.Key.Family == AddressFamily.InterNetworkV6 ? 128 : 32;
        var min = service.Key.Family == AddressFamily.InterNetworkV6 ? 1 : 0;
        if (service.EffectiveNetmask < min || service.EffectiveNetmask > max)
            throw new ArgumentException($"IPVS service {service.Key}: persistence netmask /{service.EffectiveNetmask} is outside [{min}, {max}]");
    }

    public static void Validate(IpvsDestination d, string what)
    {
        ValidateAddress(d.Address, what);
        if (d.Weight < 0)
            throw new ArgumentException($"{what}: weight {d.Weight} is negative");
        if (d.LowerThreshold > d.UpperThreshold)
            throw new ArgumentException($"{what}: lower threshold {d.LowerThreshold} is above upper threshold {d.UpperThreshold}");
        if (!Enum.IsDefined(d.Forwarding))
            throw new ArgumentException($"{what}: unknown forwarding method {(uint)d.Forwarding}");
        if (d.Forwarding == IpvsForwardingMethod.Tunnel && !Enum.IsDefined(d.TunnelType))
            throw new ArgumentException($"{what}: unknown tunnel type {(byte)d.TunnelType}");
    }

    public static void Validate(IpvsSyncDaemon daemon)
    {
        if (daemon.State is not (IpvsSyncDaemonState.Master or IpvsSyncDaemonState.Backup))
            throw new ArgumentException($"IPVS sync daemon: state {(int)daemon.State} is neither master nor backup");
        var bytes = Encoding.UTF8.GetByteCount(daemon.Interface);
        if (bytes == 0 || bytes >= IP_VS_IFNAME_MAXLEN)
            throw new ArgumentException($"IPVS {daemon}: interface name '{daemon.Interface}' must be 1 to {IP_VS_IFNAME_MAXLEN - 1} bytes");
    }

    private static void ValidateKey(IpvsServiceKey key)
    {
        if (key.Family is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            throw new ArgumentException("IPVS service key is empty (use IpvsServiceKey.Create/Tcp/Udp/Sctp/Fwmark)");
    }

    private static void ValidateAddress(IPAddress address, string what)
    {
        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            throw new ArgumentException($"{what}: {address} is neither IPv4 nor IPv6");
    }

    private static void ValidateName(string name, int maxLen, string what, IpvsServiceKey key, bool required)
    {
        var bytes = Encoding.UTF8.GetByteCount(name ?? "");
        if (required && bytes == 0)
            throw new ArgumentException($"IPVS service {key}: {what} name is empty");
        if (bytes >= maxLen)
            throw new ArgumentException($"IPVS service {key}: {what} name '{name}' is {bytes} bytes; the kernel takes at most {maxLen - 1}");
    }

    private static IPAddress ReadAddress(byte[] raw, AddressFamily family, string attribute)
    {
        var size = family == AddressFamily.InterNetworkV6 ? 16 : 4;
        if (raw.Length < size)
            throw new NetlinkFormatException($"{attribute} holds {raw.Length} bytes, an {(size == 4 ? "IPv4" : "IPv6")} address needs {size}");
        return new IPAddress(raw.AsSpan(0, size));
    }

    internal static int ToLinuxFamily(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => Interop.Libc.AF_INET,
        AddressFamily.InterNetworkV6 => Interop.Libc.AF_INET6,
        _ => throw new ArgumentException($"address family {family} is not IPv4 or IPv6"),
    };

    internal static AddressFamily FromLinuxFamily(ushort af, string what) => af switch
    {
        Interop.Libc.AF_INET => AddressFamily.InterNetwork,
        Interop.Libc.AF_INET6 => AddressFamily.InterNetworkV6,
        _ => throw new NetlinkFormatException($"{what} has address family {af}, neither AF_INET nor AF_INET6"),
    };

    private static string Describe(IpvsService s)
    {
        var text = $"{s.Key} scheduler '{s.Scheduler}'";
        if ((s.Flags & IpvsServiceFlags.Persistent) != 0)
            text += $" persistent {s.PersistenceTimeout}";
        return text;
    }

    private static string Describe(IpvsDestination d) => $"{IpvsText.Endpoint(d.Address, d.Port)} ({IpvsText.ForwardName(d.Forwarding)}, weight {d.Weight})";
}
