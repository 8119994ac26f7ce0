using Lb.Netlink.Route;
using Lb.Vrrp.Addresses;
using Lb.Vrrp.Options;

namespace Lb.Config.Mapping;

/// <summary>
/// <c>use_vmac [NAME] [MAC]</c> and <c>vmac_xmit_base</c> of a <c>vrrp_instance</c>, with keepalived 2.2.7's checks
/// (vrrp_parser.c vrrp_vmac_handler, vrrp_end_handler; vrrp.c vrrp_complete_instance): the argument holding a ':' is the
/// MAC, the other the interface name; an invalid name or MAC is ignored with an error; unicast forces
/// <c>vmac_xmit_base</c>; <c>vmac_xmit_base</c> without <c>use_vmac</c> is dropped.
/// </summary>
internal static class VmacMapping
{
    public static VmacOptions? Options(ConfigNode instance, ConfigNode? useVmac, int vrid, NodeValues v)
    {
        if (useVmac is null)
            return null;
        string? name = null, mac = null;
        foreach (var arg in useVmac.Args.Take(2))
        {
            if (arg.Contains(':', StringComparison.Ordinal))
            {
                if (mac is not null)
                    v.Diagnostics.Error(useVmac.Location, "VMAC interface address already specified");
                else if (!VmacNaming.TryParseMac(arg, vrid, out var parsed, out var error))
                    v.Diagnostics.Error(useVmac.Location, error!);
                else
                    mac = RtnetlinkLinkMessages.Format(parsed.GetAddressBytes());
            }
            else if (name is not null)
            {
                v.Diagnostics.Error(useVmac.Location, "VMAC interface name already specified");
            }
            else if (!RtnetlinkLinkMessages.IsValidName(arg))
            {
                v.Diagnostics.Error(useVmac.Location, $"VMAC interface name '{arg}' too long or invalid characters - ignoring");
            }
            else
            {
                name = arg;
            }
        }
        return new VmacOptions(name, mac);
    }

    public static bool XmitBase(ConfigNode instance, ConfigNode? useVmac, bool unicast, NodeValues v)
    {
        var name = instance.Arg0 ?? "?";
        var xmitBase = v.Flag(instance, "vmac_xmit_base") ?? false;
        if (useVmac is null)
        {
            if (xmitBase)
                v.Diagnostics.Error(instance.Last("vmac_xmit_base")!.Location, $"({name}) vmac_xmit_base is only valid with a vmac");
            return false;
        }
        if (unicast && !xmitBase)
        {
            v.Diagnostics.Error(useVmac.Location, $"({name}) unicast with use_vmac requires vmac_xmit_base - setting");
            return true;
        }
        return xmitBase;
    }
}
