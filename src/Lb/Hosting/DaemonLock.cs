using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Lb.Hosting;

/// <summary>
/// keepalived's -p/-r/-c pid files, each held under an exclusive POSIX record lock (<see cref="FileStream.Lock"/>,
/// fcntl F_SETLK) for the daemon's lifetime, plus a lock on the configuration file per network namespace
/// (/run/lb/config-HASH.lock), so a second daemon on the same pid file or on the same configuration in the same
/// namespace exits with "daemon is already running (pid N)". The kernel drops the locks when the process dies, so a
/// stale pid file left by a crash never blocks a restart. Record locks do not conflict with the shared flock .NET takes
/// when reading, so anyone (the second daemon included) can still read the pid.
/// </summary>
public sealed class DaemonLock : IDisposable
{
    public const string LockDirectory = "/run/lb";

    private readonly List<(string Path, FileStream Stream, bool Delete)> _held = new();

    /// <summary>Takes every lock and writes the pid files; null (after logging why) when another daemon holds one.</summary>
    public static DaemonLock? Acquire(CliOptions options, bool vrrp, bool checkers, ILogger log, string? lockDirectory = LockDirectory)
    {
        var held = new DaemonLock();
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
                // Not FileMode.Create: truncating before holding the lock would erase the running daemon's pid.
                stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
                try
                {
                    stream.Lock(0, 1);
                }
                catch (IOException)
                {
                    stream.Dispose();
                    var other = ReadPid(path);
                    log.LogError("daemon is already running (pid {Pid}): {What} is locked; not starting a second one", other?.ToString(CultureInfo.InvariantCulture) ?? "?", what);
                    held.Dispose();
                    return null;
                }
                stream.SetLength(0);
                var bytes = Encoding.ASCII.GetBytes(pid + (path.EndsWith(".lock", StringComparison.Ordinal) ? Path.GetFullPath(options.ConfigFile) + "\n" : ""));
                stream.Write(bytes);
                stream.Flush(flushToDisk: false);
                held._held.Add((path, stream, delete));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stream?.Dispose();
                if (path.EndsWith(".lock", StringComparison.Ordinal))
                {
                    // Not root (no /run/lb): the configuration lock is a safety net, not a requirement.
                    log.LogDebug("cannot take the configuration lock {File}: {Message}", path, e.Message);
                    continue;
                }
                log.LogError("cannot write pid file {File}: {Message}", path, e.Message);
                held.Dispose();
                return null;
            }
        }
        return held;
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

    private static int? ReadPid(string path)
    {
        try
        {
            using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var r = new StreamReader(s);
            return int.TryParse(r.ReadLine()?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
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
                if (delete)
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
