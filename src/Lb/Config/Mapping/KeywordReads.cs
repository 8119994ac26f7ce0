namespace Lb.Config.Mapping;

/// <summary>
/// The mappers' reads that are not a <see cref="ConfigNode.Last"/>/<see cref="ConfigNode.All"/> lookup — top-level statements
/// and checker blocks chosen by their keyword — reported to <see cref="ConfigNode.ReadObserver"/> like those lookups, so the
/// keyword-coverage test sees every (block, keyword) the mappers read. Top-level statements are read from the block "".
/// </summary>
internal static class KeywordReads
{
    private static readonly ConfigNode Root = new(string.Empty, default, default(System.Collections.Immutable.ImmutableArray<ConfigNode>), SourceLocation.None);

    /// <summary>The top-level statements <paramref name="keyword"/>, in order.</summary>
    public static IEnumerable<ConfigNode> Top(IReadOnlyList<ConfigNode> nodes, string keyword)
    {
        ConfigNode.ReadObserver?.Invoke(Root, keyword);
        return nodes.Where(n => n.Keyword == keyword);
    }

    /// <summary>The last top-level statement <paramref name="keyword"/>, or an empty block of that name.</summary>
    public static ConfigNode LastOrEmpty(IReadOnlyList<ConfigNode> nodes, string keyword)
    {
        ConfigNode.ReadObserver?.Invoke(Root, keyword);
        return nodes.LastOrDefault(n => n.Keyword == keyword)
            ?? new ConfigNode(keyword, default, default(System.Collections.Immutable.ImmutableArray<ConfigNode>), SourceLocation.None);
    }

    /// <summary>A statement of <paramref name="block"/> read by looking at its keyword (a checker block in a real_server).</summary>
    public static void Read(ConfigNode block, string keyword) => ConfigNode.ReadObserver?.Invoke(block, keyword);
}
