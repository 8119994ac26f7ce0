using System.Net.NetworkInformation;
using System.Text;
using Lb.Netlink.Interop;
using Lb.Netlink.Protocol;
using static Lb.Netlink.Protocol.NetlinkConstants;
using static Lb.Netlink.Route.RtnetlinkConstants;

namespace Lb.Netlink.Route;

/// <summary>Macvlan modes (MACVLAN_MODE_* of linux/if_link.h).</summary>
public enum MacvlanMode : uint
{
    /// <summary>No mode reported (not a macvlan).</summary>
    None = 0,
    /// <summary>Frames between macvlans of one parent are not delivered (what VRRP's VMAC uses).</summary>
    Private = MACVLAN_MODE_PRIVATE,
    Vepa = MACVLAN_MODE_VEPA,
    Bridge = MACVLAN_MODE_BRIDGE,
    Passthrough = MACVLAN_MODE_PASSTHRU,
    Source = MACVLAN_MODE_SOURCE,
}

/// <summary>How the kernel makes an IPv6 link-local address for an interface (IFLA_INET6_ADDR_GEN_MODE).</summary>
public enum Ipv6AddressGenerationMode : byte
{
    /// <summary>From the MAC address (the kernel's default).</summary>
    Eui64 = IN6_ADDR_GEN_MODE_EUI64,
    /// <summary>None: the interface gets no automatic link-local address.</summary>
    None = IN6_ADDR_GEN_MODE_NONE,
}

/// <summary>A macvlan to create: <c>ip link add link PARENT name NAME address MAC type macvlan mode MODE</c>.</summary>
/// <param name="Name">The new interface's name (1 to 15 bytes, no '/', ':' or white space).</param>
/// <param name="ParentIndex">The ifindex of the interface it sits on (IFLA_LINK).</param>
/// <param name="Address">Its MAC address (IFLA_ADDRESS, 6 bytes).</param>
/// <param name="Mode">Its macvlan mode.</param>
public sealed record MacvlanLink(string Name, int ParentIndex, PhysicalAddress Address, MacvlanMode Mode = MacvlanMode.Private);

/// <summary>
/// What a link dump says about an interface's type: its kind (IFLA_INFO_KIND: "macvlan", "veth", …; empty for a
/// physical interface), its parent (IFLA_LINK), and its macvlan mode.
/// </summary>
public sealed record LinkDetails(int Index, string Name, PhysicalAddress? HardwareAddress, LinkFlags Flags, string Kind, int ParentIndex, MacvlanMode MacvlanMode)
{
    public bool IsUp => (Flags & LinkFlags.Up) != 0;
}

/// <summary>Encodes the rtnetlink requests that create, change and delete links, and decodes a link's type (pure).</summary>
public static class RtnetlinkLinkMessages
{
    private const ushort AckRequest = NLM_F_REQUEST | NLM_F_ACK;

    /// <summary>RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL and IFLA_LINKINFO {kind "macvlan", data {IFLA_MACVLAN_MODE}} (EEXIST when the name is taken).</summary>
    public static NetlinkRequest NewMacvlan(MacvlanLink link)
    {
        ArgumentNullException.ThrowIfNull(link);
        ValidateName(link.Name);
        if (link.ParentIndex <= 0)
            throw new ArgumentException($"macvlan {link.Name}: parent index {link.ParentIndex} is not a valid index");
        var mac = link.Address.GetAddressBytes();
        if (mac.Length != 6)
            throw new ArgumentException($"macvlan {link.Name}: MAC address {link.Address} is not 6 bytes");
        if ((mac[0] & 1) != 0)
            throw new ArgumentException($"macvlan {link.Name}: MAC address {Format(mac)} is a multicast address");
        return NetlinkRequest.Create($"add macvlan {link.Name} ({Format(mac)}, mode {link.Mode.ToString().ToLowerInvariant()}) on interface #{link.ParentIndex}", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(RTM_NEWLINK, AckRequest | NLM_F_CREATE | NLM_F_EXCL))
            {
                WriteIfinfomsg(ref w, 0, 0, 0);
                using (w.BeginNested(IFLA_LINKINFO, setNestedFlag: false))
                {
                    w.WriteString(IFLA_INFO_KIND, "macvlan");
                    using (w.BeginNested(IFLA_INFO_DATA, setNestedFlag: false))
                        w.WriteUInt32(IFLA_MACVLAN_MODE, (uint)link.Mode);
                }
                w.WriteUInt32(IFLA_LINK, (uint)link.ParentIndex);
                w.WriteString(IFLA_IFNAME, link.Name);
                w.WriteAttribute(IFLA_ADDRESS, mac);
            }
        });
    }

    /// <summary>RTM_DELLINK of one interface (ENODEV when it is gone).</summary>
    public static NetlinkRequest DeleteLink(int index, string? name = null)
    {
        if (index <= 0)
            throw new ArgumentException($"interface index {index} is not a valid index");
        return NetlinkRequest.Create($"delete link {name ?? $"#{index}"}", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(RTM_DELLINK, AckRequest))
                WriteIfinfomsg(ref w, index, 0, 0);
        });
    }

    /// <summary>RTM_NEWLINK with IFLA_AF_SPEC {AF_INET6 {IFLA_INET6_ADDR_GEN_MODE}}: whether the kernel gives the interface an automatic link-local address.</summary>
    public static NetlinkRequest SetIpv6AddressGenerationMode(int index, Ipv6AddressGenerationMode mode, string? name = null)
    {
        if (index <= 0)
            throw new ArgumentException($"interface index {index} is not a valid index");
        return NetlinkRequest.Create($"set IPv6 address generation mode of {name ?? $"#{index}"} to {mode.ToString().ToLowerInvariant()}", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(RTM_NEWLINK, AckRequest))
            {
                WriteIfinfomsg(ref w, index, 0, 0);
                using (w.BeginNested(IFLA_AF_SPEC, setNestedFlag: false))
                {
                    using (w.BeginNested((ushort)Libc.AF_INET6, setNestedFlag: false))
                        w.WriteUInt8(IFLA_INET6_ADDR_GEN_MODE, (byte)mode);
                }
            }
        });
    }

    /// <summary>Decodes RTM_NEWLINK with its type: kind, parent and macvlan mode.</summary>
    public static bool TryParseLinkDetails(NetlinkMessage message, out LinkDetails link)
    {
        link = null!;
        if (message.Type is not (RTM_NEWLINK or RTM_DELLINK))
            return false;
        if (message.Payload.Length < SizeOfIfinfomsg)
            throw new NetlinkFormatException($"RTM_NEWLINK payload is {message.Payload.Length} bytes, struct ifinfomsg needs {SizeOfIfinfomsg}");
        var index = (int)NetlinkMessageReader.ReadHost32(message.Payload[4..]);
        var flags = NetlinkMessageReader.ReadHost32(message.Payload[8..]);
        string name = "", kind = "";
        var parent = 0;
        var mode = MacvlanMode.None;
        PhysicalAddress? mac = null;
        var attrs = message.Attributes(SizeOfIfinfomsg);
        while (attrs.TryRead(out var a))
        {
            switch (a.Type)
            {
                case IFLA_IFNAME: name = a.GetString(); break;
                case IFLA_ADDRESS: mac = new PhysicalAddress(a.Payload.ToArray()); break;
                case IFLA_LINK: parent = a.GetInt32(); break;
                case IFLA_LINKINFO:
                    var info = a.Nested;
                    while (info.TryRead(out var i))
                    {
                        if (i.Type == IFLA_INFO_KIND)
                        {
                            kind = i.GetString();
                        }
                        else if (i.Type == IFLA_INFO_DATA && kind == "macvlan")
                        {
                            var data = i.Nested;
                            while (data.TryRead(out var d))
                            {
                                if (d.Type == IFLA_MACVLAN_MODE)
                                    mode = (MacvlanMode)d.GetUInt32();
                            }
                        }
                    }
                    break;
            }
        }
        link = new LinkDetails(index, name, mac, (LinkFlags)flags, kind, parent, mode);
        return true;
    }

    /// <summary>The kernel's rule for an interface name (net/core/dev.c dev_valid_name): 1 to 15 bytes, not "." or "..", no '/', ':' or white space.</summary>
    public static bool IsValidName(string name) =>
        name.Length > 0 && Encoding.UTF8.GetByteCount(name) < 16 && name is not ("." or "..")
        && !name.Any(c => c is '/' or ':' || char.IsWhiteSpace(c));

    private static void ValidateName(string name)
    {
        if (!IsValidName(name))
            throw new ArgumentException($"'{name}' is not a valid interface name (1 to 15 bytes, no '/', ':' or white space)");
    }

    private static void WriteIfinfomsg(ref NetlinkWriter w, int index, uint flags, uint change)
    {
        var h = w.WriteZeroes(SizeOfIfinfomsg);
        h[0] = Libc.AF_UNSPEC;
        NetlinkWriter.WriteHost32(h[4..], unchecked((uint)index));
        NetlinkWriter.WriteHost32(h[8..], flags);
        NetlinkWriter.WriteHost32(h[12..], change);
    }

    /// <summary>aa:bb:cc:dd:ee:ff.</summary>
    public static string Format(ReadOnlySpan<byte> mac)
    {
        var sb = new StringBuilder(mac.Length * 3);
        foreach (var b in mac)
        {
            if (sb.Length > 0)
                sb.Append(':');
            sb.Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
