using System.Net;
using System.Threading.Channels;
using Lb.Checkers.Options;
using Lb.Checkers.Tests.Support;
using Lb.Scripts;
using Lb.TestSupport;
using Xunit;

namespace Lb.Checkers.Tests.Files;

/// <summary>
/// FILE_CHECK through the whole checker subsystem: a real file written by the test drives a real server down, up and
/// through weight changes. The kernel's IPVS table is stood in for by <see cref="InMemoryIpvsTable"/> (it records the
/// requests the subsystem sends); the clock is manual, each second of it one poll of the file.
/// </summary>
public sealed class FileCheckTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lb-misc-filecheck-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Path => System.IO.Path.Combine(_dir, "value");

    private void Write(string text) => System.IO.File.WriteAllText(Path, text);

    private sealed class Harness : IAsyncDisposable
    {
        private readonly Channel<CheckCompletedEvent> _events = Channel.CreateUnbounded<CheckCompletedEvent>();

        public Harness(CheckerSubsystemOptions options)
        {
            Subsystem = new CheckerSubsystem(options, Ipvs, Journal, Logs, Time,
                new DefaultCheckFactory(options, Time, null, new ScriptRunner()), new RecordingScriptRunner());
            Subsystem.CheckCompleted += (_, e) => _events.Writer.TryWrite(e);
        }

        public ManualTimeProvider Time { get; } = new();
        public InMemoryIpvsTable Ipvs { get; } = new();
        public MemoryJournal Journal { get; } = new();
        public ListLogger Logs { get; } = new();
        public CheckerSubsystem Subsystem { get; }

        /// <summary>One poll: advances the clock a second and waits (bounded) for the file checker's round.</summary>
        public async Task<CheckCompletedEvent> PollAsync()
        {
            ManualClock.Advance(Time, 1);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            return await _events.Reader.ReadAsync(cts.Token);
        }

        /// <summary>The first round, run at start (no warmup).</summary>
        public async Task<CheckCompletedEvent> FirstAsync()
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            return await _events.Reader.ReadAsync(cts.Token);
        }

        public async ValueTask DisposeAsync() => await Subsystem.DisposeAsync();
    }

    private CheckerSubsystemOptions Options(int weight, bool reverse = false, int rsWeight = 10, long? init = null) => new()
    {
        VirtualServers =
        [
            new VirtualServerOptions
            {
                Address = IPAddress.Parse("10.0.0.100"),
                Port = 80,
                RealServers =
                [
                    new RealServerOptions
                    {
                        Address = IPAddress.Parse("10.0.0.2"),
                        Port = 80,
                        Weight = rsWeight,
                        Checkers = [new FileCheckOptions { TrackFile = "tf", Path = Path, Weight = weight, WeightReverse = reverse, InitFileValue = init }],
                    },
                ],
            },
        ],
    };

    private const string Rs = "[10.0.0.2]:tcp:80";

    [Fact]
    public async Task Weight_0_a_non_zero_value_keeps_the_server_out_from_the_start_and_zero_brings_it_in()
    {
        Write("1\n");
        await using var h = new Harness(Options(weight: 0));
        await h.Subsystem.StartAsync(CancellationToken.None);
        // read before IPVS was programmed: never added, not even for a moment
        Assert.Equal(["add-service [10.0.0.100]:tcp:80"], h.Ipvs.TakeOperations());
        Assert.False((await h.FirstAsync()).Success);
        Assert.Empty(h.Ipvs.TakeOperations());
        Assert.Contains($"real_server {Rs} init->down | FILE_CHECK: track_file tf = 1: FAULT | none", h.Journal.Lines());

        Write("0\n");
        Assert.True((await h.PollAsync()).Success);
        Assert.Equal(["add 10.0.0.2:80 w10"], h.Ipvs.TakeOperations());

        Write("7\n");
        Assert.False((await h.PollAsync()).Success);
        Assert.Equal(["del 10.0.0.2:80"], h.Ipvs.TakeOperations());
        Assert.Contains($"real_server {Rs} up->down | FILE_CHECK: track_file tf = 7: FAULT | removed from IPVS", h.Journal.Lines());
        Assert.Contains($"({Rs}): tracked file tf now FAULT state", h.Logs.Info());

        System.IO.File.Delete(Path); // a missing file reads as 0
        Assert.True((await h.PollAsync()).Success);
        Assert.Equal(["add 10.0.0.2:80 w10"], h.Ipvs.TakeOperations());
    }

    [Fact]
    public async Task A_weight_adds_value_times_weight_to_the_ipvs_weight()
    {
        Write("2");
        await using var h = new Harness(Options(weight: 3));
        await h.Subsystem.StartAsync(CancellationToken.None);
        Assert.Equal(["add-service [10.0.0.100]:tcp:80", "add 10.0.0.2:80 w16"], h.Ipvs.TakeOperations()); // 10 + 2×3
        Assert.True((await h.FirstAsync()).Success);
        Assert.Empty(h.Ipvs.TakeOperations());

        Write("-1");
        Assert.True((await h.PollAsync()).Success);
        Assert.Equal(["edit 10.0.0.2:80 w7"], h.Ipvs.TakeOperations()); // 10 - 3
        Assert.Contains($"Changing weight from 16 to 7 for active service {Rs} of VS [10.0.0.100]:tcp:80", h.Logs.Info());

        Write("0x10"); // strtol base 0, as keepalived reads it
        Assert.True((await h.PollAsync()).Success);
        Assert.Equal(["edit 10.0.0.2:80 w58"], h.Ipvs.TakeOperations()); // 10 + 16×3

        Write("-5"); // 10 - 15 < 0: IPVS weight 0, the server stays in (keepalived's real_weight)
        Assert.True((await h.PollAsync()).Success);
        Assert.Equal(["edit 10.0.0.2:80 w0"], h.Ipvs.TakeOperations());

        Write("-5");
        Assert.True((await h.PollAsync()).Success);
        Assert.Empty(h.Ipvs.TakeOperations()); // unchanged value: nothing sent
    }

    [Fact]
    public async Task Reverse_and_the_fault_level_int_min()
    {
        Write("1");
        await using var h = new Harness(Options(weight: 1, reverse: true));
        await h.Subsystem.StartAsync(CancellationToken.None);
        Assert.Equal(["add-service [10.0.0.100]:tcp:80", "add 10.0.0.2:80 w9"], h.Ipvs.TakeOperations()); // 10 - 1
        await h.FirstAsync();

        Write("2147483648"); // × -1 = INT_MIN: keepalived's IPVS_WEIGHT_FAULT
        Assert.False((await h.PollAsync()).Success);
        Assert.Equal(["del 10.0.0.2:80"], h.Ipvs.TakeOperations());

        Write("-4"); // leaving FAULT: the adjustment first, then the server is added with it
        Assert.True((await h.PollAsync()).Success);
        Assert.Equal(["add 10.0.0.2:80 w14"], h.Ipvs.TakeOperations());

        Write("99999999999"); // out of range: ignored, the previous value stays
        Assert.True((await h.PollAsync()).Success);
        Assert.Empty(h.Ipvs.TakeOperations());
    }

    [Fact]
    public async Task Init_file_writes_the_value_before_the_first_read()
    {
        await using var h = new Harness(Options(weight: 0, init: 3));
        await h.Subsystem.StartAsync(CancellationToken.None);
        Assert.Equal("3\n", System.IO.File.ReadAllText(Path));
        Assert.Equal(["add-service [10.0.0.100]:tcp:80"], h.Ipvs.TakeOperations());
    }
}
