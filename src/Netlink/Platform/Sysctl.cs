using System.Globalization;

namespace Lb.Netlink.Platform;

/// <summary>
/// Kernel parameters under /proc/sys (what <c>sysctl</c> reads and writes), for the process's network namespace: the
/// per-interface ones take the interface name as one path element (<c>net/ipv4/conf/vrrp.51/arp_ignore</c>: a '.' in the
/// name stays a '.', unlike the sysctl command's dotted keys).
/// </summary>
public static class Sysctl
{
    /// <summary>The root, replaceable by tests.</summary>
    internal static string Root { get; set; } = "/proc/sys";

    /// <summary>The path of an IPv4/IPv6 per-interface parameter: <c>net/ipv4/conf/IF/NAME</c> (<paramref name="family"/> "ipv4" or "ipv6"; IF may be "all" or "default").</summary>
    public static string InterfaceKey(string family, string interfaceName, string parameter)
    {
        if (interfaceName.Length == 0 || interfaceName.Contains('/', StringComparison.Ordinal) || interfaceName is "." or "..")
            throw new ArgumentException($"'{interfaceName}' is not an interface name", nameof(interfaceName));
        return $"net/{family}/conf/{interfaceName}/{parameter}";
    }

    /// <summary>The integer value of <paramref name="key"/>, or null when it cannot be read or is not an integer.</summary>
    public static int? TryRead(string key)
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(Root, key)).Trim();
            return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Writes <paramref name="value"/> to <paramref name="key"/>; returns the error text, or null when it was written.</summary>
    public static string? TryWrite(string key, int value)
    {
        try
        {
            // no create, no truncate: a parameter file exists or the parameter does not
            using var stream = new FileStream(Path.Combine(Root, key), FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            var bytes = System.Text.Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));
            stream.Write(bytes);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }
    }
}
