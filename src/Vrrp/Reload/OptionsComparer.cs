using System.Diagnostics.CodeAnalysis;
using System.Reflection;

namespace Lb.Vrrp.Reload;

/// <summary>
/// The reload diff's comparison of options records. The records carry value equality themselves (every list in them is a
/// <see cref="Lb.Netlink.Collections.ValueList{T}"/>), so "same" is <c>Equals</c>; what this adds is the names of the
/// properties that differ, for the plan and the log.
/// </summary>
internal static class OptionsComparer
{
    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> hold the same configuration.</summary>
    public static bool Same(object? a, object? b) => Equals(a, b);

    /// <summary>Names of the public properties of <paramref name="a"/> and <paramref name="b"/> (same type) that differ.</summary>
    public static IReadOnlyList<string> Differences<T>(T a, T b)
        where T : class
    {
        var list = new List<string>();
        foreach (var p in Properties(typeof(T)))
        {
            if (!Same(p.GetValue(a), p.GetValue(b)))
                list.Add(p.Name);
        }
        return list;
    }

    // Walks the options records by their runtime types. Under NativeAOT/trimming their property metadata is kept because
    // the host (src/Lb/Lb.csproj) roots the assemblies that define them (TrimmerRootAssembly Lb.Vrrp, Lb.Scripts, Lb.Netlink).
    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "Options record assemblies are rooted by the publishing host (TrimmerRootAssembly).")]
    private static PropertyInfo[] Properties(Type t)
        => t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0 && p.CanRead && p.Name != "EqualityContract").ToArray();
}
