using Lb.Config;
using Lb.TestSupport;
using Xunit;

namespace Lb.Tests.Config;

/// <summary>
/// unicast_fault_no_peer and the keywords newer than keepalived 2.2.7 in <c>lb -t</c>: accepted quietly (Lb follows the
/// later keepalived's documentation and code: no_virtual_ipaddress, timer_expired_backup, v3_checksum_as_v2 per
/// instance — 2.2.8; vrrp_owner_ignore_adverts/owner_ignore_adverts — 2.3.3; millisecond vrrp_script interval/timeout
/// — 2.4.0), with those versions' own configuration errors, and mapped. keepalived 2.2.7 itself rejects them
/// ("Unknown keyword", the millisecond values as invalid), checked by the oracle test below.
/// </summary>
public sealed class NewerKeywordConfigTests
{
    private static LoadedConfig Load(string text) => ConfigLoader.LoadText(text, "t.conf");

    private static string Instance(string body, string vips = "  virtual_ipaddress {\n    10.0.0.10/32\n  }\n") =>
        "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n" + body + vips + "}\n";

    [Fact]
    public void Unicast_fault_no_peer_is_implemented_and_replaces_the_deprecation_message()
    {
        var loaded = Load(Instance("  unicast_fault_no_peer\n"));
        Assert.Empty(loaded.Diagnostics);
        Assert.True(loaded.Options.Vrrp.Instances.Single().UnicastFaultNoPeer);
        Assert.Contains(Load(Instance("  check_unicast_src\n")).Diagnostics, d => d.Message.Contains("Defaulting to multicast", StringComparison.Ordinal));
    }

    [Fact]
    public void No_virtual_ipaddress_allows_a_v3_instance_without_vips_and_is_cleared_in_strict_mode()
    {
        var plain = Load(Instance("  version 3\n  no_virtual_ipaddress\n", vips: ""));
        Assert.Empty(plain.Diagnostics);
        Assert.True(plain.Options.Vrrp.Instances.Single().NoVirtualIpAddress);
        Assert.Equal(["(t.conf: Line 1) (VI_1) No VIP specified; at least one is required"],
            Load(Instance("  version 3\n", vips: "")).Diagnostics.Select(d => d.ToString()));
        var strict = Load(Instance("  strict_mode\n  no_virtual_ipaddress\n", vips: ""));
        Assert.Equal(
            ["(t.conf: Line 1) (VI_1) No VIP specified; at least one is required", "(t.conf: Line 5) (VI_1) no_virtual_ipaddress and strict mode incompatible, clearing no_virtual_ipaddress"],
            strict.Diagnostics.Select(d => d.ToString()));
    }

    [Fact]
    public void Timer_expired_backup_takes_254_by_default_and_needs_nopreempt()
    {
        Assert.Equal(254, Load(Instance("  nopreempt\n  timer_expired_backup\n")).Options.Vrrp.Instances.Single().TimerExpiredBackup);
        var given = Load(Instance("  nopreempt\n  timer_expired_backup 200\n"));
        Assert.Empty(given.Diagnostics);
        Assert.Equal(200, given.Options.Vrrp.Instances.Single().TimerExpiredBackup);
        var preempting = Load(Instance("  timer_expired_backup\n"));
        Assert.Equal(["(t.conf: Line 4) (VI_1) expired_timer_backup requires nopreempt - resetting"], preempting.Diagnostics.Select(d => d.ToString()));
        Assert.Null(preempting.Options.Vrrp.Instances.Single().TimerExpiredBackup);
    }

    [Fact]
    public void Owner_ignore_adverts_is_for_address_owners_and_has_a_global_default()
    {
        var owner = Load("global_defs {\n  vrrp_owner_ignore_adverts\n}\n" + Instance("  priority 255\n  owner_ignore_adverts\n"));
        Assert.Empty(owner.Diagnostics);
        Assert.True(owner.Options.Vrrp.OwnerIgnoreAdverts);
        Assert.True(owner.Options.Vrrp.Instances.Single().OwnerIgnoreAdverts);
        var notOwner = Load(Instance("  priority 200\n  owner_ignore_adverts\n"));
        Assert.Equal(["(t.conf: Line 5) (VI_1) ignoring owner_ignore_adverts since priority is not 255"], notOwner.Diagnostics.Select(d => d.ToString()));
        Assert.Null(notOwner.Options.Vrrp.Instances.Single().OwnerIgnoreAdverts);
    }

    [Fact]
    public void V3_checksum_as_v2_is_also_an_instance_keyword()
    {
        var loaded = Load(Instance("  version 3\n  v3_checksum_as_v2\n"));
        Assert.Empty(loaded.Diagnostics);
        Assert.True(loaded.Options.Vrrp.Instances.Single().V3ChecksumAsV2);
    }

    [Fact]
    public void Vrrp_script_interval_and_timeout_take_milliseconds()
    {
        var loaded = Load("global_defs {\n  enable_script_security\n}\nvrrp_script chk {\n  script \"/bin/true\"\n  interval 0.5\n  timeout 0.25\n}\n");
        Assert.Empty(loaded.Diagnostics);
        var script = loaded.Options.Vrrp.Scripts.Single();
        Assert.Equal((TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(250)), (script.Interval, script.Timeout));
    }

    [RootFact("keepalived")]
    public void Keepalived_2_2_7_rejects_the_newer_keywords()
    {
        Prerequisites.Require(Prerequisites.HasCommand("keepalived"), "keepalived 2.2.7 is the oracle");
        var dir = Directory.CreateTempSubdirectory("lb-misc-newer-");
        try
        {
            var path = Path.Combine(dir.FullName, "t.conf");
            File.WriteAllText(path, "vrrp_instance VI_1 {\n  interface lo\n  virtual_router_id 51\n  no_virtual_ipaddress\n  timer_expired_backup\n  owner_ignore_adverts\n}\n");
            var (_, output) = KeepalivedOracleTests.RunKeepalived(path);
            foreach (var keyword in new[] { "no_virtual_ipaddress", "timer_expired_backup", "owner_ignore_adverts" })
                Assert.Contains($"Unknown keyword '{keyword}'", output, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
