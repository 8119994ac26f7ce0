using System.Collections.Immutable;

namespace Lb.Config;

/// <summary>
/// One statement of keepalived.conf after includes, conditionals, macros and generators: a keyword, its arguments
/// and, for blocks, the statements inside. Immutable; equality is structural (location excluded).
/// </summary>
public sealed class ConfigNode : IEquatable<ConfigNode>
{
    public ConfigNode(string keyword, ImmutableArray<string> args, ImmutableArray<ConfigNode>? children, SourceLocation location)
    {
        Keyword = keyword;
        Args = args.IsDefault ? ImmutableArray<string>.Empty : args;
        Children = children is { IsDefault: false } c ? c : ImmutableArray<ConfigNode>.Empty;
        IsBlock = children is not null;
        Location = location;
    }

    public string Keyword { get; }

    public ImmutableArray<string> Args { get; }

    /// <summary>True when the statement opened a <c>{ }</c> block (possibly empty).</summary>
    public bool IsBlock { get; }

    public ImmutableArray<ConfigNode> Children { get; }

    public SourceLocation Location { get; }

    /// <summary>The first argument, or null.</summary>
    public string? Arg0 => Args.Length > 0 ? Args[0] : null;

    /// <summary>
    /// Observes every <see cref="Last"/>/<see cref="All"/> lookup on this thread as (block, keyword): set only by the test that
    /// checks the schema's implementation marks against what the mappers read (Mapping/KeywordReads.cs); null otherwise.
    /// </summary>
    [ThreadStatic]
    internal static Action<ConfigNode, string>? ReadObserver;

    public IEnumerable<ConfigNode> All(string keyword)
    {
        ReadObserver?.Invoke(this, keyword);
        return Children.Where(c => c.Keyword == keyword);
    }

    /// <summary>The last occurrence of <paramref name="keyword"/> among the children (keepalived: the last one wins).</summary>
    public ConfigNode? Last(string keyword)
    {
        ReadObserver?.Invoke(this, keyword);
        for (var i = Children.Length - 1; i >= 0; i--)
        {
            if (Children[i].Keyword == keyword)
                return Children[i];
        }
        return null;
    }

    public ConfigNode WithChildren(ImmutableArray<ConfigNode> children) => new(Keyword, Args, children, Location);

    public bool Equals(ConfigNode? other)
    {
        if (other is null)
            return false;
        if (ReferenceEquals(this, other))
            return true;
        return Keyword == other.Keyword && IsBlock == other.IsBlock
            && Args.SequenceEqual(other.Args) && Children.SequenceEqual(other.Children);
    }

    public override bool Equals(object? obj) => obj is ConfigNode n && Equals(n);

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Keyword);
        foreach (var a in Args)
            h.Add(a);
        h.Add(Children.Length);
        return h.ToHashCode();
    }

    public override string ToString() => Args.Length == 0 ? Keyword : $"{Keyword} {string.Join(' ', Args)}";
}
