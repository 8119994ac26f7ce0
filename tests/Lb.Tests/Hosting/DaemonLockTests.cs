using System.Collections.Concurrent;
using System.Diagnostics;
using Lb.Hosting;
using Lb.Netlink.Platform;
using Microsoft.Extensions.Logging;
using Lb.TestSupport;
using Xunit;

namespace Lb.Lb.Tests.Hosting;

/// <summary>
/// The pid-file and configuration-lock code of the daemon (<see cref="DaemonLock.Acquire"/>) against issue 9's attacks: a
/// symbolic link planted at -p/-r/-c (or at the configuration lock) must not make root truncate its target; and
/// configuration locks left by crashed daemons must not pile up.
/// </summary>
public sealed class DaemonLockTests : IDisposable
{
    private const string VictimText = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n";
    private readonly string _dir = Directory.CreateTempSubdirectory("lb-daemonlock-").FullName;
    private readonly ListLogger _log = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private string Locks => Directory.CreateDirectory(P("locks")).FullName;

    private string Config()
    {
        var conf = P("keepalived.conf");
        File.WriteAllText(conf, "global_defs {\n}\n");
        return conf;
    }

    private string Victim()
    {
        var victim = P("passwd");
        File.WriteAllText(victim, VictimText);
        return victim;
    }

    [Theory]
    [InlineData("-p")]
    [InlineData("-r")]
    [InlineData("-c")]
    public void A_symbolic_link_planted_at_a_pid_file_is_refused_and_its_target_is_not_truncated(string flag)
    {
        var victim = Victim();
        var link = P("lb.pid");
        File.CreateSymbolicLink(link, victim);
        using var held = DaemonLock.Acquire(CliOptions.Parse(["-f", Config(), flag, link]), vrrp: true, checkers: true, _log, Locks);
        Assert.Null(held);
        Assert.Equal(VictimText, File.ReadAllText(victim));
        Assert.Contains($"cannot write pid file {link}: {link} is a symbolic link; not following it (ELOOP)", _log.Lines);
    }

    [Fact]
    public void A_symbolic_link_planted_at_the_configuration_lock_is_refused()
    {
        var victim = Victim();
        var conf = Config();
        var lockPath = DaemonLock.ConfigLockPath(conf, Locks)!;
        File.CreateSymbolicLink(lockPath, victim);
        using var held = DaemonLock.Acquire(CliOptions.Parse(["-f", conf, "-p", P("lb.pid")]), vrrp: true, checkers: true, _log, Locks);
        Assert.Null(held);
        Assert.Equal(VictimText, File.ReadAllText(victim));
        Assert.Contains($"cannot take the configuration lock {lockPath}: {lockPath} is a symbolic link; not following it (ELOOP)", _log.Lines);
    }

    [Fact]
    public void Pid_files_are_written_and_removed_at_a_clean_stop()
    {
        var conf = Config();
        using (var held = DaemonLock.Acquire(CliOptions.Parse(["-f", conf, "-p", P("lb.pid"), "-r", P("vrrp.pid")]), vrrp: true, checkers: true, _log, Locks))
        {
            Assert.NotNull(held);
            Assert.Equal($"{Environment.ProcessId}\n", File.ReadAllText(P("lb.pid")));
            Assert.Equal($"{Environment.ProcessId}\n", File.ReadAllText(P("vrrp.pid")));
            Assert.Equal(SafeFile.DefaultMode, File.GetUnixFileMode(P("lb.pid")) & ~UnixFileMode.UserExecute);
        }
        Assert.False(File.Exists(P("lb.pid")));
        Assert.False(File.Exists(P("vrrp.pid")));
        Assert.Empty(Directory.GetFiles(Locks));
    }

    [Fact]
    public void Configuration_locks_left_by_crashed_daemons_are_removed_but_held_ones_are_kept()
    {
        var locks = Locks;
        // Left by crashes: a pid that is gone, no lock held.
        var stale = Enumerable.Range(0, 3).Select(i => Path.Combine(locks, $"config-{i:x16}.lock")).ToList();
        foreach (var f in stale)
            File.WriteAllText(f, "999999999\n/etc/keepalived/old.conf\n");
        // Held by another running process (a record lock, as a running lb holds it).
        var live = Path.Combine(locks, "config-ffffffffffffffff.lock");
        File.WriteAllText(live, "1\n/etc/keepalived/live.conf\n");
        using var holder = RunningProcess.Start("python3", "-c", "import fcntl,sys; f=open(sys.argv[1],'r+'); fcntl.lockf(f, fcntl.LOCK_EX|fcntl.LOCK_NB, 1, 0); print('locked', flush=True); sys.stdin.read()", live);
        try
        {
            Assert.True(holder.WaitForOutput("locked\n"), holder.Output);
            var conf = Config();
            using (var held = DaemonLock.Acquire(CliOptions.Parse(["-f", conf, "-p", P("lb.pid")]), vrrp: true, checkers: true, _log, locks))
            {
                Assert.NotNull(held);
                Assert.All(stale, f => Assert.False(File.Exists(f), $"stale lock {f} left in place"));
                Assert.True(File.Exists(live), "a lock held by a running process was removed");
                Assert.True(File.Exists(DaemonLock.ConfigLockPath(conf, locks)));
            }
            Assert.Equal([live], Directory.GetFiles(locks));
        }
        finally
        {
            holder.CloseStdin();
            holder.WaitForExit(TimeSpan.FromSeconds(30));
        }
    }
}
