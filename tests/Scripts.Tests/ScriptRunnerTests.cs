using Lb.TestSupport;
using Xunit;

namespace Lb.Scripts.Tests;

public class ScriptRunnerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Exit_status_and_argv_are_passed_without_a_shell()
    {
        var runner = new ScriptRunner();
        Assert.True((await runner.RunAsync(new ScriptInvocation(["/bin/true"], null, null, Bound), default)).Succeeded);
        var f = await runner.RunAsync(new ScriptInvocation(["/bin/sh", "-c", "exit 3"], null, null, Bound), default);
        Assert.Equal(3, f.ExitCode);
        Assert.False(f.Succeeded);
        var argv = ScriptCommandLine.Split("/bin/sh -c 'printf \"%s|\" \"$@\"' x \"a b\" '$(id)' ;");
        var r = await runner.RunAsync(new ScriptInvocation(argv, null, null, Bound), default);
        Assert.Equal("a b|$(id)|;|", r.OutputHead);
    }

    [Fact]
    public async Task A_missing_program_is_a_failure_not_an_exception()
    {
        var r = await new ScriptRunner().RunAsync(new ScriptInvocation(["/nonexistent/check"], null, null, Bound), default);
        Assert.False(r.Succeeded);
        Assert.Contains("cannot run /nonexistent/check", r.Error);
    }

    [RootTheory("chown", "chgrp")]
    [InlineData("nobody-owned")]
    [InlineData("symlink-into-nobody-dir")]
    [InlineData("group-writable-dir")]
    public async Task Script_security_refuses_to_run_an_unsafe_script_as_root(string attack)
    {
        using var d = new ScratchDirectory();
        var marker = Path.Combine(d.Path, "ran-as-root");
        string script;
        switch (attack)
        {
            case "nobody-owned":
                script = d.Script("s.sh", $"touch {marker}");
                ScratchDirectory.Chown("nobody", script);
                break;
            case "symlink-into-nobody-dir":
                var dir = d.Dir("nob");
                var target = d.Script("nob/s.sh", $"touch {marker}");
                ScratchDirectory.Chown("nobody", dir);
                script = Path.Combine(d.Path, "link.sh");
                File.CreateSymbolicLink(script, target);
                break;
            default:
                var sub = d.Dir("sub", (UnixFileMode)0b111_111_101);
                ProcessRunner.Check("chgrp", "nogroup", sub);
                script = d.Script("sub/s.sh", $"touch {marker}");
                break;
        }
        // script_user root, enable_script_security: the runner must refuse it.
        var r = await new ScriptRunner(enableScriptSecurity: true).RunAsync(new ScriptInvocation([script], "root", null, Bound), default);
        Assert.Null(r.ExitCode);
        Assert.Contains("Unsafe permissions found for script", r.Error);
        Assert.False(File.Exists(marker), "the script ran as root");

        // The same script as the unprivileged user it belongs to is not a root escalation and runs.
        if (attack == "nobody-owned")
        {
            File.SetUnixFileMode(d.Path, (UnixFileMode)0b111_111_111);
            var ok = await new ScriptRunner(enableScriptSecurity: true).RunAsync(new ScriptInvocation([script], "nobody", null, Bound), default);
            Assert.True(ok.Succeeded, ok.Error);
            Assert.True(File.Exists(marker));
        }
    }

    [RootFact]
    public async Task A_user_without_a_group_runs_under_its_primary_group_not_script_user_s_group()
    {
        // script "…" nobody   with   script_user root root: keepalived runs it as nobody:nogroup.
        var invocation = ScriptInvocation.Create(["/usr/bin/id", "-g"], "nobody", null, "root", "root", Bound);
        Assert.Null(invocation.Group);
        var r = await new ScriptRunner().RunAsync(invocation, default);
        Assert.True(r.Succeeded, r.Error);
        Assert.Equal("65534\n", r.OutputHead);

        var fromScriptUser = ScriptInvocation.Create(["/usr/bin/id", "-un"], null, null, "nobody", null, Bound);
        Assert.Equal("nobody\n", (await new ScriptRunner().RunAsync(fromScriptUser, default)).OutputHead);
    }

    [Fact]
    public void The_launcher_makes_a_session_leader_and_switches_user_only_when_needed()
    {
        var same = ScriptRunner.LaunchArgv("/bin/true", [], ScriptIdentity.Current);
        Assert.DoesNotContain("setpriv", same);
        Assert.Equal("/bin/true", same[^1]);

        var other = ScriptRunner.LaunchArgv("/bin/check", ["a b"], new ScriptIdentity(65534, 65534, "nobody"), new ScriptIdentity(0, 0, "root"));
        Assert.EndsWith("setsid", other[0], StringComparison.Ordinal);
        Assert.Equal(["setpriv", "--reuid=65534", "--regid=65534", "--groups=65534", "--", "/bin/check", "a b"], other.Skip(1));
    }

    [Fact]
    public async Task A_background_child_holding_the_pipes_does_not_hold_the_run()
    {
        // vrrp_script "sh -c 'sleep 1000 & exit 1'": the run ends when the script exits, not when the pipes close.
        var pidFile = Path.Combine(Path.GetTempPath(), $"lb-bg-{Guid.NewGuid():N}");
        try
        {
            var runner = new ScriptRunner();
            for (var i = 0; i < 2; i++)
            {
                var r = await runner.RunAsync(new ScriptInvocation(["/bin/sh", "-c", $"sleep 1000 & echo $! > {pidFile}; echo started; exit 1"], null, null, TimeSpan.FromMinutes(10)), default)
                    .WaitAsync(Bound);
                Assert.Equal(1, r.ExitCode);
                Assert.False(r.TimedOut);
                Assert.Equal("started\n", r.OutputHead);
                ScratchDirectory.KillPidFile(pidFile);
            }
        }
        finally
        {
            ScratchDirectory.KillPidFile(pidFile);
            File.Delete(pidFile);
        }
    }

    [Fact]
    public async Task A_timeout_kills_the_script_s_process_group_including_children_that_left_its_tree()
    {
        var pidFile = Path.Combine(Path.GetTempPath(), $"lb-grp-{Guid.NewGuid():N}");
        var time = new ManualTimeProvider();
        try
        {
            // The subshell exits, so its sleep is re-parented to init: only the process group still holds it.
            var run = new ScriptRunner(timeProvider: time).RunAsync(new ScriptInvocation(["/bin/sh", "-c", $"(sleep 1000 & echo $! > {pidFile}); exec sleep 1000"], null, null, TimeSpan.FromSeconds(30)), default);
            Assert.True(Wait.Until(() => File.Exists(pidFile) && File.ReadAllText(pidFile).EndsWith('\n')));
            var orphan = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.False(run.IsCompleted);
            time.Advance(TimeSpan.FromSeconds(30));
            var r = await run.WaitAsync(Bound);
            Assert.True(r.TimedOut);
            Assert.True(Wait.Until(() => ScratchDirectory.IsGone(orphan)));
        }
        finally
        {
            ScratchDirectory.KillPidFile(pidFile);
            File.Delete(pidFile);
        }
    }

    [Fact]
    public async Task A_script_flooding_stdout_is_drained_and_bounded()
    {
        var r = await new ScriptRunner().RunAsync(new ScriptInvocation(["/bin/sh", "-c", "head -c 5000000 /dev/zero"], null, null, TimeSpan.FromMinutes(5)), default);
        Assert.True(r.Succeeded);
        Assert.True(r.OutputTruncated);
        Assert.Equal(ScriptRunner.OutputHeadBytes, r.OutputHead.Length);
    }
}

/// <summary>Counts this process's descriptors, so it runs alone.</summary>
[CollectionDefinition(nameof(DescriptorCount), DisableParallelization = true)]
public sealed class DescriptorCount;

[Collection(nameof(DescriptorCount))]
public class ScriptRunnerDescriptorTests
{
    [Fact]
    public async Task Pipes_and_process_handles_are_released_after_each_run_not_by_the_garbage_collector()
    {
        var runner = new ScriptRunner();
        await runner.RunAsync(new ScriptInvocation(["/bin/true"], null, null, TimeSpan.FromSeconds(30)), default);
        var before = Directory.GetFiles("/proc/self/fd").Length;
        // No collection while counting: a leak hidden by a lucky GC would pass.
        var noGc = GC.TryStartNoGCRegion(64_000_000);
        int after;
        try
        {
            for (var i = 0; i < 100; i++)
                Assert.True((await runner.RunAsync(new ScriptInvocation(["/bin/sh", "-c", "echo out; echo err >&2"], null, null, TimeSpan.FromSeconds(30)), default)).Succeeded);
            after = Directory.GetFiles("/proc/self/fd").Length;
        }
        finally
        {
            if (noGc && System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.NoGCRegion)
                GC.EndNoGCRegion();
        }
        // Three pipes per run were left to finalizers before: 100 runs grew the table by hundreds of descriptors.
        Assert.True(after - before < 20, $"{after - before} descriptors more after 100 runs");
    }
}
