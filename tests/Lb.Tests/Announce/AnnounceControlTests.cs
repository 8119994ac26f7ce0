using Lb.Announce;
using Lb.Checkers.Journal;
using Lb.Control;
using Lb.TestSupport;
using Xunit;

namespace Lb.Lb.Tests.Announce;

/// <summary>
/// The <c>announce</c> control noun through <see cref="ControlCommands"/>: maintenance saved in the operator state file
/// (section "announce") before it is applied, journaled with the caller, every route withdrawn; status lines; refusals.
/// The kernel is <see cref="AnnouncerTests.FakeAnnounceKernel"/> (a test stand-in, unit tests only).
/// </summary>
public sealed class AnnounceControlTests : IDisposable
{
    private static readonly ControlCaller Root = new(0, 0, 1234, "root");
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("lb-ann-ctl-");

    private sealed class Journal : IJournal
    {
        public List<JournalEntry> Entries { get; } = [];

        public ValueTask AppendAsync(JournalEntry entry, CancellationToken cancellationToken = default)
        {
            lock (Entries)
                Entries.Add(entry);
            return ValueTask.CompletedTask;
        }
    }

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public async Task Maintenance_is_saved_journaled_and_withdraws_every_route()
    {
        var log = new ListLogger();
        var kernel = new AnnouncerTests.FakeAnnounceKernel();
        var journal = new Journal();
        await using var announcer = new Announcer(AnnouncePlanTests.Options,
            () => [AnnouncePlanTests.Vs("[10.0.0.100]:tcp:80", true), AnnouncePlanTests.Vs("[10.0.0.100]:tcp:8080", true), AnnouncePlanTests.Vs("[10.0.0.101]:tcp:80", true)],
            _ => Task.FromResult<IAnnounceKernel>(kernel), journal, log);
        await announcer.StartAsync(CancellationToken.None);
        var store = OperatorStateStore.Open(Path.Combine(_dir.FullName, OperatorStateStore.FileName), log);
        var commands = new ControlCommands();
        AnnounceControl.Register(commands, announcer, store, journal, log);

        var r = await commands.DispatchAsync(Root, ["announce"], CancellationToken.None);
        Assert.Equal((0, "Announced VIPs (table 200):\n  10.0.0.100  announced  (table 200)\n  10.0.0.101  announced  (table 200)\n"), (r.ExitCode, r.Text));

        r = await commands.DispatchAsync(Root, ["announce", "maintenance", "on"], CancellationToken.None);
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith("announce maintenance on\n", r.Text, StringComparison.Ordinal);
        Assert.Contains("  10.0.0.100  withdrawn  maintenance\n", r.Text, StringComparison.Ordinal);
        Assert.Empty(kernel.Routes);
        Assert.True(store.Section(AnnounceControl.Section).ContainsKey(AnnounceControl.NodeKey));
        // A restart reads it back from the file.
        Assert.True(AnnounceControl.SavedMaintenance(OperatorStateStore.Open(store.Path, log), log));
        var op = Assert.Single(journal.Entries, e => e.Kind == "operator");
        Assert.Equal(("normal", "maintenance", "root (uid 0, pid 1234)"), (op.OldState, op.NewState, op.By));

        r = await commands.DispatchAsync(Root, ["announce", "maintenance", "off"], CancellationToken.None);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(2, kernel.Routes.Count);
        Assert.False(AnnounceControl.SavedMaintenance(OperatorStateStore.Open(store.Path, log), log));

        r = await commands.DispatchAsync(Root, ["announce", "maintenance", "maybe"], CancellationToken.None);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("usage: lb announce", r.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_the_checkers_the_noun_says_so()
    {
        var log = new ListLogger();
        var commands = new ControlCommands();
        AnnounceControl.Register(commands, null, OperatorStateStore.Open(Path.Combine(_dir.FullName, OperatorStateStore.FileName), log), new Journal(), log);
        var r = await commands.DispatchAsync(Root, ["announce", "maintenance", "on"], CancellationToken.None);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("the checkers do not run", r.Text, StringComparison.Ordinal);
    }
}
