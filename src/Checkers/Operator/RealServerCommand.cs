using System.Globalization;
using System.Net;

namespace Lb.Checkers.Operator;

/// <summary>What <c>lb rs</c> does to a real server.</summary>
public enum RealServerAction
{
    /// <summary>Out of the pool (removed from IPVS; weight 0 with inhibit_on_failure) until <see cref="Enable"/>; checks cannot bring it back.</summary>
    Disable,

    /// <summary>Back to what its checks and its configuration say (clears disable, drain and an operator weight).</summary>
    Enable,

    /// <summary>An operator weight used instead of the configured one until <see cref="Enable"/>.</summary>
    Weight,

    /// <summary>Weight 0 now; removed when its active connections reach 0 or at the deadline; then disabled.</summary>
    Drain,
}

/// <summary>One <c>lb rs</c> command.</summary>
public sealed record RealServerCommand
{
    /// <summary>The default drain deadline (<c>--timeout</c> not given).</summary>
    public static readonly TimeSpan DefaultDrainTimeout = TimeSpan.FromSeconds(300);

    public required RealServerAction Action { get; init; }

    /// <summary>The virtual server: <c>10.0.0.100:80</c>, <c>[2001:db8::1]:80</c>, <c>fwmark:1</c> or <c>group:NAME</c>.</summary>
    public required string VirtualServer { get; init; }

    /// <summary>The real server: <c>10.0.0.11:80</c> or <c>[2001:db8::11]:80</c> (without a port: the one at that address).</summary>
    public required string RealServer { get; init; }

    /// <summary><see cref="RealServerAction.Weight"/>: the weight.</summary>
    public int? Weight { get; init; }

    /// <summary><see cref="RealServerAction.Drain"/>: the deadline from now (default <see cref="DefaultDrainTimeout"/>).</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Who asks (journalled).</summary>
    public required string By { get; init; }

    /// <summary>The command line (journalled as the reason).</summary>
    public required string CommandLine { get; init; }
}

/// <summary>The answer to a <see cref="RealServerCommand"/>: done, or refused with the reason; one line.</summary>
public sealed record RealServerCommandResult(bool Ok, string Text);

/// <summary>Which virtual server a command names.</summary>
internal sealed record VirtualServerSelector(IPAddress? Address, ushort Port, uint? FirewallMark, string? Group)
{
    /// <summary>Parses <c>ip:port</c>, <c>[ipv6]:port</c>, <c>fwmark:N</c>, <c>group:NAME</c>.</summary>
    public static bool TryParse(string text, out VirtualServerSelector selector)
    {
        selector = null!;
        if (text.StartsWith("fwmark:", StringComparison.OrdinalIgnoreCase))
        {
            if (!uint.TryParse(text.AsSpan(7), NumberStyles.None, CultureInfo.InvariantCulture, out var mark))
                return false;
            selector = new VirtualServerSelector(null, 0, mark, null);
            return true;
        }
        if (text.StartsWith("group:", StringComparison.OrdinalIgnoreCase) && text.Length > 6)
        {
            selector = new VirtualServerSelector(null, 0, null, text[6..]);
            return true;
        }
        if (!EndpointText.TryParse(text, out var address, out var port) || port is null)
            return false;
        selector = new VirtualServerSelector(address, port.Value, null, null);
        return true;
    }
}

/// <summary><c>ip:port</c> and <c>[ipv6]:port</c> (the port optional where the caller allows it).</summary>
internal static class EndpointText
{
    public static bool TryParse(string text, out IPAddress address, out ushort? port)
    {
        port = null;
        if (IPAddress.TryParse(text, out address!) && !text.StartsWith('['))
            return true;
        if (text.StartsWith('[') && text.EndsWith(']') && IPAddress.TryParse(text[1..^1], out address!))
            return true;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !ushort.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var p))
            return false;
        var host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
            host = host[1..^1];
        else if (host.Contains(':', StringComparison.Ordinal))
            return false; // an IPv6 address with a port needs its brackets
        if (!IPAddress.TryParse(host, out address!))
            return false;
        port = p;
        return true;
    }
}
