using System.Globalization;
using Lb.TestSupport;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>
/// demo/lab.sh as a test fixture: on a <see cref="NetnsLab"/> bridge, two directors (10.0.0.2, 10.0.0.3), three direct-routing
/// web servers (10.0.0.11..13: the VIP on lo, arp_ignore=1/arp_announce=2, busybox httpd on :80 serving a page that names
/// the server and /health) and a client (10.0.0.50). What the tests assert on comes from the client's HTTP answers and from
/// the kernel (<c>ipvsadm</c>, <c>ip addr</c>, <c>ip link</c>) in the namespaces.
/// </summary>
internal sealed class DrLab : IDisposable
{
    public const string Vip = "10.0.0.100";
    public static readonly string[] Webs = ["web1", "web2", "web3"];

    private readonly Dictionary<string, RunningProcess> _httpd = new();

    public DrLab()
    {
        Lab = new NetnsLab();
        Dir1 = Lab.AddHost("dir1", "10.0.0.2/24");
        Dir2 = Lab.AddHost("dir2", "10.0.0.3/24");
        for (var i = 0; i < Webs.Length; i++)
        {
            var web = Webs[i];
            var ip = WebIp(web);
            var ns = Lab.AddHost(web, ip + "/24");
            WebNs[web] = ns;
            // Direct routing: the real server accepts packets for the VIP (on lo) but never answers ARP for it.
            NetnsLab.Run("ip", "-n", ns, "addr", "add", Vip + "/32", "dev", "lo");
            Lab.Exec(ns, "sysctl", "-q", "-w", "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2");
            var root = Path.Combine(Lab.Directory, "www-" + web);
            Directory.CreateDirectory(root);
            File.WriteAllText(Path.Combine(root, "index.html"), $"Hello from {web} (real server {ip})\n");
            File.WriteAllText(Path.Combine(root, "health"), "ok\n");
            StartHttpd(web);
        }
        Client = Lab.AddHost("client", "10.0.0.50/24");
    }

    public NetnsLab Lab { get; }

    public string Dir1 { get; }

    public string Dir2 { get; }

    public string Client { get; }

    public Dictionary<string, string> WebNs { get; } = new();

    public static string WebIp(string web) => "10.0.0.1" + web[^1];

    /// <summary>Starts busybox httpd in the web server's namespace, listening on every address (its own for the checks, the VIP for clients).</summary>
    public void StartHttpd(string web) =>
        _httpd[web] = Lab.Start(WebNs[web], "httpd-" + web, "busybox", "httpd", "-f", "-vv", "-p", "80", "-h", Path.Combine(Lab.Directory, "www-" + web));

    public void StopHttpd(string web)
    {
        _httpd[web].Signal("TERM");
        _httpd[web].WaitForExit(TimeSpan.FromSeconds(30));
    }

    /// <summary>How many /health requests from <paramref name="fromIp"/> this web server's current httpd has logged (busybox -vv: "[::ffff:10.0.0.2]:46762: url:/health").</summary>
    public int HealthChecks(string web, string fromIp) =>
        _httpd[web].Output.Split('\n').Count(l => l.Contains(fromIp + "]:", StringComparison.Ordinal) && l.Contains("url:/health", StringComparison.Ordinal));

    /// <summary>The director's IPVS table, as the real <c>ipvsadm -Sn</c> prints it.</summary>
    public List<string> Table(string director) =>
        Lab.Exec(director, "ipvsadm", "-Sn").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()).ToList();

    /// <summary>Connections the director's IPVS scheduled for the VIP service (<c>ipvsadm -Ln --stats --exact</c>, column Conns); 0 when the service is absent.</summary>
    public long Connections(string director)
    {
        var line = Lab.Exec(director, "ipvsadm", "-Ln", "--stats", "--exact").Split('\n')
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .FirstOrDefault(p => p.Length >= 3 && p[0] == "TCP" && p[1] == Vip + ":80");
        return line is null ? 0 : long.Parse(line[2], CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// <see cref="Connections"/> once it has stopped moving: the kernel sums its per-CPU counters in the rate estimator,
    /// every 2 s, so a read right after traffic can lag. Two equal reads 2.5 s apart (bounded) are the settled count.
    /// </summary>
    public long SettledConnections(string director)
    {
        var last = Connections(director);
        for (var i = 0; i < 20; i++)
        {
            Thread.Sleep(2500);
            var now = Connections(director);
            if (now == last)
                return now;
            last = now;
        }
        throw new TimeoutException($"{director}'s IPVS connection count kept moving: {last}");
    }

    public bool HasVip(string director) => Lab.Addresses(director).Any(a => a.StartsWith(Vip + "/", StringComparison.Ordinal));

    /// <summary>Takes the host's cable out of the switch: its port on the bridge goes down.</summary>
    public void Unplug(string hostName) => Lab.Unplug(hostName);

    /// <summary>One HTTP request from the client to the VIP: the web server that answered ("web2"), or null when none did within the bound.</summary>
    public string? Request()
    {
        ProcessResult r;
        try
        {
            r = ProcessRunner.Run("timeout", "20", "ip", "netns", "exec", Client, "busybox", "wget", "-q", "-O", "-", $"http://{Vip}/");
        }
        catch (TimeoutException)
        {
            return null;
        }
        if (r.ExitCode != 0 || !r.Stdout.StartsWith("Hello from web", StringComparison.Ordinal))
            return null;
        return r.Stdout.Split(' ')[2];
    }

    /// <summary><paramref name="n"/> requests from the client; each element is the answering web server or "(no answer)".</summary>
    public List<string> Requests(int n) => Enumerable.Range(0, n).Select(_ => Request() ?? "(no answer)").ToList();

    public void Dispose() => Lab.Dispose();
}
