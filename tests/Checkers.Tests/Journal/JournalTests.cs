using System.Text;
using Lb.Checkers.Journal;
using Lb.Checkers.Options;
using Lb.Checkers.Tests.Support;
using Lb.TestSupport;
using Xunit;

namespace Lb.Checkers.Tests.Journal;

public sealed class JournalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lb-journal-").FullName;
    private string PathOf => System.IO.Path.Combine(_dir, "sub", "journal.jsonl");
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, 123, TimeSpan.Zero);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JournalEntry Entry(int i, string vs = "[10.0.0.100]:tcp:80", string rs = "[10.0.0.2]:tcp:80") => new()
    {
        Time = T0.AddSeconds(i),
        Subsystem = "checkers",
        Kind = "real_server",
        VirtualServer = vs,
        RealServer = rs,
        OldState = "up",
        NewState = "down",
        Reason = $"HTTP status 503 on /health #{i}",
        Action = "removed from IPVS",
    };

    [Fact]
    public async Task Entries_are_one_json_object_per_line_with_utc_milliseconds()
    {
        using (var w = new JournalWriter(new JournalOptions { Path = PathOf }))
        {
            await w.AppendAsync(Entry(0) with { Time = new DateTimeOffset(2026, 3, 1, 14, 0, 0, 123, TimeSpan.FromHours(2)).AddTicks(4567) });
            await w.AppendAsync(Entry(1));
        }
        var lines = File.ReadAllLines(PathOf);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("{\"time\":\"2026-03-01T12:00:00.123+00:00\",\"subsystem\":\"checkers\",\"kind\":\"real_server\",\"vs\":\"[10.0.0.100]:tcp:80\",\"rs\":\"[10.0.0.2]:tcp:80\",\"old\":\"up\",\"new\":\"down\",\"reason\":\"HTTP status 503 on /health #0\"", lines[0]);
        var read = new JournalReader(PathOf).Read().ToList();
        Assert.Equal(Entry(1), read[1]);
    }

    [Fact]
    public async Task A_torn_last_line_is_skipped_on_read_and_closed_by_the_next_append()
    {
        using (var w = new JournalWriter(new JournalOptions { Path = PathOf }))
            await w.AppendAsync(Entry(0));
        var torn = JournalWriter.Serialize(Entry(1));
        File.AppendAllText(PathOf, torn[..(torn.Length / 2)]);

        var reader = new JournalReader(PathOf);
        Assert.Single(reader.Read());
        Assert.Equal(1, reader.SkippedLines);

        using (var w = new JournalWriter(new JournalOptions { Path = PathOf }))
            await w.AppendAsync(Entry(2));
        reader = new JournalReader(PathOf);
        Assert.Equal([0, 2], reader.Read().Select(e => (int)(e.Time - T0).TotalSeconds));
        Assert.Equal(1, reader.SkippedLines);
    }

    [Fact]
    public async Task Rotates_by_size_keeping_the_configured_number_of_files()
    {
        var one = Encoding.UTF8.GetByteCount(JournalWriter.Serialize(Entry(0)) + "\n");
        using (var w = new JournalWriter(new JournalOptions { Path = PathOf, MaxFileBytes = one * 3, MaxRotatedFiles = 2 }))
        {
            for (var i = 0; i < 10; i++)
                await w.AppendAsync(Entry(i));
        }
        Assert.True(File.Exists(PathOf + ".1"));
        Assert.True(File.Exists(PathOf + ".2"));
        Assert.False(File.Exists(PathOf + ".3"));
        Assert.Equal(3, File.ReadAllLines(PathOf + ".1").Length);
        // 10 entries, 3 per file, 3 files kept: the newest 7 (3 + 3 + 1), oldest first.
        Assert.Equal([3, 4, 5, 6, 7, 8, 9], new JournalReader(PathOf).Read().Select(e => (int)(e.Time - T0).TotalSeconds));
    }

    [Fact]
    public async Task Reader_filters_by_time_virtual_server_and_real_server()
    {
        using (var w = new JournalWriter(new JournalOptions { Path = PathOf }))
        {
            await w.AppendAsync(Entry(0));
            await w.AppendAsync(Entry(10, rs: "[10.0.0.3]:tcp:80"));
            await w.AppendAsync(Entry(20, vs: "[10.0.0.200]:tcp:443"));
            await w.AppendAsync(new JournalEntry { Time = T0.AddSeconds(30), Subsystem = "vrrp", Kind = "vrrp_instance", Instance = "VI_1", OldState = "BACKUP", NewState = "MASTER", Reason = "higher priority" });
        }
        var r = new JournalReader(PathOf);
        Assert.Equal(3, r.Read(new JournalQuery { Since = T0.AddSeconds(5) }).Count());
        Assert.Equal(2, r.Read(new JournalQuery { VirtualServer = "10.0.0.100" }).Count());
        Assert.Single(r.Read(new JournalQuery { RealServer = "10.0.0.3" }));
        Assert.Single(r.Read(new JournalQuery { RealServer = "vi_1" }));
    }

    [Fact]
    public async Task Follow_yields_new_entries_as_they_are_appended_and_stops_on_cancel()
    {
        var time = new ManualTimeProvider();
        using var w = new JournalWriter(new JournalOptions { Path = PathOf });
        await w.AppendAsync(Entry(0));
        using var cts = new CancellationTokenSource();
        await using var e = new JournalReader(PathOf).FollowAsync(null, TimeSpan.FromSeconds(1), time, cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await e.MoveNextAsync());
        Assert.Equal(Entry(0), e.Current);

        var next = e.MoveNextAsync().AsTask();
        await w.AppendAsync(Entry(1));
        ManualClock.Advance(time, 1);
        Assert.True(await next.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(Entry(1), e.Current);

        var last = e.MoveNextAsync().AsTask();
        cts.Cancel();
        Assert.False(await last.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Cli_prints_a_table_or_json_newest_last_with_filters()
    {
        using (var w = new JournalWriter(new JournalOptions { Path = PathOf }))
        {
            await w.AppendAsync(Entry(0));
            await w.AppendAsync(Entry(1, rs: "[10.0.0.3]:tcp:80"));
        }
        var o = new StringWriter();
        var err = new StringWriter();
        Assert.Equal(0, await JournalCli.RunAsync(["--file", PathOf, "--rs", "10.0.0.3"], o, err));
        var lines = o.ToString().TrimEnd().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("TIME (UTC)", lines[0]);
        Assert.Contains("2026-03-01 12:00:01.123", lines[1]);
        Assert.Contains("up -> down", lines[1]);
        Assert.Contains("HTTP status 503 on /health #1", lines[1]);
        Assert.EndsWith("removed from IPVS", lines[1].TrimEnd());

        o = new StringWriter();
        Assert.Equal(0, await JournalCli.RunAsync(["--file", PathOf, "--json"], o, err));
        var json = o.ToString().TrimEnd().Split('\n');
        Assert.Equal(2, json.Length);
        Assert.Equal(Entry(1, rs: "[10.0.0.3]:tcp:80"), JournalReader.TryParse(json[1]));

        Assert.Equal(2, await JournalCli.RunAsync(["--bogus"], o, err));
        Assert.Equal(1, await JournalCli.RunAsync(["--file", System.IO.Path.Combine(_dir, "none.jsonl")], o, err));
    }

    [Fact]
    public void Since_accepts_ages_and_times()
    {
        var now = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
        Assert.True(JournalCli.TryParseSince("15m", now, out var a));
        Assert.Equal(now.AddMinutes(-15), a);
        Assert.True(JournalCli.TryParseSince("2h", now, out var b));
        Assert.Equal(now.AddHours(-2), b);
        Assert.True(JournalCli.TryParseSince("2026-02-28T10:00:00Z", now, out var c));
        Assert.Equal(new DateTimeOffset(2026, 2, 28, 10, 0, 0, TimeSpan.Zero), c);
        Assert.False(JournalCli.TryParseSince("yesterday", now, out _));
    }

    [Fact]
    public void Journal_command_runs_through_the_cli()
    {
        var o = new StringWriter();
        var err = new StringWriter();
        Assert.Equal(1, Lb.Commands.JournalCommand.Run(["--file", System.IO.Path.Combine(_dir, "missing.jsonl")], o, err));
        Assert.Contains("no journal", err.ToString());
    }

    [Fact]
    public async Task Subsystem_journals_to_the_file_before_touching_ipvs()
    {
        using var writer = new JournalWriter(new JournalOptions { Path = PathOf });
        var ipvs = new InMemoryIpvsTable();
        var observed = new List<int>();
        ipvs.BeforeOperation = op =>
        {
            if (op.StartsWith("add 10.", StringComparison.Ordinal) || op.StartsWith("del 10.", StringComparison.Ordinal))
                observed.Add(File.ReadAllLines(PathOf).Length);
        };
        var time = new ManualTimeProvider();
        var vs = Rig.Vs(Rig.Rs("10.0.0.2", new TcpCheckOptions { Retry = 0 }));
        var checks = new ScriptedCheckFactory(time);
        checks.For("10.0.0.2").Then(Lb.Checkers.Engine.CheckOutcome.Ok("ok"), Lb.Checkers.Engine.CheckOutcome.Fail("connection refused"));
        await using var sub = new CheckerSubsystem(Rig.Options1(vs), ipvs, writer, new ListLogger(), time, checks, new RecordingScriptRunner());
        await sub.StartAsync(CancellationToken.None);
        ManualClock.Advance(time, 5);
        // Each change set's journal entries are on disk (one fsync) before its first IPVS request: the add at start-up
        // found the real server's and the quorum's entries (lines 1-2); the removal found the down and quorum-lost ones (3-4).
        Assert.Equal([2, 4], observed);
        Assert.Contains("\"new\":\"down\"", File.ReadAllLines(PathOf)[2]);
    }
}

public sealed class JournalFollowCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lb-journal-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Follow_prints_existing_then_new_entries_and_ends_on_cancel()
    {
        var path = System.IO.Path.Combine(_dir, "journal.jsonl");
        using var w = new JournalWriter(new JournalOptions { Path = path });
        var e = new JournalEntry { Time = DateTimeOffset.UnixEpoch, Subsystem = "checkers", Kind = "real_server", VirtualServer = "[10.0.0.100]:tcp:80", RealServer = "[10.0.0.2]:tcp:80", OldState = "up", NewState = "down", Reason = "first" };
        await w.AppendAsync(e);
        var time = new ManualTimeProvider();
        var output = new StringWriter();
        using var cts = new CancellationTokenSource();
        var run = JournalCli.RunAsync(["--file", path, "--follow", "--json"], TextWriter.Synchronized(output), new StringWriter(), time, TimeSpan.FromSeconds(1), cts.Token);
        await w.AppendAsync(e with { Reason = "second" });
        ManualClock.Advance(time, 1);
        for (var i = 0; i < 600 && !output.ToString().Contains("second", StringComparison.Ordinal); i++)
            await Task.Delay(50); // bounded wait for the follower's poll to print (not a timing assertion)
        cts.Cancel();
        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(30)));
        var lines = output.ToString().Trim().Split('\n');
        Assert.Equal(["first", "second"], lines.Select(l => JournalReader.TryParse(l)!.Reason));
    }
}
