using System.Net;

namespace Lb.Vrrp.Options;

/// <summary>An address and prefix length as written in a route or rule (<c>192.168.0.0/24</c>; <c>default</c> is <c>0.0.0.0/0</c>
/// or <c>::/0</c>). Host bits are kept as written: the kernel, not the parser, judges them.</summary>
/// <param name="Address">The address.</param>
/// <param name="PrefixLength">0..32 (IPv4) or 0..128 (IPv6).</param>
public readonly record struct IpPrefix(IPAddress Address, int PrefixLength)
{
    /// <summary>True for <c>default</c>/<c>any</c>/<c>all</c>, or any /0.</summary>
    public bool IsDefault => PrefixLength == 0;

    /// <inheritdoc/>
    public override string ToString() => $"{Address}/{PrefixLength}";
}
