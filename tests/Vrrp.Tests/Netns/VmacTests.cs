using System.Net;
using System.Text.Json;
using Lb.TestSupport;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Tests.Support;
using Xunit;

namespace Lb.Vrrp.Tests.Netns;

/// <summary>
/// <c>use_vmac</c> / <c>vmac_xmit_base</c>: Lb VRRP subsystems in this process on veths into a bridge (as
/// <see cref="LbFailoverTests"/>), checked with independent oracles: <c>ip -d -j link</c> (the macvlan, its MAC, mode and
/// parent), <c>ip -j addr</c> (the VIP on it), <c>sysctl</c> (the ARP parameters keepalived sets), a <c>tcpdump -e</c> on
/// the bridge port (source MACs of adverts and GARPs), and a client namespace's <c>ip neigh</c> across a failover.
/// </summary>
public sealed class VmacTests : IDisposable
{
    private readonly NetnsLab _lab = new(LabWire.Bridge);
    private readonly string _tag = Random.Shared.Next(0x1000, 0xffff).ToString("x4", System.Globalization.CultureInfo.InvariantCulture);
    private readonly int _net = NetnsLab.NextSubnet();
    private readonly List<string> _ports = new();
    private readonly List<string> _vmacs = new();

    private IPAddress Vip => IPAddress.Parse($"172.29.{_net}.100");

    /// <summary>Adds a local port (lb's base interface) to the bridge; returns its name.</summary>
    private string Port()
    {
        var i = _ports.Count;
        var name = $"vm{(char)('a' + i)}{_tag}";
        _lab.AddLocalPort(name, $"172.29.{_net}.{i + 1}/24", $"p{(char)('a' + i)}");
        _ports.Add(name);
        return name;
    }

    private VrrpSubsystem Lb(string port, int priority, int vrid, VmacOptions vmac, bool xmitBase = false)
    {
        if (vmac.InterfaceName is { } n)
            _vmacs.Add(n);
        var options = new VrrpSubsystemOptions
        {
            GarpMasterDelay = TimeSpan.Zero,
            Instances =
            [
                new VrrpInstanceOptions
                {
                    Name = "VI_1",
                    Interface = port,
                    VirtualRouterId = vrid,
                    Priority = priority,
                    AdvertInterval = TimeSpan.FromSeconds(1),
                    UseVmac = vmac,
                    VmacXmitBase = xmitBase,
                    VirtualIpAddresses = [new VirtualAddress { Address = Vip, PrefixLength = 24 }],
                },
            ],
        };
        return new VrrpSubsystem(options, new IpCommandAddressTable(), new SysfsLinkMonitor(), new RecordingEventSink(), new ListLogger(), TimeProvider.System);
    }

    private static VrrpState StateOf(VrrpSubsystem s) => s.GetStatus().Instances[0].State;

    private static JsonElement? Link(string name)
    {
        var r = ProcessRunner.Run("ip", "-d", "-j", "link", "show", "dev", name);
        if (r.ExitCode != 0)
            return null;
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement[0].Clone();
    }

    private static string Sysctl(string dev, string parameter) => ProcessRunner.Check("sysctl", "-n", $"net/ipv4/conf/{dev}/{parameter}").Trim();

    private static string Mac(string dev) => Link(dev)!.Value.GetProperty("address").GetString()!;

    /// <summary>tcpdump -e on the bridge port of <paramref name="port"/>: one line per frame, source MAC first.</summary>
    private RunningProcess Capture(string port)
    {
        var hostName = $"p{(char)('a' + _ports.IndexOf(port))}";
        var cap = _lab.Start(_lab.Switch, "tcpdump", "tcpdump", "-i", _lab.PortOf(hostName), "-l", "-t", "-e", "-nn", "arp or ip proto 112");
        Assert.True(cap.WaitForOutput("listening on"), "tcpdump: " + cap.Output);
        return cap;
    }

    [RootFact("ip", "tcpdump", "sysctl")]
    public async Task use_vmac_puts_the_VIP_on_a_private_macvlan_with_the_VRRP_MAC_and_sends_adverts_and_GARPs_from_it()
    {
        var port = Port();
        var baseMac = Mac(port);
        var (arpIgnore, arpFilter) = (Sysctl(port, "arp_ignore"), Sysctl(port, "arp_filter"));
        var name = "vmx" + _tag;
        using var cap = Capture(port);
        var lb = Lb(port, 200, 90, new VmacOptions(name));
        try
        {
            await lb.StartAsync(default);
            Assert.True(Wait.Until(() => StateOf(lb) == VrrpState.Master));

            // the macvlan: the RFC 5798 MAC for VRID 90 (0x5a), private mode, on the instance's interface, up
            var link = Link(name);
            Assert.NotNull(link);
            Assert.Equal("00:00:5e:00:01:5a", link.Value.GetProperty("address").GetString());
            Assert.Equal(port, link.Value.GetProperty("link").GetString());
            var info = link.Value.GetProperty("linkinfo");
            Assert.Equal("macvlan", info.GetProperty("info_kind").GetString());
            Assert.Equal("private", info.GetProperty("info_data").GetProperty("mode").GetString());
            Assert.Contains("UP", link.Value.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));

            // the VIP is on the VMAC, not on the base; the ARP parameters keepalived sets
            Assert.True(Wait.Until(() => IpCommandAddressTable.Has(name, Vip)));
            Assert.False(IpCommandAddressTable.Has(port, Vip));
            Assert.Equal(("1", "1", "0"), (Sysctl(name, "arp_ignore"), Sysctl(name, "accept_local"), Sysctl(name, "rp_filter")));
            Assert.Equal(("1", "1"), (Sysctl(port, "arp_ignore"), Sysctl(port, "arp_filter")));

            // on the wire: adverts and the GARP for the VIP both come from the virtual MAC
            Assert.True(cap.WaitForOutput(o => o.Split('\n').Any(l => l.StartsWith("00:00:5e:00:01:5a > 01:00:5e:00:00:12", StringComparison.Ordinal) && l.Contains("vrid 90", StringComparison.Ordinal))), cap.Output);
            Assert.True(cap.WaitForOutput(o => o.Split('\n').Any(l => l.StartsWith("00:00:5e:00:01:5a > ff:ff:ff:ff:ff:ff", StringComparison.Ordinal) && l.Contains($"who-has {Vip} ", StringComparison.Ordinal) && l.Contains($"tell {Vip},", StringComparison.Ordinal))), cap.Output);
            Assert.DoesNotContain(cap.Output.Split('\n'), l => l.StartsWith(baseMac, StringComparison.Ordinal) && l.Contains("vrid 90", StringComparison.Ordinal));
        }
        finally
        {
            await lb.DisposeAsync();
        }

        // stopped: the VMAC is gone and the base's ARP parameters are back
        Assert.Null(Link(name));
        Assert.Equal((arpIgnore, arpFilter), (Sysctl(port, "arp_ignore"), Sysctl(port, "arp_filter")));
    }

    [RootFact("ip", "tcpdump")]
    public async Task vmac_xmit_base_sends_adverts_from_the_base_MAC_while_the_VIP_and_its_GARP_stay_on_the_VMAC()
    {
        var port = Port();
        var baseMac = Mac(port);
        var name = "vmy" + _tag;
        using var cap = Capture(port);
        await using var lb = Lb(port, 200, 91, new VmacOptions(name), xmitBase: true);
        await lb.StartAsync(default);
        Assert.True(Wait.Until(() => StateOf(lb) == VrrpState.Master));
        Assert.True(Wait.Until(() => IpCommandAddressTable.Has(name, Vip)));
        Assert.Equal("00:00:5e:00:01:5b", Mac(name));
        Assert.True(cap.WaitForOutput(o => o.Split('\n').Any(l => l.StartsWith(baseMac + " > 01:00:5e:00:00:12", StringComparison.Ordinal) && l.Contains("vrid 91", StringComparison.Ordinal))), cap.Output);
        Assert.True(cap.WaitForOutput(o => o.Split('\n').Any(l => l.StartsWith("00:00:5e:00:01:5b > ff:ff:ff:ff:ff:ff", StringComparison.Ordinal) && l.Contains($"who-has {Vip} ", StringComparison.Ordinal) && l.Contains($"tell {Vip},", StringComparison.Ordinal))), cap.Output);
        Assert.DoesNotContain(cap.Output.Split('\n'), l => l.StartsWith("00:00:5e:00:01:5b", StringComparison.Ordinal) && l.Contains("vrid 91", StringComparison.Ordinal));
    }

    [RootFact("ip")]
    public async Task Without_a_name_the_VMAC_is_vrrp_dot_VRID_on_the_base_and_is_removed_at_stop()
    {
        var port = Port();
        const string name = "vrrp.213";
        _vmacs.Add(name);
        await using var lb = Lb(port, 200, 213, new VmacOptions());
        await lb.StartAsync(default);
        Assert.True(Wait.Until(() => StateOf(lb) == VrrpState.Master && IpCommandAddressTable.Has(name, Vip)));
        Assert.Equal("00:00:5e:00:01:d5", Mac(name));
        Assert.Equal(port, Link(name)!.Value.GetProperty("link").GetString());
        await lb.StopAsync(default);
        Assert.Null(Link(name));
    }

    [RootFact("ip", "ping", "sysctl")]
    public async Task A_client_keeps_the_VIPs_MAC_across_a_failover_between_two_Lb_routers_using_use_vmac()
    {
        var portA = Port();
        var portB = Port();
        var client = _lab.AddHost("c", $"172.29.{_net}.50/24");
        // The operator's setting LVS directors use (keepalived sets only arp_ignore/arp_filter on the base): the director's
        // own ARP requests carry its primary address, not the VIP a reply leaves from. Without it, a reply to the client
        // routed out of the base asks for the client's MAC "from" the VIP with the base's MAC, which the client's
        // neighbour table takes as the VIP's MAC: the same with keepalived.
        foreach (var p in new[] { portA, portB })
            ProcessRunner.Check("sysctl", "-q", "-w", $"net/ipv4/conf/{p}/arp_announce=2");
        var lbA = Lb(portA, 200, 92, new VmacOptions("vxa" + _tag));
        await using var lbB = Lb(portB, 100, 92, new VmacOptions("vxb" + _tag));
        try
        {
            await lbA.StartAsync(default);
            Assert.True(Wait.Until(() => StateOf(lbA) == VrrpState.Master && IpCommandAddressTable.Has("vxa" + _tag, Vip)));
            await lbB.StartAsync(default);
            Assert.True(Wait.Until(() => lbB.GetStatus().Instances[0].MasterAddress?.Equals(IPAddress.Parse($"172.29.{_net}.1")) == true));

            string? Neighbour()
            {
                var line = _lab.Exec(client, "ip", "neigh", "show", Vip.ToString(), "dev", "eth0");
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var i = Array.IndexOf(f, "lladdr");
                return i >= 0 ? f[i + 1] : null;
            }
            bool Pings() => ProcessRunner.Run("ip", "netns", "exec", client, "ping", "-c", "1", "-W", "1", Vip.ToString()).ExitCode == 0;

            Assert.True(Wait.Until(Pings, TimeSpan.FromSeconds(30)), "the client cannot reach the VIP on A");
            var before = Neighbour();
            Assert.Equal("00:00:5e:00:01:5c", before);

            await lbA.DisposeAsync();
            Assert.True(Wait.Until(() => StateOf(lbB) == VrrpState.Master && IpCommandAddressTable.Has("vxb" + _tag, Vip)));
            Assert.True(Wait.Until(Pings, TimeSpan.FromSeconds(30)), "the client cannot reach the VIP on B");
            Assert.Equal(before, Neighbour());
            Assert.NotEqual(Mac(portA), Mac(portB));
        }
        finally
        {
            await lbA.DisposeAsync();
        }
    }

    public void Dispose()
    {
        foreach (var v in _vmacs)
            ProcessRunner.Run("ip", "link", "del", v);
        _lab.Dispose();
    }
}
