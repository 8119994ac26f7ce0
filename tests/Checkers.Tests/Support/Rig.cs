using System.Net;
using Lb.Checkers.Options;
using Lb.TestSupport;

namespace Lb.Checkers.Tests.Support;

/// <summary>A checker subsystem on a manual clock with scripted probes, an in-memory IPVS table and journal.</summary>
public sealed class Rig : IAsyncDisposable
{
    public Rig(CheckerSubsystemOptions options, double warmupFraction = 0)
    {
        Options = options;
        Checks = new ScriptedCheckFactory(Time);
        Subsystem = new CheckerSubsystem(options, Ipvs, Journal, Logs, Time, Checks, Scripts, new FixedRandom(warmupFraction));
    }

    public ManualTimeProvider Time { get; } = new();
    public InMemoryIpvsTable Ipvs { get; } = new();
    public MemoryJournal Journal { get; } = new();
    public ListLogger Logs { get; } = new();
    public RecordingScriptRunner Scripts { get; } = new();
    public ScriptedCheckFactory Checks { get; }
    public CheckerSubsystemOptions Options { get; }
    public CheckerSubsystem Subsystem { get; }

    public const string VsName = "[10.0.0.100]:tcp:80";

    public static RealServerOptions Rs(string address, params CheckerOptions[] checkers) => new()
    {
        Address = IPAddress.Parse(address),
        Port = 80,
        Checkers = checkers.Length == 0 ? [new TcpCheckOptions()] : checkers,
    };

    public static VirtualServerOptions Vs(params RealServerOptions[] rs) => new()
    {
        Address = IPAddress.Parse("10.0.0.100"),
        Port = 80,
        DelayLoop = TimeSpan.FromSeconds(5),
        DelayBeforeRetry = TimeSpan.FromSeconds(1),
        ConnectTimeout = TimeSpan.FromSeconds(3),
        Warmup = TimeSpan.Zero,
        RealServers = rs,
    };

    public static CheckerSubsystemOptions Options1(VirtualServerOptions vs) => new() { VirtualServers = [vs] };

    public async Task StartAsync()
    {
        await Subsystem.StartAsync(CancellationToken.None);
        AssertDesiredTableMatchesIpvs();
    }

    /// <summary>Advances the clock with no synchronization context, so continuations of fired timers run inline
    /// (xunit's context would otherwise defer them to the thread pool, after Advance returns).</summary>
    public void Advance(double seconds)
    {
        ManualClock.Advance(Time, seconds);
        AssertDesiredTableMatchesIpvs();
    }

    /// <summary>The subsystem's desired table must equal what its IPVS operations built.</summary>
    public void AssertDesiredTableMatchesIpvs()
    {
        var desired = Subsystem.GetDesiredTable()
            .SelectMany(d => d.Destinations.Select(x => $"{InMemoryIpvsTable.Text(d.Service.Key)} {Format.Endpoint(x.Address, x.Port)}={x.Weight}"))
            .Order(StringComparer.Ordinal).ToList();
        var actual = Ipvs.Table.SelectMany(t => t.Value.Select(x => $"{t.Key} {x.Key}={x.Value.Weight}")).Order(StringComparer.Ordinal).ToList();
        Xunit.Assert.Equal(actual, desired);
    }

    /// <summary>Seconds since start at which the journal entry was written.</summary>
    public double At(int journalIndex) => (Journal.Entries[journalIndex].Time - new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)).TotalSeconds;

    public async ValueTask DisposeAsync() => await Subsystem.DisposeAsync();
}
