using System.Net;
using System.Net.NetworkInformation;
using Lb.TestSupport;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;

namespace Lb.Vrrp.Tests.Netns;

/// <summary>
/// Lb's interface (<see cref="HostIf"/>) in the test's own namespace where Lb's transport runs, and <see cref="PeerIf"/>
/// in a fresh network namespace where a real keepalived or a capture runs: a two-host <see cref="NetnsLab"/> on the
/// <see cref="LabWire"/> chosen (Lb's end is the lab host <see cref="LbHost"/>, the peer's <see cref="PeerHost"/>).
/// Addresses come from a random 172.31.x.0/24. Everything is deleted on dispose.
/// </summary>
internal sealed class VethPeer : IDisposable
{
    /// <summary>The lab host names of the two ends (what <see cref="PaddingSwitch.Padded"/> counts frames from).</summary>
    public const string LbHost = "lb", PeerHost = "peer";

    private int _keepaliveds;

    public VethPeer(LabWire wire = LabWire.Veth)
    {
        var tag = Random.Shared.Next(0x1000, 0xffff).ToString("x4", System.Globalization.CultureInfo.InvariantCulture);
        Lab = new NetnsLab(wire);
        try
        {
            HostIf = "lbv" + tag;
            PeerIf = "lbp" + tag;
            var net = NetnsLab.NextSubnet();
            HostAddress = IPAddress.Parse($"172.31.{net}.1");
            PeerAddress = IPAddress.Parse($"172.31.{net}.2");
            Vip = IPAddress.Parse($"172.31.{net}.100");
            Lab.AddLocalPort(HostIf, $"{HostAddress}/24", LbHost);
            Namespace = Lab.AddHost(PeerHost, $"{PeerAddress}/24", PeerIf);
        }
        catch
        {
            Lab.Dispose();
            throw;
        }
    }

    /// <summary>The lab under this pair.</summary>
    public NetnsLab Lab { get; }

    public LabWire WireKind => Lab.Wire;

    /// <summary>The namespace holding the bridge or the padding switch (null for <see cref="LabWire.Veth"/>).</summary>
    public string? SwitchNamespace => Lab.Wire == LabWire.Veth ? null : Lab.Switch;

    /// <summary>The padding switch (only for <see cref="LabWire.PaddingSwitch"/>).</summary>
    public PaddingSwitch? Switch => Lab.Padding;

    /// <summary>A /24 no other fixture of this run uses (tests run in parallel).</summary>
    public static int NextSubnet() => NetnsLab.NextSubnet();

    public string Namespace { get; }
    public string HostIf { get; }
    public string PeerIf { get; }
    public IPAddress HostAddress { get; }
    public IPAddress PeerAddress { get; }
    public IPAddress Vip { get; }
    public string Dir => Lab.Directory;

    public string InNs(params string[] args) => Lab.Exec(Namespace, args);

    /// <summary>Starts a long-running command in the namespace, collecting its output.</summary>
    public RunningProcess StartInNs(params string[] args) => Lab.Start(Namespace, args[0], args);

    public RunningProcess StartKeepalived(string config)
    {
        var label = $"keepalived-{++_keepaliveds}";
        return Lab.StartKeepalived(Namespace, label, Lab.WriteFile(label + ".conf", config));
    }

    public void Dispose() => Lab.Dispose();
}

/// <summary>
/// STAND-IN for the rtnetlink adapter src/Lb provides: manages addresses by running <c>ip addr</c>.
/// It exists only so these namespace tests can observe real kernel addresses.
/// </summary>
internal sealed class IpCommandAddressTable : IAddressTable
{
#pragma warning disable CS0067 // the stand-in does not watch the kernel
    public event EventHandler<AddressChangedEventArgs>? AddressChanged;
#pragma warning restore CS0067

    public Task AddAsync(string interfaceName, VirtualAddress address, CancellationToken cancellationToken)
    {
        var args = new List<string> { "addr", "replace", $"{address.Address}/{address.EffectivePrefixLength}", "dev", interfaceName };
        if (address.Label is not null)
            args.AddRange(["label", address.Label]);
        if (address.NoDad)
            args.Add("nodad");
        ProcessRunner.Run("ip", [.. args]);
        return Task.CompletedTask;
    }

    public Task RemoveAsync(string interfaceName, VirtualAddress address, CancellationToken cancellationToken)
    {
        ProcessRunner.Run("ip", "addr", "del", $"{address.Address}/{address.EffectivePrefixLength}", "dev", interfaceName);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<InterfaceAddress>> ListAsync(string interfaceName, CancellationToken cancellationToken)
    {
        var list = new List<InterfaceAddress>();
        foreach (var line in ProcessRunner.Check("ip", "-o", "addr", "show", "dev", interfaceName).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var i = Array.FindIndex(f, x => x is "inet" or "inet6");
            if (i < 0)
                continue;
            var cidr = f[i + 1].Split('/');
            list.Add(new InterfaceAddress(interfaceName, int.Parse(f[0].TrimEnd(':'), System.Globalization.CultureInfo.InvariantCulture), IPAddress.Parse(cidr[0]), int.Parse(cidr[1], System.Globalization.CultureInfo.InvariantCulture), line.Contains(" secondary ", StringComparison.Ordinal)));
        }
        return Task.FromResult<IReadOnlyList<InterfaceAddress>>(list);
    }

    public static bool Has(string ifname, IPAddress a) => ProcessRunner.Check("ip", "-o", "addr", "show", "dev", ifname).Contains($" {a}/", StringComparison.Ordinal);
}

/// <summary>
/// STAND-IN link monitor reading <c>/sys/class/net</c> once per call; it never raises <see cref="LinkChanged"/>. The
/// daemon's real rtnetlink monitor (src/Lb/Hosting/RtnetlinkHost.cs) is driven by real link and address events in
/// tests/Lb.Tests/EndToEnd/LinkMonitorTests.cs.
/// </summary>
internal sealed class SysfsLinkMonitor : ILinkMonitor
{
#pragma warning disable CS0067 // the stand-in does not watch the kernel
    public event EventHandler<LinkInfo>? LinkChanged;
#pragma warning restore CS0067

    public LinkInfo? GetLink(string name)
    {
        var dir = $"/sys/class/net/{name}";
        if (!Directory.Exists(dir))
            return null;
        var index = int.Parse(File.ReadAllText($"{dir}/ifindex").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var mac = PhysicalAddress.Parse(File.ReadAllText($"{dir}/address").Trim().Replace(':', '-'));
        var up = File.ReadAllText($"{dir}/operstate").Trim() is "up" or "unknown";
        return new LinkInfo(name, index, mac, up);
    }
}

/// <summary>Python one-liners a test runs inside the peer namespace to put adverts on the wire.</summary>
internal static class AdvertInjector
{
    /// <summary>Sends each hex IP datagram argv[3..] argv[2] times through IPPROTO_RAW on argv[1].</summary>
    public const string RawSender = """
        import socket, sys, time
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        s.setsockopt(socket.SOL_SOCKET, 25, sys.argv[1].encode() + b"\0")
        n = int(sys.argv[2])
        for hexpkt in sys.argv[3:]:
            pkt = bytes.fromhex(hexpkt)
            for i in range(n):
                s.sendto(pkt, ("224.0.0.18", 0))
                if i % 20 == 19:
                    time.sleep(0.01)
        """;
}
