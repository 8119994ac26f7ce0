using System.Globalization;
using System.Net;
using Lb.Config.Schema;

namespace Lb.Config.Mapping;

/// <summary>Typed reads of statement arguments for the mappers; a bad value becomes a diagnostic at the statement's line and a null.</summary>
internal sealed class NodeValues(DiagnosticBag diagnostics)
{
    public DiagnosticBag Diagnostics { get; } = diagnostics;

    /// <summary>The top-level <c>track_file</c> blocks by name (the first of a name, as keepalived finds it), for FILE_CHECK.</summary>
    public IReadOnlyDictionary<string, ConfigNode> TrackFiles { get; set; } = new Dictionary<string, ConfigNode>(StringComparer.Ordinal);

    public static string Where(ConfigNode node) => node.Location.IsKnown ? $"{node.Location.File}:{node.Location.Line}" : "default";

    public string? Word(ConfigNode parent, string keyword, int index = 0) => parent.Last(keyword) is { } n && n.Args.Length > index ? n.Args[index] : null;

    public bool Has(ConfigNode parent, string keyword) => parent.Last(keyword) is not null;

    /// <summary>Of two spellings of one setting, the one written last (keepalived: the last statement wins).</summary>
    public static ConfigNode? Later(ConfigNode? a, ConfigNode? b) =>
        a is null ? b : b is null ? a : (b.Location.File == a.Location.File && b.Location.Line > a.Location.Line) || !a.Location.IsKnown ? b : a;

    /// <summary>A flag keyword: present alone means true; an optional bool argument can say otherwise.</summary>
    public bool? Flag(ConfigNode parent, string keyword)
    {
        var n = parent.Last(keyword);
        if (n is null)
            return null;
        if (n.Args.Length == 0)
            return true;
        return SchemaValidator.ParseBool(n.Args[0]) ?? true;
    }

    public long? Integer(ConfigNode parent, string keyword, int index = 0)
    {
        var n = parent.Last(keyword);
        if (n is null || n.Args.Length <= index)
            return null;
        if (long.TryParse(n.Args[index], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
            return v;
        Diagnostics.Error(n.Location, $"invalid number '{n.Args[index]}'");
        return null;
    }

    public TimeSpan? Timer(ConfigNode parent, string keyword, int index = 0)
    {
        var n = parent.Last(keyword);
        if (n is null || n.Args.Length <= index)
            return null;
        return Seconds(n, n.Args[index]);
    }

    public TimeSpan? Seconds(ConfigNode node, string text)
    {
        if (decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var s) && s <= 4_294_967m)
            return TimeSpan.FromTicks((long)(s * TimeSpan.TicksPerSecond));
        Diagnostics.Error(node.Location, $"invalid number '{text}'");
        return null;
    }

    public IPAddress? Address(ConfigNode parent, string keyword, int index = 0)
    {
        var n = parent.Last(keyword);
        if (n is null || n.Args.Length <= index)
            return null;
        return ParseAddress(n, n.Args[index]);
    }

    public IPAddress? ParseAddress(ConfigNode node, string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var t = slash >= 0 ? text[..slash] : text;
        if (IPAddress.TryParse(t, out var a))
            return a;
        Diagnostics.Error(node.Location, $"invalid IP address '{text}'");
        return null;
    }

    public ushort? Port(ConfigNode node, string text)
    {
        if (ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var p))
            return p;
        Diagnostics.Error(node.Location, $"invalid port '{text}'");
        return null;
    }
}
