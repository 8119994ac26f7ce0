namespace Lb.Netlink.Route;

/// <summary>Creating, changing and deleting links (what <c>ip link add/del/set</c> do).</summary>
public sealed partial class RtnetlinkClient
{
    /// <summary>Every link with its type (kind, parent, macvlan mode).</summary>
    public async Task<IReadOnlyList<LinkDetails>> GetLinkDetailsAsync(CancellationToken cancellationToken = default) =>
        await _socket.RequestAsync<LinkDetails>(RtnetlinkMessages.GetLinks(), RtnetlinkLinkMessages.TryParseLinkDetails, cancellationToken).ConfigureAwait(false);

    /// <summary>Creates a macvlan; throws <see cref="NetlinkException"/> with EEXIST when its name is taken. Returns its index.</summary>
    public async Task<int> CreateMacvlanAsync(MacvlanLink link, CancellationToken cancellationToken = default)
    {
        await _socket.AcknowledgedAsync(RtnetlinkLinkMessages.NewMacvlan(link), cancellationToken).ConfigureAwait(false);
        return await GetIndexAsync(link.Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes a link; returns false when it was already gone (ENODEV).</summary>
    public async Task<bool> DeleteLinkAsync(int index, string? name = null, CancellationToken cancellationToken = default)
    {
        try
        {
            await _socket.AcknowledgedAsync(RtnetlinkLinkMessages.DeleteLink(index, name), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (NetlinkException e) when (e.Errno == Errno.ENODEV)
        {
            return false;
        }
    }

    /// <summary>Sets how the kernel makes the interface's IPv6 link-local address (<see cref="Ipv6AddressGenerationMode.None"/>: none).</summary>
    public Task SetIpv6AddressGenerationModeAsync(int index, Ipv6AddressGenerationMode mode, string? name = null, CancellationToken cancellationToken = default) =>
        _socket.AcknowledgedAsync(RtnetlinkLinkMessages.SetIpv6AddressGenerationMode(index, mode, name), cancellationToken);
}
