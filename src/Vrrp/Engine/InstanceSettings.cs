using System.Net;
using System.Net.Sockets;
using Lb.Netlink.Collections;
using Lb.Vrrp.Options;

namespace Lb.Vrrp.Engine;

/// <summary>An instance's options with the globals folded in: what the state machine and the transport use.</summary>
internal sealed record InstanceSettings
{
    public required VrrpInstanceOptions Options { get; init; }
    public string Name => Options.Name;
    public required AddressFamily Family { get; init; }
    public required int Version { get; init; }
    public required TimeSpan AdvertInterval { get; init; }
    public required int DownTimerAdverts { get; init; }
    public required ValueList<IPAddress> AdvertAddresses { get; init; }
    public required IPAddress MulticastGroup { get; init; }
    public required TimeSpan GarpMasterDelay { get; init; }
    public required int GarpMasterRepeat { get; init; }
    public required TimeSpan GarpLowerPrioDelay { get; init; }
    public required int GarpLowerPrioRepeat { get; init; }
    public required TimeSpan GarpMasterRefresh { get; init; }
    public required int GarpMasterRefreshRepeat { get; init; }
    public required bool LowerPrioNoAdvert { get; init; }
    public required bool HigherPrioSendAdvert { get; init; }
    public required bool SkipCheckAdvAddr { get; init; }
    public required bool CheckUnicastSrc { get; init; }
    public required bool V3ChecksumAsV2 { get; init; }
    public required bool NotifyPriorityChanges { get; init; }
    public required ValueList<byte> AuthData { get; init; }

    /// <summary>An address owner drops received adverts (<c>owner_ignore_adverts</c>; only ever true at priority 255).</summary>
    public bool OwnerIgnoreAdverts { get; init; }
    public bool IsUnicast => Options.UnicastPeers.Count > 0;
    public IPAddress? ConfiguredSource => IsUnicast ? Options.UnicastSrcIp ?? Options.McastSrcIp : Options.McastSrcIp ?? Options.UnicastSrcIp;

    public static InstanceSettings Resolve(VrrpInstanceOptions o, VrrpSubsystemOptions g)
    {
        var family = o.VirtualIpAddresses.Count > 0
            ? o.VirtualIpAddresses[0].Address.AddressFamily
            : o.NativeIpv6 || (o.UnicastSrcIp ?? o.McastSrcIp)?.AddressFamily == AddressFamily.InterNetworkV6
                ? AddressFamily.InterNetworkV6
                : AddressFamily.InterNetwork;
        var version = family == AddressFamily.InterNetworkV6 ? 3 : o.Version ?? g.Version;
        var strict = o.StrictMode ?? g.Strict;
        var minGarp = g.MinGarp;
        var masterRepeat = o.GarpMasterRepeat ?? (minGarp ? 1 : g.GarpMasterRepeat);
        var masterDelay = o.GarpMasterDelay ?? (minGarp ? TimeSpan.Zero : g.GarpMasterDelay);
        var advert = o.AdvertInterval;
        if (version == 2)
            advert = TimeSpan.FromSeconds(Math.Max(1, Math.Round(advert.TotalSeconds)));
        else
            advert = TimeSpan.FromMilliseconds(Math.Clamp(Math.Round(advert.TotalMilliseconds / 10) * 10, 10, 40950));
        return new InstanceSettings
        {
            Options = o,
            Family = family,
            Version = version,
            AdvertInterval = advert,
            DownTimerAdverts = o.DownTimerAdverts ?? g.DownTimerAdverts,
            AdvertAddresses = o.VirtualIpAddresses.Where(v => v.Address.AddressFamily == family).Select(v => v.Address).ToValueList(),
            MulticastGroup = o.McastDstIp ?? (family == AddressFamily.InterNetworkV6 ? g.MulticastGroup6 : g.MulticastGroup4),
            GarpMasterDelay = masterDelay,
            GarpMasterRepeat = masterRepeat,
            GarpLowerPrioDelay = o.GarpLowerPrioDelay ?? g.GarpLowerPrioDelay ?? masterDelay,
            GarpLowerPrioRepeat = o.GarpLowerPrioRepeat ?? g.GarpLowerPrioRepeat ?? masterRepeat,
            GarpMasterRefresh = o.GarpMasterRefresh ?? g.GarpMasterRefresh,
            GarpMasterRefreshRepeat = o.GarpMasterRefreshRepeat ?? g.GarpMasterRefreshRepeat,
            LowerPrioNoAdvert = o.LowerPrioNoAdvert ?? g.LowerPrioNoAdvert ?? strict,
            HigherPrioSendAdvert = o.HigherPrioSendAdvert ?? g.HigherPrioSendAdvert,
            SkipCheckAdvAddr = o.SkipCheckAdvAddr ?? g.SkipCheckAdvAddr,
            CheckUnicastSrc = o.CheckUnicastSrc ?? (g.CheckUnicastSrc || o.UnicastPeers.Any(p => p.HasTtlRange)),
            V3ChecksumAsV2 = o.V3ChecksumAsV2 ?? g.V3ChecksumAsV2,
            NotifyPriorityChanges = o.NotifyPriorityChanges ?? g.NotifyPriorityChanges,
            OwnerIgnoreAdverts = o.Priority == VrrpDefaults.OwnerPriority && (o.OwnerIgnoreAdverts ?? (strict || g.OwnerIgnoreAdverts)),
            AuthData = o.Authentication is { Type: VrrpAuthType.Pass } a && version == 2 ? Protocol.VrrpPacket.PasswordBytes(a.Password).ToValueList() : new byte[Protocol.VrrpPacket.AuthDataLength].ToValueList(),
        };
    }
}
