using System.Globalization;

namespace Lb.TestSupport;

/// <summary>What joins the lab's hosts.</summary>
public enum LabWire
{
    /// <summary>A Linux bridge in the switch namespace (a bridge forwards frames as it got them: a short frame stays short).</summary>
    Bridge,

    /// <summary>
    /// The user-space <see cref="PaddingSwitch"/> in the switch namespace: it pads every frame shorter than 60 bytes with
    /// zeros, as an Ethernet NIC does on a physical network.
    /// </summary>
    PaddingSwitch,

    /// <summary>No switch: one veth pair, the first host's end straight to the second's (at most two hosts; frames never padded).</summary>
    Veth,
}

/// <summary>
/// The one network-namespace lab of the test suites: hosts on one switch. The switch is a namespace holding a bridge or
/// the <see cref="PaddingSwitch"/> (or, with <see cref="LabWire.Veth"/>, a bare cable between two hosts). A host is a
/// fresh namespace (<see cref="AddHost"/>) or an interface in the test's own namespace (<see cref="AddLocalPort"/>, for a
/// subsystem running in the test process). Processes started in the hosts are <see cref="RunningProcess"/>es; everything —
/// processes, namespaces, local ports, the scratch <see cref="Directory"/> — is removed on <see cref="Dispose"/>.
/// <code>
/// using var lab = new NetnsLab(LabWire.PaddingSwitch);
/// var a = lab.AddHost("a", "10.0.0.2/24");                 // namespace name; eth0 carries the address
/// using var ka = lab.StartKeepalived(a, "ka", lab.WriteFile("ka.conf", conf));
/// Assert.True(ka.WaitForOutput("Entering MASTER STATE"), ka.Output);
/// Assert.True(lab.Padding!.Padded(112, from: "a") > 0);
/// </code>
/// </summary>
public sealed class NetnsLab : IDisposable
{
    private static int _subnet = Random.Shared.Next(0, 250);

    private readonly string _prefix = $"lb{Guid.NewGuid().ToString("N")[..6]}";
    private readonly List<string> _namespaces = new();
    private readonly List<string> _localPorts = new();
    private readonly List<RunningProcess> _processes = new();
    private string? _looseEnd;
    private int _ports;
    private readonly string? _switch;
    private (string? Ns, string Ifname)? _firstEnd;

    public NetnsLab(LabWire wire = LabWire.Bridge)
    {
        Prerequisites.Require(Prerequisites.IsRoot, "network-namespace tests need root");
        Wire = wire;
        Directory = System.IO.Directory.CreateTempSubdirectory(_prefix + "-").FullName;
        if (wire == LabWire.Veth)
            return;
        _switch = AddNamespace("sw");
        if (wire == LabWire.Bridge)
        {
            Run("ip", "-n", Switch, "link", "add", "br0", "type", "bridge");
            Run("ip", "-n", Switch, "link", "set", "br0", "up");
        }
        else
        {
            var process = Start(Switch, "padding switch", "python3", "-u", "-c", PaddingSwitch.Script);
            Padding = new PaddingSwitch(process);
            if (!process.WaitForOutput("switch up"))
                throw new InvalidOperationException("the padding switch did not start: " + process.Output);
        }
    }

    public LabWire Wire { get; }

    /// <summary>The switch namespace (throws for <see cref="LabWire.Veth"/>, which has none).</summary>
    public string Switch => _switch ?? throw new InvalidOperationException("a veth lab has no switch");

    /// <summary>The padding switch (only for <see cref="LabWire.PaddingSwitch"/>).</summary>
    public PaddingSwitch? Padding { get; }

    /// <summary>A scratch directory for configs, journals and pid files.</summary>
    public string Directory { get; }

    /// <summary>A /24 number no other lab of this run hands out (tests run in parallel).</summary>
    public static int NextSubnet() => Interlocked.Increment(ref _subnet) % 250;

    /// <summary>A fresh namespace with lo up and no link to the switch; deleted on dispose. Returns its name.</summary>
    public string AddNamespace(string name)
    {
        var ns = $"{_prefix}-{name}";
        Run("ip", "netns", "add", ns);
        _namespaces.Add(ns);
        Run("ip", "-n", ns, "link", "set", "lo", "up");
        return ns;
    }

    /// <summary>Adds a host namespace whose <paramref name="ifname"/> (default eth0) carries <paramref name="cidr"/> (e.g. 10.0.0.2/24) and is plugged into the switch. Returns the namespace name.</summary>
    public string AddHost(string name, string cidr, string ifname = "eth0")
    {
        var ns = AddNamespace(name);
        Plug(name, ifname, ns);
        Run("ip", "-n", ns, "addr", "add", cidr, "dev", ifname);
        Run("ip", "-n", ns, "link", "set", ifname, "up");
        WaitUp(ns, ifname);
        return ns;
    }

    /// <summary>Adds <paramref name="ifname"/> in the test's own namespace, carrying <paramref name="cidr"/>, plugged into the switch (for a subsystem running in the test process); deleted on dispose.</summary>
    public void AddLocalPort(string ifname, string cidr, string name)
    {
        Plug(name, ifname, ns: null);
        _localPorts.Add(ifname);
        Run("ip", "addr", "add", cidr, "dev", ifname);
        Run("ip", "link", "set", ifname, "up");
        WaitUp(null, ifname);
    }

    /// <summary>The switch port a host's cable is plugged into (its name starts with the host name).</summary>
    public string PortOf(string hostName) =>
        Run("ip", "-n", Switch, "-o", "link", "show").Split('\n')
            .Select(l => l.Split(':', StringSplitOptions.TrimEntries))
            .Where(p => p.Length > 1)
            .Select(p => p[1].Split('@')[0])
            .Single(n => n.StartsWith(hostName + "-", StringComparison.Ordinal));

    /// <summary>Takes the host's cable out of the switch: its port goes down.</summary>
    public void Unplug(string hostName) => Run("ip", "-n", Switch, "link", "set", PortOf(hostName), "down");

    /// <summary>Runs a command inside a namespace; stdout, or throws with the output unless it exits 0.</summary>
    public string Exec(string ns, params string[] command) => Run(["ip", "netns", "exec", ns, .. command]);

    /// <summary>The IPv4/IPv6 addresses on a host's interface, as <c>ip -o addr</c> shows them (the independent oracle).</summary>
    public IReadOnlyList<string> Addresses(string ns, string dev = "eth0")
    {
        var text = Run("ip", "-n", ns, "-o", "addr", "show", "dev", dev);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(p => p[Array.IndexOf(p, p.First(x => x is "inet" or "inet6")) + 1])
            .ToList();
    }

    public bool HasAddress(string ns, string cidr) => Addresses(ns).Contains(cidr);

    /// <summary>Polls until <paramref name="condition"/> holds or <paramref name="timeout"/> passes (a liveness bound, not a timing claim).</summary>
    public static bool WaitFor(Func<bool> condition, TimeSpan timeout) => Wait.Until(condition, timeout, pollMilliseconds: 100);

    /// <summary>Writes <paramref name="text"/> to <paramref name="name"/> in <see cref="Directory"/>; returns the path.</summary>
    public string WriteFile(string name, string text)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Starts a long-running program inside a namespace, capturing its output; killed on dispose.</summary>
    public RunningProcess Start(string ns, string label, params string[] command) =>
        StartIn(ns, new ProcessOptions { Label = label }, command);

    /// <summary>Starts a long-running program inside <paramref name="ns"/> (null: the test's own namespace) under <paramref name="options"/>; killed on dispose.</summary>
    public RunningProcess StartIn(string? ns, ProcessOptions options, params string[] command)
    {
        var p = ns is null
            ? RunningProcess.Start(options, command[0], command[1..])
            : RunningProcess.Start(options, "ip", ["netns", "exec", ns, .. command]);
        lock (_processes)
            _processes.Add(p);
        return p;
    }

    /// <summary>Starts the real keepalived (VRRP only, -n -l -D) inside a namespace, its pid files in <see cref="Directory"/>.</summary>
    public RunningProcess StartKeepalived(string ns, string label, string config)
    {
        var pid = Path.Combine(Directory, label);
        return Start(ns, label, "keepalived", "-n", "-l", "-D", "-f", config, "--vrrp", "-p", pid + ".pid", "-r", pid + ".vrrp.pid", "-c", pid + ".chk.pid");
    }

    /// <summary>Runs a command (<see cref="ProcessRunner.Check(string, string[])"/>): stdout, or throws with the output unless it exits 0.</summary>
    public static string Run(params string[] command) => ProcessRunner.Check(command[0], command[1..]);

    public void Dispose()
    {
        lock (_processes)
        {
            foreach (var p in _processes)
                p.Dispose();
        }
        foreach (var port in _localPorts)
            ProcessRunner.Run("ip", "link", "del", port);
        if (_looseEnd is not null)
            ProcessRunner.Run("ip", "link", "del", _looseEnd);
        foreach (var ns in Enumerable.Reverse(_namespaces))
            ProcessRunner.Run("ip", "netns", "del", ns);
        try
        {
            System.IO.Directory.Delete(Directory, true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// Waits until the host's link is operationally up (carrier on; the kernel reports it asynchronously), so a daemon
    /// started next does not begin in FAULT. A veth lab's first host waits for the second: its cable has no far end yet.
    /// </summary>
    private void WaitUp(string? ns, string ifname)
    {
        if (Wire == LabWire.Veth)
        {
            if (_firstEnd is null)
            {
                _firstEnd = (ns, ifname);
                return;
            }
            WaitOperUp(_firstEnd.Value.Ns, _firstEnd.Value.Ifname);
        }
        WaitOperUp(ns, ifname);
    }

    private static void WaitOperUp(string? ns, string ifname)
    {
        string[] show = ns is null ? ["ip", "-o", "link", "show", "dev", ifname] : ["ip", "-n", ns, "-o", "link", "show", "dev", ifname];
        if (!WaitFor(() => Run(show).Contains("state UP", StringComparison.Ordinal), TimeSpan.FromSeconds(30)))
            throw new InvalidOperationException($"{ifname} in {ns ?? "this namespace"} never came up: {Run(show)}");
    }

    /// <summary>Creates <paramref name="ifname"/> in <paramref name="ns"/> (null: this namespace) with its far end on the switch (or, for a veth lab, on the other host).</summary>
    private void Plug(string name, string ifname, string? ns)
    {
        var n = Interlocked.Increment(ref _ports);
        string[] into = ns is null ? [] : ["netns", ns];
        if (Wire == LabWire.Veth)
        {
            if (n > 2)
                throw new InvalidOperationException("a veth lab joins two hosts");
            if (_looseEnd is null)
            {
                // the first host's cable: its far end waits in this namespace, down, for the second host
                _looseEnd = $"{_prefix}c";
                Run(["ip", "link", "add", _looseEnd, "type", "veth", "peer", "name", ifname, .. into]);
            }
            else
            {
                Run(["ip", "link", "set", _looseEnd, .. into]);
                Run(ns is null ? ["ip", "link", "set", _looseEnd, "name", ifname] : ["ip", "-n", ns, "link", "set", _looseEnd, "name", ifname]);
                _looseEnd = null;
            }
            return;
        }
        var port = $"{name}-{n.ToString(CultureInfo.InvariantCulture)}";
        if (port.Length > 15)
            throw new ArgumentException($"host name {name} too long for the switch port name {port} (15 characters at most)", nameof(name));
        if (ns is null)
            Run("ip", "link", "add", ifname, "type", "veth", "peer", "name", port, "netns", Switch);
        else
            Run("ip", "-n", Switch, "link", "add", port, "type", "veth", "peer", "name", ifname, "netns", ns);
        // the switch's ports have no addresses and send nothing of their own
        Exec(Switch, "sysctl", "-qw", $"net.ipv6.conf.{port}.disable_ipv6=1");
        if (Padding is { } padding)
        {
            Run("ip", "-n", Switch, "link", "set", port, "promisc", "on", "up");
            padding.Add(port, name);
        }
        else
        {
            Run("ip", "-n", Switch, "link", "set", port, "master", "br0", "up");
        }
    }
}
