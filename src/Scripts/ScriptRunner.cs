using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Lb.Netlink;
using Lb.Netlink.Platform;

namespace Lb.Scripts;

/// <summary>
/// Runs scripts without a shell, for both subsystems. <c>setsid</c> makes the script the leader of a new session and
/// process group; <c>setpriv</c> switches to the script's uid/gid (supplementary groups reduced to that gid, as keepalived
/// does) when it differs from ours. stdin is closed; stdout and stderr are drained, only their first
/// <see cref="OutputHeadBytes"/> kept. The runner waits for the process, not for end-of-file on its pipes: a background
/// child that inherited them cannot hold a run (reading stops <see cref="OutputGrace"/> after the exit). On timeout or
/// cancellation the script's process group and tree are killed. Process and pipes are disposed when the run ends.
/// With <c>enable_script_security</c>, a script <see cref="ScriptSecurity"/> disables is refused.
/// </summary>
public sealed class ScriptRunner : IScriptRunner
{
    /// <summary>How much of stdout+stderr is kept.</summary>
    public const int OutputHeadBytes = 4096;

    /// <summary>How long output is still read after the script exited (a child may hold the pipes forever).</summary>
    public static readonly TimeSpan OutputGrace = TimeSpan.FromMilliseconds(200);

    private static readonly string? SetsidPath = new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists);

    private readonly Func<bool> _scriptSecurity;
    private readonly TimeProvider _time;

    /// <summary>Creates a runner; <paramref name="timeProvider"/> times the script timeouts.</summary>
    public ScriptRunner(bool enableScriptSecurity = false, TimeProvider? timeProvider = null)
        : this(() => enableScriptSecurity, timeProvider)
    {
    }

    /// <summary>Creates a runner whose <c>enable_script_security</c> follows reloads (<paramref name="enableScriptSecurity"/> is read at each run).</summary>
    public ScriptRunner(Func<bool> enableScriptSecurity, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(enableScriptSecurity);
        _scriptSecurity = enableScriptSecurity;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The identity <paramref name="invocation"/> runs as; null with the reason when its user or group is unknown.</summary>
    public static ScriptIdentity? Identity(ScriptInvocation invocation, out string? error)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        return invocation.User is null
            ? ScriptIdentity.Resolve(null, null, null, null, out error)
            : ScriptIdentity.Lookup(invocation.User, invocation.Group, out error);
    }

    /// <summary>The full argv executed to run <paramref name="program"/> with <paramref name="args"/> as <paramref name="identity"/> (launchers included).</summary>
    public static IReadOnlyList<string> LaunchArgv(string program, IEnumerable<string> args, ScriptIdentity identity, ScriptIdentity? current = null)
    {
        ArgumentNullException.ThrowIfNull(identity);
        current ??= ScriptIdentity.Current;
        var argv = new List<string>();
        if (SetsidPath is not null)
            argv.Add(SetsidPath);
        if (identity.Uid != current.Uid || identity.Gid != current.Gid)
        {
            argv.Add("setpriv");
            argv.Add(string.Create(CultureInfo.InvariantCulture, $"--reuid={identity.Uid}"));
            argv.Add(string.Create(CultureInfo.InvariantCulture, $"--regid={identity.Gid}"));
            argv.Add(string.Create(CultureInfo.InvariantCulture, $"--groups={identity.Gid}"));
            argv.Add("--");
        }
        argv.Add(program);
        argv.AddRange(args);
        return argv;
    }

    /// <inheritdoc/>
    public async Task<ScriptResult> RunAsync(ScriptInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        if (invocation.Argv.Count == 0)
            return Failed("empty command");
        var name = invocation.Argv[0];
        if (Identity(invocation, out var idError) is not { } identity)
            return Failed($"cannot run {name}: {idError}");
        var secure = _scriptSecurity();
        var check = ScriptSecurity.Check(name, identity, secure);
        if ((check.Flags & ScriptCheckFlags.NotFound) != 0)
            return Failed($"cannot run {name}: {LastOr(check, "no such executable")}");
        if (secure && check.Disabled)
            return Failed($"refusing to run {name} (enable_script_security): {LastOr(check, "not executable")}");
        var argv = LaunchArgv(check.Program, invocation.Argv.Skip(1), identity);

        var psi = new ProcessStartInfo(argv[0])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        for (var i = 1; i < argv.Count; i++)
            psi.ArgumentList.Add(argv[i]);
        using var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is Win32Exception or InvalidOperationException)
        {
            return Failed($"cannot run {name}: {ex.Message}");
        }
        // Process.Dispose leaves the redirected streams to whoever took them: these three are disposed here, at the end of the run.
        using var stdin = process.StandardInput;
        using var stdout = process.StandardOutput;
        using var stderr = process.StandardError;
        stdin.Close();
        var head = new OutputHead(OutputHeadBytes);
        using var stopReading = new CancellationTokenSource();
        var drains = Task.WhenAll(DrainAsync(stdout.BaseStream, head, stopReading.Token), DrainAsync(stderr.BaseStream, head, stopReading.Token));
        var timedOut = false;
        var bounded = invocation.Timeout > TimeSpan.Zero && invocation.Timeout != Timeout.InfiniteTimeSpan;
        using (var timeout = bounded ? new CancellationTokenSource(invocation.Timeout, _time) : new CancellationTokenSource())
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token))
        {
            try
            {
                await process.WaitForExitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                KillGroup(process);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        // Wait for the process, not for EOF: output still in the pipes is read for a short bound, then reading stops.
        stopReading.CancelAfter(OutputGrace);
        await drains.ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return timedOut
            ? new ScriptResult(null, true, null, head.Text, head.Total)
            : new ScriptResult(process.ExitCode, false, null, head.Text, head.Total);
    }

    private static ScriptResult Failed(string error) => new(null, false, error, "", 0);

    private static string LastOr(ScriptCheck check, string fallback) => check.Messages.Count > 0 ? check.Messages[^1] : fallback;

    /// <summary>Kills the process group the script leads (setsid) and its process tree.</summary>
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
            if (SetsidPath is not null)
                ProcessGroup.Kill(pid);
        }
        catch (ErrnoException)
        {
        }
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or Win32Exception or NotSupportedException)
        {
        }
    }

    private static async Task DrainAsync(Stream stream, OutputHead head, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                head.Add(buffer.AsSpan(0, n));
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }

    private sealed class OutputHead(int max)
    {
        private readonly byte[] _bytes = new byte[max];
        private readonly Lock _lock = new();
        private int _count;
        private long _total;

        public long Total => Interlocked.Read(ref _total);

        public string Text
        {
            get
            {
                lock (_lock)
                    return Encoding.UTF8.GetString(_bytes, 0, _count);
            }
        }

        public void Add(ReadOnlySpan<byte> data)
        {
            Interlocked.Add(ref _total, data.Length);
            lock (_lock)
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
