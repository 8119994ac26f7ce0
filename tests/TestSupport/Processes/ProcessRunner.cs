using System.Diagnostics;
using System.Globalization;

namespace Lb.TestSupport;

/// <summary>What a finished command produced.</summary>
public sealed record ProcessResult(string Command, int ExitCode, string Stdout, string Stderr)
{
    /// <summary>stderr then stdout, for failure messages.</summary>
    public string Output => Stderr + Stdout;

    /// <summary>Exit code 0.</summary>
    public bool Succeeded => ExitCode == 0;

    /// <summary>This result when the exit code is 0; else throws naming the command, its exit code and output.</summary>
    public ProcessResult EnsureSuccess() =>
        Succeeded ? this : throw new InvalidOperationException($"{Command} exited {ExitCode}: {Stderr}{Stdout}");
}

/// <summary>How to run a command: every field has a default, so <c>new ProcessOptions { Timeout = … }</c> names only what differs.</summary>
public sealed record ProcessOptions
{
    /// <summary>The bound on the whole run, output included; past it the process tree is killed and <see cref="TimeoutException"/> thrown. Generous: TCG emulation is slow.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Working directory; null: the test's.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Environment variables to set (a null value removes one).</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>Text written to stdin, which is then closed; null: stdin is closed at once (the command reads end of file).</summary>
    public string? Stdin { get; init; }

    /// <summary>A label for messages (default: the command line).</summary>
    public string? Label { get; init; }
}

/// <summary>
/// The bounded command runner of the test suites (ip, ipvsadm, keepalived -t, gcc, chown, mkfifo, sh -c …).
/// A run starts argv directly (no shell unless <see cref="Sh"/>), drains stdout and stderr concurrently (a chatty
/// command cannot fill a pipe and hang), waits for exit and for the output to end, all within
/// <see cref="ProcessOptions.Timeout"/>; past it the whole process tree is killed and <see cref="TimeoutException"/>
/// is thrown with the output so far. Never throws for a non-zero exit: the result says it (<see cref="Check"/>
/// and <see cref="ProcessResult.EnsureSuccess"/> throw).
/// <code>
/// var r = ProcessRunner.Run("ipvsadm", "-Sn");                 // ProcessResult(Command, ExitCode, Stdout, Stderr)
/// var text = ProcessRunner.Check("ip", "-br", "addr");         // stdout; throws with stderr unless exit 0
/// var r = ProcessRunner.Sh("echo $PPID > pid; exit 3");         // sh -c
/// var r = ProcessRunner.Run(new ProcessOptions { Timeout = TimeSpan.FromMinutes(2), WorkingDirectory = dir }, "gcc", "-o", exe, src);
/// var r = await ProcessRunner.RunAsync(options, "keepalived", "-t", "-f", conf);
/// </code>
/// Long-running processes (daemons, keepalived, servers in a namespace) are <see cref="RunningProcess"/>.
/// Migrating a local runner: <c>Shell.Run(f, a)</c> → <c>ProcessRunner.Run(f, a)</c> (fields ExitCode/Stdout/Stderr);
/// <c>Shell.Check</c>/<c>Run.Ok</c> → <c>ProcessRunner.Check</c>; a namespace prefix stays argv:
/// <c>ProcessRunner.Check("ip", ["netns", "exec", ns, .. command])</c>.
/// </summary>
public static class ProcessRunner
{
    /// <summary>Runs <paramref name="file"/> with <paramref name="args"/> (argv, not a shell line) under the default options.</summary>
    public static ProcessResult Run(string file, params string[] args) => Run(new ProcessOptions(), file, args);

    /// <summary>Runs <paramref name="file"/> with <paramref name="args"/> under <paramref name="options"/>.</summary>
    public static ProcessResult Run(ProcessOptions options, string file, params string[] args) =>
        RunAsync(options, file, args).GetAwaiter().GetResult();

    /// <summary>Runs a shell line with <c>sh -c</c>.</summary>
    public static ProcessResult Sh(string script, ProcessOptions? options = null) => Run(options ?? new ProcessOptions(), "sh", "-c", script);

    /// <summary>Runs and returns stdout; throws with the output unless the exit code is 0.</summary>
    public static string Check(string file, params string[] args) => Run(file, args).EnsureSuccess().Stdout;

    /// <summary>Runs under <paramref name="options"/> and returns stdout; throws with the output unless the exit code is 0.</summary>
    public static string Check(ProcessOptions options, string file, params string[] args) => Run(options, file, args).EnsureSuccess().Stdout;

    /// <summary>The asynchronous form of <see cref="Run(ProcessOptions, string, string[])"/>.</summary>
    public static async Task<ProcessResult> RunAsync(ProcessOptions options, string file, params string[] args)
    {
        var command = options.Label ?? CommandLine(file, args);
        using var process = new Process { StartInfo = StartInfo(options, file, args, redirectStdin: true) };
        process.Start();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            if (options.Stdin is { } input)
                await process.StandardInput.WriteAsync(input).ConfigureAwait(false);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // the command exited without reading its input
        }
        using var cts = new CancellationTokenSource(options.Timeout);
        try
        {
            // Exit, then end of output: a child that inherited the pipes (keepalived's) can keep them open after the parent exits.
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            await Task.WhenAll(stdout, stderr).WaitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            var partial = await Drained(stdout).ConfigureAwait(false) + await Drained(stderr).ConfigureAwait(false);
            throw new TimeoutException($"{command} did not finish in {options.Timeout.TotalSeconds:0.#} s (killed); output so far:\n{partial}");
        }
        return new ProcessResult(command, process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    internal static ProcessStartInfo StartInfo(ProcessOptions options, string file, IEnumerable<string> args, bool redirectStdin)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectStdin,
            UseShellExecute = false,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        if (options.WorkingDirectory is { } dir)
            psi.WorkingDirectory = dir;
        if (options.Environment is { } env)
        {
            foreach (var (name, value) in env)
            {
                if (value is null)
                    psi.Environment.Remove(name);
                else
                    psi.Environment[name] = value;
            }
        }
        return psi;
    }

    internal static string CommandLine(string file, IEnumerable<string> args) =>
        string.Join(' ', args.Prepend(file).Select(a => a.Length == 0 || a.Any(char.IsWhiteSpace) ? $"'{a}'" : a));

    /// <summary>SIGKILL to the process and its descendants, then a bounded wait for the exit.</summary>
    internal static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        catch (InvalidOperationException)
        {
            // already exited
        }
    }

    private static async Task<string> Drained(Task<string> reader)
    {
        try
        {
            return await reader.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return "";
        }
    }

    internal static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
