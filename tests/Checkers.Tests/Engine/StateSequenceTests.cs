using Lb.Checkers.Engine;
using Lb.Checkers.Options;
using Lb.Checkers.Tests.Support;
using Xunit;
using static Lb.Checkers.Tests.Support.Rig;

namespace Lb.Checkers.Tests.Engine;

public class StateSequenceTests
{
    private static List<string> Alive(Rig rig) =>
        rig.Subsystem.GetSnapshot().VirtualServers.SelectMany(v => v.RealServers).Select(r => $"{r.Name}={r.Alive}").ToList();

    private static readonly CheckOutcome Ok = CheckOutcome.Ok("connected");
    private static readonly CheckOutcome Refused = CheckOutcome.Fail("connection refused");

    [Fact]
    public async Task Server_goes_down_after_retry_plus_one_failures_and_comes_back_after_one_success()
    {
        var vs = Vs(Rs("10.0.0.2", new TcpCheckOptions { Retry = 2 }));
        await using var rig = new Rig(Options1(vs));
        var check = rig.Checks.For("10.0.0.2").Then(Ok, Refused, Refused, Refused, Ok);

        await rig.StartAsync();
        Assert.Equal(["add-service [10.0.0.100]:tcp:80", "add 10.0.0.2:80 w1"], rig.Ipvs.TakeOperations());
        Assert.Equal(1, check.Calls);

        rig.Advance(5); // t=5 fail, retries at t=6 and t=7 (delay_before_retry 1 s) -> down at t=7
        Assert.Equal(["[10.0.0.2]:tcp:80=True"], Alive(rig));
        rig.Advance(2);
        Assert.Equal(["[10.0.0.2]:tcp:80=False"], Alive(rig));
        Assert.Equal([0, 5, 6, 7], check.CallTimes.Select(t => t.TotalSeconds));
        Assert.Equal(["del 10.0.0.2:80"], rig.Ipvs.TakeOperations());

        rig.Advance(4); // next round at t=7+5=12
        Assert.Empty(rig.Ipvs.TakeOperations());
        rig.Advance(1);
        Assert.Equal(["add 10.0.0.2:80 w1"], rig.Ipvs.TakeOperations());

        Assert.Equal(
        [
            "real_server [10.0.0.2]:tcp:80 init->up | start-up | added with weight 1",
            "quorum [10.0.0.100]:tcp:80 init->up | gained quorum 1+0=1 <= 1 | none",
            "real_server [10.0.0.2]:tcp:80 up->down | TCP_CHECK: connection refused after 2 retries | removed from IPVS",
            "quorum [10.0.0.100]:tcp:80 up->down | lost quorum 1-0=1 > 0 | none",
            "real_server [10.0.0.2]:tcp:80 down->up | TCP_CHECK: connected | added to IPVS with weight 1",
            "quorum [10.0.0.100]:tcp:80 down->up | gained quorum 1+0=1 <= 1 | none",
        ], rig.Journal.Lines());
        Assert.Equal(7, rig.At(2));
        Assert.Equal(12, rig.At(4));

        var logs = rig.Logs.Info();
        Assert.Contains("TCP_CHECK on service [10.0.0.2]:tcp:80 failed after 2 retries.", logs);
        Assert.Contains("Removing service [10.0.0.2]:tcp:80 from VS [10.0.0.100]:tcp:80", logs);
        Assert.Contains("Lost quorum 1-0=1 > 0 for VS [10.0.0.100]:tcp:80", logs);
        Assert.Contains("TCP connection to [10.0.0.2]:tcp:80 success.", logs);
        Assert.Contains("Adding service [10.0.0.2]:tcp:80 to VS [10.0.0.100]:tcp:80", logs);
        Assert.Contains("Gained quorum 1+0=1 <= 1 for VS [10.0.0.100]:tcp:80", logs);
    }

    [Fact]
    public async Task A_success_between_failures_resets_the_retry_count()
    {
        var vs = Vs(Rs("10.0.0.2", new TcpCheckOptions { Retry = 1 }));
        await using var rig = new Rig(Options1(vs));
        rig.Checks.For("10.0.0.2").Then(Ok, Refused, Ok, Refused, Ok);
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();
        rig.Advance(30);
        Assert.Empty(rig.Ipvs.TakeOperations());
        Assert.Equal(2, rig.Journal.Entries.Count);
    }

    [Fact]
    public async Task At_start_one_failure_is_enough()
    {
        var vs = Vs(Rs("10.0.0.2", new HttpCheckOptions { Retry = 3, Urls = [new UrlOptions { Path = "/" }] }));
        await using var rig = new Rig(Options1(vs));
        var check = rig.Checks.For("10.0.0.2").Always(CheckOutcome.Fail("HTTP status 503 on /"));
        await rig.StartAsync();
        Assert.Equal(["add-service [10.0.0.100]:tcp:80", "add 10.0.0.2:80 w1", "del 10.0.0.2:80"], rig.Ipvs.TakeOperations());
        Assert.Equal(1, check.Calls);
        Assert.Contains("HTTP_CHECK on service [10.0.0.2]:tcp:80 failed.", rig.Logs.Info());
        Assert.Contains("real_server [10.0.0.2]:tcp:80 up->down | HTTP_GET: HTTP status 503 on / | removed from IPVS", rig.Journal.Lines());

        // While down, HTTP_GET does not retry: one attempt per delay_loop.
        rig.Advance(10);
        Assert.Equal(3, check.Calls);
    }

    [Fact]
    public async Task Tcp_check_keeps_retrying_while_down_as_keepalived()
    {
        var vs = Vs(Rs("10.0.0.2", new TcpCheckOptions { Retry = 2 }));
        await using var rig = new Rig(Options1(vs));
        var check = rig.Checks.For("10.0.0.2").Always(Refused);
        await rig.StartAsync(); // t=0 down at once, next round t=5 with retries at 6 and 7, then t=12
        rig.Advance(12);
        Assert.Equal([0, 5, 6, 7, 12], check.CallTimes.Select(t => t.TotalSeconds));
    }

    [Fact]
    public async Task Alpha_starts_down_and_adds_after_the_first_success()
    {
        var vs = Vs(Rs("10.0.0.2")) with { Alpha = true, Warmup = TimeSpan.FromSeconds(4) };
        await using var rig = new Rig(Options1(vs), warmupFraction: 0.5);
        var check = rig.Checks.For("10.0.0.2").Then(Ok);
        await rig.StartAsync();
        Assert.Equal(["add-service [10.0.0.100]:tcp:80"], rig.Ipvs.TakeOperations());
        Assert.Equal(0, check.Calls);
        rig.Advance(1.9);
        Assert.Equal(0, check.Calls);
        rig.Advance(0.1); // warmup: random 0.5 x 4 s
        Assert.Equal(1, check.Calls);
        Assert.Equal(["add 10.0.0.2:80 w1"], rig.Ipvs.TakeOperations());
        Assert.Equal(
        [
            "real_server [10.0.0.2]:tcp:80 init->down | alpha: down until the first successful check | none",
            "real_server [10.0.0.2]:tcp:80 down->up | TCP_CHECK: connected | added to IPVS with weight 1",
            "quorum [10.0.0.100]:tcp:80 down->up | gained quorum 1+0=1 <= 1 | none",
        ], rig.Journal.Lines());
    }

    [Fact]
    public async Task Inhibit_on_failure_sets_weight_zero_and_restores_it()
    {
        var vs = Vs(Rs("10.0.0.2") with { Weight = 3 }) with { InhibitOnFailure = true };
        await using var rig = new Rig(Options1(vs));
        rig.Checks.For("10.0.0.2").Then(Ok, Refused, Refused, Ok);
        await rig.StartAsync();
        rig.Advance(6); // t=5 fail, t=6 retry fails -> down
        rig.Advance(5); // t=11 ok
        Assert.Equal(["add-service [10.0.0.100]:tcp:80", "add 10.0.0.2:80 w3", "edit 10.0.0.2:80 w0", "edit 10.0.0.2:80 w3"], rig.Ipvs.TakeOperations());
        var logs = rig.Logs.Info();
        Assert.Contains("Disabling service [10.0.0.2]:tcp:80 of VS [10.0.0.100]:tcp:80", logs);
        Assert.Contains("Enabling service [10.0.0.2]:tcp:80 of VS [10.0.0.100]:tcp:80", logs);
        Assert.Contains(rig.Journal.Lines(), l => l.Contains("up->down", StringComparison.Ordinal) && l.EndsWith("weight 3 -> 0 (inhibit_on_failure)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Alpha_with_inhibit_adds_with_weight_zero_at_start()
    {
        var vs = Vs(Rs("10.0.0.2")) with { Alpha = true, InhibitOnFailure = true };
        await using var rig = new Rig(Options1(vs));
        rig.Checks.For("10.0.0.2").Always(Refused);
        await rig.StartAsync();
        Assert.Equal(["add-service [10.0.0.100]:tcp:80", "add 10.0.0.2:80 w0"], rig.Ipvs.TakeOperations());
        rig.Checks.For("10.0.0.2").Always(Ok);
        rig.Advance(5);
        Assert.Equal(["edit 10.0.0.2:80 w1"], rig.Ipvs.TakeOperations());
    }

    [Fact]
    public async Task Several_checkers_down_at_first_failure_up_when_all_pass()
    {
        var vs = Vs(Rs("10.0.0.2", new TcpCheckOptions { Retry = 0 }, new TcpCheckOptions { Retry = 0, ConnectPort = 8080 }));
        await using var rig = new Rig(Options1(vs));
        var a = rig.Checks.For("10.0.0.2", 0).Then(Ok, Refused, Refused, Ok);
        var b = rig.Checks.For("10.0.0.2", 1).Then(Ok, Ok, Refused, Ok);
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();
        rig.Advance(5); // a fails -> down; b ok
        Assert.Equal(["del 10.0.0.2:80"], rig.Ipvs.TakeOperations());
        rig.Advance(5); // a still failing, b fails too -> still down
        Assert.Empty(rig.Ipvs.TakeOperations());
        rig.Advance(5); // a ok (b still failed: stays down), then b ok -> up
        Assert.Equal(["add 10.0.0.2:80 w1"], rig.Ipvs.TakeOperations());
        Assert.Equal(2, rig.Journal.Entries.Count(e => e.Kind == "real_server" && e.OldState != "init"));
    }

    [Fact]
    public async Task Quorum_lost_brings_in_the_sorry_server_and_gained_takes_it_out()
    {
        var vs = Vs(Rs("10.0.0.2", new TcpCheckOptions { Retry = 0 }), Rs("10.0.0.3", new TcpCheckOptions { Retry = 0 })) with
        {
            Quorum = 2,
            SorryServer = new SorryServerOptions { Address = System.Net.IPAddress.Parse("10.0.0.9"), Port = 8080 },
            QuorumUp = new ScriptOptions { Command = "/bin/quorum up" },
            QuorumDown = new ScriptOptions { Command = "/bin/quorum \"down now\"" },
        };
        await using var rig = new Rig(Options1(vs));
        rig.Checks.For("10.0.0.2").Then(Ok, Refused, Ok);
        rig.Checks.For("10.0.0.3").Always(Ok);
        await rig.StartAsync();
        Assert.Equal(["add-service [10.0.0.100]:tcp:80", "add 10.0.0.2:80 w1", "add 10.0.0.3:80 w1"], rig.Ipvs.TakeOperations());

        rig.Advance(5);
        Assert.Equal(["del 10.0.0.2:80", "del 10.0.0.3:80", "add 10.0.0.9:8080 w1"], rig.Ipvs.TakeOperations());
        Assert.Equal(["10.0.0.9:8080=1"], rig.Ipvs.Weights(VsName));
        var logs = rig.Logs.Info();
        Assert.Contains("Lost quorum 2-0=2 > 1 for VS [10.0.0.100]:tcp:80", logs);
        Assert.Contains("Adding sorry server [10.0.0.9]:tcp:8080 to VS [10.0.0.100]:tcp:80", logs);
        Assert.Contains("Removing alive servers from the pool for VS [10.0.0.100]:tcp:80", logs);

        rig.Advance(5);
        Assert.Equal(["del 10.0.0.9:8080", "add 10.0.0.2:80 w1", "add 10.0.0.3:80 w1"], rig.Ipvs.TakeOperations());
        Assert.Contains("Gained quorum 2+0=2 <= 2 for VS [10.0.0.100]:tcp:80", rig.Logs.Info());
        Assert.Contains("Removing sorry server [10.0.0.9]:tcp:8080 from VS [10.0.0.100]:tcp:80", rig.Logs.Info());

        Assert.Contains("sorry_server [10.0.0.9]:tcp:8080 out->in | quorum lost | added to IPVS with weight 1", rig.Journal.Lines());
        Assert.Contains("sorry_server [10.0.0.9]:tcp:8080 in->out | quorum gained | removed from IPVS", rig.Journal.Lines());
        await rig.Subsystem.PendingNotifies();
        Assert.Equal(["/bin/quorum up", "/bin/quorum down now", "/bin/quorum up"], rig.Scripts.Runs);
    }

    [Fact]
    public async Task Sorry_server_inhibit_keeps_it_at_weight_zero_until_needed()
    {
        var vs = Vs(Rs("10.0.0.2", new TcpCheckOptions { Retry = 0 })) with
        {
            SorryServer = new SorryServerOptions { Address = System.Net.IPAddress.Parse("10.0.0.9") },
            SorryServerInhibit = true,
        };
        await using var rig = new Rig(Options1(vs));
        rig.Checks.For("10.0.0.2").Then(Ok, Refused, Ok);
        await rig.StartAsync();
        Assert.Equal(["add-service [10.0.0.100]:tcp:80", "add 10.0.0.2:80 w1", "add 10.0.0.9:80 w0"], rig.Ipvs.TakeOperations());
        rig.Advance(5);
        Assert.Equal(["del 10.0.0.2:80", "edit 10.0.0.9:80 w1"], rig.Ipvs.TakeOperations());
        Assert.Contains("Enabling sorry server [10.0.0.9]:tcp:80 to VS [10.0.0.100]:tcp:80", rig.Logs.Info());
        rig.Advance(5);
        Assert.Equal(["edit 10.0.0.9:80 w0", "add 10.0.0.2:80 w1"], rig.Ipvs.TakeOperations());
        Assert.Contains("Disabling sorry server [10.0.0.9]:tcp:80 from VS [10.0.0.100]:tcp:80", rig.Logs.Info());
    }

    [Fact]
    public async Task Alpha_with_sorry_server_starts_with_quorum_down()
    {
        var vs = Vs(Rs("10.0.0.2")) with { Alpha = true, SorryServer = new SorryServerOptions { Address = System.Net.IPAddress.Parse("10.0.0.9") } };
        await using var rig = new Rig(Options1(vs));
        rig.Checks.For("10.0.0.2").Always(Refused);
        await rig.StartAsync();
        Assert.Equal(["add-service [10.0.0.100]:tcp:80", "add 10.0.0.9:80 w1"], rig.Ipvs.TakeOperations());
        Assert.Contains("Starting with quorum down 1-0=1 > 0 for VS [10.0.0.100]:tcp:80", rig.Logs.Info());
    }

    [Fact]
    public async Task Hysteresis_damps_quorum_changes()
    {
        // quorum 2, hysteresis 1: lost below 2-1=1, gained again at 2+1=3.
        var vs = Vs(Rs("10.0.0.2", new TcpCheckOptions { Retry = 0 }), Rs("10.0.0.3", new TcpCheckOptions { Retry = 0 }), Rs("10.0.0.4", new TcpCheckOptions { Retry = 0 })) with
        {
            Quorum = 2,
            Hysteresis = 1,
        };
        await using var rig = new Rig(Options1(vs));
        var a = rig.Checks.For("10.0.0.2").Then(Ok, Refused, Refused, Refused, Ok);
        var b = rig.Checks.For("10.0.0.3").Then(Ok, Ok, Refused, Refused, Ok);
        var c = rig.Checks.For("10.0.0.4").Then(Ok, Ok, Ok, Refused, Ok, Ok, Ok);
        await rig.StartAsync();
        Assert.Single(rig.Journal.Entries, e => e.Kind == "quorum" && e.NewState == "up");
        rig.Advance(5); // 2 alive: 2 >= 1, quorum stays up
        rig.Advance(5); // 1 alive: 1 >= 1, stays up
        Assert.DoesNotContain(rig.Journal.Entries, e => e.Kind == "quorum" && e.NewState == "down");
        rig.Advance(5); // 0 alive: lost
        Assert.Contains("Lost quorum 2-1=1 > 0 for VS [10.0.0.100]:tcp:80", rig.Logs.Info());
        rig.Advance(5); // all back: 1, 2 < 3 ... then 3 >= 3 gained
        Assert.Contains("Gained quorum 2+1=3 <= 3 for VS [10.0.0.100]:tcp:80", rig.Logs.Info());
        var quorum = rig.Journal.Entries.Where(e => e.Kind == "quorum").Select(e => $"{e.OldState}->{e.NewState}").ToList();
        Assert.Equal(["init->up", "up->down", "down->up"], quorum);
    }

    [Fact]
    public async Task Misc_dynamic_changes_the_weight()
    {
        var vs = Vs(Rs("10.0.0.2", new MiscCheckOptions { Path = "/bin/check", Dynamic = true }));
        await using var rig = new Rig(Options1(vs));
        rig.Checks.For("10.0.0.2").Then(new CheckOutcome(true, "misc_dynamic weight 7", 7), new CheckOutcome(true, "misc_dynamic weight 7", 7), CheckOutcome.Ok("exited with status 0"));
        await rig.StartAsync();
        Assert.Equal(["add-service [10.0.0.100]:tcp:80", "add 10.0.0.2:80 w1", "edit 10.0.0.2:80 w7"], rig.Ipvs.TakeOperations());
        Assert.Contains("weight [10.0.0.2]:tcp:80 weight 1->weight 7 | misc_dynamic weight 7 | weight 1 -> 7", rig.Journal.Lines());
        Assert.Contains("Changing weight from 1 to 7 for active service [10.0.0.2]:tcp:80 of VS [10.0.0.100]:tcp:80", rig.Logs.Info());
        rig.Advance(10); // same weight, then exit 0 (weight unchanged)
        Assert.Empty(rig.Ipvs.TakeOperations());
        Assert.Equal(7, rig.Subsystem.GetSnapshot().VirtualServers[0].RealServers[0].Weight);
    }

    [Fact]
    public async Task Notify_scripts_run_with_argv_and_script_user()
    {
        var vs = Vs(Rs("10.0.0.2", new TcpCheckOptions { Retry = 0 }) with
        {
            NotifyUp = new ScriptOptions { Command = "/usr/local/bin/notify 'rs up' 10.0.0.2" },
            NotifyDown = new ScriptOptions { Command = "/usr/local/bin/notify down;rm", User = "www" },
        });
        await using var rig = new Rig(Options1(vs) with { ScriptUser = "lbscript" });
        rig.Checks.For("10.0.0.2").Then(Ok, Refused, Ok);
        await rig.StartAsync();
        rig.Advance(10);
        await rig.Subsystem.PendingNotifies();
        Assert.Equal(["/usr/local/bin/notify down;rm (as www)", "/usr/local/bin/notify rs up 10.0.0.2 (as lbscript)"], rig.Scripts.Runs);
    }

    [Fact]
    public async Task Stop_removes_what_was_added_and_runs_omega_notifiers()
    {
        var vs = Vs(Rs("10.0.0.2") with { NotifyDown = new ScriptOptions { Command = "/bin/down 10.0.0.2" } }, Rs("10.0.0.3")) with
        {
            Omega = true,
            QuorumDown = new ScriptOptions { Command = "/bin/qdown" },
        };
        await using var rig = new Rig(Options1(vs));
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();
        await rig.Subsystem.StopAsync(CancellationToken.None);
        // The service's delete removes its destinations with it (one request; keepalived sends one per destination first);
        // each server is still journalled and logged as removed.
        Assert.Equal(["del-service [10.0.0.100]:tcp:80"], rig.Ipvs.TakeOperations());
        Assert.Contains("Shutting down service [10.0.0.3]:tcp:80 from VS [10.0.0.100]:tcp:80", rig.Logs.Info());
        Assert.Contains(rig.Journal.Lines(), l => l.StartsWith("real_server [10.0.0.2]:tcp:80 up->removed | shutdown | removed from IPVS", StringComparison.Ordinal));
        Assert.Contains(rig.Journal.Lines(), l => l.StartsWith("real_server [10.0.0.3]:tcp:80 up->removed | shutdown | removed from IPVS", StringComparison.Ordinal));
        Assert.Equal(["/bin/down 10.0.0.2", "/bin/qdown"], rig.Scripts.Runs);
        Assert.Contains("Shutting down service [10.0.0.2]:tcp:80 from VS [10.0.0.100]:tcp:80", rig.Logs.Info());
        Assert.Empty(rig.Ipvs.Table);
        Assert.Equal(0, rig.Time.ActiveTimers);
    }

    [Fact]
    public async Task Stop_without_omega_runs_no_notifiers()
    {
        var vs = Vs(Rs("10.0.0.2") with { NotifyDown = new ScriptOptions { Command = "/bin/down" } }) with { QuorumDown = new ScriptOptions { Command = "/bin/qdown" } };
        await using var rig = new Rig(Options1(vs));
        await rig.StartAsync();
        await rig.Subsystem.StopAsync(CancellationToken.None);
        Assert.Empty(rig.Scripts.Runs);
    }

    [Fact]
    public async Task Journal_entry_is_written_before_the_ipvs_operation()
    {
        var vs = Vs(Rs("10.0.0.2", new TcpCheckOptions { Retry = 0 }));
        await using var rig = new Rig(Options1(vs));
        var seen = new List<string>();
        rig.Ipvs.BeforeOperation = op =>
        {
            if (op.StartsWith("add 10.0.0.2", StringComparison.Ordinal) || op.StartsWith("del 10.0.0.2", StringComparison.Ordinal))
            {
                var last = rig.Journal.Entries.Last(e => e.Kind == "real_server");
                seen.Add($"{op} after journal {last.OldState}->{last.NewState}");
            }
        };
        rig.Checks.For("10.0.0.2").Then(Ok, Refused, Ok);
        await rig.StartAsync();
        rig.Advance(10);
        Assert.Equal(["add 10.0.0.2:80 w1 after journal init->up", "del 10.0.0.2:80 after journal up->down", "add 10.0.0.2:80 w1 after journal down->up"], seen);
    }

    [Fact]
    public async Task Retry_attempt_is_bounded_by_connect_timeout()
    {
        var vs = Vs(Rs("10.0.0.2", new TcpCheckOptions { Retry = 1 }));
        await using var rig = new Rig(Options1(vs));
        var check = rig.Checks.For("10.0.0.2");
        await rig.StartAsync(); // first round ok
        check.Hang = new TaskCompletionSource<CheckOutcome>();
        rig.Advance(5);    // t=5 attempt hangs
        rig.Advance(3);    // t=8 timeout, retry at t=9
        rig.Advance(1);
        rig.Advance(3);    // t=12 timeout -> down
        Assert.Equal([0, 5, 9], check.CallTimes.Select(t => t.TotalSeconds));
        Assert.Contains("real_server [10.0.0.2]:tcp:80 up->down | TCP_CHECK: connect timeout 3 s after 1 retries | removed from IPVS", rig.Journal.Lines());
        Assert.Equal(12, rig.At(2));
    }

    [Fact]
    public async Task Fwmark_and_group_virtual_servers_map_to_ipvs_services()
    {
        var fw = new VirtualServerOptions { FirewallMark = 7, RealServers = [Rs("10.0.0.2")], Warmup = TimeSpan.Zero };
        var grp = new VirtualServerOptions
        {
            Group = "web",
            Port = 443,
            GroupEntries =
            [
                new VirtualServerGroupEntry { Address = System.Net.IPAddress.Parse("192.168.200.1"), AddressEnd = System.Net.IPAddress.Parse("192.168.200.3") },
                new VirtualServerGroupEntry { FirewallMark = 9 },
            ],
            RealServers = [Rs("10.0.0.5")],
            Warmup = TimeSpan.Zero,
        };
        await using var rig = new Rig(new CheckerSubsystemOptions { VirtualServers = [fw, grp] });
        await rig.StartAsync();
        // One reconcile at start-up: each service is added, then its destinations.
        Assert.Equal(
        [
            "add-service FWM 7", "add 10.0.0.2:80 w1",
            "add-service [192.168.200.1]:tcp:443", "add 10.0.0.5:80 w1",
            "add-service [192.168.200.2]:tcp:443", "add 10.0.0.5:80 w1",
            "add-service [192.168.200.3]:tcp:443", "add 10.0.0.5:80 w1",
            "add-service FWM 9", "add 10.0.0.5:80 w1",
        ], rig.Ipvs.TakeOperations());
        foreach (var service in new[] { "[192.168.200.1]:tcp:443", "[192.168.200.2]:tcp:443", "[192.168.200.3]:tcp:443", "FWM 9" })
            Assert.Equal(["10.0.0.5:80=1"], rig.Ipvs.Weights(service));
        Assert.Equal(["10.0.0.2:80=1"], rig.Ipvs.Weights("FWM 7"));
        Assert.Equal("[web]:443", rig.Subsystem.GetSnapshot().VirtualServers[1].Name);
    }
}

public class LogTextTests
{
    [Theory]
    [InlineData("UDP", "UDP connection to [10.0.0.2]:tcp:80 success.", "UDP_CHECK on service [10.0.0.2]:tcp:80 failed after 1 retries.")]
    [InlineData("PING", "ICMP connection to [10.0.0.2]:tcp:80 success.", "ICMP CHECK on service [10.0.0.2]:tcp:80 of [10.0.0.100]:tcp:80 failed after 1 retries.")]
    [InlineData("SMTP", "Remote SMTP server [10.0.0.2]:tcp:80 succeed on service.", "SMTP_CHECK on service [10.0.0.2]:tcp:80 failed after 1 retries.")]
    [InlineData("DNS", "DNS_CHECK on service [10.0.0.2]:tcp:80 succeeded.", "DNS_CHECK on service [10.0.0.2]:tcp:80 failed after 1 retries.")]
    [InlineData("MISC", "Misc check to [10.0.0.2] for [/usr/bin/check] succeeded.", "Misc check to [10.0.0.2] for [/usr/bin/check] failed (exited with status 1).")]
    public async Task Each_kind_logs_keepalived_text(string kind, string success, string failure)
    {
        CheckerOptions c = kind switch
        {
            "UDP" => new UdpCheckOptions { Retry = 1 },
            "PING" => new PingCheckOptions { Retry = 1 },
            "SMTP" => new SmtpCheckOptions { Retry = 1 },
            "DNS" => new DnsCheckOptions { Retry = 1 },
            _ => new MiscCheckOptions { Path = "/usr/bin/check --fast", Retry = 1 },
        };
        await using var rig = new Rig(Options1(Vs(Rs("10.0.0.2", c))));
        rig.Checks.For("10.0.0.2").Then(CheckOutcome.Ok("ok"), CheckOutcome.Fail("exited with status 1"), CheckOutcome.Fail("exited with status 1"));
        await rig.StartAsync();
        rig.Advance(5);
        rig.Advance(1);
        var logs = rig.Logs.Info();
        Assert.Contains(success, logs);
        Assert.Contains(failure, logs);
    }
}

public class StateChangedEventTests
{
    [Fact]
    public async Task Handlers_run_outside_the_lock_and_may_take_a_snapshot()
    {
        var vs = Vs(Rs("10.0.0.2", new TcpCheckOptions { Retry = 0 }));
        await using var rig = new Rig(Options1(vs));
        var seen = new List<string>();
        rig.Subsystem.StateChanged += (_, e) =>
        {
            var alive = rig.Subsystem.GetSnapshot().VirtualServers[0].RealServers[0].Alive;
            seen.Add($"{e.Kind} {e.OldState}->{e.NewState} alive={alive}");
        };
        rig.Checks.For("10.0.0.2").Then(CheckOutcome.Ok("ok"), CheckOutcome.Fail("refused"));
        await rig.StartAsync();
        rig.Advance(5);
        Assert.Equal(["real_server init->up alive=True", "quorum init->up alive=True", "real_server up->down alive=False", "quorum up->down alive=False"], seen);
    }
}

public class HaSuspendTests
{
    [Fact]
    public async Task Checkers_skip_rounds_while_the_virtual_address_is_not_local()
    {
        var vs = Vs(Rs("10.0.0.2", new TcpCheckOptions { Retry = 0 })) with { HaSuspend = true };
        await using var rig = new Rig(Options1(vs));
        var local = false;
        rig.Subsystem.IsLocalAddress = a => local && a.Equals(System.Net.IPAddress.Parse("10.0.0.100"));
        var check = rig.Checks.For("10.0.0.2").Always(CheckOutcome.Fail("refused"));
        await rig.StartAsync();
        rig.Advance(10);
        Assert.Equal(0, check.Calls);
        Assert.Contains("Suspending healthcheckers of VS [10.0.0.100]:tcp:80 (ha_suspend)", rig.Logs.Info());
        local = true;
        rig.Advance(5);
        Assert.Equal(1, check.Calls);
        Assert.Contains("Resuming healthcheckers of VS [10.0.0.100]:tcp:80 (ha_suspend)", rig.Logs.Info());
        Assert.Contains("del 10.0.0.2:80", rig.Ipvs.Operations);
    }
}
