using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using Lb.Netlink.Interop;
using Lb.Netlink.Protocol;
using static Lb.Netlink.Protocol.NetlinkConstants;
using static Lb.Netlink.Route.RtnetlinkConstants;

namespace Lb.Netlink.Route;

/// <summary>Encodes rtnetlink link/address requests and decodes the replies and notifications (pure).</summary>
public static class RtnetlinkMessages
{
    private const ushort AckRequest = NLM_F_REQUEST | NLM_F_ACK;

    public static NetlinkRequest GetLinks() =>
        NetlinkRequest.Create("dump links", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP))
                WriteIfinfomsg(ref w, 0, 0, 0);
        });

    public static NetlinkRequest SetLinkUp(int index, bool up, string? name = null) =>
        NetlinkRequest.Create($"set link {name ?? $"#{index}"} {(up ? "up" : "down")}", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(RTM_NEWLINK, AckRequest))
                WriteIfinfomsg(ref w, index, up ? IFF_UP : 0, IFF_UP);
        });

    public static NetlinkRequest GetAddresses(AddressFamily? family = null) =>
        NetlinkRequest.Create("dump addresses", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP))
            {
                var header = w.WriteZeroes(SizeOfIfaddrmsg);
                header[0] = family is null ? (byte)Libc.AF_UNSPEC : (byte)LinuxFamily(family.Value);
            }
        });

    /// <summary>RTM_NEWADDR with NLM_F_CREATE|NLM_F_EXCL (EEXIST when the address is already there).</summary>
    public static NetlinkRequest NewAddress(InterfaceAddress address, string? linkName = null)
    {
        Validate(address);
        return NetlinkRequest.Create($"add address {Describe(address, linkName)}", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(RTM_NEWADDR, AckRequest | NLM_F_CREATE | NLM_F_EXCL))
                WriteAddress(ref w, address, forDelete: false);
        });
    }

    public static NetlinkRequest DelAddress(InterfaceAddress address, string? linkName = null)
    {
        Validate(address);
        return NetlinkRequest.Create($"delete address {Describe(address, linkName)}", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(RTM_DELADDR, AckRequest))
                WriteAddress(ref w, address, forDelete: true);
        });
    }

    private static void WriteIfinfomsg(ref NetlinkWriter w, int index, uint flags, uint change)
    {
        var h = w.WriteZeroes(SizeOfIfinfomsg);
        h[0] = Libc.AF_UNSPEC;
        NetlinkWriter.WriteHost32(h[4..], unchecked((uint)index));
        NetlinkWriter.WriteHost32(h[8..], flags);
        NetlinkWriter.WriteHost32(h[12..], change);
    }

    private static void WriteAddress(ref NetlinkWriter w, InterfaceAddress a, bool forDelete)
    {
        var h = w.WriteZeroes(SizeOfIfaddrmsg);
        h[0] = (byte)LinuxFamily(a.Address.AddressFamily);
        h[1] = (byte)a.PrefixLength;
        h[2] = (byte)((uint)a.Flags & 0xff);
        h[3] = (byte)a.Scope;
        NetlinkWriter.WriteHost32(h[4..], unchecked((uint)a.InterfaceIndex));
        // Like iproute2: IFA_LOCAL is our address, IFA_ADDRESS the peer (or the address again).
        w.WriteAddress(IFA_LOCAL, a.Address);
        w.WriteAddress(IFA_ADDRESS, a.Peer ?? a.Address);
        if (forDelete)
            return;
        if (a.Broadcast is not null)
            w.WriteAddress(IFA_BROADCAST, a.Broadcast);
        if (!string.IsNullOrEmpty(a.Label))
            w.WriteString(IFA_LABEL, a.Label);
        if (a.Flags != AddressFlags.None)
            w.WriteUInt32(IFA_FLAGS, (uint)a.Flags);
    }

    /// <summary>Decodes RTM_NEWLINK / RTM_DELLINK.</summary>
    public static bool TryParseLink(NetlinkMessage message, out LinkInfo link)
    {
        link = null!;
        if (message.Type is not (RTM_NEWLINK or RTM_DELLINK))
            return false;
        if (message.Payload.Length < SizeOfIfinfomsg)
            throw new NetlinkFormatException($"RTM_NEWLINK payload is {message.Payload.Length} bytes, struct ifinfomsg needs {SizeOfIfinfomsg}");
        var index = (int)NetlinkMessageReader.ReadHost32(message.Payload[4..]);
        var flags = NetlinkMessageReader.ReadHost32(message.Payload[8..]);
        string name = "";
        var mtu = 0;
        byte oper = IF_OPER_UNKNOWN;
        PhysicalAddress? mac = null;
        var attrs = message.Attributes(SizeOfIfinfomsg);
        while (attrs.TryRead(out var a))
        {
            switch (a.Type)
            {
                case IFLA_IFNAME: name = a.GetString(); break;
                case IFLA_MTU: mtu = a.GetInt32(); break;
                case IFLA_OPERSTATE: oper = a.GetUInt8(); break;
                case IFLA_ADDRESS: mac = new PhysicalAddress(a.Payload.ToArray()); break;
            }
        }
        link = new LinkInfo(index, name, (LinkFlags)flags, (LinkOperationalState)oper, mac, mtu);
        return true;
    }

    /// <summary>Decodes RTM_NEWADDR / RTM_DELADDR.</summary>
    public static bool TryParseAddress(NetlinkMessage message, out InterfaceAddress address)
    {
        address = null!;
        if (message.Type is not (RTM_NEWADDR or RTM_DELADDR))
            return false;
        if (message.Payload.Length < SizeOfIfaddrmsg)
            throw new NetlinkFormatException($"RTM_NEWADDR payload is {message.Payload.Length} bytes, struct ifaddrmsg needs {SizeOfIfaddrmsg}");
        var p = message.Payload;
        var family = p[0] switch
        {
            Libc.AF_INET => AddressFamily.InterNetwork,
            Libc.AF_INET6 => AddressFamily.InterNetworkV6,
            _ => AddressFamily.Unknown,
        };
        if (family == AddressFamily.Unknown)
            return false;
        var prefix = p[1];
        uint flags = p[2];
        var scope = p[3];
        var index = (int)NetlinkMessageReader.ReadHost32(p[4..]);
        IPAddress? local = null, addr = null, broadcast = null;
        string? label = null;
        var attrs = message.Attributes(SizeOfIfaddrmsg);
        while (attrs.TryRead(out var a))
        {
            switch (a.Type)
            {
                case IFA_LOCAL: local = a.GetAddress(family); break;
                case IFA_ADDRESS: addr = a.GetAddress(family); break;
                case IFA_BROADCAST: broadcast = a.GetAddress(family); break;
                case IFA_LABEL: label = a.GetString(); break;
                case IFA_FLAGS: flags = a.GetUInt32(); break;
            }
        }
        var own = local ?? addr ?? throw new NetlinkFormatException("RTM_NEWADDR without IFA_LOCAL or IFA_ADDRESS");
        var peer = local is not null && addr is not null && !addr.Equals(local) ? addr : null;
        address = new InterfaceAddress(index, own, prefix)
        {
            Peer = peer,
            Broadcast = broadcast,
            Scope = (AddressScope)scope,
            Label = label,
            Flags = (AddressFlags)flags,
        };
        return true;
    }

    public static void Validate(InterfaceAddress a)
    {
        var max = a.Address.AddressFamily switch
        {
            AddressFamily.InterNetwork => 32,
            AddressFamily.InterNetworkV6 => 128,
            _ => throw new ArgumentException($"address {a.Address} is neither IPv4 nor IPv6"),
        };
        if (a.PrefixLength < 0 || a.PrefixLength > max)
            throw new ArgumentException($"address {a.Address}/{a.PrefixLength}: prefix length outside [0, {max}]");
        if (a.InterfaceIndex <= 0)
            throw new ArgumentException($"address {a.Address}/{a.PrefixLength}: interface index {a.InterfaceIndex} is not a valid index");
        if (a.Peer is not null && a.Peer.AddressFamily != a.Address.AddressFamily)
            throw new ArgumentException($"address {a.Address}: peer {a.Peer} is of another family");
        if (a.Broadcast is not null && a.Address.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException($"address {a.Address}: only IPv4 addresses have a broadcast address");
        if (a.Label is { } label && (Encoding.UTF8.GetByteCount(label) >= 16 || label.Length == 0))
            throw new ArgumentException($"address {a.Address}: label '{label}' must be 1 to 15 bytes");
    }

    private static string Describe(InterfaceAddress a, string? linkName) =>
        (a.Peer is null ? $"{a.Address}/{a.PrefixLength}" : $"{a.Address} peer {a.Peer}/{a.PrefixLength}")
        + $" on {linkName ?? $"interface #{a.InterfaceIndex}"}";

    internal static int LinuxFamily(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => Libc.AF_INET,
        AddressFamily.InterNetworkV6 => Libc.AF_INET6,
        _ => throw new ArgumentException($"address family {family} is not IPv4 or IPv6"),
    };
}
