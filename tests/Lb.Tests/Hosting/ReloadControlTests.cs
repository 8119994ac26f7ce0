using Lb.Config;
using Lb.Control;
using Lb.TestSupport;
using Xunit;

namespace Lb.Lb.Tests.Hosting;

/// <summary>
/// <c>lb reload [--plan]</c>'s daemon side without subsystems: the request runs in the reloader's loop (the SIGHUP one),
/// a file with an error is refused by both with the error at its file and line (and the plan logs nothing, the refused
/// reload logs its refusal as SIGHUP does), a valid file says "no change", a bad argument is refused.
/// </summary>
public sealed class ReloadControlTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("plh-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_file_with_an_error_is_refused_by_plan_and_reload_with_its_file_and_line_and_a_valid_one_is_no_change()
    {
        var path = Path.Combine(_dir, "k.conf");
        File.WriteAllText(path, "global_defs {\n    router_id one\n}\n");
        var options = CliOptions.Parse(["-f", path, "-i", "main"]);
        var running = ConfigLoader.Load(path, new ConfigLoadOptions { Preprocessor = new PreprocessorOptions { ConfigId = "main" } });
        var log = new ListLogger();
        using var notify = new global::Lb.Hosting.SdNotify(null);
        using var reloader = new global::Lb.Hosting.Reloader(options, running, log, notify, () => "ok", vrrp: null, checkers: null);

        Assert.Equal((0, "no change\n"), await ReloadControl.RunAsync(reloader, ["--plan"], "root (uid 0, pid 1)", log, CancellationToken.None));

        File.WriteAllText(path, "global_defs {\n    router_id two\n}\nvrrp_instance VI_1 {\n    interface lo\n    virtual_router_id 300\n}\n");
        var plan = await ReloadControl.RunAsync(reloader, ["--plan"], "root (uid 0, pid 1)", log, CancellationToken.None);
        Assert.Equal(1, plan.ExitCode);
        Assert.StartsWith("lb reload: a reload would be refused", plan.Text);
        Assert.Contains($"\n{path}:6: error: ", plan.Text);
        Assert.DoesNotContain(log.Lines, l => l.StartsWith("Reload refused", StringComparison.Ordinal));

        var reload = await ReloadControl.RunAsync(reloader, [], "root (uid 0, pid 1)", log, CancellationToken.None);
        Assert.Equal(1, reload.ExitCode);
        Assert.StartsWith("lb reload: reload refused", reload.Text);
        Assert.Contains($"\n{path}:6: error: ", reload.Text);
        Assert.Contains(log.Lines, l => l.StartsWith("Reload refused", StringComparison.Ordinal));
        Assert.Equal(1, reloader.Completed);

        Assert.Equal(1, (await ReloadControl.RunAsync(reloader, ["--now"], "root (uid 0, pid 1)", log, CancellationToken.None)).ExitCode);
        File.WriteAllText(path, "global_defs {\n    router_id three\n}\n");
        Assert.Equal((0, "no change\n"), await ReloadControl.RunAsync(reloader, [], "root (uid 0, pid 1)", log, CancellationToken.None));
        Assert.Contains(log.Lines, l => l == "Reload complete");
        Assert.Contains(log.Lines, l => l.Contains("Reload requested by root (uid 0, pid 1)", StringComparison.Ordinal));
    }
}
