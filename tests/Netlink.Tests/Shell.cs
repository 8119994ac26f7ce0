using Lb.TestSupport;

namespace Lb.Netlink.Tests;

/// <summary>
/// Runs a command (ip, ipvsadm, gcc) through the suites' one runner, <see cref="ProcessRunner"/> (60 s bound, tree killed past it).
/// Kept as a name for the callers not yet migrated (Route/NetnsFixture.cs); new code calls <see cref="ProcessRunner"/>.
/// </summary>
internal static class Shell
{
    public static (int Exit, string Stdout, string Stderr) Run(string file, params string[] args)
    {
        var r = ProcessRunner.Run(file, args);
        return (r.ExitCode, r.Stdout, r.Stderr);
    }

    /// <summary>Runs and throws with the output unless the command succeeds.</summary>
    public static string Check(string file, params string[] args) => ProcessRunner.Check(file, args);
}
