using System.Diagnostics;
using System.Text;

namespace Lb.TestSupport;

/// <summary>
/// A long-running process of a test (a daemon, keepalived, a server in a namespace, a <c>sleep</c> to be found),
/// its stdout and stderr lines collected as they come. Every wait is bounded; <see cref="Dispose"/> kills the
/// whole process tree if it is still running.
/// <code>
/// using var p = RunningProcess.Start("ip", "netns", "exec", ns, "keepalived", "-n", "-l", "-f", conf);
/// Assert.True(p.WaitForOutput("Entering MASTER STATE", TimeSpan.FromSeconds(60)), p.Output);
/// p.Signal("HUP");                                    // kill -HUP pid
/// Assert.True(p.WaitForExit(TimeSpan.FromSeconds(60)), p.Output);   // exit and output drained
/// Assert.Equal(0, p.ExitCode);
/// </code>
/// Migrating <c>LabProcess</c>/<c>OutputProcess</c>: <c>new LabProcess(label, Process.Start(psi))</c> →
/// <c>RunningProcess.Start(new ProcessOptions { Label = label, Environment = … }, file, args)</c>; <c>Output</c>,
/// <c>OutputContains</c>, <c>Pid</c>, <c>HasExited</c>, <c>ExitCode</c>, <c>Signal</c>, <c>WaitForExit</c>, <c>Kill</c>
/// keep their meaning; <c>WaitFor(text)</c> → <c>WaitForOutput(text)</c>. (<see cref="ProcessOptions.Timeout"/> and
/// <see cref="ProcessOptions.Stdin"/> do not apply: the process runs until stopped; stdin stays open until
/// <see cref="CloseStdin"/>.)
/// </summary>
public sealed class RunningProcess : IDisposable
{
    /// <summary>The default bound of <see cref="WaitForOutput"/>: generous, for .NET start-up under TCG emulation.</summary>
    public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(60);

    private readonly StringBuilder _output = new();
    private readonly Process _process;
    private readonly TaskCompletionSource _stdoutEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RunningProcess(string label, Process process)
    {
        Label = label;
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(e.Data, _stdoutEnded);
        _process.ErrorDataReceived += (_, e) => Append(e.Data, _stderrEnded);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Starts <paramref name="file"/> with <paramref name="args"/> (argv, not a shell line).</summary>
    public static RunningProcess Start(string file, params string[] args) => Start(new ProcessOptions(), file, args);

    /// <summary>Starts <paramref name="file"/> with <paramref name="args"/> in <see cref="ProcessOptions.WorkingDirectory"/>, with <see cref="ProcessOptions.Environment"/>.</summary>
    public static RunningProcess Start(ProcessOptions options, string file, params string[] args)
    {
        var process = new Process { StartInfo = ProcessRunner.StartInfo(options, file, args, redirectStdin: true) };
        process.Start();
        return new RunningProcess(options.Label ?? ProcessRunner.CommandLine(file, args), process);
    }

    /// <summary>Names the process in messages (default: its command line).</summary>
    public string Label { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code (after <see cref="WaitForExit"/> returned true).</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>stdout and stderr lines so far, interleaved as they came.</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    public bool OutputContains(string text) => Output.Contains(text, StringComparison.Ordinal);

    /// <summary>Waits until the output contains <paramref name="text"/>; false after <paramref name="timeout"/> (default <see cref="DefaultWait"/>) or when the process ended without it.</summary>
    public bool WaitForOutput(string text, TimeSpan? timeout = null) => WaitForOutput(o => o.Contains(text, StringComparison.Ordinal), timeout);

    /// <summary>Waits until <paramref name="condition"/> holds on the output so far; false after the bound or when the process ended without it.</summary>
    public bool WaitForOutput(Func<string, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultWait);
        while (true)
        {
            if (condition(Output))
                return true;
            if (Drained())
                return condition(Output);
            if (DateTime.UtcNow > deadline)
                return false;
            Thread.Sleep(20);
        }
    }

    /// <summary>Writes a line to stdin.</summary>
    public void WriteLine(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>Closes stdin (a command reading it sees end of file).</summary>
    public void CloseStdin() => _process.StandardInput.Close();

    /// <summary>Sends a signal by name (<c>HUP</c>, <c>TERM</c>, <c>USR1</c>…) with <c>kill</c>.</summary>
    public void Signal(string signal) => ProcessRunner.Check("kill", "-" + signal, ProcessRunner.Invariant(_process.Id));

    /// <summary>Waits up to <paramref name="timeout"/> for the exit and for stdout/stderr to be drained (the last lines are in <see cref="Output"/>).</summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            _process.WaitForExitAsync(cts.Token).GetAwaiter().GetResult();
            Task.WhenAll(_stdoutEnded.Task, _stderrEnded.Task).WaitAsync(cts.Token).GetAwaiter().GetResult();
            return true;
        }
        catch (OperationCanceledException)
        {
            return _process.HasExited;
        }
    }

    /// <summary>SIGKILL to the process tree (a crashed peer), then a bounded wait for the exit.</summary>
    public void Kill() => ProcessRunner.Kill(_process);

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
                Kill();
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }

    private bool Drained() => _process.HasExited && _stdoutEnded.Task.IsCompleted && _stderrEnded.Task.IsCompleted;

    private void Append(string? line, TaskCompletionSource ended)
    {
        if (line is null)
        {
            ended.TrySetResult();
            return;
        }
        lock (_output)
            _output.AppendLine(line);
    }
}
