using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Lb.Netlink.Platform;
using Microsoft.Extensions.Logging;

namespace Lb.Hosting;

/// <summary>
/// keepalived's -p/-r/-c pid files, opened without following a symbolic link (O_NOFOLLOW, as keepalived's pidfile.c;
/// see <see cref="SafeFile"/>), each held under an exclusive POSIX record lock (<see cref="FileStream.Lock"/>, fcntl
/// F_SETLK) for the daemon's lifetime, plus a lock on the configuration file per network namespace
/// (/run/lb/config-HASH.lock), so a second daemon on the same pid file or on the same configuration in the same
/// namespace exits with "daemon is already running (pid N)". The kernel drops the locks when the process dies, so a
/// stale pid file left by a crash never blocks a restart. Record locks do not conflict with the shared flock .NET takes
/// when reading, so anyone (the second daemon included) can still read the pid. Configuration locks left by crashed
/// daemons are removed by the next daemon to start (see <see cref="RemoveStaleLocks"/>).
/// </summary>
public sealed class DaemonLock : IDisposable
{
    public const string LockDirectory = "/run/lb";

    private readonly List<(string Path, FileStream Stream, bool Delete)> _held = new();

    /// <summary>Takes every lock and writes the pid files; null (after logging why) when another daemon holds one.</summary>
    public static DaemonLock? Acquire(CliOptions options, bool vrrp, bool checkers, ILogger log, string? lockDirectory = LockDirectory)
    {
        DaemonLock? held = new DaemonLock();
        try
        {
            var pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n";
            var wanted = new List<(string Path, bool Delete, string What)>();
            if (lockDirectory is not null && ConfigLockPath(options.ConfigFile, lockDirectory) is string configLock)
                wanted.Add((configLock, true, $"configuration {Path.GetFullPath(options.ConfigFile)}"));
            foreach (var (path, on) in new[] { (options.PidFile, true), (options.VrrpPidFile, vrrp), (options.CheckersPidFile, checkers) })
            {
                if (path is not null && on)
                    wanted.Add((path, true, $"pid file {path}"));
            }
            foreach (var (path, delete, what) in wanted)
            {
                FileStream? stream = null;
                try
                {
                    var dir = Path.GetDirectoryName(Path.GetFullPath(path));
                    if (dir is not null)
                        Directory.CreateDirectory(dir);
                    stream = OpenLocked(path, out var holder);
                    if (stream is null)
                    {
                        log.LogError("daemon is already running (pid {Pid}): {What} is locked; not starting a second one", holder?.ToString(CultureInfo.InvariantCulture) ?? "?", what);
                        return null; // the locks taken so far are released by the finally below
                    }
                    // Truncated only now, under the lock: before it, this would erase the running daemon's pid.
                    stream.SetLength(0);
                    var bytes = Encoding.ASCII.GetBytes(pid + (path.EndsWith(".lock", StringComparison.Ordinal) ? Path.GetFullPath(options.ConfigFile) + "\n" : ""));
                    stream.Write(bytes);
                    held._held.Add((path, stream, delete));
                    stream = null; // held owns it now
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    if (path.EndsWith(".lock", StringComparison.Ordinal) && e is not SafeFileException { Refused: true })
                    {
                        // Not root (no /run/lb): the configuration lock is a safety net, not a requirement.
                        log.LogDebug("cannot take the configuration lock {File}: {Message}", path, e.Message);
                        continue;
                    }
                    if (path.EndsWith(".lock", StringComparison.Ordinal))
                        log.LogError("cannot take the configuration lock {File}: {Message}", path, e.Message);
                    else
                        log.LogError("cannot write pid file {File}: {Message}", path, e.Message);
                    return null;
                }
                finally
                {
                    stream?.Dispose();
                }
            }
            if (lockDirectory is not null)
                held.RemoveStaleLocks(lockDirectory, log);
            var acquired = held;
            held = null; // the caller owns it now
            return acquired;
        }
        finally
        {
            held?.Dispose();
        }
    }

    /// <summary>How many times a lock is retried when its file is swapped under it (deleted by a stopping daemon or a sweep).</summary>
    private const int Attempts = 50;

    /// <summary>
    /// Opens <paramref name="path"/> without following a symbolic link (keepalived's O_NOFOLLOW: a link planted at a pid
    /// path must not make root truncate its target) and takes the record lock. Null, with the pid written in the file,
    /// when a live process holds it. A lock taken on a file that was unlinked meanwhile (the path names another inode
    /// now) is worthless, so the path's identity is checked after locking and the whole step repeated if it changed.
    /// </summary>
    private static FileStream? OpenLocked(string path, out int? holder)
    {
        holder = null;
        for (var attempt = 1; ; attempt++)
        {
            var stream = SafeFile.OpenRegularStream(path, SafeFile.DefaultMode);
            try
            {
                stream.Lock(0, 1);
            }
            catch (IOException)
            {
                holder = ReadPid(stream);
                stream.Dispose();
                // The holder is a running daemon if the pid it wrote is alive. If not, the lock is held for an instant by a
                // daemon that has not written its pid yet or by a sweep about to delete a stale file: look again.
                if (holder is int p && Directory.Exists($"/proc/{p}") || attempt >= Attempts)
                    return null;
                Thread.Sleep(10);
                continue;
            }
            if (SafeFile.StatusOf(path)?.Identity == SafeFile.Status(stream.SafeFileHandle, path).Identity)
                return stream;
            stream.Dispose();
            if (attempt >= Attempts)
                throw new IOException($"{path} was replaced {Attempts} times while being locked");
        }
    }

    /// <summary>
    /// Removes the configuration locks in <paramref name="directory"/> that no process holds (left by a daemon that
    /// crashed, for a configuration or namespace that is not running now), so they do not pile up. Each is locked,
    /// checked to still be the file at its path, and unlinked while locked (as a clean stop does), so a daemon opening
    /// it meanwhile sees its lock land on an unlinked file and retries on a new one. Locks held by this process are
    /// skipped: record locks belong to the process, so locking them again would succeed and closing them would drop them.
    /// </summary>
    private void RemoveStaleLocks(string directory, ILogger log)
    {
        IEnumerable<string> candidates;
        try
        {
            candidates = Directory.EnumerateFiles(directory, "config-*.lock").ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        var ours = _held.Select(h => SafeFile.Status(h.Stream.SafeFileHandle).Identity).ToHashSet();
        foreach (var path in candidates)
        {
            try
            {
                if (SafeFile.StatusOf(path) is not { Kind: FileKind.Regular } status || ours.Contains(status.Identity))
                    continue;
                using var stream = SafeFile.OpenRegularStream(path, SafeFile.DefaultMode, create: false);
                if (SafeFile.Status(stream.SafeFileHandle).Identity != status.Identity)
                    continue;
                try
                {
                    stream.Lock(0, 1);
                }
                catch (IOException)
                {
                    continue; // held by a running daemon
                }
                if (SafeFile.StatusOf(path)?.Identity == status.Identity)
                {
                    File.Delete(path);
                    log.LogDebug("removed stale configuration lock {File}", path);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.LogDebug("cannot check configuration lock {File}: {Message}", path, e.Message);
            }
        }
    }

    /// <summary>/run/lb/config-HASH.lock, HASH over the configuration's full path and this process's network namespace, so
    /// one configuration may run once per namespace (as keepalived -s NS does).</summary>
    public static string? ConfigLockPath(string configFile, string directory)
    {
        string netns;
        try
        {
            netns = new FileInfo("/proc/self/ns/net").LinkTarget ?? "net:[?]";
        }
        catch (IOException)
        {
            netns = "net:[?]";
        }
        var key = Path.GetFullPath(configFile) + "\n" + netns;
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
        return Path.Combine(directory, $"config-{hash}.lock");
    }

    /// <summary>The pid in the first line of the open file (read through the descriptor, not the path, which may have changed).</summary>
    private static int? ReadPid(FileStream stream)
    {
        try
        {
            var buffer = new byte[64];
            var n = RandomAccess.Read(stream.SafeFileHandle, buffer, 0);
            var text = Encoding.ASCII.GetString(buffer, 0, n);
            var end = text.IndexOf('\n', StringComparison.Ordinal);
            return int.TryParse(end < 0 ? text.Trim() : text[..end].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        // Delete while still holding the lock, then release: a daemon starting now either sees our lock or a fresh file.
        foreach (var (path, stream, delete) in Enumerable.Reverse(_held))
        {
            try
            {
                // Only the file we hold: whatever was put at the path since is not ours to delete.
                if (delete && SafeFile.StatusOf(path)?.Identity == SafeFile.Status(stream.SafeFileHandle, path).Identity)
                    File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
            stream.Dispose();
        }
        _held.Clear();
    }
}
