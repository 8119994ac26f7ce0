using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Lb.TestSupport;

namespace Lb.Lb.Tests.EndToEnd.Ecmp;

/// <summary>
/// The active-active lab of docs/active-active.md (the same topology as tests/kernel/ecmp-lab.sh, which the benchmark uses):
/// <code>
///   client 203.0.113.2 ── 203.0.113.1 router 192.0.2.1 ── bridge ─┬─ directors d1..d3 192.0.2.11..13: lb + zebra + bgpd (+ bfdd)
///   (FRR bgpd, ECMP, L4 hash)                                        └─ DR web servers w1..w3 192.0.2.21..23 (VIP on lo)
/// </code>
/// The VIP is 198.51.100.10:80. Every FRR and lb configuration is an example file of the repository with this lab's values
/// put in: examples/frr/router.frr.conf, examples/frr/director.frr.conf (AS 6500N, router-id; with BFD its "!BFD " lines
/// enabled) and examples/keepalived.active-active.conf (router_id) — so the tests verify the examples. Each FRR daemon runs
/// in the foreground in its namespace with its own sockets under <see cref="NetnsLab.Directory"/>; the lab's
/// <see cref="NetnsLab"/> kills every process and deletes every namespace on dispose.
/// </summary>
internal sealed class EcmpLab : IDisposable
{
    public const string Vip = "198.51.100.10";
    public const string ClientIp = "203.0.113.2";
    public static readonly string[] Directors = ["d1", "d2", "d3"];
    public static readonly string[] Webs = ["w1", "w2", "w3"];

    /// <summary>The large file every web server serves (<c>/big.bin</c>), the same bytes on each.</summary>
    public const int BigFileBytes = 3 * 1024 * 1024;

    /// <summary>
    /// HTTP client of the tests and the benchmark: ARG1 requests to the VIP, each on a new connection (a new source port),
    /// ARG2 seconds timeout each; prints "ok wN" (the web server that answered) or "fail REASON" per request.
    /// </summary>
    public const string RequestsScript = """
        import socket, sys
        n, timeout = int(sys.argv[1]), float(sys.argv[2])
        for i in range(n):
            try:
                s = socket.create_connection(('198.51.100.10', 80), timeout=timeout)
                s.sendall(b'GET / HTTP/1.0\r\nHost: vip\r\n\r\n')
                data = b''
                while True:
                    b = s.recv(4096)
                    if not b:
                        break
                    data += b
                s.close()
                body = data.split(b'\r\n\r\n', 1)[1].decode()
                print('ok', body.split()[2], flush=True)
            except Exception as e:
                print('fail', type(e).__name__, flush=True)
        """;

    private readonly Dictionary<string, List<RunningProcess>> _frr = new();
    private readonly Dictionary<string, RunningProcess> _lb = new();
    private readonly bool _bfd;

    public EcmpLab(bool bfd)
    {
        _bfd = bfd;
        Lab = new NetnsLab();
        // FRR's daemons run as the frr user: their directories (under the lab's 0700 directory) must be reachable.
        File.SetUnixFileMode(Lab.Directory, (UnixFileMode)Convert.ToInt32("755", 8));
        BigFile = Path.Combine(Lab.Directory, "big.bin");
        var bytes = new byte[BigFileBytes];
        new Random(15).NextBytes(bytes);
        File.WriteAllBytes(BigFile, bytes);
        BigFileSha256 = Convert.ToHexString(SHA256.HashData(bytes));

        Router = Lab.AddHost("ecmrt", "192.0.2.1/24");
        Lab.Exec(Router, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.fib_multipath_hash_policy=1");
        Client = Lab.AddNamespace("ecmcl");
        NetnsLab.Run("ip", "-n", Router, "link", "add", "eth1", "type", "veth", "peer", "name", "eth0", "netns", Client);
        NetnsLab.Run("ip", "-n", Router, "addr", "add", "203.0.113.1/24", "dev", "eth1");
        NetnsLab.Run("ip", "-n", Router, "link", "set", "eth1", "up");
        NetnsLab.Run("ip", "-n", Client, "addr", "add", ClientIp + "/24", "dev", "eth0");
        NetnsLab.Run("ip", "-n", Client, "link", "set", "eth0", "up");
        NetnsLab.Run("ip", "-n", Client, "route", "add", "default", "via", "203.0.113.1");
        // A small receive buffer: a slow download keeps the server sending (through the directors) until its end,
        // instead of the whole file sitting in the client's socket buffer early.
        Lab.Exec(Client, "sysctl", "-qw", "net.ipv4.tcp_rmem=4096 16384 65536");

        foreach (var d in Directors)
        {
            Ns[d] = Lab.AddHost("ecm" + d, Ip(d) + "/24");
            NetnsLab.Run("ip", "-n", Ns[d], "route", "add", "default", "via", "192.0.2.1");
        }
        foreach (var w in Webs)
        {
            var ns = Ns[w] = Lab.AddHost("ecm" + w, Ip(w) + "/24");
            NetnsLab.Run("ip", "-n", ns, "addr", "add", Vip + "/32", "dev", "lo");
            Lab.Exec(ns, "sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2");
            NetnsLab.Run("ip", "-n", ns, "route", "add", "default", "via", "192.0.2.1");
            var root = Path.Combine(Lab.Directory, "www-" + w);
            Directory.CreateDirectory(root);
            File.WriteAllText(Path.Combine(root, "index.html"), $"Hello from {w} (real server {Ip(w)})\n");
            File.WriteAllText(Path.Combine(root, "health"), "ok\n");
            File.Copy(BigFile, Path.Combine(root, "big.bin"));
            Lab.Start(ns, "httpd-" + w, "busybox", "httpd", "-f", "-p", "80", "-h", root);
        }
        StartFrr("rt", Router);
    }

    public NetnsLab Lab { get; }

    public string Router { get; }

    public string Client { get; }

    /// <summary>Namespace of each director and web server ("d1" → its namespace).</summary>
    public Dictionary<string, string> Ns { get; } = new();

    public string BigFile { get; }

    public string BigFileSha256 { get; }

    public static string Ip(string host) => host[0] switch
    {
        'd' => "192.0.2.1" + host[1],
        'w' => "192.0.2.2" + host[1],
        _ => "192.0.2.1",
    };

    /// <summary>A file of the repository (found from this source file's path, as the other example tests do: the build may be elsewhere).</summary>
    public static string RepoFile(string relative, [System.Runtime.CompilerServices.CallerFilePath] string self = "") =>
        Path.Combine(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(self)!, "..", "..", "..", "..")), relative);

    /// <summary>examples/frr/router.frr.conf or director.frr.conf with this host's values (what tests/kernel/ecmp-lab.sh's ecm_conf makes).</summary>
    public static string FrrConfig(string host, bool bfd)
    {
        var text = File.ReadAllText(RepoFile(host == "rt" ? "examples/frr/router.frr.conf" : "examples/frr/director.frr.conf"));
        text = Regex.Replace(text, "^hostname .*$", "hostname ecm-" + host, RegexOptions.Multiline);
        text = Regex.Replace(text, "^log syslog .*$", "log stdout informational", RegexOptions.Multiline);
        if (host != "rt")
        {
            text = Replace(text, "router bgp 65001", "router bgp 6500" + host[1]);
            text = Replace(text, "bgp router-id 192.0.2.11", "bgp router-id " + Ip(host));
        }
        if (bfd)
            text = Regex.Replace(text, "^!BFD ", string.Empty, RegexOptions.Multiline);
        return text;
    }

    /// <summary>examples/keepalived.active-active.conf for director <paramref name="director"/>.</summary>
    public static string LbConfig(string director) =>
        Replace(File.ReadAllText(RepoFile("examples/keepalived.active-active.conf")), "router_id director1", "router_id ecm-" + director);

    private static string Replace(string text, string old, string value) =>
        text.Contains(old, StringComparison.Ordinal) ? text.Replace(old, value, StringComparison.Ordinal)
            : throw new InvalidOperationException($"the example no longer has \"{old}\"");

    private string FrrDir(string host) => Path.Combine(Lab.Directory, "frr-" + host);

    /// <summary>zebra, bgpd (and bfdd) in <paramref name="ns"/>, then <c>vtysh -b</c> applies the templated example config.</summary>
    public void StartFrr(string host, string ns)
    {
        var dir = FrrDir(host);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "frr.conf"), FrrConfig(host, _bfd));
        File.WriteAllText(Path.Combine(dir, "vtysh.conf"), string.Empty);
        NetnsLab.Run("chown", "-R", "frr:frr", dir);
        var daemons = _frr[host] = new List<RunningProcess>();
        foreach (var daemon in _bfd ? new[] { "zebra", "bgpd", "bfdd" } : ["zebra", "bgpd"])
        {
            string[] args = ["/usr/lib/frr/" + daemon, "-u", "frr", "-g", "frr", "-P", "0", "--vty_socket", dir, "-f", "/dev/null",
                "--log", "stdout", "-z", Path.Combine(dir, "zserv.api"), "-i", Path.Combine(dir, daemon + ".pid")];
            if (daemon == "bfdd")
                args = [.. args, "--bfdctl", Path.Combine(dir, "bfdd.sock")];
            daemons.Add(Lab.Start(ns, $"{daemon}-{host}", args));
            var vty = Path.Combine(dir, daemon + ".vty");
            if (!NetnsLab.WaitFor(() => File.Exists(vty), TimeSpan.FromSeconds(120)))
                throw new InvalidOperationException($"{daemon} of {host} did not open {vty}: {daemons[^1].Output}");
        }
        Lab.Exec(ns, "vtysh", "--vty_socket", dir, "--config_dir", dir, "-b");
    }

    /// <summary>Runs vtysh commands against <paramref name="host"/>'s FRR (the FRR-side oracle).</summary>
    public string Vtysh(string host, params string[] commands)
    {
        string[] args = ["vtysh", "--vty_socket", FrrDir(host)];
        foreach (var c in commands)
            args = [.. args, "-c", c];
        return Lab.Exec(host == "rt" ? Router : Ns[host], args);
    }

    /// <summary>Starts lb (examples/keepalived.active-active.conf) and FRR in a director.</summary>
    public RunningProcess StartDirector(string d)
    {
        var dir = Path.Combine(Lab.Directory, "lb-" + d);
        Directory.CreateDirectory(dir);
        var conf = Path.Combine(dir, "lb.conf");
        File.WriteAllText(conf, LbConfig(d));
        var lb = _lb[d] = Lab.StartLb(Ns[d], "lb-" + d, "-n", "-l", "-C", "-f", conf, "--journal", Path.Combine(dir, "journal.jsonl"),
            "--socket", Path.Combine(dir, "lb.sock"), "-p", Path.Combine(dir, "lb.pid"));
        StartFrr(d, Ns[d]);
        return lb;
    }

    public RunningProcess Lb(string d) => _lb[d];

    /// <summary>Director <paramref name="d"/>'s journal (JSON lines) as far as written.</summary>
    public string Journal(string d)
    {
        var path = Path.Combine(Lab.Directory, "lb-" + d, "journal.jsonl");
        return File.Exists(path) ? File.ReadAllText(path) : "(no journal)";
    }

    public void KillFrr(string host, string signal)
    {
        foreach (var p in _frr[host])
        {
            if (!p.HasExited)
                p.Signal(signal);
        }
    }

    /// <summary>The next hops of the router's route to the VIP (<c>ip route show VIP</c>): director addresses, empty when none.</summary>
    public List<string> NextHops()
    {
        var text = NetnsLab.Run("ip", "-n", Router, "route", "show", Vip);
        var hops = Regex.Matches(text, @"via (\S+)").Select(m => m.Groups[1].Value).ToList();
        return hops;
    }

    public string RouterRoutes() => NetnsLab.Run("ip", "-n", Router, "route", "show", Vip);

    public bool NextHopsAre(params string[] directors) =>
        NextHops().Order(StringComparer.Ordinal).SequenceEqual(directors.Select(Ip).Order(StringComparer.Ordinal));

    /// <summary>Runs <see cref="RequestsScript"/> in the client: one line per request.</summary>
    public List<string> Requests(int n, double timeoutSeconds = 3)
    {
        var r = ProcessRunner.Run(new ProcessOptions { Timeout = TimeSpan.FromSeconds(60 + (n * timeoutSeconds)) }, "ip", "netns", "exec", Client,
            "python3", "-c", RequestsScript, n.ToString(CultureInfo.InvariantCulture), timeoutSeconds.ToString(CultureInfo.InvariantCulture));
        return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    /// <summary>Connections the director's IPVS scheduled for the VIP service (<c>ipvsadm -Ln --stats --exact</c>, column Conns).</summary>
    public long Connections(string d)
    {
        var line = Lab.Exec(Ns[d], "ipvsadm", "-Ln", "--stats", "--exact").Split('\n')
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .FirstOrDefault(p => p.Length >= 3 && p[0] == "TCP" && p[1] == Vip + ":80");
        return line is null ? 0 : long.Parse(line[2], CultureInfo.InvariantCulture);
    }

    /// <summary>The director's IPVS connection entries (<c>ipvsadm -Lnc</c>) from the client: (state, client ip:port, real server ip:port).</summary>
    public List<(string State, string From, string To)> ClientConnections(string d) =>
        Lab.Exec(Ns[d], "ipvsadm", "-Lnc").Split('\n')
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(p => p.Length >= 6 && p[0] == "TCP" && p[3].StartsWith(ClientIp + ":", StringComparison.Ordinal) && p[4] == Vip + ":80")
            .Select(p => (p[2], p[3], p[5]))
            .ToList();

    public void Dispose() => Lab.Dispose();
}
