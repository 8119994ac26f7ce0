using Lb.Checkers.Options;
using Lb.Checkers.Tests.Support;
using Lb.Scripts;
using Lb.TestSupport;
using Xunit;
using static Lb.Checkers.Tests.Support.Rig;

namespace Lb.Checkers.Tests.Engine;

/// <summary>
/// omega at shutdown (ipwrapper.c clear_services → do_rs_notifies/do_vs_notifies with stopping = true): keepalived starts
/// the scripts and goes on removing from IPVS; it does not wait for each script before the next removal. Found by the
/// kernel tier (CheckerQuorumKernelTests): waiting for each script in turn ran past the daemon's stop budget under a slow
/// machine and left the virtual service in the kernel.
/// </summary>
public class OmegaShutdownTests
{
    /// <summary>A script runner whose scripts record their argv, then run until released (stand-in: the slow script).</summary>
    private sealed class HeldScriptRunner : IScriptRunner
    {
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<string> Runs { get; } = new();

        public async Task<ScriptResult> RunAsync(ScriptInvocation invocation, CancellationToken cancellationToken)
        {
            lock (Runs)
                Runs.Add(string.Join(' ', invocation.Argv));
            await Release.Task.WaitAsync(cancellationToken);
            return new ScriptResult(0, false, null, "", 0);
        }

        public List<string> Snapshot()
        {
            lock (Runs)
                return Runs.ToList();
        }
    }

    [Fact]
    public async Task Stop_clears_IPVS_without_waiting_for_omega_scripts_then_waits_for_them()
    {
        var vs = Vs(
            Rs("10.0.0.2") with { NotifyDown = new ScriptOptions { Command = "/bin/down 10.0.0.2" } },
            Rs("10.0.0.3") with { NotifyDown = new ScriptOptions { Command = "/bin/down 10.0.0.3" } }) with
        {
            Omega = true,
            QuorumDown = new ScriptOptions { Command = "/bin/qdown" },
        };
        var time = new ManualTimeProvider();
        var ipvs = new InMemoryIpvsTable();
        var scripts = new HeldScriptRunner();
        var subsystem = new CheckerSubsystem(Options1(vs), ipvs, new MemoryJournal(), new ListLogger(), time,
            new ScriptedCheckFactory(time), scripts, new FixedRandom(0));
        try
        {
            await subsystem.StartAsync(CancellationToken.None);
            Assert.Equal(2, ipvs.Table.Single().Value.Count);

            var stop = subsystem.StopAsync(CancellationToken.None);
            // Bounded wait on state: every script started and the table is empty while the scripts still run.
            Assert.True(SpinWait.SpinUntil(() => scripts.Snapshot().Count == 3 && ipvs.Table.Count == 0, TimeSpan.FromSeconds(30)),
                $"table: {ipvs.Table.Count} service(s); scripts started: {string.Join(", ", scripts.Snapshot())}");
            Assert.Equal(["/bin/down 10.0.0.2", "/bin/down 10.0.0.3", "/bin/qdown"], scripts.Snapshot());
            Assert.False(stop.IsCompleted, "stop returned before its omega scripts finished");

            scripts.Release.SetResult();
            await stop.WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            scripts.Release.TrySetResult();
            await subsystem.DisposeAsync();
        }
    }
}
