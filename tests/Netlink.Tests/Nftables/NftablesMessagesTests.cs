using System.Net;
using Lb.Netlink.Collections;
using Lb.Netlink.Nftables;
using Lb.TestSupport;
using Xunit;
using static Lb.Netlink.Nftables.NftablesConstants;
using static Lb.Netlink.Protocol.NetlinkConstants;

namespace Lb.Netlink.Tests.Nftables;

public class NftablesMessagesTests
{
    private static readonly NftSet Vips = new(NftFamily.Ip, "keepalived", "vips", NftablesDataTypes.IpAddress, 4);

    /// <summary>keepalived's "nft add rule ip keepalived in ip daddr @vips drop".</summary>
    private static NetlinkRequest DropRule(uint? setId = null) => NftablesMessages.NewRule(NftFamily.Ip, "keepalived", "in",
        [new NftPayload(NftPayloadBase.Network, 16, 4), new NftLookup("vips", SetId: setId), new NftImmediateVerdict(NftVerdict.Drop)], "ip daddr @vips drop");

    private static NftSetElement Element(string address) => new(IPAddress.Parse(address).GetAddressBytes().ToValueList(), address);

    [Fact]
    public void A_rule_decodes_back_to_the_expressions_nft_shows_for_it()
    {
        var rule = DropRule();
        var m = NftDecoder.Read(rule.Message);
        Assert.Equal((ushort)((10 << 8) | 6), m.Type);
        Assert.Equal(NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND, m.Flags);
        Assert.Equal(NFPROTO_IPV4, m.Family);
        Assert.Equal(("keepalived", "in"), (NftDecoder.Str(m.Attributes[NFTA_RULE_TABLE]), NftDecoder.Str(m.Attributes[NFTA_RULE_CHAIN])));
        // what `nft --debug=netlink add rule ip keepalived in ip daddr @vips drop` prints (nftables 1.0.6)
        Assert.Equal(
            ["[ payload load 4b @ network header + 16 => reg 1 ]", "[ lookup reg 1 set vips ]", "[ immediate reg 0 drop ]"],
            NftDecoder.RuleExpressions(rule.Message));
        Assert.Equal("add nftables rule ip keepalived in ip daddr @vips drop", rule.Description);
    }

    [Fact]
    public void A_base_chain_carries_its_hook_priority_policy_and_type_in_network_byte_order()
    {
        var m = NftDecoder.Read(NftablesMessages.NewChain(NftFamily.Ip6, "keepalived", "out", new NftChainHook(NftHook.Output, -1)).Message);
        Assert.Equal((ushort)((10 << 8) | 3), m.Type);
        Assert.Equal(NFPROTO_IPV6, m.Family);
        Assert.Equal("filter", NftDecoder.Str(m.Attributes[NFTA_CHAIN_TYPE]));
        Assert.Equal(NF_ACCEPT, NftDecoder.Be32(m.Attributes[NFTA_CHAIN_POLICY]));
        var hook = NftDecoder.Nested(m.Attributes[NFTA_CHAIN_HOOK]);
        Assert.Equal((NF_INET_LOCAL_OUT, -1), (NftDecoder.Be32(hook[NFTA_HOOK_HOOKNUM]), NftDecoder.Be32(hook[NFTA_HOOK_PRIORITY])));
        Assert.Equal([0xff, 0xff, 0xff, 0xff], hook[NFTA_HOOK_PRIORITY]);

        var regular = NftDecoder.Read(NftablesMessages.NewChain(NftFamily.Ip6, "keepalived", "in_link_local", null).Message);
        Assert.False(regular.Attributes.ContainsKey(NFTA_CHAIN_HOOK));
        Assert.False(regular.Attributes.ContainsKey(NFTA_CHAIN_TYPE));
    }

    [Fact]
    public void Set_elements_are_added_and_deleted_by_key()
    {
        var add = NftDecoder.Read(NftablesMessages.NewSetElements(Vips, [Element("10.0.0.1"), Element("10.0.0.2")]).Message);
        Assert.Equal((ushort)((10 << 8) | 12), add.Type);
        Assert.Equal(NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE, add.Flags);
        var keys = NftDecoder.List(add.Attributes[NFTA_SET_ELEM_LIST_ELEMENTS])
            .Select(e => NftDecoder.Nested(NftDecoder.Nested(e)[NFTA_SET_ELEM_KEY])[NFTA_DATA_VALUE])
            .Select(k => new IPAddress(k).ToString()).ToArray();
        Assert.Equal(["10.0.0.1", "10.0.0.2"], keys);
        var del = NftablesMessages.DeleteSetElements(Vips, [Element("10.0.0.2")]);
        Assert.Equal((ushort)((10 << 8) | 14), NftDecoder.Read(del.Message).Type);
        Assert.Equal("delete element 10.0.0.2 from nftables set ip keepalived vips", del.Description);
        Assert.Equal(NLM_F_EXCL, NftDecoder.Read(NftablesMessages.NewSetElements(Vips, [Element("10.0.0.1")], exclusive: true).Message).Flags & NLM_F_EXCL);
        Assert.Throws<ArgumentException>(() => NftablesMessages.NewSetElements(Vips, [new NftSetElement(new byte[16].ToValueList(), "::")]));
    }

    [Fact]
    public void Batch_markers_name_the_nftables_subsystem_and_ask_for_no_ack()
    {
        var begin = NftablesMessages.BatchBegin().Message;
        Assert.Equal(20, begin.Length);
        Assert.Equal((ushort)NFNL_MSG_BATCH_BEGIN, BitConverter.ToUInt16(begin, 4));
        Assert.Equal((ushort)NLM_F_REQUEST, BitConverter.ToUInt16(begin, 6));
        Assert.Equal(new byte[] { 0, 0, 0, 10 }, begin[16..20]); // AF_UNSPEC, NFNETLINK_V0, res_id = htons(NFNL_SUBSYS_NFTABLES)
        Assert.Equal((ushort)NFNL_MSG_BATCH_END, BitConverter.ToUInt16(NftablesMessages.BatchEnd().Message, 4));
    }

    [Fact]
    public void Names_longer_than_the_kernel_takes_are_refused_before_encoding()
    {
        Assert.Throws<ArgumentException>(() => NftablesMessages.NewTable(NftFamily.Ip, new string('t', 256)));
        Assert.Throws<ArgumentException>(() => NftablesMessages.NewTable(NftFamily.Ip, ""));
        Assert.Throws<ArgumentException>(() => NftablesMessages.NewRule(NftFamily.Ip, "t", "c", [new NftImmediateVerdict(NftVerdict.Goto)], "goto"));
    }

    /// <summary>
    /// nft itself is the oracle: the same ruleset written with <c>nft --debug=mnl -f</c> (in a scratch namespace) prints the
    /// messages nft sends; rebuilt from that printout, every message's payload equals Lb's byte for byte.
    /// </summary>
    [RootFact("ip", "nft")]
    public void Every_message_equals_what_nft_sends_for_the_same_ruleset()
    {
        using var lab = new NetnsLab(LabWire.Veth);
        var ns = lab.AddNamespace("nft");
        var file = lab.WriteFile("rules.nft", """
            add table ip keepalived
            add chain ip keepalived in { type filter hook input priority -1; policy accept; }
            add set ip keepalived vips { type ipv4_addr; }
            add rule ip keepalived in ip daddr @vips drop
            add element ip keepalived vips { 10.0.0.1 }

            """);
        var run = ProcessRunner.Run("ip", "netns", "exec", ns, "nft", "--debug=mnl", "-f", file);
        Assert.True(run.ExitCode == 0, run.Output);
        var sent = NftDecoder.ParseMnlDump(run.Stdout + run.Stderr);

        (byte Command, NetlinkRequest Ours)[] expected =
        [
            (NFT_MSG_NEWTABLE, NftablesMessages.NewTable(NftFamily.Ip, "keepalived")),
            (NFT_MSG_NEWCHAIN, NftablesMessages.NewChain(NftFamily.Ip, "keepalived", "in", new NftChainHook(NftHook.Input, -1))),
            (NFT_MSG_NEWSET, NftablesMessages.NewSet(Vips, 1)),
            (NFT_MSG_NEWRULE, DropRule(setId: 1)),
            (NFT_MSG_NEWSETELEM, NftablesMessages.NewSetElements(Vips, [Element("10.0.0.1")], setId: 1)),
        ];
        foreach (var (command, ours) in expected)
        {
            var type = NftablesMessages.MessageType(command);
            var theirs = Assert.Single(sent, s => s.Type == type).Payload;
            Assert.Equal(Convert.ToHexString(theirs), Convert.ToHexString(ours.Message[16..]));
        }
        // the transaction nft sent is framed as Lb frames it
        Assert.Equal(Convert.ToHexString(NftablesMessages.BatchBegin().Message[16..]), Convert.ToHexString(sent.Last(s => s.Type == NFNL_MSG_BATCH_BEGIN).Payload));
    }
}
