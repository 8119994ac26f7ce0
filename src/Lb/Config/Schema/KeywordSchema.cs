using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Globalization;
using System.Reflection;

namespace Lb.Config.Schema;

/// <summary>The type of one positional argument of a keyword.</summary>
public enum ArgType
{
    /// <summary>Any single word.</summary>
    Word,

    /// <summary>Integer in an optional range.</summary>
    Int,

    /// <summary>Decimal seconds (keepalived's TIMER), resolution 1 µs, in an optional range.</summary>
    Timer,

    /// <summary>on|off|true|false|yes|no.</summary>
    Bool,

    /// <summary>IPv4 or IPv6 address.</summary>
    Ip,

    /// <summary>Address with optional /prefix.</summary>
    IpPrefix,

    /// <summary>0..65535.</summary>
    Port,

    /// <summary>One of a fixed set of words (case-sensitive unless the set says otherwise).</summary>
    Enum,

    /// <summary>Everything that follows, unchecked.</summary>
    Rest,

    /// <summary>Hexadecimal integer (e.g. MAC bytes, masks).</summary>
    Hex,
}

/// <summary>How often an argument may appear.</summary>
public enum Arity
{
    One,
    Optional,
    Many,
}

public sealed record ArgSpec(ArgType Type, Arity Arity, decimal? Min = null, decimal? Max = null, ImmutableArray<string> Choices = default)
{
    public override string ToString()
    {
        var range = Min is not null || Max is not null ? $"({Min}..{Max})" : string.Empty;
        var choices = Choices.IsDefaultOrEmpty ? string.Empty : $"({string.Join('|', Choices)})";
        var suffix = Arity switch { Arity.Optional => "?", Arity.Many => "*", _ => string.Empty };
        return $"{Type.ToString().ToLowerInvariant()}{range}{choices}{suffix}";
    }
}

/// <summary>One keyword of keepalived's grammar in one context.</summary>
public sealed record KeywordSpec
{
    public required string Name { get; init; }

    public ImmutableArray<ArgSpec> Args { get; init; } = ImmutableArray<ArgSpec>.Empty;

    /// <summary>The keyword opens a <c>{ }</c> block.</summary>
    public bool IsBlock { get; init; }

    /// <summary>A block whose body may also be omitted (keyword usable with or without a block).</summary>
    public bool BlockOptional { get; init; }

    /// <summary>Keywords allowed inside the block; <c>*</c> stands for list entries.</summary>
    public FrozenDictionary<string, KeywordSpec> Children { get; init; } = FrozenDictionary<string, KeywordSpec>.Empty;

    /// <summary>Lb implements this keyword; when false, using it gets a warning saying it has no effect yet.</summary>
    public bool Implemented { get; init; }

    /// <summary>
    /// <c>@noeffect "reason"</c>: Lb reads the keyword (the options records carry it) but nothing acts on it yet; using it gets a
    /// warning with the reason. Reading is not implementing: the keyword-coverage test requires this mark on such keywords.
    /// </summary>
    public string? NoEffect { get; init; }

    /// <summary>keepalived's default, as text in the keyword's own syntax, filled into the effective configuration.</summary>
    public string? Default { get; init; }

    /// <summary>This keyword is a deprecated spelling of <see cref="AliasOf"/>.</summary>
    public string? AliasOf { get; init; }

    /// <summary>A named check in code for arguments the type language cannot describe (vip, route, vs address …).</summary>
    public string? Check { get; init; }

    /// <summary>Text of the schema line for messages.</summary>
    public string Usage => Args.Length == 0 ? Name : $"{Name} {string.Join(' ', Args)}";

    public SchemaLine Line { get; init; }
}

public readonly record struct SchemaLine(int Number);

/// <summary>
/// keepalived 2.2.7's keyword tree, read from the embedded <c>keywords.schema</c> (one keyword per line, blocks nested with braces).
/// Adding a keyword is one line there; the validator, the "not implemented" warnings and the defaults all come from it.
/// </summary>
public sealed class KeywordSchema
{
    private KeywordSchema(FrozenDictionary<string, KeywordSpec> root) => Root = root;

    public FrozenDictionary<string, KeywordSpec> Root { get; }

    private static readonly Lazy<KeywordSchema> Embedded = new(() =>
    {
        using var stream = typeof(KeywordSchema).Assembly.GetManifestResourceStream("Lb.Config.Schema.keywords.schema")
            ?? throw new InvalidOperationException("embedded resource keywords.schema missing");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd());
    });

    public static KeywordSchema Default => Embedded.Value;

    /// <summary>Parses the schema language. Throws <see cref="FormatException"/> naming the schema line on a mistake (a bug in Lb, not user input).</summary>
    public static KeywordSchema Parse(string text)
    {
        var lines = text.Split('\n');
        var index = 0;
        var root = ParseBlock(lines, ref index, 0);
        if (index < lines.Length)
            throw new FormatException($"keywords.schema line {index + 1}: unexpected '}}'");
        return new KeywordSchema(root);
    }

    private static FrozenDictionary<string, KeywordSpec> ParseBlock(string[] lines, ref int index, int depth)
    {
        var result = new Dictionary<string, KeywordSpec>(StringComparer.Ordinal);
        while (index < lines.Length)
        {
            var raw = lines[index];
            var hash = raw.IndexOf('#', StringComparison.Ordinal);
            var line = (hash >= 0 ? raw[..hash] : raw).Trim();
            var number = index + 1;
            index++;
            if (line.Length == 0)
                continue;
            if (line == "}")
            {
                if (depth == 0)
                    throw new FormatException($"keywords.schema line {number}: unbalanced '}}'");
                return result.ToFrozenDictionary(StringComparer.Ordinal);
            }

            string? noEffect = null;
            var mark = line.IndexOf("@noeffect", StringComparison.Ordinal);
            if (mark >= 0)
            {
                var open = line.IndexOf('"', mark);
                var close = open < 0 ? -1 : line.IndexOf('"', open + 1);
                if (close < 0)
                    throw new FormatException($"keywords.schema line {number}: @noeffect needs a \"reason\"");
                noEffect = line[(open + 1)..close];
                line = (line[..mark] + line[(close + 1)..]).Trim();
            }
            var words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).ToList();
            var isBlock = false;
            var blockOptional = false;
            if (words[^1] == "{")
            {
                isBlock = true;
                words.RemoveAt(words.Count - 1);
            }
            else if (words[^1] == "{?")
            {
                isBlock = true;
                blockOptional = true;
                words.RemoveAt(words.Count - 1);
            }
            var name = words[0];
            var args = ImmutableArray.CreateBuilder<ArgSpec>();
            bool implemented = false;
            string? defaultValue = null, alias = null, check = null;
            foreach (var w in words.Skip(1))
            {
                if (w == "@impl")
                    implemented = true;
                else if (w.StartsWith("@default=", StringComparison.Ordinal))
                    defaultValue = w["@default=".Length..].Replace('~', ' ');
                else if (w.StartsWith("@alias=", StringComparison.Ordinal))
                    alias = w["@alias=".Length..];
                else if (w.StartsWith("@check=", StringComparison.Ordinal))
                    check = w["@check=".Length..];
                else if (w.StartsWith('@'))
                    throw new FormatException($"keywords.schema line {number}: unknown flag '{w}'");
                else
                    args.Add(ParseArg(w, number));
            }

            var children = isBlock ? ParseBlock(lines, ref index, depth + 1) : FrozenDictionary<string, KeywordSpec>.Empty;
            var spec = new KeywordSpec
            {
                Name = name,
                Args = args.ToImmutable(),
                IsBlock = isBlock,
                BlockOptional = blockOptional,
                Children = children,
                Implemented = implemented,
                NoEffect = noEffect,
                Default = defaultValue,
                AliasOf = alias,
                Check = check,
                Line = new SchemaLine(number),
            };
            if (implemented && noEffect is not null)
                throw new FormatException($"keywords.schema line {number}: '{name}' cannot be both @impl and @noeffect");
            if (!result.TryAdd(name, spec))
                throw new FormatException($"keywords.schema line {number}: '{name}' defined twice in one block");
        }
        if (depth != 0)
            throw new FormatException("keywords.schema: missing '}' at end");
        return result.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static ArgSpec ParseArg(string w, int number)
    {
        var arity = Arity.One;
        if (w.EndsWith('?'))
        {
            arity = Arity.Optional;
            w = w[..^1];
        }
        else if (w.EndsWith('*'))
        {
            arity = Arity.Many;
            w = w[..^1];
        }
        string? inner = null;
        var paren = w.IndexOf('(', StringComparison.Ordinal);
        if (paren >= 0)
        {
            if (!w.EndsWith(')'))
                throw new FormatException($"keywords.schema line {number}: bad argument '{w}'");
            inner = w[(paren + 1)..^1];
            w = w[..paren];
        }
        var type = w switch
        {
            "word" or "str" => ArgType.Word,
            "int" => ArgType.Int,
            "timer" => ArgType.Timer,
            "bool" => ArgType.Bool,
            "ip" => ArgType.Ip,
            "ipprefix" => ArgType.IpPrefix,
            "port" => ArgType.Port,
            "enum" => ArgType.Enum,
            "rest" => ArgType.Rest,
            "hex" => ArgType.Hex,
            _ => throw new FormatException($"keywords.schema line {number}: unknown argument type '{w}'"),
        };
        decimal? min = null, max = null;
        var choices = default(ImmutableArray<string>);
        if (inner is not null)
        {
            if (type == ArgType.Enum)
                choices = inner.Split('|').ToImmutableArray();
            else
            {
                var dots = inner.IndexOf("..", StringComparison.Ordinal);
                if (dots < 0)
                    throw new FormatException($"keywords.schema line {number}: range must be min..max");
                var a = inner[..dots];
                var b = inner[(dots + 2)..];
                if (a.Length > 0)
                    min = decimal.Parse(a, CultureInfo.InvariantCulture);
                if (b.Length > 0)
                    max = decimal.Parse(b, CultureInfo.InvariantCulture);
            }
        }
        if (type == ArgType.Enum && choices.IsDefaultOrEmpty)
            throw new FormatException($"keywords.schema line {number}: enum needs choices");
        return new ArgSpec(type, arity, min, max, choices);
    }
}
