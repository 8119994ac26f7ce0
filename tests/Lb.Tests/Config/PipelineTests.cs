using System.Net;
using Lb.Config;
using Lb.TestSupport;
using Xunit;

namespace Lb.Tests.Config;

/// <summary>
/// One validation: the mappers run inside <see cref="ConfigLoader"/>, so what they find is in <see cref="LoadedConfig.Diagnostics"/>
/// and the exit code, and <c>lb -t</c>, start and reload judge the same list.
/// </summary>
public sealed class PipelineTests
{
    private const string UrlWithoutPath = """
        virtual_server 10.0.0.1 80 {
          protocol TCP
          real_server 10.0.0.2 80 {
            HTTP_GET {
              url {
                status_code 200
              }
              url {
                path /
              }
            }
          }
        }

        """;

    [Fact]
    public void A_mapping_error_is_a_diagnostic_of_the_load_and_counts_in_the_exit_code()
    {
        // keepalived 2.2.7 -t on this file: "(url2.conf: Line 7) HTTP/SSL_GET checker url has no path - ignoring", exit 5.
        var config = ConfigLoader.LoadText(UrlWithoutPath, "u.conf");
        var d = Assert.Single(config.Diagnostics, d => d.Message.Contains("url has no path", StringComparison.Ordinal));
        Assert.Equal("(u.conf: Line 5) HTTP/SSL_GET checker url has no path - ignoring", d.ToString());
        Assert.Equal(Severity.Error, d.Severity);
        Assert.Equal(5, config.ExitCode);
        Assert.Contains(d, config.Options.Diagnostics);
        // The url without a path is dropped; the other one is kept.
        var http = Assert.IsType<global::Lb.Checkers.Options.HttpCheckOptions>(Assert.Single(Assert.Single(Assert.Single(config.Options.Checkers.VirtualServers).RealServers).Checkers));
        Assert.Equal("/", Assert.Single(http.Urls).Path);
    }

    [Fact]
    public void Lb_t_prints_the_mappers_diagnostics_and_exits_with_their_code()
    {
        var dir = Directory.CreateTempSubdirectory("lb-pipeline-");
        var path = Path.Combine(dir.FullName, "u.conf");
        File.WriteAllText(path, UrlWithoutPath);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = global::Lb.Cli.Run(["-t", "-f", path], stdout, stderr);
        Assert.Equal(5, code);
        Assert.Contains($"({path}: Line 5) HTTP/SSL_GET checker url has no path - ignoring", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_ipv6_range_in_a_virtual_server_group_is_a_range_of_the_last_group_in_hex()
    {
        // keepalived 2.2.7 (inet_stor): the end is hexadecimal and replaces the last 16-bit group; -t exits 0.
        var config = ConfigLoader.LoadText("virtual_server_group G {\n  fe80::1-1f 80\n  10.0.0.1-3 80\n}\nvirtual_server group G {\n  lvs_sched rr\n  lvs_method NAT\n  protocol TCP\n  real_server 10.0.0.2 80 {\n  }\n}\n", "g.conf");
        Assert.Equal(0, config.ExitCode);
        var vs = Assert.Single(config.Options.Checkers.VirtualServers);
        Assert.Collection(vs.GroupEntries,
            e => Assert.Equal((IPAddress.Parse("fe80::1"), IPAddress.Parse("fe80::1f")), (e.Address, e.AddressEnd)),
            e => Assert.Equal((IPAddress.Parse("10.0.0.1"), IPAddress.Parse("10.0.0.3")), (e.Address, e.AddressEnd)));
    }

    [Fact]
    public void An_included_file_is_named_by_the_path_its_include_matched()
    {
        // keepalived 2.2.7, -f main.conf with "include sub/inc.conf": "(sub/inc.conf: Line 3) number '300' outside range [1, 255]";
        // the main file is named as given to -f ("(/tmp/pl/m2.conf: Line 6) ..." with an absolute -f).
        var dir = Directory.CreateTempSubdirectory("lb-pipeline-");
        Directory.CreateDirectory(Path.Combine(dir.FullName, "sub"));
        File.WriteAllText(Path.Combine(dir.FullName, "main.conf"), "global_defs {\n  router_id x y\n}\ninclude sub/inc.conf\n");
        File.WriteAllText(Path.Combine(dir.FullName, "sub", "inc.conf"), "vrrp_instance VI_1 {\n  interface lo\n  virtual_router_id 300\n}\n");
        var main = Path.Combine(dir.FullName, "main.conf");
        var config = ConfigLoader.Load(main);
        Assert.Contains(config.Diagnostics, d => d.ToString() == "(sub/inc.conf: Line 3) number '300' outside range [1, 255]");
        Assert.Contains(config.Diagnostics, d => d.ToString().StartsWith($"({main}: Line 2) ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_reload_of_the_unchanged_file_is_not_refused_for_what_the_mappers_found_at_start()
    {
        // Before: the mappers ran after the loader, their errors were not among the accepted ones, and every SIGHUP was refused.
        var dir = Directory.CreateTempSubdirectory("lb-pipeline-");
        var path = Path.Combine(dir.FullName, "u.conf");
        File.WriteAllText(path, UrlWithoutPath);
        var options = global::Lb.CliOptions.Parse(["-f", path]);
        var running = ConfigLoader.Load(path, new ConfigLoadOptions { CheckInterfaces = true });
        Assert.Equal(5, running.ExitCode);
        var log = new ListLogger();
        using var notify = new global::Lb.Hosting.SdNotify(null);
        using var reloader = new global::Lb.Hosting.Reloader(options, running, log, notify, () => "ok", vrrp: null, checkers: null);
        reloader.Request();
        Assert.True(SpinWait.SpinUntil(() => reloader.Completed >= 1, TimeSpan.FromSeconds(120)), "the reload did not end");
        Assert.Contains(log.Lines, l => l.EndsWith("HTTP/SSL_GET checker url has no path - ignoring", StringComparison.Ordinal));
        Assert.DoesNotContain(log.Lines, l => l.StartsWith("Reload refused", StringComparison.Ordinal));
        Assert.Contains("Reload complete", log.Lines);

        // A new mapping error is refused like any other new error.
        File.WriteAllText(path, UrlWithoutPath + "virtual_server 10.0.0.9 80 {\n  lvs_sched rr\n  lvs_method NAT\n  protocol TCP\n  real_server 10.0.0.2 80 {\n    MISC_CHECK {\n      misc_timeout 3\n    }\n  }\n}\n");
        reloader.Request();
        Assert.True(SpinWait.SpinUntil(() => reloader.Completed >= 2, TimeSpan.FromSeconds(120)), "the reload did not end");
        Assert.Contains(log.Lines, l => l.EndsWith("MISC_CHECK without misc_path - ignoring", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.StartsWith("Reload refused", StringComparison.Ordinal));
    }
}
