using System.Net;
using Lb.Vrrp.Options;

namespace Lb.Vrrp.Host;

/// <summary>An address configured on an interface, as the kernel reports it.</summary>
/// <param name="Interface">Interface name.</param>
/// <param name="InterfaceIndex">Interface index.</param>
/// <param name="Address">The address.</param>
/// <param name="PrefixLength">Prefix length.</param>
/// <param name="Secondary">IFA_F_SECONDARY (IPv4): not the primary address of its subnet.</param>
public sealed record InterfaceAddress(string Interface, int InterfaceIndex, IPAddress Address, int PrefixLength, bool Secondary = false);

/// <summary>An address appeared on or vanished from an interface (RTM_NEWADDR / RTM_DELADDR).</summary>
/// <param name="Address">The address.</param>
/// <param name="Removed">True for RTM_DELADDR.</param>
public sealed record AddressChangedEventArgs(InterfaceAddress Address, bool Removed);

/// <summary>
/// Address management the host provides (src/Lb adapts it to the rtnetlink client). Every call is
/// idempotent from the subsystem's point of view: adding an address that exists or removing one
/// that is gone must not throw (return normally).
/// </summary>
public interface IAddressTable
{
    /// <summary>Adds <paramref name="address"/> (prefix, brd, scope, label, peer, nodad, …) on <paramref name="interfaceName"/>.</summary>
    Task AddAsync(string interfaceName, VirtualAddress address, CancellationToken cancellationToken);

    /// <summary>Removes <paramref name="address"/> from <paramref name="interfaceName"/>.</summary>
    Task RemoveAsync(string interfaceName, VirtualAddress address, CancellationToken cancellationToken);

    /// <summary>Lists the addresses of <paramref name="interfaceName"/> in kernel order (primary first).</summary>
    Task<IReadOnlyList<InterfaceAddress>> ListAsync(string interfaceName, CancellationToken cancellationToken);

    /// <summary>Raised (on any thread) for each address added or removed on any interface.</summary>
    event EventHandler<AddressChangedEventArgs>? AddressChanged;
}
