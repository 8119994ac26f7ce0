using System.Globalization;

namespace Lb.Config.IpConfig;

/// <summary>
/// The names iproute2 gives to tables, protocols, scopes, dsfields, realms and interface groups, as keepalived 2.2.7's
/// <c>rttables.c</c> reads them: a number (any base <c>strtoul</c> accepts) is taken as is; a name is looked up in
/// <c>/etc/iproute2/&lt;file&gt;</c> (lines of exactly "NUMBER NAME") and then in keepalived's built-in defaults.
/// </summary>
public sealed class RtNames
{
    private static readonly (uint Id, string Name)[] DefaultTables = [(253, "default"), (254, "main"), (255, "local")];
    private static readonly (uint Id, string Name)[] DefaultProtocols =
    [
        (0, "none"), (1, "redirect"), (2, "kernel"), (3, "boot"), (4, "static"), (8, "gated"), (9, "ra"), (10, "mrt"), (11, "zebra"),
        (12, "bird"), (42, "babel"), (13, "dnrouted"), (14, "xorp"), (15, "ntk"), (16, "dhcp"),
    ];

    private static readonly (uint Id, string Name)[] DefaultScopes = [(0, "global"), (255, "nowhere"), (254, "host"), (253, "link"), (200, "site")];

    private static readonly (byte Id, string Name)[] RouteTypes =
    [
        (2, "local"), (10, "nat"), (3, "broadcast"), (3, "brd"), (4, "anycast"), (5, "multicast"), (8, "prohibit"), (7, "unreachable"),
        (6, "blackhole"), (11, "xresolve"), (1, "unicast"), (9, "throw"),
    ];

    private readonly string? _directory;
    private readonly Dictionary<string, List<(uint Id, string Name)>> _files = new(StringComparer.Ordinal);

    /// <summary>Names read from <paramref name="directory"/> (null: only keepalived's built-in defaults, for tests).</summary>
    public RtNames(string? directory = "/etc/iproute2") => _directory = directory;

    /// <summary>Only the built-in defaults: what a host without /etc/iproute2 has.</summary>
    public static RtNames BuiltIn { get; } = new(null);

    public bool TryTable(string name, out uint id) => Find(name, out id, "rt_tables", DefaultTables, uint.MaxValue);

    public bool TryProtocol(string name, out byte id) => Byte(Find(name, out var v, "rt_protos", DefaultProtocols, 255), v, out id);

    public bool TryScope(string name, out byte id) => Byte(Find(name, out var v, "rt_scopes", DefaultScopes, 255), v, out id);

    public bool TryDsfield(string name, out byte id) => Byte(Find(name, out var v, "rt_dsfield", [], 255), v, out id);

    public bool TryRealm(string name, out uint id) => Find(name, out id, "rt_realms", [], 255);

    public bool TryGroup(string name, out uint id) => Find(name, out id, "group", [], int.MaxValue);

    /// <summary>keepalived's <c>inet_proto_a2n</c>: a decimal number up to 127, or a name (or alias) of <c>/etc/protocols</c>.</summary>
    public bool TryIpProtocol(string text, out byte id)
    {
        id = 0;
        var s = text.TrimStart(' ', '\t', '\n', '\r', '\f', '\v');
        if (s.Length == 0 || s[0] == '-')
            return false;
        CNumber.TryStrtoul(s, 10, out var number, out var end);
        if (number > 127)
            return false;
        if (end == s.Length)
        {
            id = (byte)number;
            return true;
        }
        foreach (var (protocolId, name) in Protocols())
        {
            if (name == s)
            {
                id = (byte)protocolId;
                return protocolId <= 255;
            }
        }
        return false;
    }

    private List<(uint Id, string Name)> Protocols()
    {
        lock (_files)
        {
            if (_files.TryGetValue("/etc/protocols", out var list))
                return list;
            list = [];
            var path = _directory is null ? null : Path.Combine(Path.GetDirectoryName(_directory) ?? "/etc", "protocols");
            try
            {
                if (path is not null && File.Exists(path) && new FileInfo(path).Length < 1 << 20)
                {
                    foreach (var raw in File.ReadAllLines(path))
                    {
                        var hash = raw.IndexOf('#', StringComparison.Ordinal);
                        var words = (hash >= 0 ? raw[..hash] : raw).Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                        if (words.Length < 2 || !uint.TryParse(words[1], NumberStyles.None, CultureInfo.InvariantCulture, out var number))
                            continue;
                        list.Add((number, words[0]));
                        foreach (var alias in words.Skip(2))
                            list.Add((number, alias));
                    }
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
            if (list.Count == 0)
                list.AddRange([(0, "ip"), (1, "icmp"), (2, "igmp"), (4, "ipencap"), (6, "tcp"), (17, "udp"), (41, "ipv6"), (47, "gre"), (50, "esp"), (51, "ah"), (58, "ipv6-icmp"), (112, "vrrp"), (132, "sctp"), (136, "udplite")]);
            _files["/etc/protocols"] = list;
            return list;
        }
    }

    /// <summary><c>find_rttables_rtntype</c>: a route type name, or a number 0..255.</summary>
    public static bool TryRouteType(string text, out byte id)
    {
        foreach (var (typeId, name) in RouteTypes)
        {
            if (name == text)
            {
                id = typeId;
                return true;
            }
        }
        id = 0;
        if (text.StartsWith('-') || !CNumber.TryStrtoul(text, 0, out var value, out var end) || end != text.Length || value > 255)
            return false;
        id = (byte)value;
        return true;
    }

    /// <summary><c>get_realms</c>: <c>TO</c> or <c>FROM/TO</c>, each a realm name or number; packed FROM &lt;&lt; 16 | TO.</summary>
    public bool TryRealms(string text, out uint realms)
    {
        realms = 0;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (!TryRealm(slash >= 0 ? text[..slash] : text, out var first))
            return false;
        if (slash >= 0)
        {
            if (!TryRealm(text[(slash + 1)..], out var second))
                return false;
            first = (first << 16) | second;
        }
        realms = first;
        return true;
    }

    private static bool Byte(bool ok, uint value, out byte id)
    {
        id = (byte)(value & 0xff);
        return ok;
    }

    private bool Find(string name, out uint id, string file, (uint Id, string Name)[] defaults, uint max)
    {
        if (CNumber.TryStrtoul(name, 0, out var number, out var end) && end == name.Length && end > 0)
        {
            id = unchecked((uint)number);
            return id <= max;
        }
        foreach (var (entryId, entryName) in Entries(file, defaults, max))
        {
            if (entryName == name)
            {
                id = entryId;
                return true;
            }
        }
        id = 0;
        return false;
    }

    private List<(uint Id, string Name)> Entries(string file, (uint Id, string Name)[] defaults, uint max)
    {
        lock (_files)
        {
            if (_files.TryGetValue(file, out var list))
                return list;
            list = _directory is null ? [] : Read(Path.Combine(_directory, file), max);
            foreach (var d in defaults)
            {
                if (!list.Exists(e => e.Id == d.Id))
                    list.Add(d);
            }
            _files[file] = list;
            return list;
        }
    }

    private static List<(uint Id, string Name)> Read(string path, uint max)
    {
        var list = new List<(uint, string)>();
        string[] lines;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > 1 << 20)
                return list;
            lines = File.ReadAllLines(path);
        }
        catch (IOException)
        {
            return list;
        }
        catch (UnauthorizedAccessException)
        {
            return list;
        }
        foreach (var raw in lines)
        {
            var hash = raw.IndexOfAny(['#', '!']);
            var words = (hash >= 0 ? raw[..hash] : raw).Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length != 2 || words[0].StartsWith('-'))
                continue;
            if (!CNumber.TryStrtoul(words[0], 0, out var id, out var end) || end != words[0].Length || end == 0 || id > max)
                continue;
            list.Add(((uint)id, words[1]));
        }
        return list;
    }
}

/// <summary>C's <c>strtoul</c> and keepalived's <c>read_unsigned</c>, so numbers are accepted and refused as keepalived does.</summary>
internal static class CNumber
{
    /// <summary>
    /// <c>strtoul(text, &amp;end, base)</c>: leading blanks, an optional sign (a '-' negates, modulo 2^64), a 0x prefix (base 0 or 16) or a leading 0
    /// (base 0: octal). <paramref name="end"/> is the index of the first character not used (0 when there are no digits).
    /// Returns false on overflow (ERANGE).
    /// </summary>
    public static bool TryStrtoul(string text, int numberBase, out ulong value, out int end)
    {
        value = 0;
        end = 0;
        var i = 0;
        while (i < text.Length && text[i] is ' ' or '\t' or '\n' or '\r' or '\f' or '\v')
            i++;
        var negative = false;
        if (i < text.Length && text[i] is '+' or '-')
        {
            negative = text[i] == '-';
            i++;
        }
        if ((numberBase is 0 or 16) && i + 1 < text.Length && text[i] == '0' && text[i + 1] is 'x' or 'X' && i + 2 < text.Length && Uri.IsHexDigit(text[i + 2]))
        {
            numberBase = 16;
            i += 2;
        }
        else if (numberBase == 0)
        {
            numberBase = i < text.Length && text[i] == '0' ? 8 : 10;
        }
        var start = i;
        var overflow = false;
        while (i < text.Length)
        {
            var c = text[i];
            var digit = c is >= '0' and <= '9' ? c - '0' : c is >= 'a' and <= 'z' ? c - 'a' + 10 : c is >= 'A' and <= 'Z' ? c - 'A' + 10 : 99;
            if (digit >= numberBase)
                break;
            if (!overflow)
            {
                var next = unchecked((value * (ulong)numberBase) + (ulong)digit);
                if (value > (ulong.MaxValue - (ulong)digit) / (ulong)numberBase)
                    overflow = true;
                else
                    value = next;
            }
            i++;
        }
        if (i == start)
        {
            value = 0;
            end = 0;
            return true;
        }
        end = i;
        if (overflow)
        {
            value = ulong.MaxValue;
            return false;
        }
        if (negative)
            value = unchecked(0 - value);
        return true;
    }

    /// <summary>keepalived's <c>read_unsigned</c> under <c>-t</c>: true and the value when it is a number in range, else the
    /// diagnostic keepalived prints and false.</summary>
    public static bool ReadUnsigned(string text, ulong min, ulong max, DiagnosticBag diagnostics, SourceLocation location, out ulong value, int numberBase = 10, ulong limit = uint.MaxValue)
    {
        var offset = 0;
        while (offset < text.Length && text[offset] is ' ' or '\t')
            offset++;
        var inRange = TryStrtoul(text, numberBase, out value, out var end);
        var used = end;
        if (offset < text.Length && text[offset] == '-')
            diagnostics.Error(location, $"negative number '{text}'");
        else if (used < text.Length)
            diagnostics.Error(location, $"invalid number '{text}'");
        else if (!inRange || value > limit)
            diagnostics.Error(location, limit == uint.MaxValue ? $"number '{text}' outside unsigned integer range" : $"number '{text}' outside unsigned 64 bit range");
        else if (value < min || value > max)
            diagnostics.Error(location, string.Create(CultureInfo.InvariantCulture, $"number '{text}' outside range [{min}, {max}]"));
        else
            return true;
        return false;
    }
}
