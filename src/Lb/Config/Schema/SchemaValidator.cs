using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Globalization;
using System.Net;

namespace Lb.Config.Schema;

/// <summary>
/// Checks a statement tree against the keyword schema: unknown keywords, block/leaf mismatches, argument types and
/// ranges (keepalived's messages: <c>number '300' outside range [1, 255]</c>), deprecated spellings, and keywords Lb
/// parses but does not implement yet (a warning, never silence). Produces the effective tree: aliases renamed to their
/// current keyword and keepalived's defaults filled in.
/// </summary>
public sealed class SchemaValidator
{
    private readonly KeywordSchema _schema;
    private readonly DiagnosticBag _diagnostics;
    private readonly Dictionary<string, (SourceLocation First, int Count)> _unimplemented = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _noEffect = new(StringComparer.Ordinal);

    public SchemaValidator(KeywordSchema schema, DiagnosticBag diagnostics)
    {
        _schema = schema;
        _diagnostics = diagnostics;
    }

    public ImmutableArray<ConfigNode> Validate(ImmutableArray<ConfigNode> nodes)
    {
        var result = ValidateBlock(nodes, _schema.Root, "top level");
        foreach (var (name, (first, count)) in _unimplemented.OrderBy(kv => kv.Value.First.File, StringComparer.Ordinal).ThenBy(kv => kv.Value.First.Line))
        {
            var more = count > 1 ? $" (used {count} times)" : string.Empty;
            _diagnostics.Warning(first, _noEffect.TryGetValue(name, out var reason)
                ? $"'{name}' is parsed but has no effect in Lb yet: {reason}{more}"
                : $"'{name}' is parsed but not implemented by Lb yet; it has no effect{more}");
        }
        return result;
    }

    private ImmutableArray<ConfigNode> ValidateBlock(ImmutableArray<ConfigNode> nodes, FrozenDictionary<string, KeywordSpec> specs, string context)
    {
        // The block is returned as it came when every statement validated to itself and no default is added (the common
        // case, and a big file has tens of thousands of blocks).
        ImmutableArray<ConfigNode>.Builder? result = null;
        for (var i = 0; i < nodes.Length; i++)
        {
            var validated = ValidateNode(nodes[i], specs, context);
            if (result is null && !ReferenceEquals(validated, nodes[i]))
            {
                result = ImmutableArray.CreateBuilder<ConfigNode>(nodes.Length + 4);
                for (var k = 0; k < i; k++)
                    result.Add(nodes[k]);
            }
            if (validated is not null)
                result?.Add(validated);
        }

        // keepalived's defaults, written into the effective configuration where the user left the keyword out.
        foreach (var spec in DefaultsOf(specs))
        {
            if (result is null ? Contains(nodes.AsSpan(), spec.Name) : Contains(result, spec.Name))
                continue;
            if (result is null)
            {
                result = ImmutableArray.CreateBuilder<ConfigNode>(nodes.Length + 4);
                result.AddRange(nodes);
            }
            result.Add(new ConfigNode(spec.Name, DefaultArgs(spec), null, SourceLocation.None));
        }
        return result is null ? nodes : result.ToImmutable();
    }

    private static bool Contains(ImmutableArray<ConfigNode>.Builder nodes, string keyword)
    {
        for (var i = 0; i < nodes.Count; i++)
        {
            if (nodes[i].Keyword == keyword)
                return true;
        }
        return false;
    }

    private static bool Contains(ReadOnlySpan<ConfigNode> nodes, string keyword)
    {
        foreach (var n in nodes)
        {
            if (n.Keyword == keyword)
                return true;
        }
        return false;
    }

    // Per schema block: the keywords that have a default, in the block's order; per keyword: the default's arguments.
    private readonly Dictionary<FrozenDictionary<string, KeywordSpec>, KeywordSpec[]> _defaults = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<KeywordSpec, ImmutableArray<string>> _defaultArgs = new(ReferenceEqualityComparer.Instance);

    private KeywordSpec[] DefaultsOf(FrozenDictionary<string, KeywordSpec> specs)
    {
        if (!_defaults.TryGetValue(specs, out var list))
            _defaults[specs] = list = specs.Values.Where(spec => spec.Default is not null && spec.Name != "*").ToArray();
        return list;
    }

    private ImmutableArray<string> DefaultArgs(KeywordSpec spec)
    {
        if (!_defaultArgs.TryGetValue(spec, out var args))
            _defaultArgs[spec] = args = spec.Default!.Length == 0 ? ImmutableArray<string>.Empty : spec.Default.Split(' ').ToImmutableArray();
        return args;
    }

    private ConfigNode? ValidateNode(ConfigNode node, FrozenDictionary<string, KeywordSpec> specs, string context)
    {
        var isListEntry = false;
        if (!specs.TryGetValue(node.Keyword, out var spec))
        {
            if (specs.TryGetValue("*", out var any))
            {
                spec = any;
                isListEntry = true;
            }
            else
            {
                _diagnostics.Error(node.Location, $"Unknown keyword '{node.Keyword}'");
                return null;
            }
        }

        var keyword = node.Keyword;
        if (spec.AliasOf is not null)
        {
            if (specs.TryGetValue(spec.AliasOf, out var target))
            {
                _diagnostics.Warning(node.Location, $"'{node.Keyword}' is deprecated - please use '{spec.AliasOf}'");
                keyword = spec.AliasOf;
                spec = target;
            }
        }

        if (spec.IsBlock && !node.IsBlock && !spec.BlockOptional)
        {
            _diagnostics.Error(node.Location, $"'{node.Keyword}' must be followed by a '{{' block");
            return null;
        }
        if (!spec.IsBlock && node.IsBlock)
        {
            _diagnostics.Error(node.Location, $"'{node.Keyword}' does not take a block; block ignored");
            node = new ConfigNode(node.Keyword, node.Args, null, node.Location);
        }

        var args = isListEntry ? node.Args.Insert(0, node.Keyword) : node.Args;
        var original = args;
        if (!CheckArgs(spec, args, node.Location, new What(node.Keyword, isListEntry ? context : null)))
            return null;
        if (spec.Check is not null)
            args = ArgumentChecks.Run(spec.Check, args, node.Location, _diagnostics);
        if (args.IsDefault)
            return null;

        if (!spec.Implemented)
        {
            var key = isListEntry ? context : keyword;
            _unimplemented[key] = _unimplemented.TryGetValue(key, out var seen) ? (seen.First, seen.Count + 1) : (node.Location, 1);
            if (spec.NoEffect is not null)
                _noEffect[key] = spec.NoEffect;
        }

        if (isListEntry)
            return args == original ? node : new ConfigNode(args[0], args.RemoveAt(0), null, node.Location);

        ImmutableArray<ConfigNode>? children = null;
        if (node.IsBlock)
            children = ValidateBlock(node.Children, spec.Children, keyword);
        else if (spec.IsBlock && DefaultsOf(spec.Children).Length > 0)
            children = ValidateBlock(ImmutableArray<ConfigNode>.Empty, spec.Children, keyword);
        // Unchanged (same keyword, same argument array, same children): the parsed node itself.
        if (ReferenceEquals(keyword, node.Keyword) && args == node.Args && node.IsBlock == children.HasValue
            && (!children.HasValue || children.Value == node.Children))
            return node;
        return new ConfigNode(keyword, args, children, node.Location);
    }

    /// <summary>How a message names the statement: <c>'keyword'</c>, or <c>'entry' in block</c> for a list entry; formatted only for a message.</summary>
    private readonly record struct What(string Keyword, string? Context)
    {
        public override string ToString() => Context is null ? $"'{Keyword}'" : $"'{Keyword}' in {Context}";
    }

    private bool CheckArgs(KeywordSpec spec, ImmutableArray<string> args, SourceLocation location, What what)
    {
        var i = 0;
        var ok = true;
        foreach (var arg in spec.Args)
        {
            if (arg.Type == ArgType.Rest)
            {
                if (arg.Arity == Arity.One && i >= args.Length)
                {
                    _diagnostics.Error(location, $"{what} is missing its argument ({spec.Usage})");
                    return false;
                }
                return true;
            }
            if (i >= args.Length)
            {
                if (arg.Arity == Arity.One)
                {
                    _diagnostics.Error(location, $"{what} is missing an argument ({spec.Usage})");
                    return false;
                }
                break;
            }
            if (arg.Arity == Arity.Many)
            {
                while (i < args.Length)
                    ok &= CheckValue(arg, args[i++], location);
                return ok;
            }
            if (arg.Arity == Arity.Optional && !Accepts(arg, args[i]))
            {
                // keepalived rejects a bad optional value ("Invalid value 'x' for ... specified") unless a later
                // argument of the keyword could take it.
                if (spec.Args.Skip(spec.Args.IndexOf(arg) + 1).Any(a => a.Type == ArgType.Rest || Accepts(a, args[i])))
                    continue;
                ok &= CheckValue(arg, args[i++], location);
                continue;
            }
            ok &= CheckValue(arg, args[i++], location);
        }
        if (i < args.Length && spec.Check is null)
            _diagnostics.Warning(location, $"{what}: extra argument{(args.Length - i > 1 ? "s" : string.Empty)} '{string.Join(' ', args.Skip(i))}' ignored ({spec.Usage})");
        return ok;
    }

    private static bool Accepts(ArgSpec arg, string value) => arg.Type switch
    {
        ArgType.Bool => ParseBool(value) is not null,
        ArgType.Int => long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _),
        ArgType.Timer => decimal.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out _),
        ArgType.Enum => arg.Choices.Contains(value, StringComparer.OrdinalIgnoreCase),
        ArgType.Ip => IPAddress.TryParse(value, out _),
        ArgType.Port => ushort.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _),
        _ => true,
    };

    private bool CheckValue(ArgSpec arg, string value, SourceLocation location)
    {
        switch (arg.Type)
        {
            case ArgType.Int:
                if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
                {
                    _diagnostics.Error(location, $"invalid number '{value}'");
                    return false;
                }
                if (n < 0 && arg.Min is >= 0)
                {
                    _diagnostics.Error(location, $"negative number '{value}'");
                    return false;
                }
                if ((arg.Min is decimal min && n < min) || (arg.Max is decimal max && n > max))
                {
                    _diagnostics.Error(location, $"number '{value}' outside range [{arg.Min?.ToString(CultureInfo.InvariantCulture) ?? "-inf"}, {arg.Max?.ToString(CultureInfo.InvariantCulture) ?? "inf"}]");
                    return false;
                }
                return true;
            case ArgType.Timer:
                if (!decimal.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var t))
                {
                    _diagnostics.Error(location, $"invalid number '{value}'");
                    return false;
                }
                if ((arg.Min is decimal tmin && t < tmin) || (arg.Max is decimal tmax && t > tmax))
                {
                    _diagnostics.Error(location, $"number '{value}' outside range [{arg.Min?.ToString(CultureInfo.InvariantCulture) ?? "0"}, {arg.Max?.ToString(CultureInfo.InvariantCulture) ?? "inf"}]");
                    return false;
                }
                return true;
            case ArgType.Bool:
                if (ParseBool(value) is null)
                {
                    _diagnostics.Error(location, $"invalid boolean '{value}' - expected on|off|true|false|yes|no");
                    return false;
                }
                return true;
            case ArgType.Ip:
                if (!IPAddress.TryParse(value, out _))
                {
                    _diagnostics.Error(location, $"invalid IP address '{value}'");
                    return false;
                }
                return true;
            case ArgType.IpPrefix:
                return ArgumentChecks.TryParsePrefix(value, out _, out _, location, _diagnostics);
            case ArgType.Port:
                if (!ushort.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    _diagnostics.Error(location, $"invalid port '{value}' - must be between 0 & 65535");
                    return false;
                }
                return true;
            case ArgType.Enum:
                if (!arg.Choices.Contains(value, StringComparer.OrdinalIgnoreCase))
                {
                    _diagnostics.Error(location, $"invalid value '{value}' - expected one of {string.Join('|', arg.Choices)}");
                    return false;
                }
                return true;
            case ArgType.Hex:
                if (!long.TryParse(value.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? value[2..] : value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _))
                {
                    _diagnostics.Error(location, $"invalid hex number '{value}'");
                    return false;
                }
                return true;
            default:
                return true;
        }
    }

    /// <summary>keepalived's &lt;BOOL&gt;: on|off|true|false|yes|no.</summary>
    public static bool? ParseBool(string value) => value.ToLowerInvariant() switch
    {
        "on" or "true" or "yes" => true,
        "off" or "false" or "no" => false,
        _ => null,
    };
}
