using System.Text.Json;
using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>
/// <c>virtual_routes</c> / <c>virtual_rules</c> (per instance) and <c>static_ipaddress</c> / <c>static_routes</c> / <c>static_rules</c>
/// installed by real <c>lb -n -l -P</c> processes on a bridge, as keepalived 2.2.7 does: an instance's routes and rules while it is
/// MASTER only, the static ones from start to stop; a tracked one removed with <c>ip</c> behind Lb's back comes back.
/// Oracles: <c>ip -j route show table all</c>, <c>ip -j rule show</c> and <c>ip addr</c> in each namespace.
/// </summary>
public sealed class VirtualRoutesTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private const string Vip = "10.0.0.100/24";

    private const string Routes = """
            virtual_routes {
                192.168.100.0/24 via 10.0.0.1 dev eth0
                192.168.101.0/24 dev eth0 src 10.0.0.100 table 101 metric 5
                blackhole 192.168.102.0/24
                192.168.103.0/24 dev eth0 nexthop via 10.0.0.1 dev eth0 weight 2 nexthop via 10.0.0.4 dev eth0 weight 1
            }
            virtual_rules {
                from 10.0.0.0/24 to 172.16.0.0/12 table 101 priority 200
                fwmark 0x20/0xff table 101 priority 201
                iif eth0 table 102 priority 202
            }
        """;

    private const string Statics = """
        static_ipaddress {
            10.0.5.1/24 dev eth0
        }
        static_routes {
            192.168.110.0/24 via 10.0.0.1 dev eth0
        }
        static_rules {
            from 10.0.5.0/24 table 110 priority 300
        }
        """;

    private static string Config(string id, int priority, bool statics) =>
        VrrpFailoverTests.Config(id, priority, extra: Routes) + "\n" + (statics ? Statics : "");

    /// <summary>The destinations (with their table when not main) of the routes protocol keepalived in <paramref name="ns"/>.</summary>
    private static HashSet<string> KeepalivedRoutes(string ns) =>
        JsonDocument.Parse(NetnsLab.Run("ip", "-n", ns, "-j", "route", "show", "table", "all", "proto", "keepalived")).RootElement.EnumerateArray()
            .Select(e => e.GetProperty("dst").GetString() + (e.TryGetProperty("table", out var t) ? " table " + t : ""))
            .ToHashSet();

    private static JsonElement[] Routes4(string ns) =>
        JsonDocument.Parse(NetnsLab.Run("ip", "-n", ns, "-j", "route", "show", "table", "all")).RootElement.EnumerateArray().ToArray();

    private static HashSet<int> RulePriorities(string ns) =>
        JsonDocument.Parse(NetnsLab.Run("ip", "-n", ns, "-j", "rule", "show")).RootElement.EnumerateArray().Select(e => e.GetProperty("priority").GetInt32()).ToHashSet();

    private static readonly string[] VirtualRoutes = ["192.168.100.0/24", "192.168.101.0/24 table 101", "192.168.102.0/24", "192.168.103.0/24"];
    private static readonly int[] VirtualRules = [200, 201, 202];

    private static bool HasVirtual(string ns) => KeepalivedRoutes(ns).IsSupersetOf(VirtualRoutes) && RulePriorities(ns).IsSupersetOf(VirtualRules);

    private static bool HasNoVirtual(string ns) => !KeepalivedRoutes(ns).Overlaps(VirtualRoutes) && !RulePriorities(ns).Overlaps(VirtualRules);

    private static bool HasStatic(NetnsLab lab, string ns) =>
        KeepalivedRoutes(ns).Contains("192.168.110.0/24") && RulePriorities(ns).Contains(300) && lab.HasAddress(ns, "10.0.5.1/24");

    private static bool HasNoStatic(NetnsLab lab, string ns) =>
        !KeepalivedRoutes(ns).Contains("192.168.110.0/24") && !RulePriorities(ns).Contains(300) && !lab.HasAddress(ns, "10.0.5.1/24");

    /// <summary>
    /// A (100, with the static entries) starts alone and becomes MASTER: its virtual routes and rules are installed in the forms
    /// written (via, dev, src, table, metric, blackhole, weighted nexthops; from/to, fwmark/mask, iif, priority), and the static
    /// ones. Each kind removed with <c>ip</c> comes back. B (200) starts and preempts: A, now BACKUP, has removed its virtual
    /// routes and rules and kept the static ones; B has installed its own. A stopped: its static entries are gone.
    /// </summary>
    [RootFact("ip")]
    public void Virtual_routes_and_rules_follow_MASTER_and_static_ones_live_from_start_to_stop()
    {
        using var lab = new NetnsLab();
        var a = lab.AddHost("a", "10.0.0.2/24");
        var b = lab.AddHost("b", "10.0.0.3/24");
        var la = lab.StartLb(a, "lb-a", "-n", "-l", "-P", "-f", lab.WriteFile("a.conf", Config("a", 100, statics: true)), "--journal", Path.Combine(lab.Directory, "a.jsonl"));
        RunningProcess? lbb = null;
        try
        {
            Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(a, Vip) && HasVirtual(a), Bound), "A as MASTER did not install its virtual routes and rules");
            Assert.True(NetnsLab.WaitFor(() => HasStatic(lab, a), Bound), "A did not install its static address, route and rule");

            var routes = Routes4(a).ToDictionary(e => e.GetProperty("dst").GetString() + (e.TryGetProperty("table", out var t) ? " table " + t : ""));
            var via = routes["192.168.100.0/24"];
            Assert.Equal(("10.0.0.1", "eth0"), (via.GetProperty("gateway").GetString(), via.GetProperty("dev").GetString()));
            var src = routes["192.168.101.0/24 table 101"];
            Assert.Equal(("10.0.0.100", 5), (src.GetProperty("prefsrc").GetString(), src.GetProperty("metric").GetInt32()));
            Assert.Equal("blackhole", routes["192.168.102.0/24"].GetProperty("type").GetString());
            Assert.Equal(["10.0.0.1 2", "10.0.0.4 1"], routes["192.168.103.0/24"].GetProperty("nexthops").EnumerateArray()
                .Select(h => $"{h.GetProperty("gateway").GetString()} {h.GetProperty("weight").GetInt32()}"));
            var rules = JsonDocument.Parse(NetnsLab.Run("ip", "-n", a, "-j", "rule", "show")).RootElement.EnumerateArray().ToDictionary(e => e.GetProperty("priority").GetInt32());
            Assert.Equal(("10.0.0.0", "172.16.0.0", "101"), (rules[200].GetProperty("src").GetString(), rules[200].GetProperty("dst").GetString(), rules[200].GetProperty("table").GetString()));
            Assert.Equal(("0x20", "0xff"), (rules[201].GetProperty("fwmark").GetString(), rules[201].GetProperty("fwmask").GetString()));
            Assert.Equal(("eth0", "102"), (rules[202].GetProperty("iif").GetString(), rules[202].GetProperty("table").GetString()));
            Assert.False(RulePriorities(b).Overlaps(VirtualRules));

            // removed behind Lb's back: restored
            NetnsLab.Run("ip", "-n", a, "route", "del", "192.168.100.0/24", "via", "10.0.0.1", "dev", "eth0");
            NetnsLab.Run("ip", "-n", a, "route", "del", "192.168.101.0/24", "table", "101");
            NetnsLab.Run("ip", "-n", a, "rule", "del", "priority", "200");
            Assert.True(NetnsLab.WaitFor(() => HasVirtual(a), Bound), "a virtual route or rule removed with ip was not restored");
            NetnsLab.Run("ip", "-n", a, "route", "del", "192.168.110.0/24", "via", "10.0.0.1", "dev", "eth0");
            NetnsLab.Run("ip", "-n", a, "rule", "del", "priority", "300");
            NetnsLab.Run("ip", "-n", a, "addr", "del", "10.0.5.1/24", "dev", "eth0");
            Assert.True(NetnsLab.WaitFor(() => HasStatic(lab, a), Bound), "a static address, route or rule removed with ip was not restored");

            // a higher priority peer takes over: A leaves MASTER and removes them, B installs its own; statics stay on A
            lbb = lab.StartLb(b, "lb-b", "-n", "-l", "-P", "-f", lab.WriteFile("b.conf", Config("b", 200, statics: false)), "--journal", Path.Combine(lab.Directory, "b.jsonl"));
            Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(b, Vip) && HasVirtual(b), Bound), "B as MASTER did not install its virtual routes and rules");
            Assert.True(NetnsLab.WaitFor(() => !lab.HasAddress(a, Vip) && HasNoVirtual(a), Bound), "A as BACKUP kept virtual routes or rules");
            Assert.True(HasStatic(lab, a), "A as BACKUP lost its static entries");
            Assert.True(HasNoStatic(lab, b));

            // stopped: A's static entries go
            la.Signal("TERM");
            Assert.True(la.WaitForExit(Bound), "A did not stop");
            Assert.True(HasNoStatic(lab, a), "A stopped and left static entries: " + NetnsLab.Run("ip", "-n", a, "rule", "show"));
            // B stopped as MASTER: its virtual routes and rules go with its VIP
            lbb.Signal("TERM");
            Assert.True(lbb.WaitForExit(Bound), "B did not stop");
            Assert.True(HasNoVirtual(b), "B stopped as MASTER and left virtual routes or rules");
        }
        finally
        {
            output.WriteLine($"----- {la.Label}\n{la.Output}");
            if (lbb is not null)
                output.WriteLine($"----- {lbb.Label}\n{lbb.Output}");
            lbb?.Dispose();
        }
    }
}
