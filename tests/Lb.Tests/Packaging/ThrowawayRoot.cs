using System.Globalization;
using Lb.TestSupport;

namespace Lb.Lb.Tests.Packaging;

/// <summary>
/// A copy-on-write view of this machine's root file system to install packages into: a private mount namespace
/// (<c>unshare -m</c>, held by a sleeping process) in which an overlayfs has <c>/</c> as its read-only lower layer and a
/// tmpfs as its upper layer, with fresh proc, sysfs, /dev (bound), tmpfs /tmp and /run. Commands run in it through
/// <c>nsenter -m</c> + <c>chroot</c>. Nothing written there reaches the real root: the writes land in the tmpfs, which
/// vanishes with the namespace when the holder dies (<see cref="Dispose"/>). In the kernel VM the root is itself a
/// tmpfs-backed overlay over the host's root, shared read-only over 9p; this second layer also keeps the package
/// away from the other kernel tests that run in parallel in the same VM (its /run, /etc, /var/lib/dpkg).
/// </summary>
internal sealed class ThrowawayRoot : IDisposable
{
    private static readonly string[] CleanEnvironment = ["/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LC_ALL=C", "TERM=dumb"];

    private readonly RunningProcess _holder;
    private readonly string _dir;

    public ThrowawayRoot(TimeSpan bound)
    {
        Bound = bound;
        _dir = Directory.CreateTempSubdirectory("dbh-root-").FullName;
        Root = Path.Combine(_dir, "root");
        var setup = $"""
            set -e
            mount -t tmpfs -o mode=0755 dbh-root '{_dir}'
            mkdir '{_dir}/upper' '{_dir}/work' '{Root}'
            mount -t overlay overlay -o 'lowerdir=/,upperdir={_dir}/upper,workdir={_dir}/work' '{Root}'
            mount -t proc proc '{Root}/proc'
            mount -t sysfs sysfs '{Root}/sys'
            mount --rbind /dev '{Root}/dev'
            mount -t tmpfs -o mode=1777 tmp '{Root}/tmp'
            mount -t tmpfs -o mode=0755 run '{Root}/run'
            mkdir -p '{Root}/run/lock' '{Root}/run/netns'
            echo dbh-root-ready
            exec sleep infinity
            """;
        _holder = RunningProcess.Start(new ProcessOptions { Label = "throwaway root" }, "unshare", "-m", "--propagation", "private", "sh", "-c", setup);
        if (!_holder.WaitForOutput("dbh-root-ready", bound))
        {
            var output = _holder.Output;
            Dispose();
            throw new InvalidOperationException($"cannot set up the throwaway root:\n{output}");
        }
    }

    /// <summary>Liveness bound of each command.</summary>
    public TimeSpan Bound { get; }

    /// <summary>The overlay's mount point, as seen from inside the holder's mount namespace.</summary>
    public string Root { get; }

    private string[] Enter(bool chroot) =>
        ["nsenter", "-t", _holder.Pid.ToString(CultureInfo.InvariantCulture), "-m", "-r", "--", .. chroot ? (string[])["chroot", Root] : [], .. CleanEnvironment];

    /// <summary>Runs a command inside the throwaway root (chrooted, clean environment).</summary>
    /// <remarks>
    /// One overload only: a second one taking a leading <c>string? stdin</c> won C# overload resolution for every
    /// call with string arguments (the command's first word became stdin), so every such call failed.
    /// </remarks>
    public ProcessResult Run(params string[] command)
    {
        var all = Enter(chroot: true).Concat(command).ToArray();
        return ProcessRunner.Run(new ProcessOptions { Timeout = Bound, Label = string.Join(' ', command) }, all[0], all[1..]);
    }

    /// <summary>Runs a command inside the throwaway root; throws with its output unless it exits 0; returns stdout.</summary>
    public string Check(params string[] command)
    {
        var r = Run(command);
        if (r.ExitCode != 0)
            throw new Xunit.Sdk.XunitException($"`{string.Join(' ', command)}` exited {r.ExitCode}:\n{r.Output}");
        return r.Stdout;
    }

    /// <summary>Starts a long-running command inside the throwaway root (nsenter, chroot, env and what it runs exec: its pid is the command's).</summary>
    public RunningProcess Start(string label, params string[] command)
    {
        var all = Enter(chroot: true).Concat(command).ToArray();
        return RunningProcess.Start(new ProcessOptions { Label = label }, all[0], all[1..]);
    }

    /// <summary>Copies a file of this machine into the throwaway root.</summary>
    public void CopyIn(string hostPath, string path)
    {
        var all = Enter(chroot: false).Concat(["cp", hostPath, Root + path]).ToArray();
        ProcessRunner.Check(new ProcessOptions { Timeout = Bound, Label = "copy in" }, all[0], all[1..]);
    }

    /// <summary>True when <paramref name="path"/> exists inside the root (as any kind of file, a dangling link too).</summary>
    public bool Exists(string path) => Run("sh", "-c", "test -e \"$1\" || test -L \"$1\"", "sh", path).ExitCode == 0;

    public void Dispose()
    {
        _holder.Dispose(); // the namespace, its mounts and the tmpfs go with its last process
        try
        {
            Directory.Delete(_dir);
        }
        catch (IOException)
        {
        }
    }
}
