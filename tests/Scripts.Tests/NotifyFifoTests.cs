using Lb.Netlink.Platform;
using Lb.TestSupport;
using Xunit;

namespace Lb.Scripts.Tests;

/// <summary>
/// notify_fifo as an attacker meets it (issue 9): a symbolic link planted at the configured path, pointing at a file of
/// root's, must not be written through (keepalived: ELOOP); anything but a FIFO of ours is refused; a FIFO nobody
/// reads drops lines instead of stalling the writer. (Moved from Vrrp.Tests with the FIFO itself, which is now
/// <see cref="NotifyFifo"/>, shared by both subsystems through the host; same assertions.)
/// </summary>
public sealed class NotifyFifoTests : IDisposable
{
    private const string VictimText = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n";
    private readonly string _dir = Directory.CreateTempSubdirectory("lb-notify-fifo-").FullName;
    private readonly List<string> _lines = new();

    private IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
                return _lines.ToArray();
        }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    /// <summary>The line keepalived writes for an instance (what VRRP publishes).</summary>
    private static string Line(string state, string name = "VI_1") => $"INSTANCE \"{name}\" {state} 100";

    /// <summary>The FIFO as the host opens it, its problems formatted as the host logs them.</summary>
    private NotifyFifo Dispatcher(string fifo)
        => new(fifo, "notify_fifo", (action, error) =>
        {
            lock (_lines)
                _lines.Add($"(notify_fifo) action {action} failed: {error}");
        });

    private string Victim()
    {
        var victim = P("passwd");
        File.WriteAllText(victim, VictimText);
        return victim;
    }

    private bool Logged(string text) => Lines.Any(l => l.Contains(text, StringComparison.Ordinal));

    [Fact]
    public async Task A_symbolic_link_planted_at_notify_fifo_is_refused_and_its_target_is_not_overwritten()
    {
        var victim = Victim();
        var link = P("keepalived.fifo");
        File.CreateSymbolicLink(link, victim);
        await using (var d = Dispatcher(link))
        {
            d.Write(Line("MASTER"));
            d.Write(Line("BACKUP"));
            Assert.True(Wait.Until(() => Logged($"(notify_fifo) action open failed: {link} is a symbolic link; not following it (ELOOP); not using it")));
        }
        Assert.Equal(VictimText, File.ReadAllText(victim));
        Assert.Single(Lines, l => l.Contains("notify_fifo", StringComparison.Ordinal));
        Assert.Equal(FileKind.SymbolicLink, SafeFile.StatusOf(link)!.Value.Kind);
    }

    [Fact]
    public async Task A_regular_file_at_notify_fifo_is_refused_untouched()
    {
        var victim = Victim();
        await using (var d = Dispatcher(victim))
        {
            d.Write(Line("MASTER"));
            Assert.True(Wait.Until(() => Logged($"{victim} is a regular file, not a FIFO; not writing to it; not using it")));
        }
        Assert.Equal(VictimText, File.ReadAllText(victim));
    }

    [Fact]
    public async Task A_missing_fifo_is_created_and_removed_at_stop_but_an_existing_one_is_kept()
    {
        var created = P("created.fifo");
        await using (var d = Dispatcher(created))
        {
            d.Write(Line("MASTER"));
            Assert.True(Wait.Until(() => SafeFile.StatusOf(created)?.Kind == FileKind.Fifo));
            await d.FlushAsync(CancellationToken.None);
        }
        Assert.Null(SafeFile.StatusOf(created));

        var existing = P("existing.fifo");
        Assert.True(SafeFile.CreateFifo(existing));
        await using (var d = Dispatcher(existing))
        {
            d.Write(Line("MASTER"));
            await d.FlushAsync(CancellationToken.None);
        }
        Assert.Equal(FileKind.Fifo, SafeFile.StatusOf(existing)!.Value.Kind);
        Assert.DoesNotContain(Lines, l => l.Contains("notify_fifo", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_fifo_nobody_reads_drops_lines_with_one_log_line_instead_of_blocking()
    {
        var fifo = P("unread.fifo");
        // ~1 KiB lines: the 64 KiB pipe is full after ~64 of them.
        var big = new string('x', 1000);
        var d = Dispatcher(fifo);
        for (var i = 0; i < 200; i++)
            d.Write(Line(i % 2 == 0 ? "MASTER" : "BACKUP", big));
        await d.FlushAsync(CancellationToken.None);
        Assert.True(Wait.Until(() => Logged($"{fifo} is full (no reader?); dropping lines until it drains")));
        await d.DisposeAsync();
        Assert.Single(Lines, l => l.Contains("is full", StringComparison.Ordinal));
    }
}
