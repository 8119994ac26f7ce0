using Lb.Vrrp.Options;
using Lb.Vrrp.Scripts;
using Xunit;

namespace Lb.Vrrp.Tests.Scripts;

public class ScriptRunnerTests
{
    [Fact]
    public async Task Exit_status_is_reported()
    {
        var r = new ScriptRunner();
        Assert.True((await r.RunAsync(["/bin/true"], null, null, TimeSpan.FromSeconds(30), default)).Succeeded);
        var f = await r.RunAsync(["/bin/sh", "-c", "exit 3"], null, null, TimeSpan.FromSeconds(30), default);
        Assert.Equal(3, f.ExitCode);
        Assert.False(f.Succeeded);
    }

    [Fact]
    public async Task Arguments_are_passed_as_argv_never_through_a_shell()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"lb-argv-{Guid.NewGuid():N}");
        try
        {
            var argv = ScriptCommand.Split($"/bin/sh -c 'printf \"%s|\" \"$@\" > {marker}' x \"a b\" '$(touch {marker}.pwned)' ;");
            var r = await new ScriptRunner().RunAsync(argv, null, null, TimeSpan.FromSeconds(30), default);
            Assert.True(r.Succeeded);
            Assert.Equal($"a b|$(touch {marker}.pwned)|;|", File.ReadAllText(marker));
            Assert.False(File.Exists(marker + ".pwned"));
        }
        finally
        {
            File.Delete(marker);
        }
    }

    [Fact]
    public async Task A_hanging_script_is_killed_with_its_process_tree_at_the_timeout()
    {
        var pidFile = Path.Combine(Path.GetTempPath(), $"lb-child-{Guid.NewGuid():N}");
        var r = await new ScriptRunner().RunAsync(["/bin/sh", "-c", $"sleep 300 & echo $! > {pidFile}; wait"], null, null, TimeSpan.FromMilliseconds(500), default);
        Assert.True(r.TimedOut);
        Assert.False(r.Succeeded);
        var child = File.ReadAllText(pidFile).Trim();
        File.Delete(pidFile);
        Assert.True(Support.Wait.Until(() => !Directory.Exists($"/proc/{child}") || File.ReadAllText($"/proc/{child}/stat").Split(' ')[2] == "Z"));
    }

    [Fact]
    public async Task A_script_flooding_stdout_is_drained_and_flagged_without_buffering_it()
    {
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var r = await new ScriptRunner().RunAsync(["/bin/sh", "-c", "head -c 50000000 /dev/zero"], null, null, TimeSpan.FromSeconds(60), default);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.True(r.Succeeded);
        Assert.True(r.OutputTruncated);
        Assert.True(allocated < 10_000_000, $"allocated {allocated} bytes for 50 MB of output");
    }

    [Fact]
    public async Task A_missing_program_is_a_failure_not_an_exception()
    {
        var r = await new ScriptRunner().RunAsync(["/nonexistent/check"], null, null, TimeSpan.FromSeconds(5), default);
        Assert.False(r.Succeeded);
        Assert.NotNull(r.StartError);
    }

    [Fact]
    public void Another_user_is_run_through_runuser_with_argv_intact()
    {
        var psi = ScriptRunner.BuildStartInfo(["/usr/bin/check", "a b"], "nobody", "nogroup");
        Assert.Equal("runuser", psi.FileName);
        Assert.Equal(["-u", "nobody", "-g", "nogroup", "--", "/usr/bin/check", "a b"], psi.ArgumentList);
    }

    [Fact]
    public async Task Runs_as_the_configured_user()
    {
        if (Environment.UserName != "root")
            return;
        var r = new ScriptRunner();
        var ok = await r.RunAsync(["/bin/sh", "-c", "test \"$(id -un)\" = nobody"], "nobody", null, TimeSpan.FromSeconds(30), default);
        Assert.True(ok.Succeeded, ok.StartError);
    }

    [Fact]
    public void Keepalived_quoting_is_split_into_argv()
    {
        Assert.Equal(["/path/fault.sh", "VG 1", "it's", "a\\b"], ScriptCommand.Split("/path/fault.sh \"VG 1\" it\\'s 'a\\b'"));
        Assert.Empty(ScriptCommand.Split("   "));
    }
}
