using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>
/// <c>lvs_sync_daemon</c> and <c>lvs_timeouts</c> through the binary against the real kernel's IPVS (inside the tests/kernel
/// VM). Oracles: the real <c>ipvsadm -L --daemon</c>, <c>ipvsadm -L --timeout</c> and <c>ipvsadm -Lnc</c> (the connection
/// table) in each director's namespace — IPVS, its sync daemons and its timeouts are per network namespace.
/// </summary>
[Collection(KernelLabCollection.Name)]
public sealed class LvsSyncKernelTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(600);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(180);

    private static string Config(string routerId, string state, int priority, string syncOptions, string timeouts) => $$"""
        global_defs {
            router_id {{routerId}}
            lvs_sync_daemon eth0 inst VI_1 {{syncOptions}}
            {{timeouts}}
        }
        vrrp_instance VI_1 {
            state {{state}}
            interface eth0
            virtual_router_id 51
            priority {{priority}}
            advert_int 1
            virtual_ipaddress {
                10.0.0.100/32
            }
        }
        virtual_server 10.0.0.100 53 {
            lb_algo rr
            lb_kind DR
            protocol UDP
            real_server 10.0.0.11 53 {
                weight 1
            }
        }
        """;

    private static string Daemons(NetnsLab lab, string ns) => lab.Exec(ns, "ipvsadm", "-L", "--daemon").Trim();

    private static string Timeouts(NetnsLab lab, string ns) => lab.Exec(ns, "ipvsadm", "-L", "--timeout").Trim();

    private static string Connections(NetnsLab lab, string ns) => lab.Exec(ns, "ipvsadm", "-Lnc");

    private static bool Only(string daemons, string state) =>
        daemons.Split('\n', StringSplitOptions.RemoveEmptyEntries) is [var line] && line.StartsWith(state + " sync daemon (mcast=eth0, syncid=", StringComparison.Ordinal);

    /// <summary>
    /// One director, its instance bound: the backup daemon from the start (instance BACKUP), the master daemon instead once it
    /// is MASTER, with every option of the line; lvs_timeouts set; a SIGHUP changing the TTL and a timeout restarts the daemon
    /// with it and sets the timeout; SIGTERM stops the daemon and restores the timeouts the kernel had.
    /// </summary>
    [KernelFact]
    public void The_bound_daemon_follows_the_instance_with_its_options_and_timeouts_are_set_reloaded_and_restored()
    {
        using var lab = new NetnsLab();
        var director = lab.AddHost("dir", "10.0.0.2/24");
        var original = Timeouts(lab, director);
        var config = lab.WriteFile("lb.conf", Config("director", "BACKUP", 100, "id 7 maxlen 1400 port 8849 ttl 2 group 239.1.2.3", "lvs_timeouts tcp 600 udp 200"));
        var lb = lab.StartLb(director, "lb", ["-n", "-l", "-f", config, "--journal", Path.Combine(lab.Directory, "journal.jsonl"),
            "--socket", Path.Combine(lab.Directory, "lb.sock")]);
        try
        {
            // BACKUP first (keepalived starts the backup daemon at init), then MASTER after the master-down interval.
            Assert.True(NetnsLab.WaitFor(() => lb.OutputContains("Entering BACKUP STATE") || lb.OutputContains("Entering MASTER STATE"), StartBound), "lb did not start VRRP");
            Assert.True(NetnsLab.WaitFor(() => Only(Daemons(lab, director), "master"), Bound), "no master daemon alone: " + Daemons(lab, director));
            var master = Daemons(lab, director);
            Assert.Equal("master sync daemon (mcast=eth0, syncid=7, maxlen=1400, group=239.1.2.3, port=8849, ttl=2)", master);
            Assert.Contains("Started IPVS backup sync daemon on eth0 syncid 7", lb.Output, StringComparison.Ordinal);
            Assert.Equal("Timeout (tcp tcpfin udp): 600 " + original.Split(' ')[^2] + " 200", Timeouts(lab, director));

            File.WriteAllText(config, Config("director", "BACKUP", 100, "id 7 maxlen 1400 port 8849 ttl 3 group 239.1.2.3", "lvs_timeouts tcp 700 udp 200"));
            lb.Signal("HUP");
            Assert.True(NetnsLab.WaitFor(() => Daemons(lab, director).EndsWith("ttl=3)", StringComparison.Ordinal), Bound), "the reload did not restart the daemon: " + Daemons(lab, director));
            Assert.True(Only(Daemons(lab, director), "master"), Daemons(lab, director));
            Assert.True(NetnsLab.WaitFor(() => Timeouts(lab, director).Contains(": 700 ", StringComparison.Ordinal), Bound), Timeouts(lab, director));

            lb.Signal("TERM");
            Assert.True(lb.WaitForExit(Bound), "lb did not stop on SIGTERM");
            Assert.Equal(0, lb.ExitCode);
            Assert.Equal(string.Empty, Daemons(lab, director));
            Assert.Equal(original, Timeouts(lab, director));
        }
        finally
        {
            output.WriteLine(lb.Output);
        }
    }

    /// <summary>
    /// The end-to-end: two directors (each its own namespace, so its own IPVS) on one bridge, a VRRP pair of lb
    /// processes with the same UDP DR virtual service and <c>lvs_sync_daemon eth0 VI_1</c>. The MASTER runs the master daemon,
    /// the BACKUP the backup daemon; a client's flow through the MASTER appears in the BACKUP's connection table before any
    /// failover. Then the MASTER stops: the BACKUP takes over and swaps to the master daemon.
    /// </summary>
    [KernelFact]
    public void A_connection_through_the_master_appears_in_the_backup_s_connection_table_before_failover()
    {
        using var lab = new NetnsLab();
        var d1 = lab.AddHost("d1", "10.0.0.2/24");
        var d2 = lab.AddHost("d2", "10.0.0.3/24");
        lab.AddHost("rs", "10.0.0.11/24");
        var client = lab.AddHost("cl", "10.0.0.50/24");
        RunningProcess Start(string ns, string name, string state, int priority) => lab.StartLb(ns, name, ["-n", "-l",
            "-f", lab.WriteFile(name + ".conf", Config(name, state, priority, string.Empty, string.Empty)),
            "--journal", Path.Combine(lab.Directory, name + ".jsonl"), "--socket", Path.Combine(lab.Directory, name + ".sock"),
            "-p", Path.Combine(lab.Directory, name + ".pid")]);
        var lb1 = Start(d1, "lb1", "MASTER", 150);
        var lb2 = Start(d2, "lb2", "BACKUP", 100);
        try
        {
            Assert.True(NetnsLab.WaitFor(() => Only(Daemons(lab, d1), "master") && lab.HasAddress(d1, "10.0.0.100/32"), StartBound),
                "d1 is not MASTER with the master daemon: " + Daemons(lab, d1));
            Assert.True(NetnsLab.WaitFor(() => Only(Daemons(lab, d2), "backup"), StartBound), "d2 has no backup daemon: " + Daemons(lab, d2));
            // The kernel reports its defaults for what the line left out: the VRID as sync id, 224.0.0.81:8848, TTL 1.
            Assert.StartsWith("backup sync daemon (mcast=eth0, syncid=51", Daemons(lab, d2), StringComparison.Ordinal);
            Assert.Contains("group=224.0.0.81, port=8848, ttl=1)", Daemons(lab, d2), StringComparison.Ordinal);
            Assert.False(lab.HasAddress(d2, "10.0.0.100/32"));

            // One flow (one source port): the kernel syncs a UDP connection at its third packet (sync_threshold 3).
            lab.Exec(client, "python3", "-c",
                "import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(('10.0.0.50',40123))\n" +
                "for i in range(8):\n    s.sendto(b'x',('10.0.0.100',53)); time.sleep(0.05)\n");
            const string Flow = "10.0.0.50:40123     10.0.0.100:53      10.0.0.11:53";
            bool Has(string ns) => Connections(lab, ns).Split('\n').Any(l => l.StartsWith("UDP", StringComparison.Ordinal) && Normal(l).EndsWith(Normal(Flow), StringComparison.Ordinal));
            Assert.True(NetnsLab.WaitFor(() => Has(d1), Bound), "the flow did not go through the MASTER: " + Connections(lab, d1));
            Assert.True(NetnsLab.WaitFor(() => Has(d2), Bound), "the BACKUP's table has no synced connection: " + Connections(lab, d2));
            Assert.False(lab.HasAddress(d2, "10.0.0.100/32"), "d2 took over before the check");

            lb1.Signal("TERM");
            Assert.True(lb1.WaitForExit(Bound), "lb1 did not stop");
            Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(d2, "10.0.0.100/32") && Only(Daemons(lab, d2), "master"), Bound),
                "d2 did not take over with the master daemon: " + Daemons(lab, d2));
            Assert.Equal(string.Empty, Daemons(lab, d1));
            Assert.True(Has(d2), "the synced connection is gone from the new MASTER");
        }
        finally
        {
            output.WriteLine(lb1.Output);
            output.WriteLine(lb2.Output);
        }
    }

    private static string Normal(string line) => string.Join(' ', line.Split(' ', StringSplitOptions.RemoveEmptyEntries));
}
