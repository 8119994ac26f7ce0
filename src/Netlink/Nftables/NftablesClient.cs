using Lb.Netlink.Protocol;
using static Lb.Netlink.Nftables.NftablesConstants;

namespace Lb.Netlink.Nftables;

/// <summary>
/// nf_tables over nfnetlink (what <c>nft</c> does): changes are committed as transactions, all or nothing. Needs
/// CAP_NET_ADMIN. Thread-safe: exchanges are serialized. The socket belongs to the network namespace of the thread
/// that opened it.
/// </summary>
public sealed class NftablesClient : IDisposable
{
    private readonly NetlinkSocket _socket;

    private NftablesClient(NetlinkSocket socket)
    {
        _socket = socket;
    }

    /// <summary>Opens a NETLINK_NETFILTER socket.</summary>
    public static NftablesClient Open(NetlinkSocketOptions? options = null) =>
        new(NetlinkSocket.Open(NETLINK_NETFILTER, options));

    /// <summary>
    /// Commits <paramref name="requests"/> (built by <see cref="NftablesMessages"/>) as one transaction. When the kernel
    /// refuses one, nothing is applied and the refusal is thrown as a <see cref="NetlinkException"/> naming that
    /// request's object and the errno.
    /// </summary>
    public async Task CommitAsync(IReadOnlyList<NetlinkRequest> requests, CancellationToken cancellationToken = default)
    {
        if (requests.Count == 0)
            return;
        var results = await _socket.SendTransactionAsync(NftablesMessages.BatchBegin(), requests, NftablesMessages.BatchEnd(), cancellationToken).ConfigureAwait(false);
        foreach (var r in results)
        {
            if (r.Error is { } error)
                throw error;
        }
    }

    /// <summary>Whether the table exists (NFT_MSG_GETTABLE).</summary>
    public async Task<bool> TableExistsAsync(NftFamily family, string table, CancellationToken cancellationToken = default)
    {
        try
        {
            var found = await _socket.RequestAsync<bool>(NftablesMessages.GetTable(family, table),
                static (NetlinkMessage m, out bool v) => { v = true; return m.Type == NftablesMessages.MessageType(NFT_MSG_NEWTABLE); },
                cancellationToken).ConfigureAwait(false);
            return found.Count > 0;
        }
        catch (NetlinkException e) when (e.Errno == Errno.ENOENT)
        {
            return false;
        }
    }

    /// <summary>Deletes the table and everything in it; returns false when there was none.</summary>
    public async Task<bool> DeleteTableAsync(NftFamily family, string table, CancellationToken cancellationToken = default)
    {
        try
        {
            await CommitAsync([NftablesMessages.DeleteTable(family, table)], cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (NetlinkException e) when (e.Errno == Errno.ENOENT)
        {
            return false;
        }
    }

    public void Dispose() => _socket.Dispose();
}
