using Lb.Scripts;
using Lb.TestSupport;
using Lb.Vrrp.Host;
using Lb.Vrrp.Notify;
using Lb.Vrrp.Options;
using Lb.Vrrp.Tests.Support;
using Xunit;

namespace Lb.Vrrp.Tests.Notify;

public class NotifyScriptTests
{
    [Fact]
    public async Task A_notify_script_with_a_background_child_does_not_stall_the_next_notify()
    {
        var dir = Directory.CreateTempSubdirectory("lb-notify-").FullName;
        var pidFile = Path.Combine(dir, "pid");
        var marker = Path.Combine(dir, "backup-ran");
        try
        {
            var instance = new VrrpInstanceOptions
            {
                Name = "VI_1",
                VirtualRouterId = 51,
                NotifyMaster = new NotifyScript(["/bin/sh", "-c", $"sleep 1000 & echo $! > {pidFile}"]),
                NotifyBackup = new NotifyScript(["/usr/bin/touch", marker]),
            };
            var logs = new ListLogger();
            var dispatcher = new NotifyDispatcher(new VrrpSubsystemOptions(), new ScriptRunner(), logs.CreateLogger("notify"));
            await using (dispatcher.ConfigureAwait(false))
            {
                dispatcher.InstanceChanged(instance, VrrpState.Master, 100);
                dispatcher.InstanceChanged(instance, VrrpState.Backup, 100);
                // Before: the dispatcher waited for EOF on the first script's stdout, which the sleeping child holds open.
                await dispatcher.FlushAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
                Assert.True(File.Exists(marker));
            }
        }
        finally
        {
            KillPidFile(pidFile);
            Directory.Delete(dir, true);
        }
    }

    internal static void KillPidFile(string pidFile)
    {
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
            return;
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            p.Kill();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
        }
    }
}
