using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;

namespace Lb.Vrrp.Reload;

/// <summary>
/// Structural comparison of options records for the reload diff. Records compare lists by reference
/// (a re-parsed file always yields new lists), so this walks the public properties and compares
/// sequences element by element, recursing into nested records.
/// </summary>
internal static class OptionsComparer
{
    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> hold the same configuration.</summary>
    public static bool Same(object? a, object? b)
    {
        if (ReferenceEquals(a, b))
            return true;
        if (a is null || b is null || a.GetType() != b.GetType())
            return false;
        if (a is string || a.GetType().IsPrimitive || a.GetType().IsEnum || a is System.Net.IPAddress || a is TimeSpan || a is decimal)
            return a.Equals(b);
        if (a is IEnumerable ea && b is IEnumerable eb)
        {
            var ia = ea.GetEnumerator();
            var ib = eb.GetEnumerator();
            while (true)
            {
                var ma = ia.MoveNext();
                var mb = ib.MoveNext();
                if (ma != mb)
                    return false;
                if (!ma)
                    return true;
                if (!Same(ia.Current, ib.Current))
                    return false;
            }
        }
        var props = Properties(a.GetType());
        if (props.Length == 0)
            return a.Equals(b);
        foreach (var p in props)
        {
            if (!Same(p.GetValue(a), p.GetValue(b)))
                return false;
        }
        return true;
    }

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
