using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Lb.Status;

/// <summary>What a dump signal asks for.</summary>
[Flags]
public enum DumpKind
{
    None = 0,

    /// <summary>SIGUSR1: the data dump (keepalived: /tmp/keepalived.data).</summary>
    Data = 1,

    /// <summary>SIGUSR2: the statistics (keepalived: /tmp/keepalived.stats).</summary>
    Stats = 2,

    /// <summary>SIGRTMIN+2: the JSON dump (keepalived: /tmp/keepalived.json).</summary>
    Json = 4,
}

/// <summary>
/// Writes the dumps asked for by signals on one background task. A signal handler only sets a bit and wakes the task, so a
/// burst of signals costs a few dumps, never a queue of them, and never blocks the signal thread. Each file is written
/// to a new temporary file in the same directory and renamed over the target (no torn reads; a symlink planted at the
/// target in /tmp is replaced, not followed).
/// </summary>
public sealed class DumpWriter : IAsyncDisposable
{
    public const string DefaultDataFile = "/tmp/keepalived.data";
    public const string DefaultStatsFile = "/tmp/keepalived.stats";
    public const string DefaultJsonFile = "/tmp/keepalived.json";

    private readonly Func<StatusReport> _collect;
    private readonly ILogger _logger;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Task _loop;
    private int _pending;
    private long _written;

    public DumpWriter(Func<StatusReport> collect, ILogger logger, string? dataFile, string? statsFile, string? jsonFile)
    {
        _collect = collect;
        _logger = logger;
        DataFile = dataFile ?? DefaultDataFile;
        StatsFile = statsFile ?? DefaultStatsFile;
        JsonFile = jsonFile ?? DefaultJsonFile;
        _loop = Task.Run(LoopAsync);
    }

    public string DataFile { get; }

    public string StatsFile { get; }

    public string JsonFile { get; }

    /// <summary>Dumps written so far.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Called from a signal handler: never blocks.</summary>
    public void Request(DumpKind kind)
    {
        int old, updated;
        do
        {
            old = Volatile.Read(ref _pending);
            updated = old | (int)kind;
        }
        while (Interlocked.CompareExchange(ref _pending, updated, old) != old);
        _wake.Writer.TryWrite(true);
    }

    private async Task LoopAsync()
    {
        await foreach (var _ in _wake.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            var kinds = (DumpKind)Interlocked.Exchange(ref _pending, 0);
            if (kinds == DumpKind.None)
                continue;
            try
            {
                var report = _collect();
                if (kinds.HasFlag(DumpKind.Data))
                    Write(DataFile, StatusText.Data(report), "data");
                if (kinds.HasFlag(DumpKind.Stats))
                    Write(StatsFile, StatusText.Stats(report), "statistics");
                if (kinds.HasFlag(DumpKind.Json))
                    Write(JsonFile, JsonSerializer.Serialize(report, StatusJsonContext.Default.StatusReport) + "\n", "JSON");
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _logger.LogError("Cannot collect the state for a dump: {Message}", e.Message);
            }
        }
    }

    private void Write(string path, string text, string what)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path)) ?? "/";
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}");
        try
        {
            using (var s = new FileStream(temp, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead }))
                s.Write(Encoding.UTF8.GetBytes(text));
            File.Move(temp, path, overwrite: true);
            Interlocked.Increment(ref _written);
            _logger.LogInformation("Wrote the {What} dump to {Path}", what, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogError("Cannot write the {What} dump to {Path}: {Message}", what, path, e.Message);
            try
            {
                File.Delete(temp);
            }
            catch (IOException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _wake.Writer.TryComplete();
        await _loop.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
    }
}
