using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Lb.Lb.Tests.EndToEnd;
using Lb.Status;
using Lb.TestSupport;

namespace Lb.Lb.Tests.Hosting;

/// <summary>
/// A <see cref="NetnsLab"/> plus what the daemon tests need on top of it: starting the real <c>lb</c> binary with extra
/// environment variables (NOTIFY_SOCKET, test hooks), querying its status socket and its metrics inside a namespace.
/// </summary>
internal sealed class DaemonLab : IDisposable
{
    public static readonly string LbPath = LbLab.LbPath;

    /// <summary>Liveness bound (not a timing claim): generous, .NET start-up is slow on a loaded 2-core machine and under emulation.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(Prerequisites.InKernelVm ? 300 : 30);

    public DaemonLab() => Lab = new NetnsLab();

    public NetnsLab Lab { get; }

    public string Dir => Lab.Directory;

    public const string Vip = "10.0.0.100/24";

    public static string Config(string routerId, int priority, string state = "BACKUP") => $$"""
        global_defs {
            router_id {{routerId}}
            vrrp_garp_master_delay 1
        }
        vrrp_instance VI_1 {
            state {{state}}
            interface eth0
            virtual_router_id 51
            priority {{priority}}
            advert_int 1
            virtual_ipaddress {
                {{Vip}} dev eth0
            }
        }
        """;

    /// <summary>Starts lb; <paramref name="ns"/> null runs it in this (root) namespace (for -s tests). NOTIFY_SOCKET is removed unless <paramref name="environment"/> sets it.</summary>
    public RunningProcess StartLb(string? ns, string label, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var env = new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = null };
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
            env[k] = v;
        return Lab.StartIn(ns, new ProcessOptions { Label = label, Environment = env }, [LbPath, .. args]);
    }

    /// <summary>The usual VRRP-only daemon with its files in the lab directory: -p NAME.pid (so the socket is NAME.sock).</summary>
    public RunningProcess StartVrrp(string ns, string name, int priority, string state = "BACKUP", IReadOnlyDictionary<string, string>? environment = null, params string[] extra) =>
        StartLb(ns, name, environment, ["-n", "-l", "-D", "-P", "-f", Lab.WriteFile(name + ".conf", Config(name, priority, state)),
            "--journal", Path.Combine(Dir, name + ".jsonl"), "-p", PidFile(name), .. extra]);

    public string PidFile(string name) => Path.Combine(Dir, name + ".pid");

    public string Socket(string name) => Path.Combine(Dir, name + ".sock");

    /// <summary>The status of a daemon through its socket, or null when it does not answer (yet).</summary>
    public StatusReport? TryStatus(string name)
    {
        try
        {
            return StatusClient.QueryAsync(Socket(name), timeout: TimeSpan.FromSeconds(10)).GetAwaiter().GetResult().Status;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or JsonException)
        {
            return null;
        }
    }

    public StatusReport WaitStatus(string name, Func<StatusReport, bool> condition, RunningProcess process)
    {
        StatusReport? last = null;
        var ok = NetnsLab.WaitFor(() => (last = TryStatus(name)) is not null && condition(last), Bound);
        if (!ok)
            throw new Xunit.Sdk.XunitException($"status of {name} never satisfied the condition; last: {(last is null ? "no answer" : JsonSerializer.Serialize(last, StatusJsonContext.Default.StatusReport))}\n{process.Output}");
        return last!;
    }

    /// <summary>Runs the `lb` CLI (a subcommand) in this namespace and returns (exit code, stdout, stderr).</summary>
    public static (int Code, string Stdout, string Stderr) RunLb(params string[] args)
    {
        var r = ProcessRunner.Run(new ProcessOptions { Timeout = Bound, Label = "lb " + string.Join(' ', args) }, LbPath, args);
        return (r.ExitCode, r.Stdout, r.Stderr);
    }

    /// <summary>GET http://127.0.0.1:PORT/metrics from inside <paramref name="ns"/> (the socket is created on a thread in the namespace).</summary>
    public static string Scrape(string ns, int port, string path = "/metrics") => Netlink.Namespaces.NetworkNamespace.Run(ns, () =>
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000, SendTimeout = 10_000 };
        s.Connect("127.0.0.1", port);
        s.Send(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        using var ms = new MemoryStream();
        var buf = new byte[8192];
        int n;
        while ((n = s.Receive(buf)) > 0)
            ms.Write(buf, 0, n);
        return Encoding.UTF8.GetString(ms.ToArray());
    });

    public void Dispose() => Lab.Dispose();
}
