using System.Collections.Immutable;

namespace Lb.Config.Schema;

/// <summary>
/// Keywords whose verdict in keepalived depends on how keepalived was built. The reference is Debian's keepalived 2.2.7,
/// built with nftables and without iptables: there, <c>vrrp_iptables</c> is accepted for legacy configurations but reported
/// as a configuration error (exit code 5), and the configuration is moved to nftables. Lb's accept mode always uses
/// nftables (table <c>keepalived</c> unless <c>nftables NAME</c> says otherwise), so it reports the same error and keeps
/// the statement (still marked as without effect: the chains and ipsets it names are never used).
/// </summary>
public static class BuildOptionChecks
{
    public static ImmutableArray<string> Iptables(ImmutableArray<string> args, SourceLocation location, DiagnosticBag diagnostics)
    {
        diagnostics.Error(location, "iptables not supported, using nftables instead. Please replace 'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option");
        return args;
    }
}
