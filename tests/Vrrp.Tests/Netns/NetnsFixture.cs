using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Text;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Tests.Support;

namespace Lb.Vrrp.Tests.Netns;

/// <summary>
/// A veth pair: one end (<see cref="HostIf"/>) in the test's own namespace where Lb's transport
/// runs, the other (<see cref="PeerIf"/>) in a fresh network namespace where a real keepalived or a
/// capture runs. Addresses come from a random 172.31.x.0/24. Everything is deleted on dispose.
/// </summary>
internal sealed class VethPeer : IDisposable
{
    private readonly List<Process> _processes = new();

    public VethPeer()
    {
        var tag = Random.Shared.Next(0x1000, 0xffff).ToString("x4", System.Globalization.CultureInfo.InvariantCulture);
        Namespace = "lbvrrp" + tag;
        HostIf = "lbv" + tag;
        PeerIf = "lbp" + tag;
        var net = NextSubnet();
        HostAddress = IPAddress.Parse($"172.31.{net}.1");
        PeerAddress = IPAddress.Parse($"172.31.{net}.2");
        Vip = IPAddress.Parse($"172.31.{net}.100");
        Dir = Directory.CreateTempSubdirectory("lb-vrrp-netns-").FullName;
        Run.Ok("ip", "netns", "add", Namespace);
        AddVeth();
    }

    /// <summary>Deletes the veth pair (the interface vanishes).</summary>
    public void DeleteVeth() => Run.Ok("ip", "link", "del", HostIf);

    /// <summary>Creates the veth pair (again: a new ifindex, same names and addresses).</summary>
    public void AddVeth()
    {
        Run.Ok("ip", "link", "add", HostIf, "type", "veth", "peer", "name", PeerIf);
        Run.Ok("ip", "link", "set", PeerIf, "netns", Namespace);
        Run.Ok("ip", "addr", "add", $"{HostAddress}/24", "dev", HostIf);
        Run.Ok("ip", "link", "set", HostIf, "up");
        InNs("ip", "addr", "add", $"{PeerAddress}/24", "dev", PeerIf);
        InNs("ip", "link", "set", PeerIf, "up");
        InNs("ip", "link", "set", "lo", "up");
    }

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
    public OutputProcess StartInNs(params string[] args)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["netns", "exec", Namespace, .. args])
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

/// <summary>STAND-IN link monitor reading <c>/sys/class/net</c> once per call; events only when a test calls <see cref="Raise"/>.</summary>
internal sealed class SysfsLinkMonitor : ILinkMonitor
{
    public event EventHandler<LinkInfo>? LinkChanged;

    /// <summary>Reports the current state of <paramref name="name"/> (as RTM_NEWLINK/RTM_DELLINK would).</summary>
    public void Raise(string name) => LinkChanged?.Invoke(this, GetLink(name) ?? new LinkInfo(name, 0, null, false, Exists: false));

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
