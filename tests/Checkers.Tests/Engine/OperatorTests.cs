using Lb.Checkers.Engine;
using Lb.Checkers.Operator;
using Lb.Checkers.Options;
using Lb.Checkers.Tests.Support;
using Xunit;
using static Lb.Checkers.Tests.Support.Rig;

namespace Lb.Checkers.Tests.Engine;

/// <summary>
/// Operator overrides (<c>lb rs disable|enable|weight|drain</c>) and slow start, through the subsystem on a manual clock.
/// The kernel is the tests' <c>InMemoryIpvsTable</c> stand-in (it answers like the kernel, and reports the active
/// connections a test sets); the real kernel and the real <c>lb rs</c> CLI are Lb.Tests' RsControlKernelTests.
/// </summary>
public class OperatorTests
{
    private static readonly CheckOutcome Ok = CheckOutcome.Ok("connected");
    private static readonly CheckOutcome Refused = CheckOutcome.Fail("connection refused");

    private const string Rs2 = "[10.0.0.2]:tcp:80";
    private const string Key2 = VsName + " " + Rs2;

    private static RealServerCommand Cmd(RealServerAction action, string rs = "10.0.0.2:80", int? weight = null, double? timeout = null) => new()
    {
        Action = action,
        VirtualServer = "10.0.0.100:80",
        RealServer = rs,
        Weight = weight,
        Timeout = timeout is double t ? TimeSpan.FromSeconds(t) : null,
        By = "root (uid 0, pid 42)",
        CommandLine = $"lb rs {action.ToString().ToLowerInvariant()}",
    };

    private static RealServerStatus Status(Rig rig, string rs = Rs2) =>
        rig.Subsystem.GetSnapshot().VirtualServers.SelectMany(v => v.RealServers).Single(r => r.Name == rs);

    private static Rig NewRig(VirtualServerOptions vs, List<(string Key, RealServerOverride? Value)>? persisted = null)
    {
        var rig = new Rig(Options1(vs));
        if (persisted is not null)
            rig.Subsystem.PersistOverride = (k, v) => { lock (persisted) persisted.Add((k, v)); };
        return rig;
    }

    [Fact]
    public async Task Disable_holds_a_server_out_until_enable_and_its_successful_checks_do_not_bring_it_back()
    {
        var persisted = new List<(string Key, RealServerOverride? Value)>();
        await using var rig = NewRig(Vs(Rs("10.0.0.2") with { Weight = 3 }, Rs("10.0.0.3")), persisted);
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();

        var r = await rig.Subsystem.ControlAsync(Cmd(RealServerAction.Disable), CancellationToken.None);
        Assert.Equal(new RealServerCommandResult(true, "10.0.0.2:80 of 10.0.0.100:80: disabled, not in IPVS"), r);
        Assert.Equal(["del 10.0.0.2:80"], rig.Ipvs.TakeOperations());
        Assert.Equal("disabled", Status(rig).Operator);
        Assert.False(Status(rig).Alive);
        var entry = rig.Journal.Entries[^1];
        Assert.Equal(("operator", "enabled", "disabled", "lb rs disable", "removed from IPVS", "root (uid 0, pid 42)"),
            (entry.Kind, entry.OldState, entry.NewState, entry.Reason, entry.Action, entry.By));
        Assert.Equal(Key2, Assert.Single(persisted).Key);
        Assert.Equal("disabled", persisted[0].Value!.State);

        rig.Advance(20); // four successful rounds
        Assert.Empty(rig.Ipvs.TakeOperations());
        Assert.False(Status(rig).Alive);
        Assert.Equal(1, rig.Subsystem.GetSnapshot().VirtualServers[0].LiveWeight); // only 10.0.0.3 counts for quorum

        r = await rig.Subsystem.ControlAsync(Cmd(RealServerAction.Enable), CancellationToken.None);
        Assert.True(r.Ok, r.Text);
        Assert.Equal("10.0.0.2:80 of 10.0.0.100:80: enabled, in IPVS with weight 3", r.Text);
        Assert.Equal(["add 10.0.0.2:80 w3"], rig.Ipvs.TakeOperations());
        Assert.Null(Status(rig).Operator);
        Assert.Contains("operator [10.0.0.2]:tcp:80 disabled->enabled | lb rs enable | added to IPVS with weight 3", rig.Journal.Lines());
        Assert.Null(persisted[^1].Value);
        rig.AssertDesiredTableMatchesIpvs();
    }

    [Fact]
    public async Task Enable_of_a_server_whose_checks_fail_leaves_it_down_and_a_check_still_takes_a_weighted_one_down()
    {
        await using var rig = NewRig(Vs(Rs("10.0.0.2", new TcpCheckOptions { Retry = 0 }) with { Weight = 3 }));
        var check = rig.Checks.For("10.0.0.2");
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();

        var r = await rig.Subsystem.ControlAsync(Cmd(RealServerAction.Weight, weight: 7), CancellationToken.None);
        Assert.Equal("10.0.0.2:80 of 10.0.0.100:80: weight 7 (configured 3), in IPVS with weight 7", r.Text);
        Assert.Equal(["edit 10.0.0.2:80 w7"], rig.Ipvs.TakeOperations());
        Assert.Equal((7, "weight 7"), (Status(rig).Weight, Status(rig).Operator));
        Assert.Equal(7, rig.Subsystem.GetSnapshot().VirtualServers[0].LiveWeight);

        check.Always(Refused);
        rig.Advance(5);
        Assert.Equal(["del 10.0.0.2:80"], rig.Ipvs.TakeOperations()); // a check still takes it down
        check.Always(Ok);
        rig.Advance(5);
        Assert.Equal(["add 10.0.0.2:80 w7"], rig.Ipvs.TakeOperations()); // and back, with the operator's weight

        await rig.Subsystem.ControlAsync(Cmd(RealServerAction.Disable), CancellationToken.None);
        Assert.False((await rig.Subsystem.ControlAsync(Cmd(RealServerAction.Weight, weight: 2), CancellationToken.None)).Ok);
        check.Always(Refused);
        rig.Advance(5);
        Assert.Equal(["del 10.0.0.2:80"], rig.Ipvs.TakeOperations()); // the disable's
        check.Always(Ok);
        rig.Advance(5); // its check recovers: a disabled server stays out
        Assert.Empty(rig.Ipvs.TakeOperations());
        Assert.Equal("TCP_CHECK: connected (held out: disabled by the operator)", Status(rig).LastReason);
        check.Always(Refused);
        rig.Advance(5);
        Assert.Empty(rig.Ipvs.TakeOperations());
        r = await rig.Subsystem.ControlAsync(Cmd(RealServerAction.Enable), CancellationToken.None);
        Assert.Equal("10.0.0.2:80 of 10.0.0.100:80: enabled, down (its checks fail), not in the pool", r.Text);
        Assert.Empty(rig.Ipvs.TakeOperations());
        check.Always(Ok);
        rig.Advance(5);
        Assert.Equal(["add 10.0.0.2:80 w3"], rig.Ipvs.TakeOperations()); // enable dropped the operator weight
    }

    [Fact]
    public async Task Drain_sets_weight_0_and_removes_the_server_when_its_active_connections_reach_0()
    {
        var persisted = new List<(string Key, RealServerOverride? Value)>();
        await using var rig = NewRig(Vs(Rs("10.0.0.2") with { Weight = 5 }, Rs("10.0.0.3")), persisted);
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();
        rig.Ipvs.ActiveConnections["10.0.0.2:80"] = 2;

        var r = await rig.Subsystem.ControlAsync(Cmd(RealServerAction.Drain, timeout: 30), CancellationToken.None);
        Assert.Equal("10.0.0.2:80 of 10.0.0.100:80: draining, weight 0, 2 active connections, deadline 30 s", r.Text);
        Assert.Equal(["edit 10.0.0.2:80 w0"], rig.Ipvs.TakeOperations());
        Assert.Equal("draining", persisted[^1].Value!.State);
        Assert.Equal(1, rig.Subsystem.GetSnapshot().VirtualServers[0].LiveWeight); // a draining server does not count for quorum

        rig.Advance(1);
        rig.Advance(1);
        Assert.Empty(rig.Ipvs.TakeOperations());
        Assert.Equal("draining (2 active, deadline 00:00:30)", Status(rig).Operator);
        rig.Advance(5); // a successful check cannot bring it back
        Assert.Empty(rig.Ipvs.TakeOperations());

        rig.Ipvs.ActiveConnections["10.0.0.2:80"] = 0;
        rig.Advance(1);
        Assert.Equal(["del 10.0.0.2:80"], rig.Ipvs.TakeOperations());
        Assert.Equal("disabled", Status(rig).Operator);
        Assert.Contains("operator [10.0.0.2]:tcp:80 draining->disabled | drain done: no active connections left | removed from IPVS", rig.Journal.Lines());
        Assert.Equal("disabled", persisted[^1].Value!.State);
        Assert.Contains("Drain of real server [10.0.0.2]:tcp:80 of VS [10.0.0.100]:tcp:80 done: no active connections left", rig.Logs.Info());

        rig.Advance(10);
        Assert.Empty(rig.Ipvs.TakeOperations());
    }

    [Fact]
    public async Task Drain_removes_the_server_at_its_deadline_when_connections_stay()
    {
        await using var rig = NewRig(Vs(Rs("10.0.0.2"), Rs("10.0.0.3")));
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();
        rig.Ipvs.ActiveConnections["10.0.0.2:80"] = 4;

        await rig.Subsystem.ControlAsync(Cmd(RealServerAction.Drain, timeout: 3), CancellationToken.None);
        Assert.Equal(["edit 10.0.0.2:80 w0"], rig.Ipvs.TakeOperations());
        rig.Advance(1);
        rig.Advance(1);
        Assert.Empty(rig.Ipvs.TakeOperations());
        rig.Advance(1);
        Assert.Equal(["del 10.0.0.2:80"], rig.Ipvs.TakeOperations());
        Assert.Contains("operator [10.0.0.2]:tcp:80 draining->disabled | drain done: deadline reached with 4 active connections | removed from IPVS", rig.Journal.Lines());
    }

    [Fact]
    public async Task Slow_start_ramps_a_recovered_server_from_1_to_its_weight_while_quorum_counts_the_full_weight()
    {
        var vs = Vs(Rs("10.0.0.2", new TcpCheckOptions { Retry = 0 }) with { Weight = 10 }) with
        {
            SlowStart = new SlowStartOptions { Duration = TimeSpan.FromSeconds(5) },
        };
        await using var rig = NewRig(vs);
        var check = rig.Checks.For("10.0.0.2");
        await rig.StartAsync();
        Assert.Equal(["add-service [10.0.0.100]:tcp:80", "add 10.0.0.2:80 w10"], rig.Ipvs.TakeOperations()); // no ramp at start without at_start

        check.Always(Refused);
        rig.Advance(5);
        Assert.Equal(["del 10.0.0.2:80"], rig.Ipvs.TakeOperations());
        check.Always(Ok);
        rig.Advance(5); // t=10: up again, ramp from 1
        Assert.Equal(["add 10.0.0.2:80 w1"], rig.Ipvs.TakeOperations());
        Assert.Equal("weight 1 of 10", Status(rig).SlowStart);
        Assert.Equal(10, rig.Subsystem.GetSnapshot().VirtualServers[0].LiveWeight);
        Assert.Contains("real_server [10.0.0.2]:tcp:80 down->up | TCP_CHECK: connected | added to IPVS with weight 1 (slow start to 10 over 5 s)", rig.Journal.Lines());
        var steps = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            rig.Advance(1);
            steps.AddRange(rig.Ipvs.TakeOperations());
        }
        Assert.Equal(["edit 10.0.0.2:80 w2", "edit 10.0.0.2:80 w4", "edit 10.0.0.2:80 w6", "edit 10.0.0.2:80 w8", "edit 10.0.0.2:80 w10"], steps);
        Assert.Null(Status(rig).SlowStart);
        Assert.Contains("Slow start of real server [10.0.0.2]:tcp:80 of VS [10.0.0.100]:tcp:80: weight 10 reached", rig.Logs.Info());
    }

    [Fact]
    public async Task Slow_start_at_start_and_after_enable()
    {
        var vs = Vs(Rs("10.0.0.2") with { Weight = 4, SlowStart = new SlowStartOptions { Duration = TimeSpan.FromSeconds(2), AtStart = true } });
        await using var rig = NewRig(vs);
        await rig.StartAsync();
        Assert.Equal(["add-service [10.0.0.100]:tcp:80", "add 10.0.0.2:80 w1"], rig.Ipvs.TakeOperations());
        rig.Advance(1);
        rig.Advance(1);
        Assert.Equal(["edit 10.0.0.2:80 w2", "edit 10.0.0.2:80 w4"], rig.Ipvs.TakeOperations());

        await rig.Subsystem.ControlAsync(Cmd(RealServerAction.Disable), CancellationToken.None);
        var r = await rig.Subsystem.ControlAsync(Cmd(RealServerAction.Enable), CancellationToken.None);
        Assert.Equal("10.0.0.2:80 of 10.0.0.100:80: enabled, in IPVS with weight 1, slow start to 4 over 2 s", r.Text);
        Assert.Equal(["del 10.0.0.2:80", "add 10.0.0.2:80 w1"], rig.Ipvs.TakeOperations());
    }

    [Fact]
    public async Task Restored_overrides_apply_before_the_first_programming_and_unknown_ones_are_dropped()
    {
        var persisted = new List<(string Key, RealServerOverride? Value)>();
        await using var rig = NewRig(Vs(Rs("10.0.0.2"), Rs("10.0.0.3"), Rs("10.0.0.4") with { Weight = 2 }), persisted);
        rig.Subsystem.RestoreOverrides(new Dictionary<string, RealServerOverride>
        {
            [Key2] = new() { State = "disabled", By = "root (uid 0, pid 1)" },
            [$"{VsName} [10.0.0.3]:tcp:80"] = new() { State = "draining", Deadline = rig.Time.GetUtcNow().AddSeconds(2) },
            [$"{VsName} [10.0.0.4]:tcp:80"] = new() { State = "enabled", Weight = 9 },
            [$"{VsName} [10.0.0.9]:tcp:80"] = new() { State = "disabled" },
        });
        Assert.Equal([($"{VsName} [10.0.0.9]:tcp:80", (RealServerOverride?)null)], persisted);
        rig.Ipvs.ActiveConnections["10.0.0.3:80"] = 1;
        await rig.StartAsync();
        Assert.Equal(["add-service [10.0.0.100]:tcp:80", "add 10.0.0.3:80 w0", "add 10.0.0.4:80 w9"], rig.Ipvs.TakeOperations());
        Assert.Contains("real_server [10.0.0.2]:tcp:80 init->down | operator: disabled by root (uid 0, pid 1) | none", rig.Journal.Lines());
        rig.Advance(1);
        Assert.Empty(rig.Ipvs.TakeOperations());
        rig.Advance(1); // what was left of the deadline
        Assert.Equal(["del 10.0.0.3:80"], rig.Ipvs.TakeOperations());
    }

    [Fact]
    public async Task A_reload_keeps_the_override_of_a_kept_server_and_drops_that_of_a_removed_one()
    {
        var persisted = new List<(string Key, RealServerOverride? Value)>();
        var options = Options1(Vs(Rs("10.0.0.2"), Rs("10.0.0.3")));
        await using var rig = new Rig(options);
        rig.Subsystem.PersistOverride = (k, v) => persisted.Add((k, v));
        await rig.StartAsync();
        await rig.Subsystem.ControlAsync(Cmd(RealServerAction.Disable), CancellationToken.None);
        await rig.Subsystem.ControlAsync(Cmd(RealServerAction.Disable, rs: "10.0.0.3:80"), CancellationToken.None);
        rig.Ipvs.TakeOperations();
        persisted.Clear();

        await rig.Subsystem.ReloadAsync(Options1(Vs(Rs("10.0.0.2") with { Weight = 2 })), CancellationToken.None);
        Assert.Empty(rig.Ipvs.TakeOperations()); // 10.0.0.2 stays out (weight change noted), 10.0.0.3 was not in IPVS
        Assert.Equal("disabled", Status(rig).Operator);
        Assert.Equal([($"{VsName} [10.0.0.3]:tcp:80", (RealServerOverride?)null)], persisted);
        rig.Advance(10);
        Assert.Empty(rig.Ipvs.TakeOperations());
    }

    [Theory]
    [InlineData("10.0.0.101:80", "10.0.0.2:80", "10.0.0.101:80: no such virtual server")]
    [InlineData("10.0.0.100:80", "10.0.0.9:80", "10.0.0.9:80: no such real server in [10.0.0.100]:tcp:80")]
    [InlineData("10.0.0.100", "10.0.0.2:80", "10.0.0.100: not a virtual server (ip:port, [ipv6]:port, fwmark:N or group:NAME)")]
    [InlineData("fwmark:x", "10.0.0.2:80", "fwmark:x: not a virtual server (ip:port, [ipv6]:port, fwmark:N or group:NAME)")]
    [InlineData("10.0.0.100:80", "10.0.0.2:http", "10.0.0.2:http: not a real server (ip:port or [ipv6]:port)")]
    public async Task Unknown_or_malformed_servers_are_refused_with_the_reason(string vs, string rs, string expected)
    {
        await using var rig = NewRig(Vs(Rs("10.0.0.2")));
        await rig.StartAsync();
        var r = await rig.Subsystem.ControlAsync(Cmd(RealServerAction.Disable, rs: rs) with { VirtualServer = vs }, CancellationToken.None);
        Assert.Equal(new RealServerCommandResult(false, expected), r);
    }
}
