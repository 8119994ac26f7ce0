using System.Diagnostics;
using System.Text;

namespace Lb.Checkers.Scripts;

/// <summary>
/// Runs scripts without a shell: <c>setsid</c> makes the script the leader of a new process group, <c>setpriv</c>
/// switches to the requested user when it differs from ours (no libc calls here). stdin is closed, stdout and stderr
/// are drained continuously and only their first <see cref="OutputHeadBytes"/> are kept, so a script that floods its
/// output neither stalls nor eats memory. On timeout or cancellation the process tree and the process group are killed.
/// </summary>
public sealed class ProcessScriptRunner : IScriptRunner
{
    /// <summary>How much of stdout+stderr is kept.</summary>
    public const int OutputHeadBytes = 4096;

    private readonly bool _scriptSecurity;
    private readonly TimeProvider _time;

    /// <summary>Creates a runner. With <paramref name="enableScriptSecurity"/> a script (or a directory above it) writable by group or others is refused.</summary>
    public ProcessScriptRunner(bool enableScriptSecurity = false, TimeProvider? timeProvider = null)
    {
        _scriptSecurity = enableScriptSecurity;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The full argv actually executed for <paramref name="invocation"/> (launchers included).</summary>
    public static IReadOnlyList<string> LaunchArgv(ScriptInvocation invocation, string? currentUser = null)
    {
        var argv = new List<string>();
        if (File.Exists("/usr/bin/setsid") || File.Exists("/bin/setsid"))
            argv.Add("setsid");
        currentUser ??= Environment.UserName;
        if (invocation.User is { } user && (user != currentUser || invocation.Group is not null))
        {
            var (uid, gid) = UserDatabase.Lookup(user) ?? throw new ArgumentException($"unknown user '{user}'");
            var groupId = invocation.Group is null ? gid : UserDatabase.LookupGroup(invocation.Group) ?? throw new ArgumentException($"unknown group '{invocation.Group}'");
            argv.Add("setpriv");
            argv.Add($"--reuid={uid}");
            argv.Add($"--regid={groupId}");
            argv.Add(invocation.Group is null ? "--init-groups" : "--clear-groups");
            argv.Add("--");
        }
        argv.AddRange(invocation.Argv);
        return argv;
    }

    /// <inheritdoc/>
    public async Task<ScriptResult> RunAsync(ScriptInvocation invocation, CancellationToken cancellationToken)
    {
        if (invocation.Argv.Count == 0)
            return new ScriptResult(null, false, "empty command", "", 0);
        if (ScriptSecurity.Locate(invocation.Argv[0]) is null)
            return new ScriptResult(null, false, $"cannot run {invocation.Argv[0]}: no such executable", "", 0);
        if (_scriptSecurity && ScriptSecurity.Check(invocation.Argv[0]) is { } unsafeReason)
            return new ScriptResult(null, false, unsafeReason, "", 0);
        IReadOnlyList<string> argv;
        try
        {
            argv = LaunchArgv(invocation);
        }
        catch (ArgumentException ex)
        {
            return new ScriptResult(null, false, ex.Message, "", 0);
        }
        var psi = new ProcessStartInfo(argv[0])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        for (var i = 1; i < argv.Count; i++)
            psi.ArgumentList.Add(argv[i]);
        var process = new Process { StartInfo = psi };
        try
        {
            try
            {
                process.Start();
            }
            catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                return new ScriptResult(null, false, $"cannot run {invocation.Argv[0]}: {ex.Message}", "", 0);
            }
            process.StandardInput.Close();
            var head = new OutputHead(OutputHeadBytes);
            var drains = Task.WhenAll(DrainAsync(process.StandardOutput.BaseStream, head), DrainAsync(process.StandardError.BaseStream, head));
            using var timeout = invocation.Timeout > TimeSpan.Zero && invocation.Timeout != Timeout.InfiniteTimeSpan
                ? new CancellationTokenSource(invocation.Timeout, _time) : new CancellationTokenSource();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                await process.WaitForExitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                KillGroup(process);
                await Task.WhenAny(drains, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None)).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                return new ScriptResult(null, true, null, head.Text, head.Total);
            }
            // Children that keep the pipes open must not hold us: give the drain a short grace period.
            await Task.WhenAny(drains, Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None)).ConfigureAwait(false);
            return new ScriptResult(process.ExitCode, false, null, head.Text, head.Total);
        }
        finally
        {
            process.Dispose();
        }
    }

    /// <summary>Kills the process tree and the process group the script leads (setsid).</summary>
    internal static void KillGroup(Process process)
    {
        int pid;
        try
        {
            pid = process.Id;
        }
        catch (InvalidOperationException)
        {
            return;
        }
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
        }
        try
        {
            var kill = new ProcessStartInfo("kill") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            kill.ArgumentList.Add("-KILL");
            kill.ArgumentList.Add("--");
            kill.ArgumentList.Add($"-{pid}");
            using var k = Process.Start(kill);
            k?.WaitForExit(2000);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
    }

    private static async Task DrainAsync(Stream stream, OutputHead head)
    {
        var buffer = new byte[8192];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
                head.Add(buffer.AsSpan(0, n));
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
        }
    }

    private sealed class OutputHead(int max)
    {
        private readonly byte[] _bytes = new byte[max];
        private int _count;
        private long _total;

        public long Total => Interlocked.Read(ref _total);

        public string Text
        {
            get
            {
                lock (_bytes)
                    return Encoding.UTF8.GetString(_bytes, 0, _count);
            }
        }

        public void Add(ReadOnlySpan<byte> data)
        {
            Interlocked.Add(ref _total, data.Length);
            lock (_bytes)
            {
                var n = Math.Min(data.Length, _bytes.Length - _count);
                if (n > 0)
                {
                    data[..n].CopyTo(_bytes.AsSpan(_count));
                    _count += n;
                }
            }
        }
    }
}

/// <summary>Users and groups from /etc/passwd and /etc/group (no libc).</summary>
internal static class UserDatabase
{
    public static (uint Uid, uint Gid)? Lookup(string user)
    {
        if (uint.TryParse(user, out var numeric))
            return (numeric, numeric);
        foreach (var line in ReadLines("/etc/passwd"))
        {
            var f = line.Split(':');
            if (f.Length >= 4 && f[0] == user && uint.TryParse(f[2], out var uid) && uint.TryParse(f[3], out var gid))
                return (uid, gid);
        }
        return null;
    }

    public static uint? LookupGroup(string group)
    {
        if (uint.TryParse(group, out var numeric))
            return numeric;
        foreach (var line in ReadLines("/etc/group"))
        {
            var f = line.Split(':');
            if (f.Length >= 3 && f[0] == group && uint.TryParse(f[2], out var gid))
                return gid;
        }
        return null;
    }

    private static IEnumerable<string> ReadLines(string path) => File.Exists(path) ? File.ReadLines(path) : [];
}

/// <summary><c>enable_script_security</c>: a script, or a directory above it, must not be writable by group or others.</summary>
internal static class ScriptSecurity
{
    public static string? Check(string program)
    {
        var path = Locate(program);
        if (path is null)
            return $"cannot find {program} in PATH";
        for (var p = path; !string.IsNullOrEmpty(p); p = Path.GetDirectoryName(p))
        {
            if (!File.Exists(p) && !Directory.Exists(p))
                break;
            var mode = File.GetUnixFileMode(p);
            var sticky = (mode & UnixFileMode.StickyBit) != 0 && Directory.Exists(p);
            if (!sticky && (mode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
                return $"unsafe script {program}: {p} is writable by group or others (enable_script_security)";
            if (p == "/")
                break;
        }
        return null;
    }

    /// <summary>The file <paramref name="program"/> names (a path, or looked up in PATH); null if there is none.</summary>
    public static string? Locate(string program)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            var full = Path.GetFullPath(program);
            return File.Exists(full) ? full : null;
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':'))
        {
            if (dir.Length == 0)
                continue;
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }
}
