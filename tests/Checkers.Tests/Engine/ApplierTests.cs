using Lb.Checkers.Engine;
using Lb.Checkers.Journal;
using Lb.Checkers.Options;
using Lb.Checkers.Tests.Support;
using Lb.TestSupport;
using Xunit;
using static Lb.Checkers.Tests.Support.Rig;

namespace Lb.Checkers.Tests.Engine;

/// <summary>
/// Decide, then apply: the gate is not held across the IPVS work, status readers never wait, change sets are applied in
/// decision order with one journal batch each, round durations are measured, and the stop's removal (or, with -I, its
/// absence) is what the owner of the table waits for. The IPVS is the in-memory table (the host kernel has no IPVS; the
/// kernel tier runs the real one): a request held in <see cref="InMemoryIpvsTable.BeforeOperation"/> stands for a slow
/// netlink round trip.
/// </summary>
public class ApplierTests
{
    private static readonly CheckOutcome Ok = CheckOutcome.Ok("connected");
    private static readonly CheckOutcome Refused = CheckOutcome.Fail("connection refused");
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    // How long a held IPVS request waits for the test to release it: far beyond Bound, so a reader that waits for the
    // request fails its bound instead of being let through by the hold ending.
    private static readonly TimeSpan Hold = TimeSpan.FromMinutes(5);

    private static List<string> Alive(Rig rig) =>
        rig.Subsystem.GetSnapshot().VirtualServers.SelectMany(v => v.RealServers).Select(r => $"{r.Name}={r.Alive}").ToList();

    [Fact]
    public async Task While_an_ipvs_batch_is_in_flight_status_and_decisions_do_not_wait_and_the_status_changes_once_it_is_applied()
    {
        var vs = Vs(Rs("10.0.0.2", new TcpCheckOptions { Retry = 0 }), Rs("10.0.0.3", new TcpCheckOptions { Retry = 0 }));
        await using var rig = new Rig(Options1(vs));
        rig.Checks.For("10.0.0.2").Then(Ok, Refused);
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();

        using var release = new ManualResetEventSlim();
        using var entered = new ManualResetEventSlim();
        rig.Ipvs.BeforeOperation = op =>
        {
            if (op == "del 10.0.0.2:80")
            {
                entered.Set();
                release.Wait(Hold);
            }
        };
        // The round at t=5 fails: its change set (journal, then "del") is applied by this thread, and held in the kernel.
        var advancing = Task.Run(() => ManualClock.Advance(rig.Time, 5));
        try
        {
            Assert.True(entered.Wait(Bound), "the removal was never sent");

            // Neither a status read nor the gate waits for the netlink round trip (held far longer than these bounds).
            var snapshot = await Task.Run(rig.Subsystem.GetSnapshot).WaitAsync(Bound);
            var desired = await Task.Run(rig.Subsystem.GetDesiredTable).WaitAsync(Bound);
            Assert.False(release.IsSet);
            // Published after the change set is applied: still up; decided: already out of the desired table.
            Assert.Equal(["[10.0.0.2]:tcp:80=True", "[10.0.0.3]:tcp:80=True"], snapshot.VirtualServers.SelectMany(v => v.RealServers).Select(r => $"{r.Name}={r.Alive}"));
            Assert.Equal(["10.0.0.3"], desired.Single().Destinations.Select(d => d.Address.ToString()));
            // The journal entry is already durable.
            Assert.Contains(rig.Journal.Lines(), l => l.StartsWith("real_server [10.0.0.2]:tcp:80 up->down", StringComparison.Ordinal));
        }
        finally
        {
            release.Set();
        }
        await advancing.WaitAsync(Bound);
        Assert.True(Wait.Until(() => Alive(rig).Contains("[10.0.0.2]:tcp:80=False"), Bound), "the status was not published after the batch");
        Assert.Equal(["10.0.0.3:80=1"], rig.Ipvs.Weights(VsName));
        var published = rig.Subsystem.GetSnapshot();
        Assert.Equal(0, published.IpvsErrors);
        Assert.True(published.IpvsOperations >= 4, $"{published.IpvsOperations} operations counted"); // service, two adds, the del
    }

    [Fact]
    public async Task A_change_set_is_journalled_as_one_batch_before_its_ipvs_operations_which_go_as_one_batch()
    {
        // Quorum 2 with two servers of weight 1: one failure takes a server out and loses quorum, which brings the sorry
        // server in — one decision, several journal entries and IPVS operations.
        var vs = Vs(Rs("10.0.0.2", new TcpCheckOptions { Retry = 0 }), Rs("10.0.0.3")) with
        {
            Quorum = 2,
            SorryServer = new SorryServerOptions { Address = System.Net.IPAddress.Parse("10.0.0.9"), Port = 80 },
        };
        var journal = new BatchRecordingJournal();
        var ipvs = new InMemoryIpvsTable();
        var time = new ManualTimeProvider();
        var checks = new ScriptedCheckFactory(time);
        checks.For("10.0.0.2").Then(Ok, Refused);
        var journalledBeforeIpvs = new List<int>();
        ipvs.BeforeOperation = _ => journalledBeforeIpvs.Add(journal.Entries.Count);
        await using var subsystem = new CheckerSubsystem(Options1(vs), ipvs, journal, new ListLogger(), time, checks, new RecordingScriptRunner());
        await subsystem.StartAsync(CancellationToken.None);
        var batchesAtStart = journal.Batches.Count;
        ipvs.TakeOperations();
        journalledBeforeIpvs.Clear();

        ManualClock.Advance(time, 5);

        // One batch for the whole decision: the real server down, quorum lost, sorry server in.
        Assert.Equal(batchesAtStart + 1, journal.Batches.Count);
        Assert.Equal(["real_server", "quorum", "sorry_server"], journal.Batches[^1].Select(e => e.Kind));
        // Every IPVS request of that decision found the whole batch durable.
        Assert.Equal(["del 10.0.0.2:80", "del 10.0.0.3:80", "add 10.0.0.9:80 w1"], ipvs.TakeOperations());
        Assert.All(journalledBeforeIpvs, n => Assert.Equal(journal.Entries.Count, n));
        Assert.Equal(["10.0.0.9:80=1"], ipvs.Weights(VsName));
    }

    [Fact]
    public async Task Round_durations_are_measured_and_published()
    {
        var vs = Vs(Rs("10.0.0.2", new TcpCheckOptions { Retry = 2 }));
        await using var rig = new Rig(Options1(vs));
        rig.Checks.For("10.0.0.2").Then(Ok, Refused, Refused, Ok);
        var durations = new List<TimeSpan>();
        rig.Subsystem.CheckCompleted += (_, e) => durations.Add(e.Duration);
        await rig.StartAsync();
        rig.Advance(5); // t=5 refused, retry at t=6 refused, retry at t=7 ok: a round of 2 s (2 × delay_before_retry)
        rig.Advance(1);
        rig.Advance(1);

        Assert.Equal([TimeSpan.Zero, TimeSpan.FromSeconds(2)], durations);
        var checker = rig.Subsystem.GetSnapshot().VirtualServers.Single().RealServers.Single().Checkers.Single();
        Assert.Equal(TimeSpan.FromSeconds(2), checker.LastDuration);
        Assert.Equal(2, checker.Rounds);
        Assert.Equal(0, checker.Failures);
    }

    [Fact]
    public async Task Without_release_at_stop_nothing_is_removed_and_nothing_is_journalled()
    {
        var vs = Vs(Rs("10.0.0.2"), Rs("10.0.0.3")) with { Omega = true, QuorumDown = new ScriptOptions { Command = "/bin/qdown" } };
        await using var rig = new Rig(Options1(vs));
        await rig.StartAsync();
        rig.Ipvs.TakeOperations();
        var journalled = rig.Journal.Entries.Count;
        rig.Subsystem.ReleaseIpvsOnStop = false;

        await rig.Subsystem.StopAsync(CancellationToken.None);

        Assert.Empty(rig.Ipvs.TakeOperations());
        Assert.Equal(["10.0.0.2:80=1", "10.0.0.3:80=1"], rig.Ipvs.Weights(VsName));
        Assert.Equal(journalled, rig.Journal.Entries.Count);
        Assert.Empty(rig.Scripts.Runs);
        Assert.Equal(0, rig.Time.ActiveTimers);
    }

    [Fact]
    public async Task A_stop_abandoned_by_its_caller_still_finishes_its_removal_before_dispose_returns()
    {
        var vs = Vs(Rs("10.0.0.2"), Rs("10.0.0.3"));
        var rig = new Rig(Options1(vs));
        await rig.StartAsync();
        using var release = new ManualResetEventSlim();
        using var entered = new ManualResetEventSlim();
        rig.Ipvs.BeforeOperation = op =>
        {
            if (op.StartsWith("del-service ", StringComparison.Ordinal) && !entered.IsSet)
            {
                entered.Set();
                release.Wait(Hold);
            }
        };
        // The host's stop budget runs out while the removal is in the kernel: the caller gives up.
        using var budget = new CancellationTokenSource();
        var stopping = Task.Run(() => rig.Subsystem.StopAsync(budget.Token));
        Assert.True(entered.Wait(Bound), "the removal was never sent");
        await budget.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stopping.WaitAsync(Bound));

        // The owner disposes the subsystem (then its netlink client): dispose waits for the removal in flight.
        var disposing = rig.DisposeAsync().AsTask();
        Assert.False(disposing.IsCompleted, "dispose returned while the stop's removal was still in the kernel");
        release.Set();
        await disposing.WaitAsync(Bound);
        Assert.Empty(rig.Ipvs.Table);
    }

    /// <summary>An <see cref="IJournal"/> that records each batch (the product's writer fsyncs a batch once).</summary>
    private sealed class BatchRecordingJournal : IJournal
    {
        public List<JournalEntry> Entries { get; } = new();
        public List<IReadOnlyList<JournalEntry>> Batches { get; } = new();

        public ValueTask AppendAsync(JournalEntry entry, CancellationToken cancellationToken = default) => AppendBatchAsync([entry], cancellationToken);

        public ValueTask AppendBatchAsync(IReadOnlyList<JournalEntry> entries, CancellationToken cancellationToken = default)
        {
            lock (Entries)
            {
                Batches.Add(entries.ToList());
                Entries.AddRange(entries);
            }
            return ValueTask.CompletedTask;
        }
    }
}
