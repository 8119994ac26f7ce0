using Lb.Checkers.Journal;
using Lb.Checkers.Options;
using Xunit;

namespace Lb.Checkers.Tests.Journal;

/// <summary>
/// The journal file as issue 9 found it: written through a symbolic link planted at <c>--journal</c>, and still written
/// after being deleted or rotated away (to an unlinked inode, silently). Each test does to the file what an attacker or
/// logrotate does, then checks where the next entry lands.
/// </summary>
public sealed class JournalFileTests : IDisposable
{
    private const string VictimText = "root:x:0:0:root:/root:/bin/bash\n";
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, 123, TimeSpan.Zero);
    private readonly string _dir = Directory.CreateTempSubdirectory("lb-journal-file-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private string Journal => P("journal.jsonl");

    private static JournalEntry Entry(int i) => new()
    {
        Time = T0.AddSeconds(i),
        Subsystem = "checkers",
        Kind = "real_server",
        VirtualServer = "[10.0.0.100]:tcp:80",
        RealServer = "[10.0.0.2]:tcp:80",
        OldState = "up",
        NewState = "down",
        Reason = $"entry #{i}",
    };

    private static string[] Reasons(string path) => new JournalReader(path).Read().Select(e => e.Reason).ToArray();

    private string Victim()
    {
        var victim = P("passwd");
        File.WriteAllText(victim, VictimText);
        return victim;
    }

    [Fact]
    public async Task A_symbolic_link_planted_at_the_journal_is_refused_and_the_lost_entry_is_named()
    {
        var victim = Victim();
        File.CreateSymbolicLink(Journal, victim);
        using var w = new JournalWriter(new JournalOptions { Path = Journal });
        var e = await Assert.ThrowsAsync<JournalWriteException>(async () => await w.AppendAsync(Entry(0)));
        Assert.Equal(VictimText, File.ReadAllText(victim));
        Assert.Contains($"{Journal} is a symbolic link; not following it (ELOOP)", e.Message, StringComparison.Ordinal);
        Assert.Contains("entry not recorded: {\"time\":\"2026-03-01T12:00:00.123+00:00\"", e.Message, StringComparison.Ordinal);
        Assert.Contains("\"reason\":\"entry #0\"", e.Entry, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_symbolic_link_swapped_in_while_the_journal_is_open_is_not_written_through()
    {
        var victim = Victim();
        using var w = new JournalWriter(new JournalOptions { Path = Journal });
        await w.AppendAsync(Entry(0));
        File.Delete(Journal);
        File.CreateSymbolicLink(Journal, victim);
        await Assert.ThrowsAsync<JournalWriteException>(async () => await w.AppendAsync(Entry(1)));
        Assert.Equal(VictimText, File.ReadAllText(victim));
    }

    [Fact]
    public async Task A_deleted_journal_is_recreated_at_its_path_by_the_next_entry()
    {
        using var w = new JournalWriter(new JournalOptions { Path = Journal });
        await w.AppendAsync(Entry(0));
        File.Delete(Journal);
        await w.AppendAsync(Entry(1));
        await w.AppendAsync(Entry(2));
        Assert.Equal(["entry #1", "entry #2"], Reasons(Journal));
    }

    [Fact]
    public async Task A_journal_rotated_away_by_rename_gets_the_next_entries_in_a_new_file()
    {
        using var w = new JournalWriter(new JournalOptions { Path = Journal });
        await w.AppendAsync(Entry(0));
        File.Move(Journal, P("journal.jsonl-20260301"));
        await w.AppendAsync(Entry(1));
        Assert.Equal(["entry #0"], Reasons(P("journal.jsonl-20260301")));
        Assert.Equal(["entry #1"], Reasons(Journal));
    }

    [Fact]
    public async Task Reopen_as_on_SIGHUP_lets_go_of_the_rotated_file_at_once_and_the_next_entry_lands_at_the_path()
    {
        using var w = new JournalWriter(new JournalOptions { Path = Journal });
        await w.AppendAsync(Entry(0));
        var rotated = P("journal.jsonl.old");
        File.Move(Journal, rotated);
        Assert.Contains(rotated, OpenFiles());
        w.Reopen();
        Assert.DoesNotContain(rotated, OpenFiles());
        await w.AppendAsync(Entry(1));
        Assert.Equal(["entry #0"], Reasons(rotated));
        Assert.Equal(["entry #1"], Reasons(Journal));
    }

    /// <summary>What this process's descriptors point at.</summary>
    private static List<string> OpenFiles()
    {
        var files = new List<string>();
        foreach (var fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target)
                    files.Add(target);
            }
            catch (IOException)
            {
                // closed between listing and reading
            }
        }
        return files;
    }
}
