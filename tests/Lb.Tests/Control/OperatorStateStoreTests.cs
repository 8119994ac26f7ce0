using System.Text.Json;
using Lb.Control;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Lb.Tests.Control;

/// <summary>The operator state file: written on every change, read back by the next daemon, never silently lost.</summary>
public sealed class OperatorStateStoreTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("lb-opstate-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string PathOf => Path.Combine(_dir.FullName, OperatorStateStore.FileName);

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    [Fact]
    public void Changes_are_on_disk_when_set_returns_and_a_new_store_reads_them()
    {
        Assert.Equal(PathOf, OperatorStateStore.PathBeside(Path.Combine(_dir.FullName, "journal.jsonl")));
        var store = OperatorStateStore.Open(PathOf, NullLogger.Instance);
        Assert.Empty(store.Section("rs"));
        store.Set("rs", "[10.0.0.100]:tcp:80 [10.0.0.11]:tcp:80", Json("""{"mode":"disabled","by":"root (uid 0, pid 1)"}"""));
        store.Set("vrrp", "VI_1", Json("""{"maintenance":true}"""));
        store.Set("vrrp", "VI_2", Json("""{"maintenance":true}"""));
        store.Set("vrrp", "VI_2", null);
        using (var doc = JsonDocument.Parse(File.ReadAllText(PathOf)))
        {
            Assert.Equal("disabled", doc.RootElement.GetProperty("sections").GetProperty("rs").GetProperty("[10.0.0.100]:tcp:80 [10.0.0.11]:tcp:80").GetProperty("mode").GetString());
            Assert.False(doc.RootElement.GetProperty("sections").GetProperty("vrrp").TryGetProperty("VI_2", out _));
        }
        Assert.Equal((UnixFileMode)0b110_000_000, File.GetUnixFileMode(PathOf));
        Assert.Empty(Directory.GetFiles(_dir.FullName, "*.tmp"));
        var again = OperatorStateStore.Open(PathOf, NullLogger.Instance);
        Assert.True(again.Section("vrrp")["VI_1"].GetProperty("maintenance").GetBoolean());
        Assert.Single(again.Section("rs"));
    }

    [Fact]
    public void An_unreadable_file_is_kept_aside_not_overwritten()
    {
        File.WriteAllText(PathOf, "{ not json");
        var log = new global::Lb.TestSupport.ListLogger();
        var store = OperatorStateStore.Open(PathOf, log);
        Assert.Empty(store.Section("rs"));
        Assert.Equal("{ not json", File.ReadAllText(PathOf + ".unreadable"));
        Assert.Contains(log.Lines, l => l.Contains("is not valid", StringComparison.Ordinal) && l.Contains(".unreadable", StringComparison.Ordinal));
    }

    [Fact]
    public void A_change_that_cannot_be_written_throws_and_is_not_kept()
    {
        // The state file's directory is a regular file: nothing can be written there.
        var blocker = Path.Combine(_dir.FullName, "blocker");
        File.WriteAllText(blocker, "");
        var store = OperatorStateStore.Open(Path.Combine(blocker, OperatorStateStore.FileName), NullLogger.Instance);
        Assert.ThrowsAny<IOException>(() => store.Set("rs", "x", Json("{}")));
        Assert.Empty(store.Section("rs"));
    }
}
