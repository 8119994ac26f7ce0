using System.Net;
using System.Net.Sockets;
using Lb.Netlink;
using Lb.Netlink.Collections;
using Lb.Netlink.Nftables;
using static Lb.Netlink.Nftables.NftablesConstants;

namespace Lb.Vrrp.Addresses;

/// <summary>The table accept mode uses (<c>nftables</c>, <c>nftables_priority</c>, <c>nftables_counters</c>).</summary>
internal sealed record AcceptModeTable(string Name, int Priority, bool Counters);

/// <summary>
/// keepalived 2.2.7's accept-mode ruleset (vrrp_nftables.c), as nf_tables requests (pure). Per family, table
/// <c>keepalived</c> with base chains <c>in</c> (hook input) and <c>out</c> (hook output), filter, the configured priority,
/// policy accept:
/// <code>
/// ip:  set vips { type ipv4_addr }
///      in:  ip daddr @vips drop        out: ip saddr @vips drop
/// ip6: set vips { type ipv6_addr }, set neighbor-discovery { type icmpv6_type; flags constant; elements = { 135, 136 } }
///      set vips_link_local { type ipv6_addr . iface_index }, chains in_link_local, out_link_local
///      in:  icmpv6 type @neighbor-discovery accept; ip6 daddr fe80::/10 goto in_link_local; ip6 daddr @vips drop
///      out: icmpv6 type @neighbor-discovery accept; ip6 saddr fe80::/10 goto out_link_local; ip6 saddr @vips drop
///      in_link_local: ip6 daddr . iif @vips_link_local drop    out_link_local: ip6 saddr . oif @vips_link_local drop
/// </code>
/// (with <c>counter</c> before each verdict under <c>nftables_counters</c>). Neighbour solicitations and advertisements
/// for a VIP still pass, so the address stays resolvable. keepalived creates the link-local set when the first
/// link-local VIP needs it; Lb creates it with the table.
/// </summary>
internal static class AcceptModeRules
{
    public const string InChain = "in";
    public const string OutChain = "out";
    public const string VipSet = "vips";
    public const string NeighborDiscoverySet = "neighbor-discovery";
    public const string LinkLocalSet = "vips_link_local";
    public const string InLinkLocalChain = "in_link_local";
    public const string OutLinkLocalChain = "out_link_local";

    private const byte IcmpV6 = 58;
    private const byte NeighborSolicit = 135;
    private const byte NeighborAdvert = 136;

    // offsetof(struct iphdr, saddr/daddr), offsetof(struct ip6_hdr, ip6_nxt/ip6_src/ip6_dst)
    private const int Ipv4Source = 12;
    private const int Ipv4Destination = 16;
    private const int Ipv6NextHeader = 6;
    private const int Ipv6Source = 8;
    private const int Ipv6Destination = 24;

    public static NftFamily FamilyOf(IPAddress address) => address.AddressFamily == AddressFamily.InterNetworkV6 ? NftFamily.Ip6 : NftFamily.Ip;

    /// <summary>The set an address goes into (link-local IPv6 addresses are matched with their interface).</summary>
    public static NftSet SetFor(AcceptModeTable t, IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork ? VipsSet(t, NftFamily.Ip)
        : address.IsIPv6LinkLocal ? LinkLocalVipsSet(t)
        : VipsSet(t, NftFamily.Ip6);

    /// <summary>The set element of <paramref name="address"/>: the address, plus the interface index (host order) for a link-local one.</summary>
    public static NftSetElement ElementFor(IPAddress address, int interfaceIndex)
    {
        var bytes = address.GetAddressBytes();
        if (!address.IsIPv6LinkLocal)
            return new NftSetElement(bytes.ToValueList(), address.ToString());
        var key = new byte[20];
        bytes.CopyTo(key, 0);
        BitConverter.TryWriteBytes(key.AsSpan(16), interfaceIndex);
        return new NftSetElement(key.ToValueList(), $"{new IPAddress(bytes)} . ifindex {interfaceIndex}");
    }

    /// <summary>
    /// The transaction that creates the table of <paramref name="family"/> afresh: a table left by an earlier run is
    /// deleted in the same transaction (add, delete, add), so nothing of it survives and nothing is half-made.
    /// </summary>
    public static IReadOnlyList<NetlinkRequest> CreateTable(AcceptModeTable t, NftFamily family)
    {
        var requests = new List<NetlinkRequest>
        {
            NftablesMessages.NewTable(family, t.Name),
            NftablesMessages.DeleteTable(family, t.Name),
            NftablesMessages.NewTable(family, t.Name),
            NftablesMessages.NewChain(family, t.Name, InChain, new NftChainHook(NftHook.Input, t.Priority)),
            NftablesMessages.NewChain(family, t.Name, OutChain, new NftChainHook(NftHook.Output, t.Priority)),
        };
        uint setId = 1;
        if (family == NftFamily.Ip)
        {
            requests.Add(NftablesMessages.NewSet(VipsSet(t, family), setId));
            requests.Add(AddressRule(t, family, InChain, Ipv4Destination, 4, "ip daddr @vips drop"));
            requests.Add(AddressRule(t, family, OutChain, Ipv4Source, 4, "ip saddr @vips drop"));
            return requests;
        }

        requests.Add(NftablesMessages.NewChain(family, t.Name, InLinkLocalChain, null));
        requests.Add(NftablesMessages.NewChain(family, t.Name, OutLinkLocalChain, null));
        requests.Add(NftablesMessages.NewSet(VipsSet(t, family), setId++));
        var nd = new NftSet(family, t.Name, NeighborDiscoverySet, NftablesDataTypes.IcmpV6Type, 1, Constant: true, KeyBigEndian: false);
        requests.Add(NftablesMessages.NewSet(nd, setId++));
        requests.Add(NftablesMessages.NewSetElements(nd, [new NftSetElement(new byte[] { NeighborSolicit }.ToValueList(), "nd-neighbor-solicit"), new NftSetElement(new byte[] { NeighborAdvert }.ToValueList(), "nd-neighbor-advert")]));
        requests.Add(NftablesMessages.NewSet(LinkLocalVipsSet(t), setId));
        foreach (var (chain, offset, linkLocalChain, dir) in new[] { (InChain, Ipv6Destination, InLinkLocalChain, "daddr"), (OutChain, Ipv6Source, OutLinkLocalChain, "saddr") })
        {
            requests.Add(Rule(t, family, chain, $"icmpv6 type @{NeighborDiscoverySet} accept",
                new NftPayload(NftPayloadBase.Network, Ipv6NextHeader, 1),
                new NftCompare(NFT_REG_1, new byte[] { IcmpV6 }.ToValueList()),
                new NftPayload(NftPayloadBase.Transport, 0, 1),
                new NftLookup(NeighborDiscoverySet),
                new NftImmediateVerdict(NftVerdict.Accept)));
            var mask = new byte[16];
            mask[0] = 0xff;
            mask[1] = 0xc0;
            var linkLocal = new byte[16];
            linkLocal[0] = 0xfe;
            linkLocal[1] = 0x80;
            requests.Add(Rule(t, family, chain, $"ip6 {dir} fe80::/10 goto {linkLocalChain}",
                new NftPayload(NftPayloadBase.Network, offset, 16),
                new NftBitwise(NFT_REG_1, NFT_REG_1, mask.ToValueList(), new byte[16].ToValueList()),
                new NftCompare(NFT_REG_1, linkLocal.ToValueList()),
                new NftImmediateVerdict(NftVerdict.Goto, linkLocalChain)));
            requests.Add(AddressRule(t, family, chain, offset, 16, $"ip6 {dir} @vips drop"));
            requests.Add(Rule(t, family, linkLocalChain, $"ip6 {dir} . {(chain == InChain ? "iif" : "oif")} @{LinkLocalSet} drop",
                new NftPayload(NftPayloadBase.Network, offset, 16),
                new NftMeta(chain == InChain ? NftMetaKey.InputInterface : NftMetaKey.OutputInterface, NFT_REG_2),
                new NftLookup(LinkLocalSet),
                new NftImmediateVerdict(NftVerdict.Drop)));
        }
        return requests;
    }

    private static NftSet VipsSet(AcceptModeTable t, NftFamily family) =>
        family == NftFamily.Ip
            ? new NftSet(family, t.Name, VipSet, NftablesDataTypes.IpAddress, 4)
            : new NftSet(family, t.Name, VipSet, NftablesDataTypes.Ip6Address, 16);

    private static NftSet LinkLocalVipsSet(AcceptModeTable t) =>
        new(NftFamily.Ip6, t.Name, LinkLocalSet, (NftablesDataTypes.Ip6Address << NftablesDataTypes.ConcatBits) | NftablesDataTypes.InterfaceIndex, 20);

    private static NetlinkRequest AddressRule(AcceptModeTable t, NftFamily family, string chain, int offset, int length, string text) =>
        Rule(t, family, chain, text, new NftPayload(NftPayloadBase.Network, offset, length), new NftLookup(VipSet), new NftImmediateVerdict(NftVerdict.Drop));

    /// <summary>A rule; under <c>nftables_counters</c> a counter goes just before the verdict, as keepalived puts it.</summary>
    private static NetlinkRequest Rule(AcceptModeTable t, NftFamily family, string chain, string text, params NftExpression[] expressions)
    {
        var list = expressions.ToList();
        if (t.Counters)
            list.Insert(list.Count - 1, new NftCounter());
        return NftablesMessages.NewRule(family, t.Name, chain, list, t.Counters ? text.Replace(" drop", " counter drop", StringComparison.Ordinal).Replace(" accept", " counter accept", StringComparison.Ordinal).Replace(" goto", " counter goto", StringComparison.Ordinal) : text);
    }
}
