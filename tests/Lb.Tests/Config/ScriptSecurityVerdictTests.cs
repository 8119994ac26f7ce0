using System.Diagnostics;
using System.Net.NetworkInformation;
using Lb.Config;
using Lb.Config.Mapping;
using Lb.TestSupport;
using Xunit;

namespace Lb.Tests.Config;

/// <summary>
/// enable_script_security with script_user root: scripts reachable by a non-root user (owned by nobody, behind a symlink into
/// a directory nobody owns, under a group-writable directory) are disabled, and <c>lb -t</c> gives keepalived 2.2.7's verdict:
/// exit 5 with "Disabling track script … due to insecure" for a vrrp_script; exit 0 for notify and MISC_CHECK scripts, which
/// keepalived drops silently. The mapped options no longer contain the script, so it never runs as root.
/// </summary>
public sealed class ScriptSecurityVerdictTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lb-verdict-").FullName;

    public ScriptSecurityVerdictTests() => File.SetUnixFileMode(_dir, (UnixFileMode)0b111_101_101);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [RootTheory("keepalived", "chown", "chgrp")]
    [InlineData("safe", 0)]
    [InlineData("nobody-owned", 5)]
    [InlineData("symlink-into-nobody-dir", 5)]
    [InlineData("group-writable-dir", 5)]
    public void A_track_script_reachable_by_another_user_is_disabled_as_keepalived_does(string attack, int expected)
    {
        var script = Attack(attack);
        var conf = Write($"{attack}.conf", Vrrp(script, withTrackScript: true));

        Assert.Equal(expected, KeepalivedOracleTests.RunKeepalived(conf).Code);
        var loaded = ConfigLoader.Load(conf, new ConfigLoadOptions { CheckInterfaces = true });
        Assert.Equal(expected, loaded.ExitCode);
        var mapped = loaded.Options;
        var instance = Assert.Single(mapped.Vrrp.Instances);
        if (expected == 0)
        {
            Assert.Single(mapped.Vrrp.Scripts);
            Assert.NotNull(instance.NotifyMaster);
            return;
        }
        Assert.Contains(loaded.Diagnostics, d => d.Severity == Severity.Error && d.Message == "Disabling track script chk due to insecure" && d.Location.Line == 5);
        Assert.Empty(mapped.Vrrp.Scripts);
        Assert.Empty(instance.TrackScripts);
        Assert.Null(instance.NotifyMaster);
    }

    [RootTheory("keepalived", "chown", "chgrp")]
    [InlineData("nobody-owned")]
    [InlineData("symlink-into-nobody-dir")]
    [InlineData("group-writable-dir")]
    public void Notify_and_misc_check_scripts_reachable_by_another_user_are_dropped_silently_as_keepalived_does(string attack)
    {
        var script = Attack(attack);
        var vrrp = Write($"{attack}-notify.conf", Vrrp(script, withTrackScript: false));
        Assert.Equal(0, KeepalivedOracleTests.RunKeepalived(vrrp).Code);
        var loadedVrrp = ConfigLoader.Load(vrrp, new ConfigLoadOptions { CheckInterfaces = true });
        Assert.Equal(0, loadedVrrp.ExitCode);
        Assert.Null(Assert.Single(loadedVrrp.Options.Vrrp.Instances).NotifyMaster);

        var misc = Write($"{attack}-misc.conf", $$"""
            global_defs {
              enable_script_security
              script_user root
            }
            virtual_server 10.1.1.1 80 {
              delay_loop 5
              lb_algo rr
              lb_kind DR
              protocol TCP
              real_server 10.1.1.2 80 {
                notify_up "{{script}}"
                MISC_CHECK {
                  misc_path "{{script}} arg"
                }
              }
            }
            """);
        Assert.Equal(0, KeepalivedOracleTests.RunKeepalived(misc).Code);
        var loadedMisc = ConfigLoader.Load(misc, new ConfigLoadOptions { CheckInterfaces = true });
        Assert.Equal(0, loadedMisc.ExitCode);
        var rs = Assert.Single(Assert.Single(loadedMisc.Options.Checkers.VirtualServers).RealServers);
        Assert.Empty(rs.Checkers);
        Assert.Null(rs.NotifyUp);
    }

    /// <summary>
    /// Host checks as keepalived makes them, on what the test creates: a script_user no host has (every script without its
    /// own user dropped, exit 5), a track script that does not exist (disabled, exit 5), one that is not executable (dropped
    /// silently, exit 0).
    /// </summary>
    [RootTheory("keepalived")]
    [InlineData("no-such-user", 5)]
    [InlineData("missing-script", 5)]
    [InlineData("not-executable", 0)]
    public void Host_checks_give_keepalived_s_verdict(string kind, int expected)
    {
        var user = kind == "no-such-user" ? $"lb-no-such-user-{Environment.ProcessId}" : "root";
        var script = kind switch
        {
            "missing-script" => Path.Combine(_dir, "missing.sh"),
            "not-executable" => Script("noexec.sh", Path.Combine(_dir, "ran")),
            _ => Script("ok.sh", Path.Combine(_dir, "ran")),
        };
        if (kind == "not-executable")
            File.SetUnixFileMode(script, (UnixFileMode)0b110_100_100);
        var conf = Write($"{kind}.conf", Vrrp(script, withTrackScript: true).Replace("script_user root", $"script_user {user}", StringComparison.Ordinal));

        Assert.Equal(expected, KeepalivedOracleTests.RunKeepalived(conf).Code);
        var loaded = ConfigLoader.Load(conf, new ConfigLoadOptions { CheckInterfaces = true });
        Assert.Equal(expected, loaded.ExitCode);
        var mapped = loaded.Options;
        Assert.Empty(mapped.Vrrp.Scripts);
        Assert.Empty(Assert.Single(mapped.Vrrp.Instances).TrackScripts);
    }

    private string Attack(string attack)
    {
        var marker = Path.Combine(_dir, "ran-as-root");
        switch (attack)
        {
            case "safe":
                return Script("safe.sh", marker);
            case "nobody-owned":
                var owned = Script("nobody.sh", marker);
                Run("chown", "nobody", owned);
                return owned;
            case "symlink-into-nobody-dir":
                var dir = Path.Combine(_dir, "nob");
                Directory.CreateDirectory(dir);
                File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
                var target = Script("nob/s.sh", marker);
                Run("chown", "nobody", dir);
                var link = Path.Combine(_dir, "link.sh");
                File.CreateSymbolicLink(link, target);
                return link;
            default:
                var sub = Path.Combine(_dir, "sub");
                Directory.CreateDirectory(sub);
                File.SetUnixFileMode(sub, (UnixFileMode)0b111_111_101);
                Run("chgrp", "nogroup", sub);
                return Script("sub/s.sh", marker);
        }
    }

    private static string Vrrp(string script, bool withTrackScript) => $$"""
        global_defs {
          enable_script_security
          script_user root
        }
        {{(withTrackScript ? "" : "#")}}vrrp_script chk {
        {{(withTrackScript ? "" : "#")}}  script "{{script}}"
        {{(withTrackScript ? "" : "#")}}  interval 1
        {{(withTrackScript ? "" : "#")}}}
        vrrp_instance VI_1 {
          state BACKUP
          interface {{Interface()}}
          virtual_router_id 51
          priority 100
          virtual_ipaddress {
            10.9.9.9/32
          }
          {{(withTrackScript ? "" : "#")}}track_script {
          {{(withTrackScript ? "" : "#")}}  chk
          {{(withTrackScript ? "" : "#")}}}
          notify_master "{{script}} master"
        }
        """;

    private static string Interface() =>
        NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(i => i.NetworkInterfaceType != NetworkInterfaceType.Loopback && i.SupportsMulticast && i.OperationalStatus == OperationalStatus.Up)?.Name
        ?? throw new InvalidOperationException("no multicast interface that is up for the vrrp_instance (keepalived -t refuses others)");

    private string Script(string relative, string marker)
    {
        var path = Path.Combine(_dir, relative);
        File.WriteAllText(path, $"#!/bin/sh\ntouch {marker}\n");
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        return path;
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static void Run(string program, params string[] args)
    {
        var r = ProcessRunner.Run(program, args);
        Assert.True(r.Succeeded, $"{r.Command} failed: {r.Output}");
    }
}
