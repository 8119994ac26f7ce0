using System.Text.Json;
using Xunit;

namespace Lb.Lb.Tests.Hosting;

/// <summary>The <c>lb journal</c> binary against issue 9's inputs: a clear error instead of a stack trace, escaped output.</summary>
public sealed class JournalCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lb-journal-cmd-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void An_absurd_since_is_an_error_line_and_a_non_zero_exit_not_a_stack_trace()
    {
        var journal = Path.Combine(_dir, "journal.jsonl");
        File.WriteAllText(journal, "");
        var (code, stdout, stderr) = DaemonLab.RunLb("journal", "--file", journal, "--since", "99999999999d");
        Assert.Equal(2, code);
        Assert.StartsWith("lb journal: invalid --since '99999999999d'", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.Equal("", stdout);
    }

    [Fact]
    public void A_backends_control_characters_reach_the_terminal_escaped()
    {
        var journal = Path.Combine(_dir, "journal.jsonl");
        var reason = JsonSerializer.Serialize("SMTP greeting 220 mx.example\r\n\u001b[31mred");
        File.WriteAllText(journal, $"{{\"time\":\"2026-03-01T12:00:00.000+00:00\",\"subsystem\":\"checkers\",\"kind\":\"real_server\",\"vs\":\"[10.0.0.100]:tcp:25\",\"rs\":\"[10.0.0.2]:tcp:25\",\"old\":\"up\",\"new\":\"down\",\"reason\":{reason},\"action\":\"removed from IPVS\"}}\n");
        var (code, stdout, stderr) = DaemonLab.RunLb("journal", "--file", journal);
        Assert.True(code == 0, stderr);
        Assert.Contains(@"SMTP greeting 220 mx.example\r\n\x1b[31mred", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', stdout);
        Assert.DoesNotContain('\r', stdout);
        Assert.Equal(2, stdout.Count(c => c == '\n'));
    }
}
