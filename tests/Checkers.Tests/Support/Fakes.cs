using System.Collections.Concurrent;
using Lb.Checkers.Engine;
using Lb.Checkers.Journal;
using Lb.Scripts;

namespace Lb.Checkers.Tests.Support;

/// <summary>A journal in memory.</summary>
public sealed class MemoryJournal : IJournal
{
    public List<JournalEntry> Entries { get; } = new();

    public ValueTask AppendAsync(JournalEntry entry, CancellationToken cancellationToken = default)
    {
        lock (Entries)
            Entries.Add(entry);
        return ValueTask.CompletedTask;
    }

    /// <summary>"kind rs old->new | reason | action" lines.</summary>
    public List<string> Lines()
    {
        lock (Entries)
            return Entries.Select(e => $"{e.Kind} {e.RealServer ?? e.VirtualServer} {e.OldState}->{e.NewState} | {e.Reason} | {e.Action}").ToList();
    }
}

/// <summary>A probe whose results the test scripts: a queue of outcomes (the last one repeats), or a pending task.</summary>
public sealed class ScriptedCheck : ICheck
{
    private readonly Queue<CheckOutcome> _queue = new();
    private CheckOutcome _last = CheckOutcome.Ok("ok");

    public int Calls { get; private set; }
    public List<TimeSpan> CallTimes { get; } = new();
    public TimeProvider? Time { get; set; }
    public DateTimeOffset Start { get; set; }

    /// <summary>When set, attempts wait for this (a hung server).</summary>
    public TaskCompletionSource<CheckOutcome>? Hang { get; set; }

    public ScriptedCheck Then(params CheckOutcome[] outcomes)
    {
        foreach (var o in outcomes)
            _queue.Enqueue(o);
        return this;
    }

    public ScriptedCheck Always(CheckOutcome o)
    {
        _queue.Clear();
        _last = o;
        return this;
    }

    public async ValueTask<CheckOutcome> ExecuteAsync(CancellationToken cancellationToken)
    {
        Calls++;
        if (Time is not null)
            CallTimes.Add(Time.GetUtcNow() - Start);
        if (Hang is { } h)
            return await h.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (_queue.Count > 0)
            _last = _queue.Dequeue();
        return _last;
    }

    public string TimeoutReason(TimeSpan timeout) => $"connect timeout {timeout.TotalSeconds} s";
}

/// <summary>A check factory handing out <see cref="ScriptedCheck"/>s keyed by "rs-address:port#index".</summary>
public sealed class ScriptedCheckFactory : ICheckFactory
{
    private readonly TimeProvider _time;
    private readonly DateTimeOffset _start;

    public ScriptedCheckFactory(TimeProvider time)
    {
        _time = time;
        _start = time.GetUtcNow();
    }

    public ConcurrentDictionary<string, ScriptedCheck> Checks { get; } = new();

    public ScriptedCheck For(string rs, int index = 0) => Checks.GetOrAdd($"{rs}#{index}", _ => new ScriptedCheck { Time = _time, Start = _start });

    public ICheck Create(CheckTarget target)
    {
        var idx = 0;
        for (var i = 0; i < target.RealServer.Checkers.Count; i++)
        {
            if (ReferenceEquals(target.RealServer.Checkers[i], target.Checker))
                idx = i;
        }
        return For($"{target.RealServer.Address}", idx);
    }
}

/// <summary>Records the scripts it is asked to run; they "exit 0" at once.</summary>
public sealed class RecordingScriptRunner : IScriptRunner
{
    public List<string> Runs { get; } = new();

    public Task<ScriptResult> RunAsync(ScriptInvocation invocation, CancellationToken cancellationToken)
    {
        lock (Runs)
            Runs.Add(string.Join(' ', invocation.Argv) + (invocation.User is null ? "" : $" (as {invocation.User})"));
        return Task.FromResult(new ScriptResult(0, false, null, "", 0));
    }
}

/// <summary>A <see cref="Random"/> that always returns the same fraction.</summary>
public sealed class FixedRandom(double value) : Random
{
    public override double NextDouble() => value;
}
