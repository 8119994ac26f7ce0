using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using Lb.Vrrp.Engine;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Tracking;

namespace Lb.Vrrp.Reload;

/// <summary>An instance's state when a plan is rendered: whether it is MASTER with its VIPs set (address work happens now).</summary>
internal readonly record struct InstanceNow(VrrpState State, bool VipsSet)
{
    public bool HoldsVips => State == VrrpState.Master && VipsSet;
}

/// <summary>
/// A <see cref="ReloadPlan"/> as text, one line per change (<c>lb reload --plan</c> prints it before the reload,
/// <c>lb reload</c> after it): instances added, removed, changed in place or restarted (with what changed), the VIPs each
/// adds or removes (and whether that happens now — the instance is MASTER holding its VIPs — or when it next becomes
/// MASTER), sync groups, trackers, global settings and the settings that need a restart. The plan rendered is the one
/// the subsystem executes (<see cref="VrrpSubsystem.ReloadAsync"/>), so both print the same.
/// </summary>
internal static class ReloadPlanText
{
    /// <summary>Every line of <paramref name="plan"/>, planned against <paramref name="current"/> (instances' states in <paramref name="now"/>).</summary>
    public static List<string> Lines(ReloadPlan plan, ReloadSnapshot current, IReadOnlyDictionary<string, InstanceNow> now)
    {
        var lines = new List<string>();
        foreach (var p in plan.Instances)
        {
            var prefix = $"vrrp: instance {p.Name}:";
            now.TryGetValue(p.Name, out var state);
            current.Instances.TryGetValue(p.Name, out var before);
            switch (p.Kind)
            {
                case InstancePlanKind.Add:
                    lines.Add($"{prefix} + added");
                    foreach (var v in AllVips(p.Next!.Options))
                        lines.Add($"{prefix} virtual_ipaddress + {Vip(v, p.Next.Options)} (when it becomes MASTER)");
                    break;
                case InstancePlanKind.Remove:
                    lines.Add($"{prefix} - removed");
                    if (state.HoldsVips && before is not null)
                    {
                        foreach (var v in AllVips(before.Settings.Options))
                            lines.Add($"{prefix} virtual_ipaddress - {Vip(v, before.Settings.Options)}");
                    }
                    break;
                case InstancePlanKind.Hard:
                    lines.Add($"{prefix} ~ restarted: {Fields(p.Fields, before?.Settings.Options, p.Next!.Options)}");
                    if (before is not null)
                    {
                        var old = AllVips(before.Settings.Options);
                        var next = AllVips(p.Next.Options);
                        foreach (var v in old.Where(v => !next.Any(w => OptionsComparer.Same(v, w))))
                            lines.Add($"{prefix} virtual_ipaddress - {Vip(v, before.Settings.Options)}" + (state.HoldsVips ? "" : $" (not set now: {p.Name} is {Name(state.State)})"));
                        foreach (var v in next.Where(v => !old.Any(w => OptionsComparer.Same(v, w))))
                            lines.Add($"{prefix} virtual_ipaddress + {Vip(v, p.Next.Options)} (when it becomes MASTER)");
                    }
                    break;
                case InstancePlanKind.Soft:
                    lines.Add($"{prefix} ~ changed in place: {Fields(p.Fields, before?.Settings.Options, p.Next!.Options)}");
                    var when = state.HoldsVips ? "" : $" (when it becomes MASTER: {p.Name} is {Name(state.State)})";
                    foreach (var v in p.VipsRemoved)
                        lines.Add($"{prefix} virtual_ipaddress - {Vip(v, before?.Settings.Options ?? p.Next.Options)}" + (state.HoldsVips ? "" : $" (not set now: {p.Name} is {Name(state.State)})"));
                    foreach (var v in p.VipsAdded)
                        lines.Add($"{prefix} virtual_ipaddress + {Vip(v, p.Next.Options)}{when}");
                    break;
            }
        }
        foreach (var g in plan.Groups)
        {
            lines.Add(g.Action switch
            {
                VrrpReloadAction.Added => $"vrrp: sync_group {g.Name}: + added",
                VrrpReloadAction.Removed => $"vrrp: sync_group {g.Name}: - removed",
                _ => $"vrrp: sync_group {g.Name}: ~ changed: {string.Join(", ", g.Fields)}",
            });
        }
        foreach (var t in plan.Trackers)
        {
            var keyword = t.Kind switch
            {
                TrackerKind.Script => "vrrp_script",
                TrackerKind.File => "vrrp_track_file",
                TrackerKind.Process => "vrrp_track_process",
                _ => t.Kind.ToString(),
            };
            lines.Add(t.Action switch
            {
                VrrpReloadAction.Added => $"vrrp: {keyword} {t.Name}: + started",
                VrrpReloadAction.Removed => $"vrrp: {keyword} {t.Name}: - stopped",
                _ => $"vrrp: {keyword} {t.Name}: ~ restarted: {string.Join(", ", t.Fields)}",
            });
        }
        if (plan.GlobalFields.Count > 0)
            lines.Add($"vrrp: global_defs: ~ changed: {string.Join(", ", plan.GlobalFields)}");
        foreach (var w in plan.RestartOnly)
            lines.Add($"vrrp: warning: {w.Name} changed - {w.Consequence}");
        return lines;
    }

    /// <summary><c>10.0.0.101/32 dev eth0</c> (the instance's interface when the address names none).</summary>
    public static string Vip(VirtualAddress v, VrrpInstanceOptions instance)
    {
        var dev = v.Device ?? instance.Interface;
        return $"{v.Address}/{v.EffectivePrefixLength.ToString(CultureInfo.InvariantCulture)}" + (dev is null ? "" : $" dev {dev}");
    }

    private static string Name(VrrpState s) => s.ToString().ToUpperInvariant();

    private static VirtualAddress[] AllVips(VrrpInstanceOptions o) => [.. o.VirtualIpAddresses, .. o.VirtualIpAddressesExcluded];

    /// <summary>The changed fields, with old and new value where the value is one scalar (<c>Priority 100 -> 150</c>).</summary>
    private static string Fields(IReadOnlyList<string> fields, VrrpInstanceOptions? before, VrrpInstanceOptions after)
    {
        if (fields.Count == 0)
            return "tracking";
        return string.Join(", ", fields.Select(f => before is not null && Scalar(before, f) is { } a && Scalar(after, f) is { } b ? $"{f} {a} -> {b}" : f));
    }

    // The options records' assemblies are rooted by the publishing host (as for OptionsComparer).
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "Options record assemblies are rooted by the publishing host (TrimmerRootAssembly).")]
    private static string? Scalar(VrrpInstanceOptions o, string field)
    {
        var p = o.GetType().GetProperty(field, BindingFlags.Public | BindingFlags.Instance);
        if (p is null || p.GetIndexParameters().Length > 0)
            return null;
        var value = p.GetValue(o);
        return value switch
        {
            null => "none",
            string s => s,
            TimeSpan t => t.TotalSeconds.ToString(CultureInfo.InvariantCulture) + "s",
            IEnumerable => null,
            IFormattable f when value.GetType().IsPrimitive || value.GetType().IsEnum => f.ToString(null, CultureInfo.InvariantCulture),
            bool b => b ? "on" : "off",
            System.Net.IPAddress a => a.ToString(),
            _ => null,
        };
    }
}
