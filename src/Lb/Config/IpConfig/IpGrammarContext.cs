using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Lb.Vrrp.Options;

namespace Lb.Config.IpConfig;

/// <summary>
/// What parsing one configuration's addresses, routes and rules shares: where to report, which interfaces exist, the
/// <c>track_group</c>s defined so far, and keepalived's rule-priority counters (one per family, counting down from 16384 in file order).
/// </summary>
public sealed class IpGrammarContext
{
    public const uint RuleStartPriority = 16384;

    private IReadOnlySet<string>? _interfaces;
    private bool _interfacesRead;

    public IpGrammarContext(DiagnosticBag diagnostics) => Diagnostics = diagnostics;

    public DiagnosticBag Diagnostics { get; }

    /// <summary>The line being parsed.</summary>
    public SourceLocation Location { get; set; }

    /// <summary>Interfaces that exist (null: not checked, as <c>lb -t</c> for another machine); read when first needed.</summary>
    public IReadOnlySet<string>? Interfaces
    {
        get
        {
            if (!_interfacesRead)
            {
                _interfaces = InterfacesProvider?.Invoke();
                _interfacesRead = true;
            }
            return _interfaces;
        }
    }

    /// <summary>Gives the interfaces that exist, or null when they are not checked.</summary>
    public Func<IReadOnlySet<string>?>? InterfacesProvider { get; init; }

    /// <summary><c>dynamic_interfaces</c>: a missing interface is created when it appears, not an error.</summary>
    public bool DynamicInterfaces { get; init; }

    /// <summary><c>default_interface</c> (keepalived's default eth0): where a static address without <c>dev</c> goes.</summary>
    public string DefaultInterface { get; init; } = "eth0";

    public RtNames Names { get; init; } = RtNames.BuiltIn;

    /// <summary>Names of the <c>track_group</c> blocks read so far.</summary>
    public HashSet<string> TrackGroups { get; } = new(StringComparer.Ordinal);

    public uint NextRulePriority4 { get; set; } = RuleStartPriority;

    public uint NextRulePriority6 { get; set; } = RuleStartPriority;

    /// <summary>Set when a named interface does not exist (keepalived then ends with "Non-existent interface specified in configuration").</summary>
    public bool NonExistentInterface { get; set; }

    public void Error(string message) => Diagnostics.Error(Location, message);

    /// <summary><c>if_get_by_ifname(name, IF_CREATE_IF_DYNAMIC)</c>: false (and the flag set) when the interface does not exist.</summary>
    public bool InterfaceExists(string name)
    {
        if (DynamicInterfaces || Interfaces is not { } known || known.Contains(name))
            return true;
        NonExistentInterface = true;
        return false;
    }

    /// <summary>keepalived's <c>read_unsigned</c> (decimal).</summary>
    public bool ReadUnsigned(string text, ulong min, ulong max, out ulong value, int numberBase = 10) =>
        CNumber.ReadUnsigned(text, min, max, Diagnostics, Location, out value, numberBase);

    /// <summary>keepalived's <c>get_u32</c>/<c>get_u8</c>: <c>read_unsigned(0..max)</c>, and on failure <paramref name="message"/> with {0} the text.</summary>
    public bool GetUnsigned(string text, ulong max, string message, out ulong value)
    {
        if (ReadUnsigned(text, 0, max, out value))
            return true;
        Error(string.Format(CultureInfo.InvariantCulture, message, text));
        return false;
    }

    /// <summary>
    /// keepalived's <c>parse_ipaddress</c>: the family from a ':' in the text, <c>/LEN</c> when <paramref name="allowPrefix"/>
    /// (a bad length is reported and replaced by the host length), the address by <c>inet_pton</c>.
    /// </summary>
    public bool TryParseAddress(string text, bool allowPrefix, out IPAddress address, out int prefixLength)
    {
        var v6 = text.Contains(':', StringComparison.Ordinal);
        var max = v6 ? 128 : 32;
        prefixLength = max;
        var slash = allowPrefix ? text.IndexOf('/', StringComparison.Ordinal) : -1;
        if (slash >= 0)
        {
            var len = text[(slash + 1)..];
            if (ReadUnsigned(len, 0, (ulong)max, out var p))
                prefixLength = (int)p;
            else
                Error($"Invalid address prefix len {len} for address {text} - using {max}");
        }
        if (InetPton(slash >= 0 ? text[..slash] : text, v6, out address))
            return true;
        Error($"VRRP parsed invalid IP {text}. skipping IP...");
        return false;
    }

    /// <summary>keepalived's <c>parse_route</c>: <c>default</c>/<c>any</c>/<c>all</c> (family unknown: null address), <c>default6</c>, or an address with prefix.</summary>
    public bool TryParseRoutePrefix(string text, out IPAddress? address, out int prefixLength, out AddressFamily family)
    {
        address = null;
        prefixLength = 0;
        family = AddressFamily.Unspecified;
        if (text is "default" or "any" or "all")
            return true;
        if (text == "default6")
        {
            family = AddressFamily.InterNetworkV6;
            return true;
        }
        if (!TryParseAddress(text, true, out var a, out prefixLength))
            return false;
        address = a;
        family = a.AddressFamily;
        return true;
    }

    /// <summary>A <see cref="IpPrefix"/> once the family is known (<c>default</c> becomes the family's /0).</summary>
    public static IpPrefix Prefix(IPAddress? address, int prefixLength, AddressFamily family) =>
        address is null ? new IpPrefix(family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0) : new IpPrefix(address, prefixLength);

    /// <summary>glibc's <c>inet_pton</c>: IPv4 exactly four decimal parts 0..255 without leading zeros; IPv6 without zone or brackets.</summary>
    public static bool InetPton(string text, bool v6, out IPAddress address)
    {
        address = IPAddress.None;
        if (v6)
        {
            if (text.Length == 0 || text.AsSpan().IndexOfAny("%[]/ ") >= 0 || !IPAddress.TryParse(text, out var a) || a.AddressFamily != AddressFamily.InterNetworkV6)
                return false;
            address = a;
            return true;
        }
        var parts = text.Split('.');
        if (parts.Length != 4)
            return false;
        var bytes = new byte[4];
        for (var i = 0; i < 4; i++)
        {
            var p = parts[i];
            if (p.Length is 0 or > 3 || (p.Length > 1 && p[0] == '0') || !p.All(char.IsAsciiDigit))
                return false;
            var v = int.Parse(p, CultureInfo.InvariantCulture);
            if (v > 255)
                return false;
            bytes[i] = (byte)v;
        }
        address = new IPAddress(bytes);
        return true;
    }

    /// <summary>The <c>*** Configuration line … is missing a parameter …</c> keepalived prints before it exits.</summary>
    internal MissingParameterException MissingParameter(IReadOnlyList<string> words, int index)
    {
        Diagnostics.Fatal(Location, $"*** Configuration line starting `{words[0]}` is missing a parameter after keyword `{words[index - 1]}` at word position {index + 1}");
        return new MissingParameterException();
    }
}

/// <summary>Ends the parsing of a line whose keyword lacks its value (keepalived exits there).</summary>
internal sealed class MissingParameterException : Exception
{
}
