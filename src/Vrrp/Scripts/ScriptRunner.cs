using System.Diagnostics;

namespace Lb.Vrrp.Scripts;

/// <summary>The outcome of one script run.</summary>
/// <param name="ExitCode">Exit status (-1 when it could not start or timed out).</param>
/// <param name="TimedOut">Killed after its timeout.</param>
/// <param name="StartError">Why it could not be started.</param>
/// <param name="OutputTruncated">It wrote more than the output bound.</param>
public readonly record struct ScriptResult(int ExitCode, bool TimedOut, string? StartError, bool OutputTruncated)
{
    /// <summary>Exit status 0.</summary>
    public bool Succeeded => ExitCode == 0 && !TimedOut && StartError is null;
}

/// <summary>
/// Runs scripts as keepalived does, without a shell: argv exactly as configured, as the configured
/// user (through <c>runuser</c> when it differs from ours — no libc), killed with its whole process
/// tree on timeout, stdout/stderr drained but only the first <see cref="OutputLimit"/> bytes kept.
/// </summary>
public sealed class ScriptRunner
{
    /// <summary>Bytes of output kept per run (the rest is read and discarded).</summary>
    public const int OutputLimit = 4096;

    private static readonly string CurrentUser = Environment.UserName;

    /// <summary>Runs <paramref name="argv"/> and waits for it (or the timeout).</summary>
    public async Task<ScriptResult> RunAsync(IReadOnlyList<string> argv, string? user, string? group, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (argv.Count == 0)
            return new ScriptResult(-1, false, "empty command", false);
        var psi = BuildStartInfo(argv, user, group);
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException("process did not start");
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return new ScriptResult(-1, false, ex.Message, false);
        }
        using (process)
        {
            process.StandardInput.Close();
            var outTask = DrainAsync(process.StandardOutput.BaseStream);
            var errTask = DrainAsync(process.StandardError.BaseStream);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(timeout);
            var timedOut = false;
            try
            {
                await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                }
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
            var truncated = await outTask.ConfigureAwait(false) | await errTask.ConfigureAwait(false);
            return new ScriptResult(timedOut ? -1 : process.ExitCode, timedOut, null, truncated);
        }
    }

    /// <summary>Starts <paramref name="argv"/> without waiting (notify scripts); output is drained and dropped.</summary>
    public void Fire(IReadOnlyList<string> argv, string? user, string? group, TimeSpan timeout, Action<ScriptResult>? completed = null)
    {
        _ = Task.Run(async () =>
        {
            var r = await RunAsync(argv, user, group, timeout, CancellationToken.None).ConfigureAwait(false);
            completed?.Invoke(r);
        });
    }

    internal static ProcessStartInfo BuildStartInfo(IReadOnlyList<string> argv, string? user, string? group)
    {
        var asOther = user is not null && !string.Equals(user, CurrentUser, StringComparison.Ordinal);
        var psi = new ProcessStartInfo(asOther ? "runuser" : argv[0])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        if (asOther)
        {
            psi.ArgumentList.Add("-u");
            psi.ArgumentList.Add(user!);
            if (group is not null)
            {
                psi.ArgumentList.Add("-g");
                psi.ArgumentList.Add(group);
            }
            psi.ArgumentList.Add("--");
            psi.ArgumentList.Add(argv[0]);
        }
        for (var i = 1; i < argv.Count; i++)
            psi.ArgumentList.Add(argv[i]);
        return psi;
    }

    private static async Task<bool> DrainAsync(Stream s)
    {
        var buf = new byte[4096];
        long total = 0;
        try
        {
            int n;
            while ((n = await s.ReadAsync(buf).ConfigureAwait(false)) > 0)
                total += n;
        }
        catch (IOException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        return total > OutputLimit;
    }
}
