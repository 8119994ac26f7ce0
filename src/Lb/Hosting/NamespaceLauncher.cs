using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Lb.Hosting;

/// <summary>
/// <c>-s/--namespace NS</c>: runs the daemon inside a named network namespace by starting this same program again, with the
/// same arguments minus -s, under <c>ip netns exec NS</c> (which execs it, so the child's pid is the daemon's), forwarding
/// SIGTERM/SIGINT/SIGHUP/SIGUSR1/SIGUSR2/SIGRTMIN+2 to it and exiting with its exit code.
/// Why not setns(2) at start-up: a network namespace is per thread, and the .NET runtime has started threads (thread-pool
/// gate, signal handling, finalizer, tiered JIT) before Main runs; sockets opened from any of them, or from thread-pool
/// threads they create, would land in the old namespace. A fresh process entered through <c>ip netns exec</c> is in the
/// namespace on every thread, and also gets /etc/netns/NS and a /sys for the namespace, as keepalived users expect.
/// </summary>
public static class NamespaceLauncher
{
    /// <summary>Set in the child to the namespace name (status, dumps, log line).</summary>
    public const string EnvironmentVariable = "LB_NETNS";

    /// <summary>The arguments without <c>-s NS</c> / <c>--namespace NS</c> / <c>--namespace=NS</c>.</summary>
    public static List<string> StripNamespace(IReadOnlyList<string> args)
    {
        var result = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] is "-s" or "--namespace")
            {
                i++;
                continue;
            }
            if (args[i].StartsWith("--namespace=", StringComparison.Ordinal))
                continue;
            result.Add(args[i]);
        }
        return result;
    }

    public static int Run(CliOptions options, TextWriter stderr, SignalRouter signals)
    {
        var ns = options.Namespace!;
        if (!File.Exists(Netlink.Namespaces.NetworkNamespace.PathOf(ns)))
        {
            stderr.WriteLine($"lb: network namespace '{ns}' does not exist ({Netlink.Namespaces.NetworkNamespace.PathOf(ns)}; create it with 'ip netns add {ns}')");
            return 1;
        }
        var psi = new ProcessStartInfo("ip") { UseShellExecute = false };
        foreach (var a in new[] { "netns", "exec", ns })
            psi.ArgumentList.Add(a);
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this program's path");
        psi.ArgumentList.Add(self);
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, typeof(NamespaceLauncher).Assembly.GetName().Name + ".dll")); // run as `dotnet lb.dll` (never under NativeAOT)
        foreach (var a in StripNamespace(options.Arguments))
            psi.ArgumentList.Add(a);
        psi.Environment[EnvironmentVariable] = ns;
        using var child = Process.Start(psi) ?? throw new InvalidOperationException("cannot start ip netns exec");
        // The router has caught these since Main; one that arrived before the child existed is forwarded now.
        var routes = new List<IDisposable>();
        foreach (var (signal, number) in new[] { (PosixSignal.SIGTERM, 15), (PosixSignal.SIGINT, 2), (PosixSignal.SIGHUP, 1), (Signals.SIGUSR1, 10), (Signals.SIGUSR2, 12), (Signals.JsonDump, Signals.JsonDumpNumber) })
            routes.Add(signals.Route(signal, () => ThreadPool.QueueUserWorkItem(_ => Forward(child.Id, number))));
        child.WaitForExit();
        foreach (var r in routes)
            r.Dispose();
        return child.ExitCode;
    }

    /// <summary>Bound on waiting for the child to catch a signal before forwarding it.</summary>
    private static readonly TimeSpan CatchWait = TimeSpan.FromSeconds(120);

    private static void Forward(int pid, int signal)
    {
        // SIGHUP, SIGUSR1/2 and SIGRTMIN+2 kill a process that does not catch them yet (the child between exec and its Main):
        // wait until it does (bounded), as its own SigCgt in /proc says. SIGTERM/SIGINT would stop it anyway: sent at once.
        if (signal is not (15 or 2))
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (!Catches(pid, signal))
            {
                if (waited.Elapsed > CatchWait || !Directory.Exists($"/proc/{pid}"))
                    return;
                Thread.Sleep(20);
            }
        }
        try
        {
            // No libc outside src/Netlink/Interop (and it has no kill(2)): /bin/kill does it.
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal.ToString(CultureInfo.InvariantCulture), pid.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false });
            kill?.WaitForExit(5000);
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
    }

    /// <summary>True when process <paramref name="pid"/> catches <paramref name="signal"/> (bit signal-1 of SigCgt).</summary>
    internal static bool Catches(int pid, int signal)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("SigCgt:", StringComparison.Ordinal))
                    return (ulong.Parse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) >> (signal - 1) & 1) == 1;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return false;
    }
}
