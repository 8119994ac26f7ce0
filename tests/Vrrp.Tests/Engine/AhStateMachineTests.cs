using System.Net;
using Lb.Vrrp.Engine;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Protocol;
using Xunit;

namespace Lb.Vrrp.Tests.Engine;

/// <summary>
/// auth_type AH in the state machine, as keepalived 2.2.7 runs it (vrrp.c vrrp_in_chk_ipsecah, vrrp_update_pkt,
/// vrrp_state_master_rx, vrrp_state_goto_master): one sequence counter for what is sent and what is accepted, a
/// received number must be above it and becomes it, a MASTER hearing a lower-priority advert jumps above its number.
/// Received adverts are real datagrams: encoded by <see cref="VrrpAh"/> with a peer's key, parsed back.
/// </summary>
public class AhStateMachineTests
{
    private static readonly IPAddress Peer = IPAddress.Parse("10.0.0.3");

    private static Harness AhHarness(int priority = 100, string password = "secret", Func<VrrpInstanceOptions, VrrpInstanceOptions>? with = null)
    {
        var h = new Harness(Harness.Instance(priority: priority, with: o =>
        {
            o = o with { Authentication = new VrrpAuthentication(VrrpAuthType.Ah, password) };
            return with is null ? o : with(o);
        }));
        h.Start();
        return h;
    }

    /// <summary>A peer's AH advert on the wire, parsed as the socket parses it.</summary>
    private static VrrpPacket AhAdvert(int priority, uint sequence, string password = "secret", IPAddress? from = null, IPAddress? to = null, bool zeroTtl = false)
    {
        var p = new VrrpPacket
        {
            Version = 2,
            VirtualRouterId = 51,
            Priority = (byte)priority,
            AuthType = VrrpAuthType.Ah,
            AdvertIntervalCentiseconds = 100,
            Addresses = [Harness.Vip],
            AhSigning = new VrrpAhSigning(VrrpPacket.PasswordBytes(password), sequence, zeroTtl),
        };
        var buf = new byte[128];
        var n = p.WriteIpv4Datagram(buf, from ?? Peer, to ?? IPAddress.Parse("224.0.0.18"), 255);
        Assert.True(VrrpPacket.TryParseIpv4(buf.AsSpan(0, n), out var parsed, out _, out var reason), reason.ToString());
        return parsed!;
    }

    private static List<VrrpAhSigning?> SentSignings(Harness h) => h.TakeActions().Where(a => a.Kind == VrrpActionKind.SendAdvert).Select(a => a.AhSigning).ToList();

    [Fact]
    public void A_master_signs_its_adverts_with_the_password_and_counts_up_from_one()
    {
        var h = AhHarness();
        h.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(VrrpState.Master, h["VI_1"].State);
        h.Time.Advance(TimeSpan.FromSeconds(1));
        h.Time.Advance(TimeSpan.FromSeconds(1));
        var sent = SentSignings(h);
        Assert.Equal([1u, 2u, 3u], sent.Select(s => s!.SequenceNumber));
        Assert.All(sent, s => Assert.Equal(VrrpPacket.PasswordBytes("secret"), s!.Key.ToArray()));
        Assert.All(sent, s => Assert.False(s!.ZeroTtl));
        Assert.Equal(3u, h["VI_1"].AhSequenceNumber);
    }

    [Fact]
    public void A_unicast_instance_leaves_the_ttl_out_of_its_icv()
    {
        var h = AhHarness(with: o => o with { UnicastPeers = [new UnicastPeer(Peer)] });
        h.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.True(Assert.Single(SentSignings(h))!.ZeroTtl);
    }

    [Fact]
    public void A_backup_takes_the_masters_numbers_drops_replays_and_continues_above_them_when_it_takes_over()
    {
        var h = AhHarness();
        var m = h["VI_1"];
        m.ReceiveAdvert(AhAdvert(200, 10), Peer, 255);
        Assert.Equal(1, m.AdvertsReceived);
        Assert.Equal(10u, m.AhSequenceNumber);
        Assert.Equal(Peer, m.MasterAddress);
        h.Time.Advance(TimeSpan.FromSeconds(3));
        m.ReceiveAdvert(AhAdvert(200, 10), Peer, 255); // replayed
        m.ReceiveAdvert(AhAdvert(200, 9), Peer, 255);
        Assert.Equal(2, m.Drops[VrrpDropReason.AhSequenceReplay]);
        Assert.True(h.Logs.Contains("(VI_1) IPSEC-AH : sequence number 10 already processed. Packet dropped. Local(10)"), string.Join('\n', h.Logs.Lines));
        Assert.True(h.Logs.Contains("(VI_1) IPSEC-AH : sequence number 9 already processed. Packet dropped. Local(10)"));
        // the replays did not hold the backup down: it takes over 3.61 s after the last real advert, above the master's numbers
        h.Time.Advance(TimeSpan.FromSeconds(0.7));
        Assert.Equal(VrrpState.Master, m.State);
        Assert.Equal(11u, Assert.Single(SentSignings(h))!.SequenceNumber);
    }

    [Fact]
    public void A_wrong_password_is_dropped_counted_and_logged_as_keepalived_logs_it()
    {
        var h = AhHarness();
        var m = h["VI_1"];
        for (var i = 1u; i <= 5; i++)
        {
            h.Time.Advance(TimeSpan.FromSeconds(0.5));
            m.ReceiveAdvert(AhAdvert(200, i, password: "wrong"), Peer, 255);
        }
        Assert.Equal(5, m.Drops[VrrpDropReason.AhIcvMismatch]);
        Assert.Equal(0, m.AdvertsReceived);
        Assert.Equal(0u, m.AhSequenceNumber);
        Assert.True(h.Logs.Contains("(VI_1) IPSEC-AH : invalid IPSEC HMAC-MD5 value. Due to fields mutation or bad password !"), string.Join('\n', h.Logs.Lines));
        // 2.5 s of refused adverts did not hold it down: its master-down interval (3.61 s from the start) runs out
        h.Time.Advance(TimeSpan.FromSeconds(1.2));
        Assert.Equal(VrrpState.Master, m.State);
    }

    [Fact]
    public void An_spi_that_is_not_the_source_address_is_dropped()
    {
        var h = AhHarness();
        var m = h["VI_1"];
        m.ReceiveAdvert(AhAdvert(200, 1), IPAddress.Parse("10.0.0.4"), 255);
        Assert.Equal(1, m.Drops[VrrpDropReason.AhSpiMismatch]);
        // keepalived prints the two network-order words with %u (here as on x86): 10.0.0.4, then the SPI 10.0.0.3
        Assert.True(h.Logs.Contains("(VI_1) IPSEC AH : invalid IPSEC SPI value. 67108874 and expect 50331658"), string.Join('\n', h.Logs.Lines));
    }

    [Fact]
    public void An_ah_instance_refuses_plain_adverts_and_a_plain_instance_refuses_ah_adverts()
    {
        var h = AhHarness();
        h["VI_1"].ReceiveAdvert(h.Advert("VI_1", 200), Peer, 255);
        Assert.Equal(1, h["VI_1"].Drops[VrrpDropReason.AuthTypeMismatch]);
        Assert.True(h.Logs.Contains("(VI_1) No AH header but auth type is AH"));

        var plain = new Harness(Harness.Instance());
        plain.Start();
        plain["VI_1"].ReceiveAdvert(AhAdvert(200, 1), Peer, 255);
        Assert.Equal(1, plain["VI_1"].Drops[VrrpDropReason.AuthTypeMismatch]);
        Assert.True(plain.Logs.Contains("(VI_1) Received AH header but auth type not AH"));
    }

    [Fact]
    public void A_master_hearing_a_lower_priority_advert_jumps_above_its_sequence_number()
    {
        var h = AhHarness(priority: 150);
        var m = h["VI_1"];
        h.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(VrrpState.Master, m.State);
        h.TakeActions();
        // a peer that restarted as MASTER with a counter far above ours
        m.ReceiveAdvert(AhAdvert(100, 500), Peer, 255);
        Assert.True(h.Logs.Contains("(VI_1) IPSEC-AH : Syncing seq_num - Increment seq"), string.Join('\n', h.Logs.Lines));
        Assert.Equal(502u, Assert.Single(SentSignings(h))!.SequenceNumber); // 500 + 1, then + 1 for the advert itself
        Assert.Equal(VrrpState.Master, m.State);
    }

    [Fact]
    public void A_master_yields_to_a_higher_priority_ah_advert()
    {
        var h = AhHarness(priority: 100);
        var m = h["VI_1"];
        h.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(VrrpState.Master, m.State);
        m.ReceiveAdvert(AhAdvert(200, m.AhSequenceNumber + 1), Peer, 255);
        Assert.Equal(VrrpState.Backup, m.State);
        Assert.Empty(m.Drops.Snapshot());
    }
}
