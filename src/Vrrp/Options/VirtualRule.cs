using System.Net.Sockets;

namespace Lb.Vrrp.Options;

/// <summary>What a rule does (<c>FR_ACT_*</c>).</summary>
public enum RuleAction : byte
{
    /// <summary><c>table T</c> / <c>lookup T</c> (or <c>l3mdev</c>).</summary>
    ToTable = 1,

    /// <summary><c>goto N</c>.</summary>
    Goto = 2,

    /// <summary><c>nop</c>.</summary>
    Nop = 3,

    /// <summary><c>blackhole</c>.</summary>
    Blackhole = 6,

    /// <summary><c>unreachable</c>.</summary>
    Unreachable = 7,

    /// <summary><c>prohibit</c>.</summary>
    Prohibit = 8,
}

/// <summary>An inclusive port or uid range (<c>sport 1000-2000</c>, <c>uidrange 0-99</c>).</summary>
/// <param name="Start">First value.</param>
/// <param name="End">Last value.</param>
public readonly record struct ValueRange(uint Start, uint End)
{
    /// <inheritdoc/>
    public override string ToString() => Start == End ? $"{Start}" : $"{Start}-{End}";
}

/// <summary>
/// One line of <c>virtual_rules</c> / <c>static_rules</c>, as keepalived 2.2.7's <c>alloc_rule</c> reads it:
/// <c>[inet|inet6] [not] [from PREFIX] [to PREFIX] [priority|preference|order N] [tos D] [fwmark M[/MASK]] [dev|iif IF] [oif IF]
/// [realms R] [suppress_prefixlength N] [suppress_ifgroup G] [uidrange A-B] [ipproto P] [sport A[-B]] [dport A[-B]] [tunnel-id N]
/// [protocol N] [l3mdev] [no_track] [track_group G] table T|goto N|nop|blackhole|unreachable|prohibit</c>. Installed over rtnetlink by the host's <c>IRouteTable</c>.
/// </summary>
public sealed record VirtualRule
{
    /// <summary>The line as written, e.g. <c>from 192.168.2.0/24 table 1</c>.</summary>
    public required string Text { get; init; }

    /// <summary>The rule's family (IPv4 when nothing says).</summary>
    public AddressFamily Family { get; init; } = AddressFamily.InterNetwork;

    /// <summary>What the rule does.</summary>
    public required RuleAction Action { get; init; }

    /// <summary>The table of <see cref="RuleAction.ToTable"/> (null with <c>l3mdev</c>).</summary>
    public uint? Table { get; init; }

    /// <summary>The target of <see cref="RuleAction.Goto"/>.</summary>
    public uint? GotoTarget { get; init; }

    /// <summary>The rule's priority: as written, or the one keepalived assigned (16384 downwards, per family, in file order).</summary>
    public required uint Priority { get; init; }

    /// <summary>True when no priority was written and <see cref="Priority"/> was assigned.</summary>
    public bool PriorityAssigned { get; init; }

    /// <summary><c>from PREFIX</c>.</summary>
    public IpPrefix? From { get; init; }

    /// <summary><c>to PREFIX</c>.</summary>
    public IpPrefix? To { get; init; }

    /// <summary><c>not</c>: the selector is inverted.</summary>
    public bool Invert { get; init; }

    /// <summary><c>tos</c> / <c>dsfield</c>.</summary>
    public byte? Tos { get; init; }

    /// <summary><c>fwmark M</c>.</summary>
    public uint? FwMark { get; init; }

    /// <summary><c>fwmark M/MASK</c>.</summary>
    public uint? FwMask { get; init; }

    /// <summary><c>dev</c> / <c>iif</c>.</summary>
    public string? InputInterface { get; init; }

    /// <summary><c>oif</c>.</summary>
    public string? OutputInterface { get; init; }

    /// <summary><c>realms [FROM/]TO</c> (IPv4, table action only).</summary>
    public uint? Realms { get; init; }

    /// <summary><c>suppress_prefixlength N</c> (table action only).</summary>
    public int? SuppressPrefixLength { get; init; }

    /// <summary><c>suppress_ifgroup G</c> (table action only).</summary>
    public uint? SuppressGroup { get; init; }

    /// <summary><c>tunnel-id N</c>.</summary>
    public ulong? TunnelId { get; init; }

    /// <summary><c>uidrange A-B</c>.</summary>
    public ValueRange? UidRange { get; init; }

    /// <summary><c>l3mdev</c>.</summary>
    public bool L3mdev { get; init; }

    /// <summary>The protocol the rule is installed with: 18 (keepalived) when tracked, else <c>protocol</c> as written (null: not written).</summary>
    public byte? Protocol { get; init; }

    /// <summary><c>ipproto P</c>.</summary>
    public byte? IpProtocol { get; init; }

    /// <summary><c>sport A[-B]</c>.</summary>
    public ValueRange? SourcePorts { get; init; }

    /// <summary><c>dport A[-B]</c>.</summary>
    public ValueRange? DestinationPorts { get; init; }

    /// <summary><c>no_track</c>.</summary>
    public bool NoTrack { get; init; }

    /// <summary><c>track_group</c> (static rules with <c>dev</c>/<c>iif</c> only).</summary>
    public string? TrackGroup { get; init; }

    /// <inheritdoc/>
    public override string ToString() => Text;
}
