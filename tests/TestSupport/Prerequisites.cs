namespace Lb.TestSupport;

/// <summary>
/// Facts about the machine a test runs on. Tests that need root, qemu or a kernel with IPVS skip
/// with a reason on a developer machine, and fail when <c>CI=true</c>.
/// </summary>
public static class Prerequisites
{
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static bool IsRoot => Environment.UserName == "root" || GetEuid() == 0;

    /// <summary>Set by the kernel VM harness (tests/kernel) inside the guest.</summary>
    public static bool InKernelVm => Environment.GetEnvironmentVariable("LB_KERNEL_VM") == "1";

    public static bool HasIpvs => File.Exists("/proc/net/ip_vs");

    public static bool HasCommand(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin";
        foreach (var dir in path.Split(':').Concat(new[] { "/usr/sbin", "/sbin" }))
        {
            if (!string.IsNullOrEmpty(dir) && File.Exists(Path.Combine(dir, name)))
                return true;
        }
        return false;
    }

    /// <summary>Why a root test must skip here, or null to run it (always run under CI, where a missing prerequisite fails).</summary>
    public static string? RootSkipReason(IEnumerable<string> commands)
    {
        if (IsCi)
            return null;
        if (!IsRoot)
            return "needs root (network namespaces); runs under CI=true";
        var missing = commands.FirstOrDefault(c => !HasCommand(c));
        return missing is null ? null : $"needs the command '{missing}' (run scripts/setup.sh); runs under CI=true";
    }

    /// <summary>Throws with the reason when a prerequisite is missing (reached only under CI, where the attribute does not skip).</summary>
    public static void Require(bool condition, string reason)
    {
        if (!condition)
            throw new InvalidOperationException($"prerequisite missing under CI=true: {reason}");
    }

    private static uint GetEuid()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("Uid:", StringComparison.Ordinal))
                {
                    var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                    return uint.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }
        return uint.MaxValue;
    }
}
