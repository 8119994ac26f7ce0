using Lb.Config;
using Lb.Config.Mapping;
using Lb.Scripts;
using Xunit;

namespace Lb.Tests.Config;

/// <summary>
/// The user a script runs as, resolved as keepalived 2.2.7 resolves it at configuration time: a <c>script_user</c> or a
/// script's own <c>user</c> that does not exist, and <c>enable_script_security</c> on a host without the
/// <c>keepalived_script</c> user, drop the scripts with keepalived's messages (configuration errors, <c>-t</c> exits 5).
/// The host's user database is replaced where the case depends on it; the real lookup is tested on names that exist
/// (root) and names that cannot.
/// </summary>
public sealed class ScriptUserVerdictTests
{
    /// <summary>A user and group name no host has.</summary>
    private static readonly string Nobody = $"lb-no-such-user-{Guid.NewGuid():N}"[..31];

    private static string Config(string global, string scriptUser = "") => $$"""
        global_defs {
        {{global}}
        }
        vrrp_script chk {
          script "/bin/true"
          {{scriptUser}}
        }
        vrrp_instance VI_1 {
          interface eth0
          virtual_router_id 51
          track_script {
            chk
          }
          notify_master "/bin/true master"
          virtual_ipaddress {
            10.0.0.1
          }
        }
        virtual_server 10.0.0.1 80 {
          lb_algo rr
          lb_kind DR
          protocol TCP
          real_server 10.0.0.2 80 {
            MISC_CHECK {
              misc_path "/bin/true x"
            }
          }
        }
        """;

    private static (LoadedConfig Loaded, SubsystemOptions Mapped) Load(string text, Func<string, string?, ScriptIdentity?>? users = null)
    {
        var loaded = ConfigLoader.LoadText(text, "users.conf", new ConfigLoadOptions { ScriptUsers = users });
        return (loaded, loaded.Options);
    }

    private static void AssertDropped(LoadedConfig loaded, SubsystemOptions mapped)
    {
        Assert.Equal(5, loaded.ExitCode);
        Assert.Contains(loaded.Diagnostics, d => d.Severity == Severity.Error && d.Message == "(VI_1) track script chk not found, ignoring...");
        Assert.Empty(mapped.Vrrp.Scripts);
        var instance = Assert.Single(mapped.Vrrp.Instances);
        Assert.Empty(instance.TrackScripts);
        Assert.Null(instance.NotifyMaster);
        Assert.Empty(Assert.Single(Assert.Single(mapped.Checkers.VirtualServers).RealServers).Checkers);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_script_user_that_does_not_exist_drops_every_script_without_its_own_user(bool group)
    {
        var (loaded, mapped) = Load(Config($"enable_script_security\nscript_user {(group ? $"root {Nobody}" : Nobody)}"));

        Assert.Contains(loaded.Diagnostics, d => d.Severity == Severity.Error && d.Message == "Error setting global script uid/gid" && d.Location.Line == 3);
        Assert.Contains(loaded.Diagnostics, d => d.Severity == Severity.Error && d.Message == "Unable to set default user for vrrp script chk - removing");
        Assert.Contains(loaded.Diagnostics, d => d.Severity == Severity.Error && d.Message == "Unable to set default user for misc script '/bin/true' 'x' - removing");
        AssertDropped(loaded, mapped);
    }

    [Fact]
    public void A_script_s_own_user_that_does_not_exist_drops_that_script()
    {
        var (loaded, mapped) = Load(Config("enable_script_security\nscript_user root", $"user {Nobody}"));

        Assert.Contains(loaded.Diagnostics, d => d.Severity == Severity.Error && d.Message == "Unable to set uid/gid for script '/bin/true'" && d.Location.Line == 7);
        Assert.Equal(5, loaded.ExitCode);
        Assert.Empty(mapped.Vrrp.Scripts);
        Assert.NotNull(Assert.Single(mapped.Vrrp.Instances).NotifyMaster);
    }

    [Fact]
    public void Root_exists_in_the_host_user_database()
    {
        var (loaded, mapped) = Load(Config("enable_script_security\nscript_user root root"));

        Assert.Equal(0, loaded.ExitCode);
        Assert.Single(mapped.Vrrp.Scripts);
        Assert.NotNull(Assert.Single(mapped.Vrrp.Instances).NotifyMaster);
    }

    /// <summary>A host without keepalived_script: whether this machine has one must not matter, so the lookup is replaced.</summary>
    private static ScriptIdentity? WithoutKeepalivedScript(string user, string? group) =>
        user == ScriptIdentity.DefaultUser ? null : ScriptIdentity.Lookup(user, group, out _);

    [Fact]
    public void Script_security_without_script_user_on_a_host_without_keepalived_script_drops_the_scripts()
    {
        var (loaded, mapped) = Load(Config("enable_script_security"), WithoutKeepalivedScript);

        Assert.Single(loaded.Diagnostics, d => d.Message == "Unable to set default user keepalived_script for script");
        AssertDropped(loaded, mapped);
    }

    [Fact]
    public void Without_script_security_a_host_without_keepalived_script_runs_scripts_as_lb_s_own_user()
    {
        var (loaded, mapped) = Load(Config(""), WithoutKeepalivedScript);

        Assert.DoesNotContain(loaded.Diagnostics, d => d.Severity == Severity.Error);
        Assert.Equal(6, loaded.ExitCode);
        Assert.Contains(loaded.Diagnostics, d => d.Message == "SECURITY VIOLATION - scripts are being executed but script_security not enabled.");
        Assert.Contains(loaded.Diagnostics, d => d.Message == "SECURITY VIOLATION - check scripts are being executed but script_security not enabled.");
        Assert.Single(mapped.Vrrp.Scripts);
    }

    [Fact]
    public void Script_security_on_a_host_with_keepalived_script_runs_scripts_as_that_user()
    {
        var (loaded, mapped) = Load(Config("enable_script_security"), (user, group) => user == ScriptIdentity.DefaultUser ? new ScriptIdentity(0, 0, user) : null);

        Assert.Equal(0, loaded.ExitCode);
        Assert.Single(mapped.Vrrp.Scripts);
    }
}
