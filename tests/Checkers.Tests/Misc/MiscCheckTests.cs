using Lb.Checkers.Engine;
using Lb.Checkers.Misc;
using Lb.Checkers.Options;
using Lb.Scripts;
using Lb.Checkers.Tests.Support;
using Lb.TestSupport;
using Xunit;

namespace Lb.Checkers.Tests.Misc;

public sealed class MiscCheckTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lb-misc-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static MiscCheck Check(string path, bool dynamic = false, string? user = null)
    {
        var options = new MiscCheckOptions { Path = path, Dynamic = dynamic, User = user };
        var settings = new EffectiveSettings
        {
            DelayLoop = TimeSpan.FromSeconds(10),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            Retry = 0,
            DelayBeforeRetry = TimeSpan.FromSeconds(1),
            Warmup = TimeSpan.Zero,
            Alpha = false,
            LogAllFailures = false,
            ConnectAddress = System.Net.IPAddress.Loopback,
            ConnectPort = 0,
        };
        return new MiscCheck(options, settings, new ScriptRunner(), null, null);
    }

    [Theory]
    [InlineData("/bin/sh -c 'exit 0'", true, "exited with status 0")]
    [InlineData("/bin/sh -c 'exit 1'", false, "exited with status 1")]
    [InlineData("/bin/sh -c 'exit 9'", false, "exited with status 9")]
    [InlineData("/nonexistent/check", false, "cannot run /nonexistent/check")]
    public async Task Exit_status_decides(string path, bool success, string reason)
    {
        var r = await Rounds.RunAsync(Check(path), 10);
        Assert.Equal(success, r.Success);
        Assert.StartsWith(reason, r.Reason);
    }

    [Fact]
    public async Task Misc_dynamic_maps_exit_code_to_weight()
    {
        var r = await Rounds.RunAsync(Check("/bin/sh -c 'exit 9'", dynamic: true), 10);
        Assert.True(r.Success);
        Assert.Equal(7, r.DynamicWeight);
        Assert.Equal("misc_dynamic weight 7", r.Reason);
        var fail = await Rounds.RunAsync(Check("/bin/sh -c 'exit 1'", dynamic: true), 10);
        Assert.False(fail.Success);
    }

    /// <summary>
    /// Runs one round of <paramref name="check"/> under a manual clock: waits (bounded) until the script has written
    /// its child's pid, then moves the clock past the 3 s misc_timeout. The timeout fires because the clock says so,
    /// not because the host happened to be slow or fast, and the pid file is read only once it holds a whole line.
    /// </summary>
    private static async Task<(CheckOutcome Outcome, int Child)> TimeOutOnceThePidIsWrittenAsync(MiscCheck check, string pidFile)
    {
        var time = new ManualTimeProvider();
        var round = new CheckRound(check, TimeSpan.FromSeconds(3), TimeSpan.Zero, time, null);
        var run = round.RunAsync(0, CancellationToken.None);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!(File.Exists(pidFile) && File.ReadAllText(pidFile).EndsWith('\n')) && DateTime.UtcNow < deadline && !run.IsCompleted)
            await Task.Delay(20);
        Assert.False(run.IsCompleted, $"the round ended before the clock moved: {(run.IsCompleted ? run.Result.Outcome.Reason : "")}");
        Assert.True(File.Exists(pidFile) && File.ReadAllText(pidFile).EndsWith('\n'), "the script never wrote its child's pid");
        var child = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        time.Advance(TimeSpan.FromSeconds(3));
        var (outcome, _) = await run.WaitAsync(TimeSpan.FromSeconds(60));
        return (outcome, child);
    }

    [Fact]
    public async Task A_hanging_script_is_killed_at_the_timeout_with_its_children()
    {
        var pidFile = Path.Combine(_dir, "child.pid");
        var (r, child) = await TimeOutOnceThePidIsWrittenAsync(Check($"/bin/sh -c 'sleep 1000 & echo $! > {pidFile}; sleep 1000'"), pidFile);
        Assert.False(r.Success);
        Assert.Equal("timed out after 3 s (misc_timeout), process tree killed", r.Reason);
        Assert.True(await GoneAsync(child), $"child {child} survived");
    }

    [Fact]
    public async Task Script_that_detaches_its_child_still_loses_it_with_the_process_group()
    {
        // The grandchild is re-parented away from the script (a subshell that exits), so only the group kill reaches it.
        var pidFile = Path.Combine(_dir, "orphan.pid");
        var (r, orphan) = await TimeOutOnceThePidIsWrittenAsync(Check($"/bin/sh -c '(sleep 1000 & echo $! > {pidFile}) ; sleep 1000'"), pidFile);
        Assert.False(r.Success);
        Assert.Equal("timed out after 3 s (misc_timeout), process tree killed", r.Reason);
        Assert.True(await GoneAsync(orphan), $"orphan {orphan} survived");
    }

    private static async Task<bool> GoneAsync(int pid)
    {
        // Bounded wait for the kernel to reap it (not a timing assertion); generous for a loaded host.
        for (var i = 0; i < 600; i++)
        {
            var stat = $"/proc/{pid}/stat";
            if (!File.Exists(stat))
                return true;
            try
            {
                var text = File.ReadAllText(stat);
                var state = text[(text.LastIndexOf(')') + 2)..].Split(' ')[0];
                if (state is "Z" or "X")
                    return true;
            }
            catch (IOException)
            {
                return true;
            }
            await Task.Delay(50);
        }
        return false;
    }

    [Fact]
    public async Task A_script_that_floods_stdout_is_drained_with_bounded_memory()
    {
        var runner = new ScriptRunner();
        var r = await runner.RunAsync(new ScriptInvocation(["/bin/sh", "-c", "head -c 50000000 /dev/zero; echo done >&2; exit 0"], null, null, TimeSpan.FromSeconds(60)), CancellationToken.None);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(50_000_005, r.OutputBytes);
        Assert.True(r.OutputHead.Length <= ScriptRunner.OutputHeadBytes);
        var check = await Rounds.RunAsync(Check("/bin/sh -c 'head -c 50000000 /dev/zero; exit 0'"), 60);
        Assert.True(check.Success, check.Reason);
    }

    [Fact]
    public async Task Arguments_are_never_interpreted_by_a_shell()
    {
        var runner = new ScriptRunner();
        var argv = ScriptCommandLine.Split("/bin/echo a;b $HOME `id` 'x y'");
        var r = await runner.RunAsync(new ScriptInvocation(argv, null, null, TimeSpan.FromSeconds(10)), CancellationToken.None);
        Assert.Equal("a;b $HOME `id` x y\n", r.OutputHead);
    }

    [RootFact("setpriv", "setsid")]
    public async Task Runs_as_the_script_user()
    {
        var runner = new ScriptRunner();
        var r = await runner.RunAsync(new ScriptInvocation(["/usr/bin/id", "-u"], "nobody", null, TimeSpan.FromSeconds(10)), CancellationToken.None);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("65534\n", r.OutputHead);
    }

    [Fact]
    public async Task Script_security_refuses_a_world_writable_script()
    {
        var script = Path.Combine(_dir, "check.sh");
        File.WriteAllText(script, "#!/bin/sh\nexit 0\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherWrite);
        var runner = new ScriptRunner(enableScriptSecurity: true);
        var r = await runner.RunAsync(new ScriptInvocation([script], null, null, TimeSpan.FromSeconds(10)), CancellationToken.None);
        Assert.Null(r.ExitCode);
        Assert.Contains("Unsafe permissions found for script", r.Error);
    }
}

public class NotifyScriptTests
{
    [Fact]
    public async Task A_hanging_notify_script_is_killed_at_its_timeout_on_the_injected_clock()
    {
        var time = new ManualTimeProvider();
        var runner = new ScriptRunner(timeProvider: time);
        var run = runner.RunAsync(new ScriptInvocation(["/bin/sleep", "1000"], null, null, TimeSpan.FromSeconds(30)), CancellationToken.None);
        Assert.False(run.IsCompleted);
        ManualClock.Advance(time, 30);
        var r = await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(r.TimedOut);
        Assert.Null(r.ExitCode);
    }
}
