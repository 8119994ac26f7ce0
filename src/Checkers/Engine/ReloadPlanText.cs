using System.Globalization;
using Lb.Netlink.Ipvs;

namespace Lb.Checkers.Engine;

/// <summary>
/// A reload's decisions as text, one line per change (<c>lb reload --plan</c> prints it before, <c>lb reload</c> after):
/// the virtual and real servers added, removed or changed (<c>virtual_server:</c>), the IPVS operations of its reconcile
/// (<c>ipvs:</c>, with the old value of what an edit changes, read from the table the reconcile starts from), and the
/// checkers stopped and started (<c>checkers:</c>). The same text whether the decisions were a dry run or applied.
/// </summary>
internal static class ReloadPlanText
{
    /// <summary>Every line of one reload, in the order virtual_server, ipvs, checkers.</summary>
    public static List<string> Lines(IReadOnlyList<ReloadChange> changes, IpvsReconcileOutcome? ipvs, IReadOnlyList<CheckerState> retired, IReadOnlyList<CheckerState> started)
    {
        var lines = new List<string>();
        foreach (var c in changes)
            lines.Add(Server(c));
        if (ipvs is not null)
            lines.AddRange(Ipvs(ipvs));
        lines.AddRange(Checkers(retired, started));
        return lines;
    }

    /// <summary><c>virtual_server: ~ real_server [10.0.0.11]:tcp:80 of [10.0.0.100]:tcp:80: weight 1 -> 3</c>.</summary>
    public static string Server(ReloadChange c)
    {
        var sign = Sign(c.Change);
        var what = c.Object switch
        {
            ReloadObjectKind.VirtualServer => c.VirtualServer,
            ReloadObjectKind.SorryServer => $"sorry_server {c.Name} of {c.VirtualServer}",
            _ => $"real_server {c.Name} of {c.VirtualServer}",
        };
        var detail = c.Detail.Length == 0 ? "" : c.Change == ReloadChangeKind.Changed ? ": " + c.Detail : $" ({c.Detail})";
        return $"virtual_server: {sign} {what}{detail}";
    }

    /// <summary>The IPVS lines of a reconcile: one per operation, in the order sent.</summary>
    public static IEnumerable<string> Ipvs(IpvsReconcileOutcome outcome)
    {
        if (outcome.Error is { } error)
            yield return $"ipvs: the table could not be read: {error}";
        for (var i = 0; i < outcome.Operations.Count; i++)
        {
            var result = outcome.Results is { } r && i < r.Count ? r[i] : null;
            var op = result?.Operation ?? outcome.Operations[i];
            var line = "ipvs: " + Operation(op, outcome.Before);
            if (result is { Outcome: IpvsOperationOutcome.Failed })
                line += $" FAILED: {result.Error?.Message ?? "refused"}";
            yield return line;
        }
    }

    /// <summary><c>+ service [10.0.0.100]:tcp:443 wrr</c>, <c>~ destination 10.0.0.11:80 of [10.0.0.100]:tcp:80 weight 1 -> 3</c>.</summary>
    public static string Operation(IpvsOperation op, IpvsTableSnapshot before)
    {
        var service = IpvsMapping.Text(op.ServiceKey);
        switch (op.Kind)
        {
            case IpvsOperationKind.AddService:
                return $"+ service {service} {ServiceSettings(op.Service!)}";
            case IpvsOperationKind.DeleteService:
                return $"- service {service}";
            case IpvsOperationKind.EditService:
                {
                    var old = before.Find(op.ServiceKey)?.Service;
                    return $"~ service {service} " + (old is null ? ServiceSettings(op.Service!) : ServiceDifferences(old, op.Service!));
                }
            case IpvsOperationKind.AddDestination:
                return $"+ destination {Endpoint(op.DestinationKey!.Value)} of {service} {DestinationSettings(op.Destination!)}";
            case IpvsOperationKind.DeleteDestination:
                return $"- destination {Endpoint(op.DestinationKey!.Value)} of {service}";
            case IpvsOperationKind.EditDestination:
                {
                    var old = before.Find(op.ServiceKey)?.Destinations.FirstOrDefault(d => d.Destination.Key == op.DestinationKey)?.Destination;
                    var d = op.Destination!;
                    return $"~ destination {Endpoint(op.DestinationKey!.Value)} of {service} " + (old is null ? DestinationSettings(d) : DestinationDifferences(old, d));
                }
            default:
                return op.ToString();
        }
    }

    /// <summary>
    /// The checkers a reload stops and starts, per real server: <c>+ HTTP_GET on [10.0.0.13]:tcp:80 of …</c> (started),
    /// <c>- TCP_CHECK on …</c> (stopped), <c>~ TCP_CHECK -> HTTP_GET on …</c> (restarted with a changed definition).
    /// </summary>
    public static IEnumerable<string> Checkers(IReadOnlyList<CheckerState> retired, IReadOnlyList<CheckerState> started)
    {
        static string Key(CheckerState c) => $"{c.Rs.Name} of {c.Rs.Vs.Name}";
        var order = new List<string>();
        var before = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var after = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(Dictionary<string, List<string>> into, CheckerState c)
        {
            var key = Key(c);
            if (!before.ContainsKey(key) && !after.ContainsKey(key))
                order.Add(key);
            if (!into.TryGetValue(key, out var list))
                into[key] = list = new List<string>();
            list.Add(c.Options.Keyword);
        }
        foreach (var c in retired)
            Add(before, c);
        foreach (var c in started)
            Add(after, c);
        foreach (var key in order)
        {
            before.TryGetValue(key, out var old);
            after.TryGetValue(key, out var now);
            if (old is null)
            {
                foreach (var k in now!)
                    yield return $"checkers: + {k} on {key}";
            }
            else if (now is null)
            {
                foreach (var k in old)
                    yield return $"checkers: - {k} on {key}";
            }
            else
            {
                var o = string.Join("+", old);
                var n = string.Join("+", now);
                yield return o == n ? $"checkers: ~ {n} on {key} (definition changed: restarted, state kept)" : $"checkers: ~ {o} -> {n} on {key} (restarted, state kept)";
            }
        }
    }

    private static string Sign(ReloadChangeKind kind) => kind switch
    {
        ReloadChangeKind.Added => "+",
        ReloadChangeKind.Removed => "-",
        _ => "~",
    };

    private static string Endpoint(IpvsDestinationKey key) => Format.Endpoint(key.Address, key.Port);

    private static string Number(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string ServiceSettings(IpvsService s)
    {
        var text = s.Scheduler;
        if (s.EffectiveFlags.HasFlag(IpvsServiceFlags.Persistent))
            text += " persistent " + Number(s.PersistenceTimeout);
        if (s.EffectiveFlags.HasFlag(IpvsServiceFlags.OnePacket))
            text += " ops";
        return text;
    }

    private static string ServiceDifferences(IpvsService a, IpvsService b)
    {
        var d = new List<string>();
        if (a.Scheduler != b.Scheduler)
            d.Add($"scheduler {a.Scheduler} -> {b.Scheduler}");
        if (a.PersistenceTimeout != b.PersistenceTimeout || a.EffectiveFlags.HasFlag(IpvsServiceFlags.Persistent) != b.EffectiveFlags.HasFlag(IpvsServiceFlags.Persistent))
            d.Add($"persistent {Persistence(a)} -> {Persistence(b)}");
        if (a.EffectiveNetmask != b.EffectiveNetmask)
            d.Add($"netmask /{Number(a.EffectiveNetmask)} -> /{Number(b.EffectiveNetmask)}");
        if (a.PersistenceEngine != b.PersistenceEngine)
            d.Add($"pe {a.PersistenceEngine ?? "none"} -> {b.PersistenceEngine ?? "none"}");
        if ((a.EffectiveFlags & ~IpvsServiceFlags.Persistent) != (b.EffectiveFlags & ~IpvsServiceFlags.Persistent))
            d.Add($"flags {a.EffectiveFlags & ~IpvsServiceFlags.Persistent} -> {b.EffectiveFlags & ~IpvsServiceFlags.Persistent}");
        return d.Count > 0 ? string.Join(", ", d) : ServiceSettings(b);
    }

    private static string Persistence(IpvsService s) => s.EffectiveFlags.HasFlag(IpvsServiceFlags.Persistent) ? Number(s.PersistenceTimeout) : "off";

    /// <summary>ipvsadm's forward column, lower case: route, masq, tunnel.</summary>
    private static string Forward(IpvsForwardingMethod m) => m switch
    {
        IpvsForwardingMethod.Masquerade => "masq",
        IpvsForwardingMethod.Tunnel => "tunnel",
        IpvsForwardingMethod.Local => "local",
        IpvsForwardingMethod.Bypass => "bypass",
        _ => "route",
    };

    private static string DestinationSettings(IpvsDestination d)
    {
        var text = $"weight {Number(d.Weight)} {Forward(d.Forwarding)}";
        if (d.UpperThreshold != 0)
            text += " uthreshold " + Number(d.UpperThreshold);
        if (d.LowerThreshold != 0)
            text += " lthreshold " + Number(d.LowerThreshold);
        return text;
    }

    private static string DestinationDifferences(IpvsDestination a, IpvsDestination b)
    {
        var d = new List<string>();
        if (a.Weight != b.Weight)
            d.Add($"weight {Number(a.Weight)} -> {Number(b.Weight)}");
        if (a.Forwarding != b.Forwarding)
            d.Add($"forward {Forward(a.Forwarding)} -> {Forward(b.Forwarding)}");
        if (a.UpperThreshold != b.UpperThreshold)
            d.Add($"uthreshold {Number(a.UpperThreshold)} -> {Number(b.UpperThreshold)}");
        if (a.LowerThreshold != b.LowerThreshold)
            d.Add($"lthreshold {Number(a.LowerThreshold)} -> {Number(b.LowerThreshold)}");
        if (a.TunnelType != b.TunnelType || a.TunnelPort != b.TunnelPort || a.TunnelFlags != b.TunnelFlags)
            d.Add("tunnel settings");
        return d.Count > 0 ? string.Join(", ", d) : DestinationSettings(b);
    }
}
