using Lb.Vrrp.Options;
using Lb.Vrrp.Scripts;
using Lb.Vrrp.Tracking;
using Xunit;

namespace Lb.Vrrp.Tests.Scripts;

public class ScriptSecurityTests
{
    [Fact]
    public void A_script_under_a_world_writable_directory_is_insecure()
    {
        var dir = Directory.CreateTempSubdirectory("lb-sec-").FullName;
        try
        {
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var script = Path.Combine(dir, "check.sh");
            File.WriteAllText(script, "#!/bin/sh\nexit 0\n");
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherWrite);
            Assert.True(ScriptSecurity.IsInsecure(script, out var why));
            Assert.Contains("check.sh is writable by non-root users", why);
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            // /tmp itself is world-writable
            Assert.True(ScriptSecurity.IsInsecure(script, out why));
            Assert.Equal("/tmp is writable by non-root users", why);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
        Assert.False(ScriptSecurity.IsInsecure("/bin/true", out _));
        Assert.False(ScriptSecurity.IsInsecure("true", out _));
        Assert.True(ScriptSecurity.IsInsecure("/nonexistent/x", out _));
    }

    [Fact]
    public void Process_scanner_counts_matching_processes_by_name_and_by_parameters()
    {
        using var p = System.Diagnostics.Process.Start("sleep", "123.456")!;
        try
        {
            var counts = ProcessScanner.Count(
            [
                new VrrpTrackProcessOptions { Name = "byname", Process = "sleep" },
                new VrrpTrackProcessOptions { Name = "exact", Process = "sleep", Parameters = ["123.456"], ParamMatch = ProcessParamMatch.Exact },
                new VrrpTrackProcessOptions { Name = "initial", Process = "sleep", Parameters = ["123."], ParamMatch = ProcessParamMatch.Initial },
                new VrrpTrackProcessOptions { Name = "other", Process = "sleep", Parameters = ["999"], ParamMatch = ProcessParamMatch.Exact },
            ]);
            Assert.True(counts["byname"] >= 1);
            Assert.Equal(1, counts["exact"]);
            Assert.Equal(1, counts["initial"]);
            Assert.Equal(0, counts["other"]);
        }
        finally
        {
            p.Kill();
            p.WaitForExit();
        }
    }
}
