using System.Net;
using Lb.Checkers.Engine;
using Lb.Checkers.Options;
using Lb.Checkers.Tests.Support;
using Lb.TestSupport;
using Xunit;
using static Lb.Checkers.Tests.Support.Rig;

namespace Lb.Checkers.Tests.Engine;

/// <summary>SIGHUP reload as a diff: unchanged objects untouched, each change applied once and journalled.</summary>
public class ReloadTests
{
    private static readonly CheckOutcome Ok = CheckOutcome.Ok("connected");
    private static readonly CheckOutcome Refused = CheckOutcome.Fail("connection refused");

    /// <summary>A real server built from scratch each time (new objects, new lists), as a re-parse builds it.</summary>
    private static RealServerOptions Real(string address, int weight = 1, int retry = 1, bool? inhibit = null, string? location = null) => new()
    {
        Address = IPAddress.Parse(address),
        Port = 80,
        Weight = weight,
        InhibitOnFailure = inhibit,
        Checkers = [new TcpCheckOptions { Retry = retry, SourceLocation = location }],
        SourceLocation = location,
    };

    private static CheckerSubsystemOptions Config(params RealServerOptions[] rs) => Options1(Vs(rs));

    private static CheckerSubsystemOptions Config(VirtualServerOptions vs) => Options1(vs);

    private static async Task<ReloadResult> ReloadAsync(Rig rig, CheckerSubsystemOptions next)
    {
        var result = await rig.Subsystem.ReloadAsync(next, CancellationToken.None);
        rig.AssertDesiredTableMatchesIpvs();
        Assert.DoesNotContain(rig.Logs.Info(), m => m.StartsWith("IPVS:", StringComparison.Ordinal));
        return result;
    }

    private static List<string> Alive(Rig rig) =>
        rig.Subsystem.GetSnapshot().VirtualServers.SelectMany(v => v.RealServers).Select(r => $"{r.Name}={r.Alive}").ToList();

    private static List<string> ReloadLines(Rig rig) => rig.Journal.Lines().Where(l => l.StartsWith("reload ", StringComparison.Ordinal)).ToList();

    [Fact]
    public async Task A_reload_with_no_change_touches_nothing_and_keeps_the_schedule()
    {
        await using var rig = new Rig(Config(Real("10.0.0.2", location: "k.conf:10"), Real("10.0.0.3", location: "k.conf:20")));
        var a = rig.Checks.For("10.0.0.2");
        var b = rig.Checks.For("10.0.0.3").Then(Ok, Refused);
        await rig.StartAsync();
        rig.Advance(5); // b: fails at 5, retry at 6 -> down at 6
        rig.Advance(1);
        rig.Advance(1.5); // t = 7.5
        Assert.Equal(["[10.0.0.2]:tcp:80=True", "[10.0.0.3]:tcp:80=False"], Alive(rig));
        rig.Ipvs.TakeOperations();
        var journalled = rig.Journal.Entries.Count;
        var timers = rig.Time.ActiveTimers;

        // Same configuration, re-built (new objects and lists), lines moved.
        var result = await ReloadAsync(rig, Config(Real("10.0.0.2", location: "k.conf:12"), Real("10.0.0.3", location: "k.conf:22")));

        Assert.True(result.IsEmpty);
        Assert.Equal(["RS [10.0.0.2]:tcp:80 of VS [10.0.0.100]:tcp:80", "RS [10.0.0.3]:tcp:80 of VS [10.0.0.100]:tcp:80", "VS [10.0.0.100]:tcp:80"], result.Kept);
        Assert.Empty(rig.Ipvs.TakeOperations());
        Assert.Equal(journalled, rig.Journal.Entries.Count);
        Assert.Equal(timers, rig.Time.ActiveTimers);
        Assert.Equal(["[10.0.0.2]:tcp:80=True", "[10.0.0.3]:tcp:80=False"], Alive(rig));

        rig.Advance(2.5); // t = 10: a's round is due at 10 as before the reload; b's at 6 + 5 = 11
        Assert.Equal([0, 5, 10], a.CallTimes.Select(t => t.TotalSeconds));
        rig.Advance(1);
        Assert.Equal([0, 5, 6, 11], b.CallTimes.Select(t => t.TotalSeconds));
        Assert.Contains("Checker configuration reloaded: added 0, removed 0, changed 0, kept 3", rig.Logs.Info());
    }

    [Fact]
    public async Task Reloading_the_same_configuration_twice_does_nothing_the_second_time()
    {
        await using var rig = new Rig(Config(Real("10.0.0.2")));
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();
        var first = await ReloadAsync(rig, Config(Real("10.0.0.2", weight: 4), Real("10.0.0.3")));
        Assert.Equal(2, first.Changes.Count);
        Assert.Equal(["edit 10.0.0.2:80 w4", "add 10.0.0.3:80 w1"], rig.Ipvs.TakeOperations());
        var journalled = rig.Journal.Entries.Count;
        var second = await ReloadAsync(rig, Config(Real("10.0.0.2", weight: 4), Real("10.0.0.3")));
        Assert.True(second.IsEmpty);
        Assert.Empty(rig.Ipvs.TakeOperations());
        Assert.Equal(journalled, rig.Journal.Entries.Count);
    }

    [Fact]
    public async Task A_reload_adding_a_real_server_touches_only_it()
    {
        await using var rig = new Rig(Config(Real("10.0.0.2")));
        var a = rig.Checks.For("10.0.0.2");
        await rig.StartAsync();
        rig.Advance(2);
        rig.Ipvs.TakeOperations();

        var result = await ReloadAsync(rig, Config(Real("10.0.0.2"), Real("10.0.0.3")));

        Assert.Equal(["added RS [10.0.0.3]:tcp:80 of VS [10.0.0.100]:tcp:80"], result.Changes.Select(c => c.ToString()));
        Assert.Single(result.Added);
        Assert.Equal(["add 10.0.0.3:80 w1"], rig.Ipvs.TakeOperations());
        Assert.Equal(["reload [10.0.0.3]:tcp:80 absent->up | configuration reload | added with weight 1"], ReloadLines(rig));
        Assert.Equal(1, rig.Checks.For("10.0.0.3").Calls); // its checker started (warmup 0: at once)
        Assert.Contains("Adding service [10.0.0.3]:tcp:80 to VS [10.0.0.100]:tcp:80", rig.Logs.Info());
        rig.Advance(3);
        Assert.Equal([0, 5], a.CallTimes.Select(t => t.TotalSeconds));
        rig.Advance(2);
        Assert.Equal([2, 7], rig.Checks.For("10.0.0.3").CallTimes.Select(t => t.TotalSeconds));
        Assert.Empty(rig.Ipvs.TakeOperations());
    }

    [Fact]
    public async Task An_alpha_real_server_added_by_reload_starts_down()
    {
        await using var rig = new Rig(Config(Real("10.0.0.2")));
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();
        rig.Checks.For("10.0.0.3").Then(Refused, Ok);
        var result = await ReloadAsync(rig, Config(Real("10.0.0.2"), Real("10.0.0.3") with { Alpha = true }));
        Assert.Single(result.Added);
        Assert.Empty(rig.Ipvs.TakeOperations()); // alpha: down, and its first check failed
        Assert.Equal(["reload [10.0.0.3]:tcp:80 absent->down | configuration reload; alpha: down until the first successful check | none"], ReloadLines(rig));
        rig.Advance(5);
        Assert.Equal(["add 10.0.0.3:80 w1"], rig.Ipvs.TakeOperations());
    }

    [Fact]
    public async Task A_reload_removing_a_real_server_stops_its_checker_and_removes_only_it()
    {
        var rs3 = Real("10.0.0.3") with { NotifyDown = new ScriptOptions { Command = "/bin/down3" } };
        await using var rig = new Rig(Config(Real("10.0.0.2"), rs3));
        var c3 = rig.Checks.For("10.0.0.3");
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();

        var result = await ReloadAsync(rig, Config(Real("10.0.0.2")));

        Assert.Equal(["removed RS [10.0.0.3]:tcp:80 of VS [10.0.0.100]:tcp:80"], result.Changes.Select(c => c.ToString()));
        Assert.Equal(["del 10.0.0.3:80"], rig.Ipvs.TakeOperations());
        Assert.Equal(["reload [10.0.0.3]:tcp:80 up->removed | configuration reload | removed from IPVS"], ReloadLines(rig));
        Assert.Contains("Removing service [10.0.0.3]:tcp:80 from VS [10.0.0.100]:tcp:80", rig.Logs.Info());
        await rig.Subsystem.PendingNotifies();
        Assert.Equal(["/bin/down3"], rig.Scripts.Runs);
        rig.Advance(20);
        Assert.Equal(1, c3.Calls);
        Assert.Empty(rig.Ipvs.TakeOperations());
        Assert.Equal(["[10.0.0.2]:tcp:80=True"], Alive(rig));
    }

    [Fact]
    public async Task A_weight_change_on_an_up_server_is_one_edit_and_keeps_its_state()
    {
        await using var rig = new Rig(Config(Real("10.0.0.2"), Real("10.0.0.3")));
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();
        var result = await ReloadAsync(rig, Config(Real("10.0.0.2", weight: 5), Real("10.0.0.3")));
        Assert.Equal(["changed RS [10.0.0.2]:tcp:80 of VS [10.0.0.100]:tcp:80: weight 1 -> 5"], result.Changes.Select(c => c.ToString()));
        Assert.Equal(["edit 10.0.0.2:80 w5"], rig.Ipvs.TakeOperations());
        Assert.Equal(["reload [10.0.0.2]:tcp:80 weight 1->weight 5 | configuration reload: weight 1 -> 5 | weight 1 -> 5"], ReloadLines(rig));
        Assert.Equal(5, rig.Subsystem.GetSnapshot().VirtualServers[0].RealServers[0].Weight);
        Assert.Contains("Updating service [10.0.0.2]:tcp:80 of VS [10.0.0.100]:tcp:80: weight 1 -> 5", rig.Logs.Info());
        Assert.Equal(["[10.0.0.2]:tcp:80=True", "[10.0.0.3]:tcp:80=True"], Alive(rig));
    }

    [Fact]
    public async Task A_weight_change_on_a_down_server_waits_until_it_is_back()
    {
        await using var rig = new Rig(Config(Real("10.0.0.2"), Real("10.0.0.3")));
        rig.Checks.For("10.0.0.2").Then(Refused, Refused, Ok);
        await rig.StartAsync(); // 10.0.0.2 down at once
        rig.Ipvs.TakeOperations();
        var result = await ReloadAsync(rig, Config(Real("10.0.0.2", weight: 5), Real("10.0.0.3")));
        Assert.Single(result.Changed);
        Assert.Empty(rig.Ipvs.TakeOperations());
        Assert.Equal(["reload [10.0.0.2]:tcp:80 weight 1->weight 5 | configuration reload: weight 1 -> 5 | none"], ReloadLines(rig));
        rig.Advance(6); // TCP_CHECK retries while down: fails at 5, succeeds at 6

        Assert.Equal(["add 10.0.0.2:80 w5"], rig.Ipvs.TakeOperations());
    }

    [Fact]
    public async Task A_weight_change_on_an_inhibited_down_server_keeps_weight_zero()
    {
        await using var rig = new Rig(Config(Real("10.0.0.2", inhibit: true), Real("10.0.0.3")));
        rig.Checks.For("10.0.0.2").Then(Refused, Refused, Ok);
        await rig.StartAsync();
        Assert.Equal(["add-service [10.0.0.100]:tcp:80", "add 10.0.0.2:80 w1", "add 10.0.0.3:80 w1", "edit 10.0.0.2:80 w0"], rig.Ipvs.TakeOperations());
        await ReloadAsync(rig, Config(Real("10.0.0.2", weight: 5, inhibit: true), Real("10.0.0.3")));
        Assert.Empty(rig.Ipvs.TakeOperations());
        Assert.Equal(["10.0.0.2:80=0", "10.0.0.3:80=1"], rig.Ipvs.Weights(VsName));
        rig.Advance(6);
        Assert.Equal(["edit 10.0.0.2:80 w5"], rig.Ipvs.TakeOperations());
    }

    [Fact]
    public async Task Turning_inhibit_on_for_a_down_server_adds_it_with_weight_zero_and_off_removes_it()
    {
        await using var rig = new Rig(Config(Real("10.0.0.2"), Real("10.0.0.3")));
        rig.Checks.For("10.0.0.2").Always(Refused);
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();
        await ReloadAsync(rig, Config(Real("10.0.0.2", inhibit: true), Real("10.0.0.3")));
        Assert.Equal(["add 10.0.0.2:80 w0"], rig.Ipvs.TakeOperations());
        await ReloadAsync(rig, Config(Real("10.0.0.2", inhibit: false), Real("10.0.0.3")));
        Assert.Equal(["del 10.0.0.2:80"], rig.Ipvs.TakeOperations());
    }

    [Fact]
    public async Task A_service_level_change_is_one_edit_service_and_keeps_real_server_states()
    {
        await using var rig = new Rig(Config(Real("10.0.0.2"), Real("10.0.0.3")));
        rig.Checks.For("10.0.0.3").Always(Refused);
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();
        var journalled = rig.Journal.Entries.Count;

        var next = Config(Vs(Real("10.0.0.2"), Real("10.0.0.3")) with { Scheduler = "rr", PersistenceTimeout = TimeSpan.FromSeconds(300) });
        var result = await ReloadAsync(rig, next);

        Assert.Equal(["changed VS [10.0.0.100]:tcp:80: lb_algo wlc -> rr, persistence_timeout none -> 300s"], result.Changes.Select(c => c.ToString()));
        Assert.Equal(["edit-service [10.0.0.100]:tcp:80 rr"], rig.Ipvs.TakeOperations());
        Assert.Equal(300u, rig.Ipvs.Services[VsName].PersistenceTimeout);
        Assert.True(rig.Ipvs.Services[VsName].Flags.HasFlag(Lb.Netlink.Ipvs.IpvsServiceFlags.Persistent));
        Assert.Equal("rr", rig.Ipvs.Services[VsName].Scheduler);
        Assert.Equal(journalled + 1, rig.Journal.Entries.Count);
        Assert.Equal(["reload [10.0.0.100]:tcp:80 lb_algo wlc; persistence_timeout none->lb_algo rr; persistence_timeout 300s | configuration reload: lb_algo wlc -> rr, persistence_timeout none -> 300s | edit service [10.0.0.100]:tcp:80"], ReloadLines(rig));
        Assert.Equal(["[10.0.0.2]:tcp:80=True", "[10.0.0.3]:tcp:80=False"], Alive(rig));
        Assert.Contains("RS [10.0.0.2]:tcp:80 of VS [10.0.0.100]:tcp:80", result.Kept);
    }

    [Fact]
    public async Task A_forwarding_method_change_edits_the_destinations_in_ipvs()
    {
        await using var rig = new Rig(Config(Real("10.0.0.2"), Real("10.0.0.3")));
        rig.Checks.For("10.0.0.3").Always(Refused);
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();
        var result = await ReloadAsync(rig, Config(Vs(Real("10.0.0.2"), Real("10.0.0.3")) with { ForwardingMethod = ForwardingMethod.DirectRouting }));
        Assert.Equal(["edit 10.0.0.2:80 w1"], rig.Ipvs.TakeOperations()); // the down one is not in IPVS
        Assert.Equal(Lb.Netlink.Ipvs.IpvsForwardingMethod.Route, rig.Ipvs.Table[VsName]["10.0.0.2:80"].Forwarding);
        Assert.Equal(3, result.Changes.Count); // the VS and both real servers
    }

    [Fact]
    public async Task Adding_and_removing_a_virtual_server()
    {
        await using var rig = new Rig(Config(Real("10.0.0.2")));
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();
        var other = Vs(Real("10.0.1.2"), Real("10.0.1.3")) with { Address = IPAddress.Parse("10.0.0.101") };
        var result = await ReloadAsync(rig, new CheckerSubsystemOptions { VirtualServers = [Vs(Real("10.0.0.2")), other] });
        Assert.Equal(3, result.Added.Count);
        Assert.Equal(["add-service [10.0.0.101]:tcp:80", "add 10.0.1.2:80 w1", "add 10.0.1.3:80 w1"], rig.Ipvs.TakeOperations());
        Assert.Equal("reload [10.0.0.101]:tcp:80 absent->added | configuration reload | add service [10.0.0.101]:tcp:80", ReloadLines(rig)[0]);
        Assert.Contains("Adding Virtual Server [10.0.0.101]:tcp:80", rig.Logs.Info());
        Assert.Equal(1, rig.Checks.For("10.0.1.2").Calls);

        rig.Journal.Entries.Clear();
        result = await ReloadAsync(rig, Config(Real("10.0.0.2")));
        Assert.Equal(3, result.Removed.Count);
        Assert.Equal(["del-service [10.0.0.101]:tcp:80"], rig.Ipvs.TakeOperations());
        Assert.Equal(
        [
            "reload [10.0.0.101]:tcp:80 quorum up->removed | configuration reload | remove service [10.0.0.101]:tcp:80 (with its destinations)",
            "reload [10.0.1.2]:tcp:80 up->removed | configuration reload | removed from IPVS with its virtual server",
            "reload [10.0.1.3]:tcp:80 up->removed | configuration reload | removed from IPVS with its virtual server",
        ], ReloadLines(rig));
        Assert.Contains("Removing Virtual Server [10.0.0.101]:tcp:80", rig.Logs.Info());
        rig.Advance(20);
        Assert.Equal(1, rig.Checks.For("10.0.1.2").Calls);
        Assert.Single(rig.Subsystem.GetSnapshot().VirtualServers);
    }

    [Fact]
    public async Task A_changed_checker_restarts_but_the_server_keeps_its_state()
    {
        await using var rig = new Rig(Config(Real("10.0.0.2", retry: 1), Real("10.0.0.3", retry: 1)));
        rig.Checks.For("10.0.0.3").Then(Refused);
        await rig.StartAsync();
        rig.Advance(2);
        rig.Ipvs.TakeOperations();
        var c2 = rig.Checks.For("10.0.0.2").Then(Refused, Refused, Refused);
        var c3 = rig.Checks.For("10.0.0.3").Then(Refused, Refused, Refused, Ok);

        var result = await ReloadAsync(rig, Config(Real("10.0.0.2", retry: 2), Real("10.0.0.3", retry: 2)));

        Assert.Equal(2, result.Changed.Count);
        Assert.Empty(rig.Ipvs.TakeOperations());
        Assert.Contains("reload [10.0.0.2]:tcp:80 checkers TCP_CHECK->checkers TCP_CHECK (changed) | configuration reload: checkers TCP_CHECK -> TCP_CHECK (changed) | none; checkers restarted, state kept", ReloadLines(rig));
        // The new checkers ran at once (t = 2). 10.0.0.2 stays up through its retries (at 3 and 4): not one failure
        // as at start-up. 10.0.0.3 stays down (its round fails at 2, 3, 4) and comes up at its next round's success.
        Assert.Equal(["[10.0.0.2]:tcp:80=True", "[10.0.0.3]:tcp:80=False"], Alive(rig));
        rig.Advance(1);
        Assert.Equal(["[10.0.0.2]:tcp:80=True", "[10.0.0.3]:tcp:80=False"], Alive(rig));
        rig.Advance(1);
        Assert.Equal(["[10.0.0.2]:tcp:80=False", "[10.0.0.3]:tcp:80=False"], Alive(rig));
        Assert.Equal([0, 2, 3, 4], c2.CallTimes.Select(t => t.TotalSeconds));
        Assert.Equal(["del 10.0.0.2:80"], rig.Ipvs.TakeOperations());
        rig.Advance(5); // t = 9: 10.0.0.3's next round
        Assert.Equal(["add 10.0.0.3:80 w1"], rig.Ipvs.TakeOperations());
        Assert.Equal([0, 2, 3, 4, 9], c3.CallTimes.Select(t => t.TotalSeconds));
        // the old loops are gone: each server has one round per delay_loop
        rig.Advance(5);
        Assert.Equal([0, 2, 3, 4, 9, 14], c3.CallTimes.Select(t => t.TotalSeconds));
    }

    [Fact]
    public async Task Raising_the_quorum_brings_in_the_sorry_server_once()
    {
        await using var rig = new Rig(Config(Real("10.0.0.2"), Real("10.0.0.3")));
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();
        rig.Journal.Entries.Clear();
        var sorry = new SorryServerOptions { Address = IPAddress.Parse("10.0.0.9") };
        var result = await ReloadAsync(rig, Config(Vs(Real("10.0.0.2"), Real("10.0.0.3")) with { Quorum = 3, SorryServer = sorry }));
        Assert.Equal(["changed VS [10.0.0.100]:tcp:80: quorum 1 -> 3", "added sorry server [10.0.0.9]:tcp:80 of VS [10.0.0.100]:tcp:80: added"], result.Changes.Select(c => c.ToString()));
        Assert.Equal(["del 10.0.0.2:80", "del 10.0.0.3:80", "add 10.0.0.9:80 w1"], rig.Ipvs.TakeOperations());
        Assert.Equal(
        [
            "reload [10.0.0.100]:tcp:80 quorum 1->quorum 3 | configuration reload: quorum 1 -> 3 | none",
            "quorum [10.0.0.100]:tcp:80 up->down | lost quorum 3-0=3 > 2 | none",
            "reload [10.0.0.9]:tcp:80 absent->in | configuration reload: sorry server added | alive real servers removed; add [10.0.0.9]:tcp:80 with weight 1",
        ], rig.Journal.Lines());

        // and back: the sorry server goes, the pool comes back
        rig.Journal.Entries.Clear();
        await ReloadAsync(rig, Config(Real("10.0.0.2"), Real("10.0.0.3")));
        Assert.Equal(["del 10.0.0.9:80", "add 10.0.0.2:80 w1", "add 10.0.0.3:80 w1"], rig.Ipvs.TakeOperations()); // quorum regained (as update_quorum_state does)
        Assert.Contains("reload [10.0.0.9]:tcp:80 out->removed | configuration reload: sorry server removed | none", rig.Journal.Lines());
        Assert.Equal(["10.0.0.2:80=1", "10.0.0.3:80=1"], rig.Ipvs.Weights(VsName));
    }

    [Fact]
    public async Task A_misc_dynamic_weight_survives_an_unchanged_reload()
    {
        var rs = Real("10.0.0.2") with { Checkers = [new MiscCheckOptions { Path = "/bin/w", Dynamic = true }] };
        await using var rig = new Rig(Config(rs));
        rig.Checks.For("10.0.0.2").Always(new CheckOutcome(true, "exited with status 9", 7));
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();
        var same = Real("10.0.0.2") with { Checkers = [new MiscCheckOptions { Path = "/bin/w", Dynamic = true }] };
        Assert.True((await ReloadAsync(rig, Config(same))).IsEmpty);
        Assert.Empty(rig.Ipvs.TakeOperations());
        Assert.Equal(["10.0.0.2:80=7"], rig.Ipvs.Weights(VsName));
    }

    [Fact]
    public async Task A_hundred_reloads_in_a_row_apply_each_change_once()
    {
        // A: .2 w1, .3 ; B: .2 w2, .4 (and .3 removed)
        var configA = () => Config(Real("10.0.0.2"), Real("10.0.0.3"));
        var configB = () => Config(Real("10.0.0.2", weight: 2), Real("10.0.0.4"));
        await using var rig = new Rig(configA());
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();
        for (var i = 0; i < 100; i++)
        {
            var result = await ReloadAsync(rig, i % 2 == 0 ? configB() : configA());
            Assert.Equal(3, result.Changes.Count);
            rig.Advance(0.5);
        }
        var ops = rig.Ipvs.TakeOperations();
        Assert.Equal(300, ops.Count); // per reload: one edit, one add, one del
        Assert.Equal(50, ops.Count(o => o == "edit 10.0.0.2:80 w2"));
        Assert.Equal(50, ops.Count(o => o == "edit 10.0.0.2:80 w1"));
        Assert.Equal(50, ops.Count(o => o == "add 10.0.0.4:80 w1"));
        Assert.Equal(50, ops.Count(o => o == "del 10.0.0.4:80"));
        Assert.Equal(["10.0.0.2:80=1", "10.0.0.3:80=1"], rig.Ipvs.Weights(VsName));
        Assert.Equal(300, ReloadLines(rig).Count);

        // and the same configuration a hundred times: nothing
        for (var i = 0; i < 100; i++)
            Assert.True((await ReloadAsync(rig, configA())).IsEmpty);
        Assert.Empty(rig.Ipvs.TakeOperations());
        Assert.Equal(300, ReloadLines(rig).Count);
        // one loop per checker left running
        Assert.Equal(2, rig.Time.ActiveTimers);
    }

    [Fact]
    public async Task A_storm_of_concurrent_reloads_ends_in_the_last_requested_configuration()
    {
        var configA = () => Config(Real("10.0.0.2"), Real("10.0.0.3"));
        var configB = () => Config(Real("10.0.0.2", weight: 2), Real("10.0.0.4"));
        await using var rig = new Rig(configA());
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();
        // The first reload (A -> B) is held inside its first IPVS operation while 99 more are requested, alternating, in a
        // known order: they all wait at once, and the last requested (the 100th: A) is known without re-applying anything.
        var blocker = new TaskCompletionSource();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        rig.Ipvs.BeforeOperation = _ =>
        {
            if (entered.TrySetResult())
                blocker.Task.Wait(TimeSpan.FromSeconds(30));
        };
        var tasks = new List<Task<ReloadResult>> { Task.Run(() => rig.Subsystem.ReloadAsync(configB(), CancellationToken.None)) };
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        for (var i = 1; i < 100; i++)
            tasks.Add(rig.Subsystem.ReloadAsync(i % 2 == 0 ? configB() : configA(), CancellationToken.None));
        Assert.All(tasks.Skip(1), t => Assert.False(t.IsCompleted, "a reload did not wait for the one applying"));
        blocker.SetResult();
        var results = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(60));
        rig.Ipvs.BeforeOperation = null;

        // The running configuration is the last requested one (A), as the engine left it: table, checkers and the IPVS fake.
        rig.AssertDesiredTableMatchesIpvs();
        Assert.Equal(["[10.0.0.2]:tcp:80=True", "[10.0.0.3]:tcp:80=True"], Alive(rig));
        Assert.Equal(["10.0.0.2:80=1", "10.0.0.3:80=1"], rig.Ipvs.Weights(VsName));
        Assert.False(results[^1].Superseded, "the last requested reload was skipped");
        Assert.DoesNotContain(rig.Logs.Info(), m => m.StartsWith("IPVS:", StringComparison.Ordinal));
        // Nothing applied twice or half: every applied reload did exactly the three operations of an A <-> B switch (one
        // edit, one add, one del), a skipped one none, and each applied change was journalled once.
        var applied = results.Where(r => !r.Superseded).ToList();
        Assert.All(applied, r => Assert.Equal(3, r.Changes.Count));
        var ops = rig.Ipvs.TakeOperations();
        Assert.Equal(applied.Count * 3, ops.Count);
        Assert.Equal(applied.Count * 3, ReloadLines(rig).Count);
    }

    [Fact]
    public async Task Reloads_are_skipped_when_a_newer_one_was_already_applied()
    {
        await using var rig = new Rig(Config(Real("10.0.0.2")));
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();
        // Hold the gate so the reloads queue up in call order, then release.
        var blocker = new TaskCompletionSource();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        rig.Ipvs.BeforeOperation = op =>
        {
            if (op == "add 10.0.0.3:80 w1")
            {
                entered.TrySetResult();
                blocker.Task.Wait(TimeSpan.FromSeconds(30));
            }
        };
        var first = Task.Run(() => rig.Subsystem.ReloadAsync(Config(Real("10.0.0.2"), Real("10.0.0.3")), CancellationToken.None));
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var second = rig.Subsystem.ReloadAsync(Config(Real("10.0.0.2", weight: 2)), CancellationToken.None);
        var third = rig.Subsystem.ReloadAsync(Config(Real("10.0.0.2", weight: 3)), CancellationToken.None);
        blocker.SetResult();
        var results = await Task.WhenAll(first, second, third).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(results[0].Superseded);
        Assert.False(results[2].Superseded);
        rig.AssertDesiredTableMatchesIpvs();
        Assert.Equal(["10.0.0.2:80=3"], rig.Ipvs.Weights(VsName));
        // the second either ran before the third, or was skipped because the third (newer) ran first
        Assert.Equal(results[1].Superseded ? 0 : 1, rig.Ipvs.Operations.Count(o => o == "edit 10.0.0.2:80 w2"));
    }

    [Fact]
    public async Task A_round_in_flight_on_a_removed_server_is_discarded()
    {
        await using var rig = new Rig(Config(Real("10.0.0.2"), Real("10.0.0.3")));
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();
        var hang = new TaskCompletionSource<CheckOutcome>();
        rig.Checks.For("10.0.0.3").Hang = hang;
        rig.Advance(5); // the t=5 round of 10.0.0.3 is waiting (timeout 3 s)
        await ReloadAsync(rig, Config(Real("10.0.0.2")));
        Assert.Equal(["del 10.0.0.3:80"], rig.Ipvs.TakeOperations());
        var journalled = rig.Journal.Entries.Count;
        hang.SetResult(Refused);
        rig.Advance(10);
        Assert.Empty(rig.Ipvs.TakeOperations());
        Assert.Equal(journalled, rig.Journal.Entries.Count);
        Assert.Equal(["[10.0.0.2]:tcp:80=True"], Alive(rig));
    }

    [Fact]
    public async Task A_round_ending_during_a_reload_is_applied_after_it()
    {
        // retry 0: the round ends with the attempt, and its result goes straight to the gate the reload holds.
        await using var rig = new Rig(Config(Real("10.0.0.2", retry: 0), Real("10.0.0.3"), Real("10.0.0.4")));
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();
        var hang = new TaskCompletionSource<CheckOutcome>();
        var c2 = rig.Checks.For("10.0.0.2");
        c2.Hang = hang;
        rig.Advance(5); // t = 5: 10.0.0.2's round waits on its server
        // While the reload is applying (inside an IPVS operation, under the gate), the round ends with a failure.
        rig.Ipvs.BeforeOperation = op =>
        {
            if (op.StartsWith("add 10.0.0.5", StringComparison.Ordinal))
            {
                c2.Hang = null;
                hang.TrySetResult(Refused);
            }
        };
        var result = await rig.Subsystem.ReloadAsync(Config(Real("10.0.0.2", retry: 0), Real("10.0.0.3", weight: 3), Real("10.0.0.5")), CancellationToken.None);
        Assert.Equal(3, result.Changes.Count);
        // The failure was waiting for the gate: it is applied after the reload, on its own.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!rig.Journal.Lines().Any(l => l.StartsWith("real_server [10.0.0.2]:tcp:80 up->down", StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
            await Task.Delay(5);
        rig.Ipvs.BeforeOperation = null;
        Assert.Equal(["del 10.0.0.4:80", "edit 10.0.0.3:80 w3", "add 10.0.0.5:80 w1", "del 10.0.0.2:80"], rig.Ipvs.TakeOperations());
        rig.AssertDesiredTableMatchesIpvs();
        Assert.Equal(["[10.0.0.2]:tcp:80=False", "[10.0.0.3]:tcp:80=True", "[10.0.0.5]:tcp:80=True"], Alive(rig));
    }

    [Fact]
    public async Task Concurrent_rounds_and_reloads_keep_the_table_consistent()
    {
        await using var rig = new Rig(Config(Real("10.0.0.2"), Real("10.0.0.3")));
        rig.Checks.For("10.0.0.2").Then(Ok, Refused, Refused, Ok, Ok, Refused, Refused, Refused, Ok);
        rig.Checks.For("10.0.0.3").Then(Refused, Ok, Ok, Refused, Ok);
        await rig.StartAsync();
        var clock = Task.Run(() =>
        {
            for (var i = 0; i < 200; i++)
                ManualClock.Advance(rig.Time, 0.5);
        });
        for (var i = 0; i < 50; i++)
        {
            await rig.Subsystem.ReloadAsync(i % 2 == 0
                ? Config(Real("10.0.0.2", weight: 2), Real("10.0.0.4"), Real("10.0.0.3", inhibit: true))
                : Config(Real("10.0.0.2"), Real("10.0.0.3")), CancellationToken.None);
        }
        await clock.WaitAsync(TimeSpan.FromSeconds(60));
        rig.AssertDesiredTableMatchesIpvs();
        Assert.DoesNotContain(rig.Logs.Info(), m => m.StartsWith("IPVS:", StringComparison.Ordinal) || m.StartsWith("Checker ", StringComparison.Ordinal) && m.Contains("crashed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Reload_before_start_is_refused_and_after_a_reload_stop_removes_what_runs()
    {
        await using var rig = new Rig(Config(Real("10.0.0.2")));
        await Assert.ThrowsAsync<InvalidOperationException>(() => rig.Subsystem.ReloadAsync(Config(Real("10.0.0.3")), CancellationToken.None));
        await rig.StartAsync();
        await ReloadAsync(rig, Config(Real("10.0.0.3")));
        rig.Ipvs.TakeOperations();
        await rig.Subsystem.StopAsync(CancellationToken.None);
        // The service's delete removes its destinations with it (one request; keepalived sends one per destination first).
        Assert.Equal(["del-service [10.0.0.100]:tcp:80"], rig.Ipvs.TakeOperations());
        Assert.Empty(rig.Ipvs.Table);
        await Assert.ThrowsAsync<InvalidOperationException>(() => rig.Subsystem.ReloadAsync(Config(Real("10.0.0.3")), CancellationToken.None));
    }

    [Fact]
    public async Task Group_members_added_by_reload_get_the_current_destinations()
    {
        VirtualServerOptions Group(params string[] members) => new()
        {
            Group = "web",
            Port = 80,
            GroupEntries = members.Select(m => new VirtualServerGroupEntry { Address = IPAddress.Parse(m) }).ToList(),
            DelayLoop = TimeSpan.FromSeconds(5),
            Warmup = TimeSpan.Zero,
            RealServers = [Real("10.0.0.2"), Real("10.0.0.3", weight: 4)],
        };
        await using var rig = new Rig(Config(Group("10.0.0.100")));
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();
        var result = await ReloadAsync(rig, Config(Group("10.0.0.101")));
        Assert.Equal(["changed VS [web]:80: group members 10.0.0.100 -> 10.0.0.101, services removed [10.0.0.100]:tcp:80, services added [10.0.0.101]:tcp:80"], result.Changes.Select(c => c.ToString()));
        Assert.Equal(["del-service [10.0.0.100]:tcp:80", "add-service [10.0.0.101]:tcp:80", "add 10.0.0.2:80 w1", "add 10.0.0.3:80 w4"], rig.Ipvs.TakeOperations());
    }

    [Fact]
    public async Task A_kernel_refusing_the_edit_service_logs_the_error_and_keeps_running()
    {
        var options = Config(Real("10.0.0.2"));
        var ipvs = new InMemoryIpvsTable { Refuse = op => op.Kind == Lb.Netlink.Ipvs.IpvsOperationKind.EditService ? Lb.Netlink.Errno.EINVAL : 0 };
        var time = new Lb.TestSupport.ManualTimeProvider();
        var logs = new ListLogger();
        await using var subsystem = new CheckerSubsystem(options, ipvs, new MemoryJournal(), logs, time, new ScriptedCheckFactory(time), new RecordingScriptRunner());
        await subsystem.StartAsync(CancellationToken.None);
        var result = await subsystem.ReloadAsync(Config(Vs(Real("10.0.0.2")) with { Scheduler = "rr" }), CancellationToken.None);
        Assert.Single(result.Changed);
        Assert.Contains(logs.Info(), m => m.StartsWith("IPVS: edit service [10.0.0.100]:tcp:80 failed", StringComparison.Ordinal));
    }
}
