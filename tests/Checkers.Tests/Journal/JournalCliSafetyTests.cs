using Lb.Checkers.Journal;
using Lb.Checkers.Options;
using Xunit;

namespace Lb.Checkers.Tests.Journal;

/// <summary><c>lb journal</c> against what issue 9 fed it: an absurd <c>--since</c>, and control characters in entries.</summary>
public sealed class JournalCliSafetyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lb-journal-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Journal => Path.Combine(_dir, "journal.jsonl");

    [Theory]
    [InlineData("99999999999d")]
    [InlineData("1e400s")]
    [InlineData("999999999999999999999h")]
    public async Task An_age_beyond_the_calendar_is_a_clear_usage_error_not_a_crash(string since)
    {
        var (o, err) = (new StringWriter(), new StringWriter());
        Assert.Equal(2, await JournalCli.RunAsync(["--file", Journal, "--since", since], o, err));
        Assert.StartsWith($"lb journal: invalid --since '{since}': expected an ISO 8601 time or an age", err.ToString(), StringComparison.Ordinal);
        Assert.False(JournalCli.TryParseSince(since, DateTimeOffset.UtcNow, out _));
    }

    [Fact]
    public void The_oldest_age_the_calendar_holds_still_parses()
    {
        var now = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.True(JournalCli.TryParseSince("700000d", now, out var since));
        Assert.Equal(now - TimeSpan.FromDays(700000), since);
    }

    [Fact]
    public async Task Control_characters_from_a_backend_are_printed_as_visible_escapes()
    {
        using (var w = new JournalWriter(new JournalOptions { Path = Journal }))
        {
            await w.AppendAsync(new JournalEntry
            {
                Time = DateTimeOffset.UnixEpoch,
                Subsystem = "checkers",
                Kind = "real_server",
                VirtualServer = "[10.0.0.100]:tcp:25",
                RealServer = "[10.0.0.2]:tcp:25\u001b[2J",
                OldState = "up",
                NewState = "down",
                Reason = "SMTP greeting \"220 mx\r\n\u001b]0;owned\u0007\u009b31m\u202Etxt.exe\\\" unexpected",
                Action = "removed\tfrom IPVS",
            });
        }
        var (o, err) = (new StringWriter(), new StringWriter());
        Assert.Equal(0, await JournalCli.RunAsync(["--file", Journal], o, err));
        var output = o.ToString();
        var row = output.Split('\n')[1];
        Assert.Contains(@"SMTP greeting ""220 mx\r\n\x1b]0;owned\x07\u009b31m\u202etxt.exe\\"" unexpected", row, StringComparison.Ordinal);
        Assert.Contains(@"[10.0.0.2]:tcp:25\x1b[2J", row, StringComparison.Ordinal);
        Assert.Contains(@"removed\tfrom IPVS", row, StringComparison.Ordinal);
        // Nothing a terminal acts on is left: only the row separators are raw.
        Assert.DoesNotContain(output.Replace(Environment.NewLine, "", StringComparison.Ordinal), c => c < ' ' || c is '\x7f' or (>= '\x80' and <= '\x9f') or '\u202e');
    }

    [Fact]
    public void Plain_text_is_unchanged()
    {
        const string text = "HTTP status 503 on /health (server: nginx/1.25) — ünïcode";
        Assert.Same(text, JournalCli.Escape(text));
    }
}
