using Lb.Checkers.Options;

namespace Lb.Checkers.Engine;

/// <summary>
/// Comparison of options for reload. The option records compare by value (their lists are value lists), so this is
/// <c>==</c> on the records with <c>SourceLocation</c> ignored (a line added above a block moves it without changing it).
/// </summary>
internal static class OptionsEquality
{
    /// <summary>The virtual server's own settings, without its real servers and its sorry server.</summary>
    public static VirtualServerOptions VirtualServerLevel(VirtualServerOptions o) =>
        o with { RealServers = [], SorryServer = null, SorryServerInhibit = false, SourceLocation = null };

    /// <summary>Whether the virtual servers' own settings (group members included; real servers and sorry server excluded) are equal.</summary>
    public static bool VirtualServerLevelEqual(VirtualServerOptions a, VirtualServerOptions b) => VirtualServerLevel(a) == VirtualServerLevel(b);

    /// <summary>The real server's own settings, without its checkers.</summary>
    public static RealServerOptions RealServerLevel(RealServerOptions o) => o with { Checkers = [], SourceLocation = null };

    /// <summary>Whether the real servers' own settings (checkers excluded) are equal.</summary>
    public static bool RealServerLevelEqual(RealServerOptions a, RealServerOptions b) => RealServerLevel(a) == RealServerLevel(b);

    /// <summary>Whether two checker blocks are the same.</summary>
    public static bool CheckerEqual(CheckerOptions a, CheckerOptions b) => (a with { SourceLocation = null }) == (b with { SourceLocation = null });
}
