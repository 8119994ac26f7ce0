using System.Globalization;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Lb.Vrrp.Options;

namespace Lb.Vrrp.Addresses;

/// <summary>
/// The VMAC's MAC address and interface name, as keepalived 2.2.7 chooses them (vrrp_vmac.c netlink_link_add_vmac,
/// vrrp.c create_vmac_name). Pure.
/// </summary>
public static class VmacNaming
{
    /// <summary>The MAC a VMAC carries: the configured one, else RFC 5798's 00:00:5e:00:01:VRID (IPv6: 00:00:5e:00:02:VRID).</summary>
    public static PhysicalAddress MacFor(VmacOptions vmac, int vrid, AddressFamily family)
    {
        if (vmac.MacAddress is { } configured && TryParseMac(configured, vrid, out var mac, out _))
            return mac;
        return new PhysicalAddress([0x00, 0x00, 0x5e, 0x00, family == AddressFamily.InterNetworkV6 ? (byte)0x02 : (byte)0x01, (byte)vrid]);
    }

    /// <summary>
    /// keepalived's <c>use_vmac</c> MAC argument: six hex octets, or five followed by nothing or ':' (the sixth is then
    /// the VRID). Refused: a multicast address, or one of RFC 5798's (00:00:5e:00:01|02:xx, which is the default anyway).
    /// </summary>
    public static bool TryParseMac(string text, int vrid, out PhysicalAddress mac, out string? error)
    {
        mac = PhysicalAddress.None;
        error = null;
        var parts = text.Split(':');
        if (parts.Length == 6 && parts[5].Length == 0)
            parts = parts[..5];
        if (parts.Length is not (5 or 6) || parts.Any(p => p.Length is 0 or > 2 || !p.All(char.IsAsciiHexDigit)))
        {
            error = $"VMAC invalid MAC address {text} - ignored";
            return false;
        }
        var bytes = new byte[6];
        for (var i = 0; i < parts.Length; i++)
            bytes[i] = byte.Parse(parts[i], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        if (parts.Length == 5)
            bytes[5] = (byte)vrid;
        if ((bytes[0] & 1) != 0)
        {
            error = $"VMAC MAC address is multicast {text} - ignoring";
            return false;
        }
        if (bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0x5e && bytes[3] == 0 && bytes[4] is 1 or 2)
        {
            error = $"VMAC MAC address not allowed to be RFC5798 address ({text}) - ignoring";
            return false;
        }
        mac = new PhysicalAddress(bytes);
        return true;
    }

    /// <summary>
    /// The first free default name (create_vmac_name with prefix "vrrp"): <c>vrrp.VRID</c>, then for IPv4
    /// <c>vrrp1.VRID</c>, <c>vrrp2.VRID</c> …, for IPv6 <c>vrrp6.VRID</c>, <c>vrrp1.VRID</c> … (skipping 6). A name is
    /// free when <paramref name="taken"/> says so (another instance's VMAC, an existing interface). Names are cut to 15 bytes.
    /// </summary>
    public static string DefaultName(int vrid, AddressFamily family, Func<string, bool> taken, string prefix = "vrrp")
    {
        var name = Fit(prefix, "", vrid);
        var num = 0;
        for (var attempts = 0; attempts < 1000 && taken(name); attempts++)
        {
            if (family == AddressFamily.InterNetworkV6)
                num = num == 0 ? 6 : num == 6 ? 1 : ++num == 6 ? 7 : num;
            else
                num++;
            name = Fit(prefix, num.ToString(CultureInfo.InvariantCulture), vrid);
        }
        return name;
    }

    private static string Fit(string prefix, string num, int vrid)
    {
        var tail = $"{num}.{vrid.ToString(CultureInfo.InvariantCulture)}";
        return prefix.Length + tail.Length > 15 ? prefix[..(15 - tail.Length)] + tail : prefix + tail;
    }
}
