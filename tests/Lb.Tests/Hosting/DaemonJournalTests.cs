using Lb.Lb.Tests.EndToEnd;
using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.Hosting;

/// <summary>The real daemon's journal after logrotate renames it (issue 9): SIGHUP lets go of the old file, new entries land at the path.</summary>
public sealed class DaemonJournalTests(ITestOutputHelper output)
{
    [RootFact("ip")]
    public void After_a_rename_SIGHUP_closes_the_rotated_journal_and_the_next_entries_land_at_the_path()
    {
        using var lab = new DaemonLab();
        var a = lab.Lab.AddHost("a", "10.0.0.2/24");
        var journal = Path.Combine(lab.Dir, "a.jsonl");
        var rotated = journal + "-20260301";
        var la = lab.StartVrrp(a, "a", 150, state: "MASTER");
        try
        {
            lab.WaitStatus("a", s => s.VrrpInstances.Any(i => i.State == "MASTER"), la);
            Assert.True(NetnsLab.WaitFor(() => File.Exists(journal) && File.ReadAllText(journal).Contains("\"new\":\"MASTER\"", StringComparison.Ordinal), DaemonLab.Bound), la.Output);
            Assert.Contains(journal, OpenFiles(la.Pid));

            File.Move(journal, rotated);
            la.Signal("HUP");
            Assert.True(NetnsLab.WaitFor(() => !OpenFiles(la.Pid).Contains(rotated), DaemonLab.Bound), "the daemon still holds the rotated journal after SIGHUP\n" + la.Output);

            la.Signal("TERM");
            Assert.True(la.WaitForExit(DaemonLab.Bound), la.Output);
            Assert.Contains("\"new\":\"STOP\"", File.ReadAllText(journal), StringComparison.Ordinal);
            Assert.DoesNotContain("\"new\":\"STOP\"", File.ReadAllText(rotated), StringComparison.Ordinal);
        }
        finally
        {
            output.WriteLine(la.Output);
        }
    }

    /// <summary>What the process's descriptors point at (/proc/PID/fd).</summary>
    private static List<string> OpenFiles(int pid)
    {
        var files = new List<string>();
        foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
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
