using System.Net;
using System.Net.NetworkInformation;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;

namespace Lb.Vrrp.Tests.Support;

/// <summary>An in-memory address table: what src/Lb's rtnetlink adapter does, minus the kernel.</summary>
internal sealed class FakeAddressTable : IAddressTable
{
    private readonly object _gate = new();
    private readonly List<(string Interface, VirtualAddress Address)> _vips = new();

    public List<InterfaceAddress> Static { get; } = new();

    public List<string> Calls { get; } = new();

    public event EventHandler<AddressChangedEventArgs>? AddressChanged;

    public IReadOnlyList<(string Interface, VirtualAddress Address)> Vips
    {
        get
        {
            lock (_gate)
                return _vips.ToArray();
        }
    }

    public bool Has(string ifname, IPAddress a)
    {
        lock (_gate)
            return _vips.Any(v => v.Interface == ifname && v.Address.Address.Equals(a));
    }

    public Task AddAsync(string interfaceName, VirtualAddress address, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Calls.Add($"add {address.Address}/{address.EffectivePrefixLength} dev {interfaceName}{(address.Label is null ? "" : " label " + address.Label)}");
            if (!_vips.Any(v => v.Interface == interfaceName && v.Address.Address.Equals(address.Address)))
                _vips.Add((interfaceName, address));
        }
        AddressChanged?.Invoke(this, new AddressChangedEventArgs(new InterfaceAddress(interfaceName, 7, address.Address, address.EffectivePrefixLength, true), false));
        return Task.CompletedTask;
    }

    public Task RemoveAsync(string interfaceName, VirtualAddress address, CancellationToken cancellationToken)
    {
        bool removed;
        lock (_gate)
        {
            Calls.Add($"del {address.Address}/{address.EffectivePrefixLength} dev {interfaceName}");
            removed = _vips.RemoveAll(v => v.Interface == interfaceName && v.Address.Address.Equals(address.Address)) > 0;
        }
        if (removed)
            AddressChanged?.Invoke(this, new AddressChangedEventArgs(new InterfaceAddress(interfaceName, 7, address.Address, address.EffectivePrefixLength, true), true));
        return Task.CompletedTask;
    }

    /// <summary>Somebody runs <c>ip addr del</c> (unit tier: the event the real monitor would deliver; the real one is driven in tests/Lb.Tests/EndToEnd/LinkMonitorTests).</summary>
    public void DeleteBehindOurBack(string ifname, IPAddress a)
    {
        lock (_gate)
            _vips.RemoveAll(v => v.Interface == ifname && v.Address.Address.Equals(a));
        AddressChanged?.Invoke(this, new AddressChangedEventArgs(new InterfaceAddress(ifname, 7, a, 24, true), true));
    }

    public Task<IReadOnlyList<InterfaceAddress>> ListAsync(string interfaceName, CancellationToken cancellationToken)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyList<InterfaceAddress>>(Static.Where(s => s.Interface == interfaceName).Concat(_vips.Where(v => v.Interface == interfaceName).Select(v => new InterfaceAddress(v.Interface, 7, v.Address.Address, v.Address.EffectivePrefixLength, true))).ToArray());
    }
}

/// <summary>An in-memory link monitor.</summary>
internal sealed class FakeLinkMonitor : ILinkMonitor
{
    private readonly Dictionary<string, LinkInfo> _links = new();

    public event EventHandler<LinkInfo>? LinkChanged;

    public LinkInfo? GetLink(string name)
    {
        Interlocked.Increment(ref _lookups);
        lock (_links)
            return _links.TryGetValue(name, out var l) ? l : null;
    }

    /// <summary>Calls of <see cref="GetLink"/> so far (a name resolution).</summary>
    public int Lookups => Volatile.Read(ref _lookups);

    private int _lookups;

    public void Set(string name, bool up, int index = 999_999, bool exists = true, string mac = "02-00-00-00-00-07")
    {
        var l = new LinkInfo(name, index, PhysicalAddress.Parse(mac), up, exists);
        lock (_links)
        {
            if (exists)
                _links[name] = l;
            else
                _links.Remove(name);
        }
        LinkChanged?.Invoke(this, l);
    }
}
