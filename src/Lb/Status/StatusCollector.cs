using Lb.Hosting;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;

namespace Lb.Status;

/// <summary>Builds a <see cref="StatusReport"/> from the running subsystems (either may be absent: -P, -C, or not started yet).</summary>
public sealed class StatusCollector(CliOptions options, TimeProvider time, VrrpService? vrrp, CheckerService? checkers)
{
    private readonly DateTimeOffset _started = time.GetUtcNow();

    public static string Version => typeof(StatusCollector).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public static string StateText(VrrpState s) => s.ToString().ToUpperInvariant();

    /// <summary>The VIP announcer (null: it does not run).</summary>
    public Announce.Announcer? Announce { get; init; }

    public StatusReport Collect()
    {
        var vrrpStatus = vrrp?.Subsystem?.GetStatus();
        var snapshot = checkers?.Subsystem?.GetSnapshot();
        return new StatusReport
        {
            Daemon = new DaemonInfo(Environment.ProcessId, Version, _started, time.GetUtcNow(), Path.GetFullPath(options.ConfigFile),
                options.Namespace ?? Environment.GetEnvironmentVariable(NamespaceLauncher.EnvironmentVariable), vrrpStatus is not null, snapshot is not null),
            VrrpInstances = vrrpStatus?.Instances.Select(i => new VrrpInstanceReport
            {
                Name = i.Name,
                State = StateText(i.State),
                BasePriority = i.BasePriority,
                EffectivePriority = i.EffectivePriority,
                MasterAddress = i.MasterAddress?.ToString(),
                SourceAddress = i.SourceAddress?.ToString(),
                Interface = i.Interface,
                VirtualRouterId = i.VirtualRouterId,
                Version = i.Version,
                VirtualAddresses = i.VirtualAddresses.Select(Cidr).ToList(),
                VipsSet = i.VipsSet,
                LastTransition = i.LastTransition,
                LastReason = i.LastReason,
                Transitions = vrrp!.Transitions(i.Name),
                AdvertsSent = i.AdvertsSent,
                AdvertsReceived = i.AdvertsReceived,
                AdvertsDropped = i.Drops.ToDictionary(d => d.Key.ToString(), d => d.Value, StringComparer.Ordinal),
                SyncGroup = i.SyncGroup,
                SplitBrainDetected = i.SplitBrainDetected,
                SplitBrain = i.SplitBrain is { } sb ? $"{sb.Vip} on {sb.Interface} answered by {sb.OtherMac}" : null,
                Operator = i.Operator,
            }).ToList() ?? [],
            SyncGroups = vrrpStatus?.SyncGroups.Select(g => new SyncGroupReport(g.Name, StateText(g.State), g.Members)).ToList() ?? [],
            UnattributedDrops = vrrpStatus?.UnattributedDrops.ToDictionary(d => d.Key.ToString(), d => d.Value, StringComparer.Ordinal) ?? new Dictionary<string, long>(),
            SplitBrainProbeDrops = vrrpStatus?.ProbeDrops.ToDictionary(d => d.Key.ToString(), d => d.Value, StringComparer.Ordinal) ?? new Dictionary<string, long>(),
            VirtualServers = snapshot?.VirtualServers.Select(vs => new VirtualServerReport
            {
                Name = vs.Name,
                QuorumUp = vs.QuorumUp,
                LiveWeight = vs.LiveWeight,
                SorryServer = vs.SorryServer,
                SorryServerActive = vs.SorryServerActive,
                RealServers = vs.RealServers.Select(rs => new RealServerReport
                {
                    Name = rs.Name,
                    Up = rs.Alive,
                    InIpvs = rs.InIpvs,
                    Weight = rs.Weight,
                    LastReason = rs.LastReason,
                    Operator = rs.Operator,
                    SlowStart = rs.SlowStart,
                    Checkers = rs.Checkers.Select(c => new CheckerReport(c.Kind, c.Up, c.HasRun, c.LastCheck, c.LastResult, c.Rounds, c.Failures)).ToList(),
                }).ToList(),
            }).ToList() ?? [],
            Ipvs = new IpvsReport(snapshot?.IpvsOperations ?? 0, snapshot?.IpvsErrors ?? 0),
            CheckerPacing = snapshot is not null && checkers?.Subsystem is { } subsystem ? CheckerPacingReport.From(subsystem.Pacing) : null,
            Announce = Announce?.Snapshot() is { } a
                ? new AnnounceReport(a.Table, a.Maintenance, [.. a.Vips.Select(v => new AnnouncedVipReport(v.Vip.ToString(), v.State, v.Reason, v.Since, v.VirtualServers,
                    v.RouteInstalled, v.ToAnnounced, v.ToWithdrawn, v.LastError))])
                : null,
        };
    }

    public static string Cidr(VirtualAddress a)
    {
        var prefix = a.PrefixLength >= 0 ? a.PrefixLength : a.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 128 : 32;
        return $"{a.Address}/{prefix}";
    }
}
