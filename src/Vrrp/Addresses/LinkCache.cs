using Lb.Vrrp.Host;

namespace Lb.Vrrp.Addresses;

/// <summary>The ifindex and MAC address of an interface, as a GARP/NA is sent from them.</summary>
/// <param name="Name">Interface name.</param>
/// <param name="Index">Interface index.</param>
/// <param name="Mac">Hardware address.</param>
internal sealed record LinkAddress(string Name, int Index, byte[] Mac);

/// <summary>
/// Interface name → ifindex + MAC, filled when an instance attaches (or on first use) and kept current by the link
/// events the subsystem already receives (rename: the index moves to its new name; deletion: forgotten; a
/// re-created interface: its new index). A GARP burst reads it; it never resolves a name per packet.
/// </summary>
internal sealed class LinkCache(ILinkMonitor links)
{
    private readonly Dictionary<string, LinkAddress> _byName = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Resolves <paramref name="name"/> once (at attach) and caches it; null when there is no such interface or it has no MAC.</summary>
    public LinkAddress? Resolve(string name)
    {
        lock (_gate)
        {
            if (_byName.TryGetValue(name, out var cached))
                return cached;
        }
        var link = links.GetLink(name);
        if (link is not { Exists: true, MacAddress: { } mac })
            return null;
        var entry = new LinkAddress(name, link.Index, mac.GetAddressBytes());
        lock (_gate)
        {
            if (_byName.TryGetValue(name, out var raced))
                return raced; // an event won the race: it is newer than what we read
            _byName[name] = entry;
        }
        return entry;
    }

    /// <summary>The cached entry of <paramref name="name"/>, without any lookup.</summary>
    public LinkAddress? Get(string name)
    {
        lock (_gate)
            return _byName.TryGetValue(name, out var e) ? e : null;
    }

    /// <summary>A link event: the cache follows renames, index changes and deletions.</summary>
    public void OnLinkChanged(LinkInfo link)
    {
        lock (_gate)
        {
            if (!link.Exists)
            {
                _byName.Remove(link.Name);
                return;
            }
            // a rename: the same ifindex under another name is no longer that name
            foreach (var stale in _byName.Values.Where(e => e.Index == link.Index && e.Name != link.Name).ToArray())
                _byName.Remove(stale.Name);
            if (link.MacAddress is { } mac)
                _byName[link.Name] = new LinkAddress(link.Name, link.Index, mac.GetAddressBytes());
            else
                _byName.Remove(link.Name);
        }
    }
}
