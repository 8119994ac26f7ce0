using Lb.Checkers.Options;

namespace Lb.Checkers.Engine;

/// <summary>
/// Structural comparison of options for reload. The option records compare lists and byte arrays by reference, and a
/// re-parsed file builds new ones, so these compare element by element. <c>SourceLocation</c> is ignored (a line added
/// above a block moves it without changing it).
/// </summary>
internal static class OptionsEquality
{
    private static readonly IReadOnlyList<RealServerOptions> NoRealServers = Array.Empty<RealServerOptions>();
    private static readonly IReadOnlyList<VirtualServerGroupEntry> NoGroupEntries = Array.Empty<VirtualServerGroupEntry>();
    private static readonly IReadOnlyList<CheckerOptions> NoCheckers = Array.Empty<CheckerOptions>();
    private static readonly IReadOnlyList<UrlOptions> NoUrls = Array.Empty<UrlOptions>();
    private static readonly IReadOnlyList<StatusCodeRange> NoStatusCodes = Array.Empty<StatusCodeRange>();
    private static readonly IReadOnlyList<string> NoStrings = Array.Empty<string>();

    /// <summary>The virtual server's own settings, without its real servers and its sorry server.</summary>
    public static VirtualServerOptions VirtualServerLevel(VirtualServerOptions o) =>
        o with { RealServers = NoRealServers, GroupEntries = NoGroupEntries, SorryServer = null, SorryServerInhibit = false, SourceLocation = null };

    /// <summary>Whether the virtual servers' own settings (group members included; real servers and sorry server excluded) are equal.</summary>
    public static bool VirtualServerLevelEqual(VirtualServerOptions a, VirtualServerOptions b) =>
        VirtualServerLevel(a) == VirtualServerLevel(b) && a.GroupEntries.SequenceEqual(b.GroupEntries);

    /// <summary>The real server's own settings, without its checkers.</summary>
    public static RealServerOptions RealServerLevel(RealServerOptions o) => o with { Checkers = NoCheckers, SourceLocation = null };

    /// <summary>Whether the real servers' own settings (checkers excluded) are equal.</summary>
    public static bool RealServerLevelEqual(RealServerOptions a, RealServerOptions b) => RealServerLevel(a) == RealServerLevel(b);

    /// <summary>Whether two checker blocks are the same.</summary>
    public static bool CheckerEqual(CheckerOptions a, CheckerOptions b)
    {
        if (a.GetType() != b.GetType())
            return false;
        switch (a, b)
        {
            case (HttpCheckOptions ha, HttpCheckOptions hb):
                return (ha with { Urls = NoUrls, SourceLocation = null }) == (hb with { Urls = NoUrls, SourceLocation = null })
                    && ha.Urls.Count == hb.Urls.Count
                    && ha.Urls.Zip(hb.Urls).All(p => UrlEqual(p.First, p.Second));
            case (UdpCheckOptions ua, UdpCheckOptions ub):
                return (ua with { Payload = null, RequireReplyPattern = null, SourceLocation = null }) == (ub with { Payload = null, RequireReplyPattern = null, SourceLocation = null })
                    && BytesEqual(ua.Payload, ub.Payload)
                    && (ua.RequireReplyPattern is null) == (ub.RequireReplyPattern is null)
                    && (ua.RequireReplyPattern is null || (BytesEqual(ua.RequireReplyPattern.Value, ub.RequireReplyPattern!.Value) && BytesEqual(ua.RequireReplyPattern.Mask, ub.RequireReplyPattern.Mask)));
            default:
                return (a with { SourceLocation = null }) == (b with { SourceLocation = null });
        }
    }

    private static bool UrlEqual(UrlOptions a, UrlOptions b) =>
        (a with { StatusCodes = NoStatusCodes, RegexOptions = NoStrings }) == (b with { StatusCodes = NoStatusCodes, RegexOptions = NoStrings })
        && a.StatusCodes.SequenceEqual(b.StatusCodes)
        && a.RegexOptions.SequenceEqual(b.RegexOptions, StringComparer.Ordinal);

    private static bool BytesEqual(byte[]? a, byte[]? b) =>
        a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);
}
