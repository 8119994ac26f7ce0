using Xunit;

namespace Lb.TestSupport;

/// <summary>
/// A fact that needs commands (e.g. <c>dpkg-deb</c>, <c>groff</c>) but not root. Skips with the reason outside CI when
/// one is missing; under <c>CI=true</c> it runs (and fails on the missing command), like <see cref="RootFactAttribute"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ToolFactAttribute : FactAttribute
{
    public ToolFactAttribute(params string[] commands) => Skip = SkipReason(commands);

    /// <summary>Why the test must skip here, or null to run it.</summary>
    public static string? SkipReason(IEnumerable<string> commands)
    {
        if (Prerequisites.IsCi)
            return null;
        var missing = commands.FirstOrDefault(c => !Prerequisites.HasCommand(c));
        return missing is null ? null : $"needs the command '{missing}'; runs under CI=true";
    }
}
