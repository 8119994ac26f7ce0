using System.Diagnostics;

namespace Lb.Netlink.Tests;

/// <summary>Runs a command (ip, ipvsadm) with a timeout and returns its exit code and output.</summary>
internal static class Shell
{
    public static (int Exit, string Stdout, string Stderr) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in 60 s");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs and throws with the output unless the command succeeds.</summary>
    public static string Check(string file, params string[] args)
    {
        var (exit, stdout, stderr) = Run(file, args);
        if (exit != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {exit}: {stderr}{stdout}");
        return stdout;
    }
}
