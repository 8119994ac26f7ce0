using Lb.TestSupport;
using Xunit;

namespace Lb.Lb.Tests.Packaging;

/// <summary>
/// The package's life on a machine, in the kernel VM (IPVS): <c>dpkg -i</c>, the files, the user and /var/lib/lb that
/// postinst makes, lb started as lb.service would start it, <c>dpkg -r</c> (conffiles and state stay), <c>dpkg -P</c>
/// (nothing left). dpkg's own database is the oracle for the package state, <c>ip</c> and <c>ipvsadm</c> for what the
/// daemon did, <c>ps</c> for the user it ran as.
/// <para>
/// Where: a <see cref="ThrowawayRoot"/> (overlay with a tmpfs upper layer over the VM's root, in a private mount
/// namespace), never this machine's real root. The VM's root is already a throwaway overlay over the host's root
/// (9p, read-only); the second layer keeps the installation away from the kernel tests running beside this one.
/// </para>
/// <para>
/// systemd is not PID 1 in the VM (its init is a busybox script): the unit is not started by systemd. The test reads
/// the installed unit and does what systemd would: creates RuntimeDirectory= for User=, then runs ExecStart= as
/// User=/Group= with AmbientCapabilities= (setpriv), here inside a network namespace. postinst's
/// <c>systemctl</c> calls are skipped (no /run/systemd/system), its enablement (deb-systemd-helper) is not.
/// </para>
/// </summary>
public sealed class DebPackageKernelTests
{
    private const string Ns = "dbhpkg";
    private const string Vip = "10.231.0.100";
    private const string Marker = "! dbh operator edit";

    private static readonly string OperatorConfig = $$"""
        {{Marker}}: this file is the operator's now
        global_defs {
            router_id dbh_pkg
            vrrp_garp_master_delay 1
        }
        vrrp_instance VI_PKG {
            state MASTER
            interface eth0
            virtual_router_id 77
            priority 100
            advert_int 1
            virtual_ipaddress {
                {{Vip}}/24 dev eth0
            }
        }
        virtual_server {{Vip}} 80 {
            delay_loop 5
            lb_algo rr
            lb_kind DR
            protocol TCP
            real_server 10.231.0.11 80 {
                weight 1
            }
        }
        """;

    [KernelFact]
    public void InstallRunRemovePurge()
    {
        var bound = DebPackage.Bound;
        var deb = DebPackage.Deb;
        var version = DebPackage.ProjectVersion;
        using var root = new ThrowawayRoot(bound);
        root.CopyIn(deb, "/tmp/lb.deb");
        // Not installed before (else the test proves nothing); dpkg-query itself ran and said so.
        Assert.Contains("no packages found matching lb", root.Run("dpkg-query", "-W", "lb").Output, StringComparison.Ordinal);
        root.Check("rm", "-rf", "/var/lib/lb", "/etc/lb"); // the VM's init makes /var/lib/lb; postinst has to

        // dpkg -i: installed, files in place, postinst's user, /var/lib/lb and enablement.
        root.Check("dpkg", "-i", "/tmp/lb.deb");
        Assert.Equal($"install ok installed {version}", root.Check("dpkg-query", "-W", "-f=${Status} ${Version}", "lb"));
        var listed = root.Check("dpkg", "-L", "lb").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var path in (string[])["/usr/sbin/lb", "/usr/lib/systemd/system/lb.service", "/usr/share/man/man8/lb.8.gz", "/etc/lb/keepalived.conf"])
        {
            Assert.Contains(path, listed);
            Assert.True(root.Exists(path), $"{path} is listed but missing");
        }
        Assert.All(listed, p => Assert.True(root.Exists(p), $"{p} is listed but missing"));
        Assert.Equal("lb:lb 750 directory", root.Check("stat", "-c", "%U:%G %a %F", "/var/lib/lb").Trim());
        var passwd = root.Check("getent", "passwd", "lb").Trim().Split(':');
        Assert.Equal("/var/lib/lb", passwd[5]);
        Assert.Equal("/usr/sbin/nologin", passwd[6]);
        Assert.StartsWith($"Lb v{version} ", root.Check("/usr/sbin/lb", "--version"));
        Assert.Equal("/usr/share/man/man8/lb.8.gz", root.Check("man", "-w", "lb").Trim());
        Assert.False(root.Exists("/run/systemd/system"), "systemd runs here: the test assumed it does not");
        Assert.Equal("/usr/lib/systemd/system/lb.service", root.Check("readlink", "-f", "/etc/systemd/system/multi-user.target.wants/lb.service").Trim()); // deb-systemd-helper links /lib/…: merged /usr

        // The operator's configuration replaces the example; a reinstall keeps it (a modified conffile is never overwritten).
        root.Check("sh", "-c", $"printf '%s\\n' \"$1\" > /etc/lb/keepalived.conf", "sh", OperatorConfig);
        root.Check("dpkg", "-i", "/tmp/lb.deb");
        Assert.Contains(Marker, root.Check("cat", "/etc/lb/keepalived.conf"), StringComparison.Ordinal);

        // lb as lb.service runs it: the installed unit's ExecStart, User, Group, AmbientCapabilities, RuntimeDirectory.
        var unit = DebPackage.UnitSettings(root.Check("cat", "/usr/lib/systemd/system/lb.service"));
        var exec = DebPackage.ExecStart(unit);
        var user = unit["Service.User"];
        var caps = string.Join(',', unit["Service.AmbientCapabilities"].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(c => "+" + c.ToLowerInvariant().Replace("cap_", "", StringComparison.Ordinal)));
        root.Check("install", "-d", "-o", user, "-g", unit["Service.Group"], "-m", unit["Service.RuntimeDirectoryMode"], "/run/" + unit["Service.RuntimeDirectory"]);
        root.Check("ip", "netns", "add", Ns);
        root.Check("ip", "-n", Ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1");
        foreach (var dev in (string[])["lo", "eth0", "eth1"])
            root.Check("ip", "-n", Ns, "link", "set", dev, "up");
        root.Check("ip", "-n", Ns, "addr", "add", "10.231.0.2/24", "dev", "eth0");
        string[] start = ["ip", "netns", "exec", Ns, "setpriv", "--reuid", user, "--regid", unit["Service.Group"], "--init-groups",
            "--inh-caps", caps, "--ambient-caps", caps, "--", .. exec];
        var pidFile = DebPackage.ArgumentOf(exec, "-p");
        RunningProcess? daemon = null;
        try
        {
            daemon = root.Start("lb.service", start);

            // lb status answers (default socket: beside -p /run/lb/lb.pid), and VI_PKG becomes MASTER.
            ProcessResult? status = null;
            var master = Wait.Until(() => (status = root.Run("/usr/sbin/lb", "status")).ExitCode == 0 && status.Stdout.Contains("MASTER", StringComparison.Ordinal), bound, pollMilliseconds: 500);
            Assert.True(master, $"lb status: {status?.Output}\n--- daemon ---\n{daemon.Output}");
            Assert.Contains("VI_PKG", status!.Stdout, StringComparison.Ordinal);
            var pid = root.Check("cat", pidFile).Trim();
            Assert.Equal(user, root.Check("ps", "-o", "user=", "-p", pid).Trim());
            // lb status says MASTER when the instance enters the state; the VIP is added right after: wait for it (bounded).
            var addr = "";
            Assert.True(Wait.Until(() => (addr = root.Check("ip", "-n", Ns, "-4", "addr", "show", "dev", "eth0")).Contains($"inet {Vip}/24", StringComparison.Ordinal), bound, pollMilliseconds: 200),
                $"{Vip} not on eth0:\n{addr}\n--- daemon ---\n{daemon.Output}");
            var ipvs = "";
            Wait.Until(() => (ipvs = root.Check("ip", "netns", "exec", Ns, "ipvsadm", "-Ln")).Contains("10.231.0.11:80", StringComparison.Ordinal), bound, pollMilliseconds: 200);
            Assert.Contains($"TCP  {Vip}:80 rr", ipvs, StringComparison.Ordinal);
            Assert.Contains("10.231.0.11:80", ipvs, StringComparison.Ordinal);
            var journal = DebPackage.ArgumentOf(exec, "--journal");
            Assert.True(Wait.Until(() => root.Run("test", "-s", journal).ExitCode == 0, bound, pollMilliseconds: 500), $"{journal} stayed empty\n{daemon.Output}");
            Assert.Equal($"{user}:{user}", root.Check("stat", "-c", "%U:%G", journal).Trim());

            // Stop (systemd's stop is SIGTERM to the main process): VIP and IPVS entries go.
            root.Check("kill", "-TERM", pid);
            Assert.True(daemon.WaitForExit(bound), daemon.Output);
            Assert.Equal(0, daemon.ExitCode);
            Assert.DoesNotContain(Vip, root.Check("ip", "-n", Ns, "-4", "addr", "show", "dev", "eth0"), StringComparison.Ordinal);
            Assert.DoesNotContain(Vip, root.Check("ip", "netns", "exec", Ns, "ipvsadm", "-Ln"), StringComparison.Ordinal);

            // ExecStopPost (run by systemd after lb exits, however it ended) as the unit's user: deletes the announce routes a
            // crashed lb left (one is put there as a dead lb leaves it), and nothing else; journaled in the daemon's journal.
            root.Check("ip", "-n", Ns, "route", "add", "198.51.100.77/32", "dev", "lo", "table", "200", "proto", "249");
            root.Check("ip", "-n", Ns, "route", "add", "198.51.100.78/32", "dev", "lo", "table", "200", "proto", "static");
            var post = root.Run(["ip", "netns", "exec", Ns, "setpriv", "--reuid", user, "--regid", unit["Service.Group"], "--init-groups",
                "--inh-caps", caps, "--ambient-caps", caps, "--", .. DebPackage.Exec(unit, "ExecStopPost")]);
            Assert.True(post.ExitCode == 0, post.Output);
            Assert.Equal("deleted route 198.51.100.77/32 table 200 proto 249", post.Stdout.Trim());
            Assert.Equal("198.51.100.78 dev lo proto static scope link", root.Check("ip", "-n", Ns, "route", "show", "table", "200").Trim());
            Assert.Contains("\"reason\":\"lb not running (lb announce withdraw)\"", root.Check("tail", "-n", "1", journal), StringComparison.Ordinal);
        }
        finally
        {
            daemon?.Dispose();
            root.Run("ip", "netns", "del", Ns);
        }

        // dpkg -r: the binary and the unit go; the conffile (with the operator's edit) and the state stay.
        root.Check("dpkg", "-r", "lb");
        Assert.Equal("deinstall ok config-files", root.Check("dpkg-query", "-W", "-f=${Status}", "lb"));
        Assert.False(root.Exists("/usr/sbin/lb"));
        Assert.False(root.Exists("/usr/lib/systemd/system/lb.service"));
        Assert.False(root.Exists("/usr/share/man/man8/lb.8.gz"));
        Assert.Contains(Marker, root.Check("cat", "/etc/lb/keepalived.conf"), StringComparison.Ordinal);
        Assert.True(root.Exists(DebPackage.ArgumentOf(exec, "--journal")), "dpkg -r removed the journal");

        // dpkg -P: nothing left, dpkg forgets the package.
        root.Check("dpkg", "-P", "lb");
        Assert.Contains("no packages found matching lb", root.Run("dpkg-query", "-W", "lb").Output, StringComparison.Ordinal);
        foreach (var path in (string[])["/etc/lb", "/var/lib/lb", "/usr/sbin/lb", "/usr/lib/systemd/system/lb.service", "/usr/share/man/man8/lb.8.gz",
            "/usr/share/doc/lb", "/etc/systemd/system/multi-user.target.wants/lb.service", "/etc/systemd/system/lb.service"])
            Assert.False(root.Exists(path), $"{path} is still there after dpkg -P");
        Assert.Equal("", root.Check("sh", "-c", "ls /var/lib/systemd/deb-systemd-helper-enabled 2>/dev/null | grep -F lb.service || true").Trim());
    }
}
