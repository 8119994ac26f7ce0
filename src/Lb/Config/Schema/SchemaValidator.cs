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
    private const char KeySeparator = '\u0001';
    private string _blockKey = "top level";
    private readonly Dictionary<string, (SourceLocation First, int Count)> _unimplemented = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _noEffect = new(StringComparer.Ordinal);

    public SchemaValidator(KeywordSchema schema, DiagnosticBag diagnostics)
    {
        _schema = schema;
        _diagnostics = diagnostics;
    }

    public ImmutableArray<ConfigNode> Validate(ImmutableArray<ConfigNode> nodes)
    {
        var result = ValidateBlock(nodes, _schema.Root, "top level", null);
        foreach (var (key, (first, count)) in _unimplemented.OrderBy(kv => kv.Value.First.File, StringComparer.Ordinal).ThenBy(kv => kv.Value.First.Line))
        {
            var name = key[(key.IndexOf(KeySeparator, StringComparison.Ordinal) + 1)..];
            var more = count > 1 ? $" (used {count} times)" : string.Empty;
            _diagnostics.Warning(first, _noEffect.TryGetValue(key, out var reason)
                ? $"'{name}' is parsed but has no effect in Lb yet: {reason}{more}"
                : $"'{name}' is parsed but not implemented by Lb yet; it has no effect{more}");
        }
        return result;
    }

    private ImmutableArray<ConfigNode> ValidateBlock(ImmutableArray<ConfigNode> nodes, FrozenDictionary<string, KeywordSpec> specs, string context, string? owner)
    {
        // The block is returned as it came when every statement validated to itself and no default is added (the common
        // case, and a big file has tens of thousands of blocks).
        ImmutableArray<ConfigNode>.Builder? result = null;
        for (var i = 0; i < nodes.Length; i++)
        {
            var validated = ValidateNode(nodes[i], specs, context, owner);
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

    /// <summary>
    /// Deprecated spellings keepalived 2.2.7 reports itself, with its words; those it reports through report_config_error
    /// count toward <c>-t</c>'s exit code (an Error here). Other aliases get a warning (keepalived says nothing or only logs).
    /// </summary>
    private static readonly FrozenDictionary<string, (Severity Severity, string Message)> Deprecations = new Dictionary<string, (Severity, string)>
    {
        ["nb_get_retry"] = (Severity.Error, "nb_get_retry is deprecated - please use 'retry'"),
        ["vrrp_vmac_garp_intvl"] = (Severity.Error, "Keyword \"vrrp_vmac_garp_intvl\" is deprecated - please use \"vrrp_garp_extra_if\""),
        ["vmac_garp_intvl"] = (Severity.Error, "Keyword \"vmac_garp_intvl\" is deprecated - please use \"garp_extra_if\""),
        ["vrrp_rlimit_rtime"] = (Severity.Warning, "Keyword 'vrrp_rlimit_rtime' is deprecated - please use 'vrrp_rlimit_rttime'"),
        ["checker_rlimit_rtime"] = (Severity.Warning, "Keyword 'checker_rlimit_rtime' is deprecated - please use 'checker_rlimit_rttime'"),
        ["bfd_rlimit_rtime"] = (Severity.Warning, "Keyword 'bfd_rlimit_rtime' is deprecated - please use 'bfd_rlimit_rttime'"),
        ["vrrp_track_file"] = (Severity.Warning, "\"vrrp_track_file\" is deprecated, please use \"track_file\""),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    // Set by CheckArgs/CheckValue for the statement being checked: a missing argument (not a bad value), the first bad
    // value, and whether the value checks report (not when keepalived's handler has its own message instead).
    private bool _missingArgument;
    private string? _badValue;
    private bool _quiet;
    private int _timerDigits = 6;

    private ConfigNode? ValidateNode(ConfigNode node, FrozenDictionary<string, KeywordSpec> specs, string context, string? owner)
    {
        var isListEntry = false;
        if (!specs.TryGetValue(node.Keyword, out var spec))
        {
            if (node.Keyword.StartsWith(Preprocessor.ExtensionKeywordPrefix, StringComparison.Ordinal))
            {
                // keepalived reads the line as a comment, so its verdict does not change: a warning, never an error.
                _diagnostics.Warning(node.Location, $"Unknown Lb extension keyword '{Preprocessor.ExtensionLinePrefix} {node.Keyword[Preprocessor.ExtensionKeywordPrefix.Length..]}'{(context.Length > 0 ? $" in {context}" : "")}; ignored");
                return null;
            }
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
                if (Deprecations.TryGetValue(node.Keyword, out var deprecation))
                    _diagnostics.Add(deprecation.Severity, node.Location, deprecation.Message);
                else
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
        // keepalived's own message for a bad value of this keyword is looked up when a value is bad; up front only where it
        // replaces Lb's (a word from a set: keepalived's number readers say nothing there).
        var invalid = !isListEntry && spec.Args.Length > 0 && spec.Args[0].Type is ArgType.Enum ? InvalidValueMessages.Find(context, keyword) : null;
        _missingArgument = false;
        _badValue = null;
        _quiet = invalid is { Instead: true };
        _timerDigits = context == "bfd_instance" ? 3 : 6;
        var valid = CheckArgs(spec, args, node.Location, new What(node.Keyword, isListEntry ? context : null));
        _quiet = false;
        if (!valid)
        {
            if (_missingArgument || _badValue is null || isListEntry)
                return null;
            if (TimerPrefix(spec, _badValue) is { } prefix)
                return new ConfigNode(keyword, [prefix], null, node.Location);
            invalid ??= InvalidValueMessages.Find(context, keyword);
            if (invalid is null)
                return null;
            _diagnostics.Error(node.Location, InvalidValueMessages.Format(invalid, _badValue, owner));
            return invalid.Use is null ? null : new ConfigNode(keyword, [invalid.Use], null, node.Location);
        }
        if (spec.Check is not null)
            args = ArgumentChecks.Run(spec.Check, args, node.Location, _diagnostics);
        if (args.IsDefault)
            return null;

        if (!spec.Implemented)
        {
            // Keyed by block and keyword: the same name can mean different things (with different reasons) in two blocks.
            // A list entry counts as a use of its block (the entry carries the block's mark).
            var key = isListEntry ? _blockKey : context + KeySeparator + keyword;
            _unimplemented[key] = _unimplemented.TryGetValue(key, out var seen) ? (seen.First, seen.Count + 1) : (node.Location, 1);
            if (spec.NoEffect is not null)
                _noEffect[key] = spec.NoEffect;
        }

        if (isListEntry)
            return args == original ? node : new ConfigNode(args[0], args.RemoveAt(0), null, node.Location);

        ImmutableArray<ConfigNode>? children = null;
        if (node.IsBlock)
        {
            var outerKey = _blockKey;
            _blockKey = context + KeySeparator + keyword;
            try
            {
                children = ValidateBlock(node.Children, spec.Children, keyword, node.Arg0);
            }
            finally
            {
                _blockKey = outerKey;
            }
            // keepalived's email_handler counts it (exit 5), though its words say warning.
            if (children.Value.IsEmpty && keyword == "notification_email")
                _diagnostics.Error(node.Location, "Warning - empty notification_email block");
        }
        else if (spec.IsBlock && DefaultsOf(spec.Children).Length > 0)
            children = ValidateBlock(ImmutableArray<ConfigNode>.Empty, spec.Children, keyword, node.Arg0);
        // Unchanged (same keyword, same argument array, same children): the parsed node itself.
        if (ReferenceEquals(keyword, node.Keyword) && args == node.Args && node.IsBlock == children.HasValue
            && (!children.HasValue || children.Value == node.Children))
            return node;
        return new ConfigNode(keyword, args, children, node.Location);
    }

    /// <summary>
    /// keepalived's timer reader (read_decimal_unsigned_long_func, always called to ignore errors) reports a value that is
    /// not a number but still uses the number its start makes (strtoull: <c>abc</c> is 0, <c>5s</c> is 5) when that is in
    /// range — unlike its integer readers, which under <c>-t</c> ignore the statement. The value used, or null.
    /// </summary>
    private static string? TimerPrefix(KeywordSpec spec, string bad)
    {
        if (spec.Args.Length != 1 || spec.Args[0] is not { Type: ArgType.Timer } arg || bad.StartsWith('-'))
            return null;
        var end = 0;
        while (end < bad.Length && char.IsAsciiDigit(bad[end]))
            end++;
        if (end == bad.Length)
            return null; // a number: it was out of range
        if (bad[end] == '.')
        {
            end++;
            while (end < bad.Length && char.IsAsciiDigit(bad[end]))
                end++;
        }
        var text = bad[..end].TrimEnd('.');
        var value = text.Length == 0 ? 0m : decimal.Parse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        if ((arg.Min is decimal min && value < min) || (arg.Max is decimal max && value > max))
            return null;
        return value.ToString(CultureInfo.InvariantCulture);
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
                    _missingArgument = true;
                    _diagnostics.Error(location, $"{what} is missing its argument ({spec.Usage})");
                    return false;
                }
                return true;
            }
            if (i >= args.Length)
            {
                if (arg.Arity == Arity.One)
                {
                    _missingArgument = true;
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
        if (arg.Type == ArgType.IpPrefix)
        {
            // Reports in keepalived's VIP words itself.
            if (ArgumentChecks.TryParsePrefix(value, out _, out _, location, _quiet ? null : _diagnostics))
                return true;
            _badValue ??= value;
            return false;
        }
        var message = Problem(arg, value, location);
        if (message is null)
            return true;
        _badValue ??= value;
        if (!_quiet)
            _diagnostics.Error(location, message);
        return false;
    }

    // keepalived's number readers (lib/parser.c read_unsigned_func, read_int_func, read_decimal_unsigned_long_func): a
    // keyword with a non-negative range is read as unsigned, one that allows negatives as int; a timer has 6 decimals.
    private const decimal TimerMax = 18446744073709.551614m;

    /// <summary>What is wrong with <paramref name="value"/>, in keepalived's words; null when it is valid.</summary>
    private string? Problem(ArgSpec arg, string value, SourceLocation location)
    {
        switch (arg.Type)
        {
            case ArgType.Int:
                {
                    var unsigned = arg.Min is >= 0;
                    if (unsigned && value.StartsWith('-'))
                        return $"negative number '{value}'";
                    if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
                    {
                        var digits = value.AsSpan().TrimStart("+-");
                        if (digits.Length == 0 || digits.ContainsAnyExceptInRange('0', '9'))
                            return $"invalid number '{value}'";
                        return unsigned ? $"number '{value}' outside unsigned integer range" : $"number '{value}' outside integer range";
                    }
                    if (unsigned && n > uint.MaxValue)
                        return $"number '{value}' outside unsigned integer range";
                    if (!unsigned && (n < int.MinValue || n > int.MaxValue))
                        return $"number '{value}' outside integer range";
                    if ((arg.Min is decimal min && n < min) || (arg.Max is decimal max && n > max))
                        return $"number '{value}' outside range [{arg.Min?.ToString(CultureInfo.InvariantCulture) ?? "-inf"}, {arg.Max?.ToString(CultureInfo.InvariantCulture) ?? "inf"}]";
                    return null;
                }
            case ArgType.Timer:
                {
                    if (value.StartsWith('-'))
                        return $"negative number '{value}'";
                    if (!decimal.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var t))
                        return $"invalid number '{value}'";
                    var point = value.IndexOf('.', StringComparison.Ordinal);
                    if (point >= 0 && value.Length - point - 1 > _timerDigits)
                    {
                        // keepalived rounds to its resolution and uses the value, but counts the error.
                        _diagnostics.Error(location, $"number '{value}' has too many decimal places");
                        t = Math.Round(t, _timerDigits, MidpointRounding.AwayFromZero);
                    }
                    if ((arg.Min is decimal tmin && t < tmin) || (arg.Max is decimal tmax && t > tmax) || t > TimerMax)
                    {
                        var format = "F" + _timerDigits.ToString(CultureInfo.InvariantCulture);
                        return $"number '{value}' outside range [{(arg.Min ?? 0).ToString(format, CultureInfo.InvariantCulture)}, {(arg.Max ?? TimerMax).ToString(format, CultureInfo.InvariantCulture)}]";
                    }
                    return null;
                }
            case ArgType.Bool:
                return ParseBool(value) is null ? $"invalid boolean '{value}' - expected on|off|true|false|yes|no" : null;
            case ArgType.Ip:
                return IPAddress.TryParse(value, out _) ? null : $"invalid IP address '{value}'";
            case ArgType.Port:
                return ushort.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _) ? null : $"invalid port '{value}' - must be between 0 & 65535";
            case ArgType.Enum:
                return arg.Choices.Contains(value, StringComparer.OrdinalIgnoreCase) ? null : $"invalid value '{value}' - expected one of {string.Join('|', arg.Choices)}";
            case ArgType.Hex:
                return long.TryParse(value.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? value[2..] : value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _)
                    ? null : $"invalid hex number '{value}'";
            default:
                return null;
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
