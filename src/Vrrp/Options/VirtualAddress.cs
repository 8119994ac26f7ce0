using System.Net;
using System.Net.Sockets;

namespace Lb.Vrrp.Options;

/// <summary>Address scope of a VIP (<c>scope</c> keyword), numbered as the kernel's <c>rt_scope</c>; any number of /etc/iproute2/rt_scopes is allowed.</summary>
public enum AddressScope : byte
{
    /// <summary><c>global</c>.</summary>
    Global = 0,

    /// <summary><c>site</c>.</summary>
    Site = 200,

    /// <summary><c>link</c>.</summary>
    Link = 253,

    /// <summary><c>host</c>.</summary>
    Host = 254,

    /// <summary><c>nowhere</c>.</summary>
    Nowhere = 255,
}

/// <summary>
/// One line of <c>virtual_ipaddress</c> / <c>virtual_ipaddress_excluded</c> / <c>static_ipaddress</c>, as keepalived 2.2.7's
/// <c>alloc_ipaddress</c> reads it: <c>ADDR[/LEN] [dev IF] [scope S] [brd ADDR|+|-] [label L] [peer ADDR] [home] [-nodad]
/// [mngtmpaddr] [noprefixroute] [autojoin] [no_track] [preferred_lft N|forever] [use_vmac] [track_group G]</c>.
/// </summary>
public sealed record VirtualAddress
{
    /// <summary>The address (<c>&lt;IPADDR&gt;</c>).</summary>
    public required IPAddress Address { get; init; }

    /// <summary><c>/&lt;MASK&gt;</c>; -1 when not written (a host prefix). With <c>peer</c>, the peer's (host) prefix.</summary>
    public int PrefixLength { get; init; } = -1;

    /// <summary><c>brd &lt;IPADDR&gt;</c>, or the address computed for <c>brd +</c> / <c>brd -</c> (IPv4 only).</summary>
    public IPAddress? Broadcast { get; init; }

    /// <summary><c>dev &lt;STRING&gt;</c> (default: the instance's interface; for a static address <c>default_interface</c>, else eth0).</summary>
    public string? Device { get; init; }

    /// <summary><c>scope &lt;SCOPE&gt;</c> (default global; IPv4 only).</summary>
    public AddressScope? Scope { get; init; }

    /// <summary><c>label &lt;LABEL&gt;</c> (at most 15 characters; IPv4 only).</summary>
    public string? Label { get; init; }

    /// <summary><c>peer &lt;IPADDR&gt;</c>.</summary>
    public IPAddress? Peer { get; init; }

    /// <summary><c>-nodad</c> (IFA_F_NODAD).</summary>
    public bool NoDad { get; init; }

    /// <summary><c>no_track</c>: deleting it does not take the instance out of MASTER and it is not restored.</summary>
    public bool NoTrack { get; init; }

    /// <summary><c>home</c> (IFA_F_HOMEADDRESS).</summary>
    public bool Home { get; init; }

    /// <summary><c>mngtmpaddr</c> (IFA_F_MANAGETEMPADDR).</summary>
    public bool ManageTempAddress { get; init; }

    /// <summary><c>noprefixroute</c> (IFA_F_NOPREFIXROUTE).</summary>
    public bool NoPrefixRoute { get; init; }

    /// <summary><c>autojoin</c> (IFA_F_MCAUTOJOIN).</summary>
    public bool AutoJoin { get; init; }

    /// <summary><c>use_vmac</c> (VIPs only): the address goes on a macvlan of its own.</summary>
    public bool UseVmac { get; init; }

    /// <summary><c>track_group</c> (static addresses only): the <c>track_group</c> block whose instances track it.</summary>
    public string? TrackGroup { get; init; }

    /// <summary><c>preferred_lft</c> (null: not written; keepalived then uses 0 for an IPv6 /128 and forever for other IPv6 prefixes).</summary>
    public uint? PreferredLifetime { get; init; }

    /// <summary>The prefix length, defaulted to a host prefix.</summary>
    public int EffectivePrefixLength => PrefixLength >= 0 ? PrefixLength : Address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;

    /// <summary>The preferred lifetime keepalived installs: the one written, else for IPv6 0 (deprecated) on a /128 and forever on
    /// other prefixes; null (the kernel's default, forever) for IPv4.</summary>
    public uint? EffectivePreferredLifetime => PreferredLifetime
        ?? (Address.AddressFamily != AddressFamily.InterNetworkV6 ? null : EffectivePrefixLength == 128 ? 0u : uint.MaxValue);

    /// <inheritdoc/>
    public override string ToString() => $"{Address}/{EffectivePrefixLength}" + (Device is null ? "" : $" dev {Device}");
}
