using Lb.Netlink.Ipvs;

namespace Lb.Commands;

/// <summary>
/// <c>lb ipvs list [--json] [--stats]</c>: the kernel's IPVS table, printed like <c>ipvsadm -Ln</c>.
/// A thin wrapper: the reading and formatting live (and are tested) in src/Netlink (<see cref="IpvsListing"/>).
/// </summary>
public static class IpvsListCommand
{
    /// <param name="args">The arguments after <c>ipvs list</c>.</param>
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr) =>
        IpvsListing.RunAsync(args, stdout, stderr).GetAwaiter().GetResult();
}
