using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Text;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Tests.Support;

namespace Lb.Vrrp.Tests.Netns;

/// <summary>What lies between Lb's interface and the peer namespace.</summary>
public enum Wire
{
    /// <summary>One veth pair: frames arrive exactly as sent (never padded).</summary>
    Veth,

    /// <summary>Two veth pairs into a Linux bridge in a switch namespace (a bridge forwards frames as it got them).</summary>
    Bridge,

    /// <summary>
    /// Two veth pairs joined by a user-space switch (<see cref="PaddingSwitch"/>) in a switch namespace that pads every
    /// frame shorter than 60 bytes with zeros, as an Ethernet NIC does on a physical network.
    /// </summary>
    PaddingSwitch,
}

/// <summary>
/// Lb's interface (<see cref="HostIf"/>) in the test's own namespace where Lb's transport runs, and <see cref="PeerIf"/>
/// in a fresh network namespace where a real keepalived or a capture runs, joined by the <see cref="Wire"/> chosen.
/// Addresses come from a random 172.31.x.0/24. Everything is deleted on dispose.
/// </summary>
internal sealed class VethPeer : IDisposable
{
    private readonly List<Process> _processes = new();

    public VethPeer(Wire wire = Wire.Veth)
    {
        var tag = Random.Shared.Next(0x1000, 0xffff).ToString("x4", System.Globalization.CultureInfo.InvariantCulture);
        WireKind = wire;
        Namespace = "lbvrrp" + tag;
        HostIf = "lbv" + tag;
        PeerIf = "lbp" + tag;
        var net = NextSubnet();
        HostAddress = IPAddress.Parse($"172.31.{net}.1");
        PeerAddress = IPAddress.Parse($"172.31.{net}.2");
        Vip = IPAddress.Parse($"172.31.{net}.100");
        Dir = Directory.CreateTempSubdirectory("lb-vrrp-netns-").FullName;
        Run.Ok("ip", "netns", "add", Namespace);
        if (wire == Wire.Veth)
        {
            Run.Ok("ip", "link", "add", HostIf, "type", "veth", "peer", "name", PeerIf);
            Run.Ok("ip", "link", "set", PeerIf, "netns", Namespace);
        }
        else
        {
            // HostIf <-> lbw (switch) ... lbx (switch) <-> PeerIf
            SwitchNamespace = Namespace + "w";
            Run.Ok("ip", "netns", "add", SwitchNamespace);
            var (toHost, toPeer) = ("lbw" + tag, "lbx" + tag);
            Run.Ok("ip", "link", "add", HostIf, "type", "veth", "peer", "name", toHost, "netns", SwitchNamespace);
            Run.Ok("ip", "-n", SwitchNamespace, "link", "add", toPeer, "type", "veth", "peer", "name", PeerIf, "netns", Namespace);
            foreach (var port in new[] { toHost, toPeer })
            {
                // the switch's ports have no addresses and send nothing of their own
                Run.Ok("ip", "netns", "exec", SwitchNamespace, "sysctl", "-qw", $"net.ipv6.conf.{port}.disable_ipv6=1");
                Run.Ok("ip", "-n", SwitchNamespace, "link", "set", port, "up");
            }
            if (wire == Wire.Bridge)
            {
                Run.Ok("ip", "-n", SwitchNamespace, "link", "add", "br0", "type", "bridge");
                Run.Ok("ip", "-n", SwitchNamespace, "link", "set", "br0", "up");
                Run.Ok("ip", "-n", SwitchNamespace, "link", "set", toHost, "master", "br0");
                Run.Ok("ip", "-n", SwitchNamespace, "link", "set", toPeer, "master", "br0");
            }
            else
            {
                Run.Ok("ip", "-n", SwitchNamespace, "link", "set", toHost, "promisc", "on");
                Run.Ok("ip", "-n", SwitchNamespace, "link", "set", toPeer, "promisc", "on");
                Switch = new PaddingSwitch(Start(["ip", "netns", "exec", SwitchNamespace, "python3", "-c", PaddingSwitch.Script, toHost, toPeer]));
                if (!Switch.Process.WaitFor("switch up"))
                    throw new InvalidOperationException("the padding switch did not start: " + Switch.Process.Output);
            }
        }
        Run.Ok("ip", "addr", "add", $"{HostAddress}/24", "dev", HostIf);
        Run.Ok("ip", "link", "set", HostIf, "up");
        InNs("ip", "addr", "add", $"{PeerAddress}/24", "dev", PeerIf);
        InNs("ip", "link", "set", PeerIf, "up");
        InNs("ip", "link", "set", "lo", "up");
    }

    public Wire WireKind { get; }

    /// <summary>The namespace holding the bridge or the padding switch (null for <see cref="Wire.Veth"/>).</summary>
    public string? SwitchNamespace { get; }

    /// <summary>The padding switch (only for <see cref="Wire.PaddingSwitch"/>).</summary>
    public PaddingSwitch? Switch { get; }

    private static int _subnet = Random.Shared.Next(0, 250);

    /// <summary>A /24 no other fixture of this run uses (tests run in parallel).</summary>
    public static int NextSubnet() => Interlocked.Increment(ref _subnet) % 250;

    public string Namespace { get; }
    public string HostIf { get; }
    public string PeerIf { get; }
    public IPAddress HostAddress { get; }
    public IPAddress PeerAddress { get; }
    public IPAddress Vip { get; }
    public string Dir { get; }

    public string InNs(params string[] args) => Run.Ok("ip", ["netns", "exec", Namespace, .. args]);

    /// <summary>Starts a long-running command in the namespace, collecting its output.</summary>
    public OutputProcess StartInNs(params string[] args) => Start(["ip", "netns", "exec", Namespace, .. args]);

    private OutputProcess Start(string[] command)
    {
        var psi = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in command[1..])
            psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        _processes.Add(p);
        return new OutputProcess(p);
    }

    public OutputProcess StartKeepalived(string config)
    {
        var file = Path.Combine(Dir, $"keepalived-{_processes.Count}.conf");
        File.WriteAllText(file, config);
        var tag = Path.GetFileName(Dir) + _processes.Count;
        return StartInNs("keepalived", "-n", "-l", "-D", "-f", file, "--vrrp",
            "-p", $"/tmp/{tag}.ka.pid", "-r", $"/tmp/{tag}.vrrp.pid", "-c", $"/tmp/{tag}.chk.pid");
    }

    public void Dispose()
    {
        foreach (var p in _processes)
        {
            try
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                    p.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
            }
            p.Dispose();
        }
        Run.Capture("ip", "link", "del", HostIf);
        Run.Capture("ip", "netns", "del", Namespace);
        if (SwitchNamespace is not null)
            Run.Capture("ip", "netns", "del", SwitchNamespace);
        try
        {
            Directory.Delete(Dir, true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A process whose stdout+stderr lines are collected as they come.</summary>
internal sealed class OutputProcess
{
    private readonly StringBuilder _out = new();

    public OutputProcess(Process p)
    {
        Process = p;
        p.OutputDataReceived += (_, e) => Append(e.Data);
        p.ErrorDataReceived += (_, e) => Append(e.Data);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
    }

    public Process Process { get; }

    public string Output
    {
        get
        {
            lock (_out)
                return _out.ToString();
        }
    }

    public bool WaitFor(string text) => Wait.Until(() => Output.Contains(text, StringComparison.Ordinal));

    /// <summary>SIGKILL, as a crashed peer.</summary>
    public void Kill()
    {
        Process.Kill(entireProcessTree: true);
        Process.WaitForExit(5000);
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_out)
            _out.AppendLine(line);
    }
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
        Run.Capture("ip", [.. args]);
        return Task.CompletedTask;
    }

    public Task RemoveAsync(string interfaceName, VirtualAddress address, CancellationToken cancellationToken)
    {
        Run.Capture("ip", "addr", "del", $"{address.Address}/{address.EffectivePrefixLength}", "dev", interfaceName);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<InterfaceAddress>> ListAsync(string interfaceName, CancellationToken cancellationToken)
    {
        var list = new List<InterfaceAddress>();
        foreach (var line in Run.Ok("ip", "-o", "addr", "show", "dev", interfaceName).Split('\n', StringSplitOptions.RemoveEmptyEntries))
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

    public static bool Has(string ifname, IPAddress a) => Run.Ok("ip", "-o", "addr", "show", "dev", ifname).Contains($" {a}/", StringComparison.Ordinal);
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

/// <summary>
/// A user-space Ethernet switch between two interfaces of the switch namespace: it forwards every frame, padding a frame
/// shorter than 60 bytes with zeros as a NIC does (veth never pads; a bridge forwards what it got). It prints one line
/// per padded frame, which <see cref="Padded"/> counts, so a test can prove the wire really padded what it carried.
/// </summary>
internal sealed class PaddingSwitch(OutputProcess process)
{
    /// <summary>argv[1] faces Lb ("to-peer" frames come from it), argv[2] faces the peer namespace.</summary>
    public const string Script = """
        import socket, sys, select
        ports = []
        for name in sys.argv[1:3]:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
            s.bind((name, 0))
            ports.append(s)
        names = ["to-peer", "to-lb"]
        print("switch up", flush=True)
        while True:
            ready, _, _ = select.select(ports, [], [])
            for s in ready:
                data, addr = s.recvfrom(65535)
                if addr[2] == socket.PACKET_OUTGOING:
                    continue
                i = ports.index(s)
                if len(data) < 60:
                    et = data[12:14].hex()
                    proto = data[23] if et == "0800" and len(data) > 23 else (data[20] if et == "86dd" and len(data) > 20 else -1)
                    print("padded %d->60 ethertype %s proto %d %s" % (len(data), et, proto, names[i]), flush=True)
                    data += bytes(60 - len(data))
                ports[1 - i].send(data)
        """;

    public OutputProcess Process { get; } = process;

    /// <summary>Frames of IP protocol <paramref name="proto"/> (112: VRRP) padded on their way to Lb (<paramref name="toLb"/>) or to the peer.</summary>
    public int Padded(int proto, bool toLb)
    {
        var suffix = $" proto {proto} {(toLb ? "to-lb" : "to-peer")}";
        return Process.Output.Split('\n').Count(l => l.StartsWith("padded ", StringComparison.Ordinal) && l.TrimEnd('\r').EndsWith(suffix, StringComparison.Ordinal));
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
