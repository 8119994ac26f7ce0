using System.Net;
using System.Net.Sockets;
using Lb.Vrrp.Diagnostics;
using Lb.Vrrp.Engine;
using Lb.Vrrp.Protocol;
using Lb.Vrrp.Runtime;
using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.Transport;

/// <summary>One pooled VRRP socket and the instances it delivers to, by VRID.</summary>
internal sealed class SocketEntry(IVrrpTransport socket, IPAddress? local)
{
    public IVrrpTransport Socket { get; } = socket;

    /// <summary>Guarded by the pool's lock.</summary>
    public Dictionary<byte, VrrpInstanceMachine> ByVrid { get; } = new();

    /// <summary>Unicast: the source address adverts must be sent to; multicast: null (the group).</summary>
    public IPAddress? Local { get; } = local;
}

/// <summary>
/// The socket pool (keepalived's sock_t list): one transport per (interface, family, unicast source) shared by the
/// instances on it, opened through <see cref="IVrrpTransportFactory"/>; receive dispatch by VRID to the machine, drop
/// counting for packets no instance owns. Its own lock (never held across I/O, never around the engine lock).
/// </summary>
internal sealed class SocketPool(IVrrpTransportFactory transports, CriticalThreads critical, TimeProvider time, ILogger logger)
{
    private readonly Dictionary<(string, AddressFamily, IPAddress?), SocketEntry> _sockets = new();
    private readonly VrrpDropCounters _unattributedDrops = new();

    /// <summary>Rate limit of the socket logs (drops no instance owns, failed sends).</summary>
    public RateLimiter DropLog { get; } = new(time);

    /// <summary>Drops no instance could be charged with.</summary>
    public VrrpDropCounters UnattributedDrops => _unattributedDrops;

    /// <summary>Gives <paramref name="rt"/> the socket of its interface, opening it if none is open (a failure is logged; the instance then has no socket).</summary>
    public void Attach(InstanceRuntime rt, string ifname, int ifindex, IPAddress? unicastSource, bool register)
    {
        var s = rt.Machine.Settings;
        var key = (ifname, s.Family, unicastSource);
        lock (_sockets)
        {
            if (!_sockets.TryGetValue(key, out var entry))
            {
                try
                {
#pragma warning disable CA2000 // owned by _sockets (through its SocketEntry): closed by CloseAll, CloseInterface or CloseUnused
                    var sock = transports.Open(ifname, ifindex, s.Family, s.IsUnicast ? null : s.MulticastGroup);
#pragma warning restore CA2000
                    entry = new SocketEntry(sock, unicastSource);
                    _sockets[key] = entry;
                    var captured = entry;
                    sock.StartReceiving(a => OnAdvert(captured, a), (r, src, vrid) => OnSocketDrop(captured, r, src, vrid), critical.Register, critical.Unregister);
                }
                catch (SocketException ex)
                {
                    logger.ActionFailed(s.Name, $"open VRRP socket on {ifname}", ex.Message);
                    return;
                }
            }
            rt.SocketEntry = entry;
            rt.Socket = entry.Socket;
            if (register)
                entry.ByVrid[(byte)s.Options.VirtualRouterId] = rt.Machine;
        }
    }

    /// <summary>Adverts for <paramref name="rt"/>'s VRID on its socket go to its machine from now on.</summary>
    public void Register(InstanceRuntime rt)
    {
        if (rt.SocketEntry is not { } entry)
            return;
        lock (_sockets)
            entry.ByVrid[(byte)rt.Machine.Settings.Options.VirtualRouterId] = rt.Machine;
    }

    /// <summary>Adverts stop going to <paramref name="rt"/>'s machine (unless another machine took the VRID since).</summary>
    public void Unregister(InstanceRuntime rt)
    {
        if (rt.SocketEntry is not { } entry)
            return;
        lock (_sockets)
        {
            var vrid = (byte)rt.Machine.Settings.Options.VirtualRouterId;
            if (entry.ByVrid.TryGetValue(vrid, out var m) && m == rt.Machine)
                entry.ByVrid.Remove(vrid);
        }
    }

    /// <summary>The interface is gone: its sockets are bound to a dead ifindex, close them; they are reopened when it reappears.</summary>
    public void CloseInterface(string ifname, IEnumerable<InstanceRuntime> runtimes)
    {
        lock (_sockets)
        {
            foreach (var key in _sockets.Keys.Where(k => k.Item1 == ifname).ToArray())
            {
                _sockets[key].Socket.Dispose();
                _sockets.Remove(key);
            }
            foreach (var rt in runtimes)
            {
                if (rt.Machine.Settings.Options.Interface == ifname)
                    rt.Socket = null;
            }
        }
    }

    /// <summary>Closes the sockets no instance of <paramref name="runtimes"/> uses any more.</summary>
    public void CloseUnused(IEnumerable<InstanceRuntime> runtimes)
    {
        lock (_sockets)
        {
            var inUse = runtimes.Select(r => r.SocketEntry).ToHashSet();
            foreach (var (key, entry) in _sockets.Where(kv => kv.Value.ByVrid.Count == 0 && !inUse.Contains(kv.Value)).ToArray())
            {
                entry.Socket.Dispose();
                _sockets.Remove(key);
            }
        }
    }

    public void CloseAll()
    {
        lock (_sockets)
        {
            foreach (var s in _sockets.Values)
                s.Socket.Dispose();
            _sockets.Clear();
        }
    }

    private void OnAdvert(SocketEntry entry, ReceivedAdvert a)
    {
        // the packet socket sees every VRRP packet on the link: keep those sent to our group or to us
        if (entry.Local is null ? !a.Destination.Equals(entry.Socket.MulticastGroup) : !a.Destination.Equals(entry.Local))
            return;
        VrrpInstanceMachine? m;
        lock (_sockets)
            entry.ByVrid.TryGetValue(a.Packet.VirtualRouterId, out m);
        if (m is null)
        {
            OnSocketDrop(entry, VrrpDropReason.UnknownVrid, a.Source.ToString(), a.Packet.VirtualRouterId);
            return;
        }
        m.ReceiveAdvert(a.Packet, a.Source, a.Ttl);
    }

    private void OnSocketDrop(SocketEntry entry, VrrpDropReason reason, string source, byte vrid)
    {
        VrrpInstanceMachine? m = null;
        if (reason != VrrpDropReason.UnknownVrid)
        {
            lock (_sockets)
                entry.ByVrid.TryGetValue(vrid, out m);
        }
        if (m is not null)
        {
            m.CountDrop(reason, $"dropped advert from {source}: {reason}");
            return;
        }
        _unattributedDrops.Increment(reason);
        if (DropLog.ShouldLog((int)reason, out var suppressed))
        {
            if (suppressed > 0)
                logger.DroppedSuppressed(entry.Socket.InterfaceName, suppressed, reason.ToString());
            logger.SocketDropped(source, entry.Socket.InterfaceName, reason == VrrpDropReason.UnknownVrid ? $"unknown VRID({vrid})" : reason.ToString());
        }
    }
}
