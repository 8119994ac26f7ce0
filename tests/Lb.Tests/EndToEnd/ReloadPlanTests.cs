using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>
/// <c>lb reload --plan</c> and <c>lb reload</c> through the binary, against a MASTER in a network namespace, with
/// <c>ip addr</c> as the oracle: the plan names the VIP the edited file adds and the address is still absent after it;
/// <c>lb reload</c> adds it (before it replies) and prints the same line; a file with an error is refused by both (exit 1,
/// the error with its file and line) and changes nothing.
/// </summary>
public sealed class ReloadPlanTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(45);

    private static string Config(int vrid, params string[] vips) => $$"""
        global_defs {
            router_id plh
        }
        vrrp_instance VI_1 {
            state MASTER
            interface eth0
            virtual_router_id {{vrid}}
            priority 150
            advert_int 1
            virtual_ipaddress {
        {{string.Join("\n", vips.Select(v => $"        {v}/24 dev eth0"))}}
            }
        }
        """;

    private static ProcessResult RunLb(string socket, params string[] args) =>
        ProcessRunner.Run(new ProcessOptions { Timeout = Bound }, LbLab.LbPath, [.. args, "--socket", socket]);

    [RootFact("ip")]
    public void The_plan_lists_the_VIP_without_adding_it_the_reload_adds_it_and_a_file_with_an_error_is_refused_by_both()
    {
        using var lab = new NetnsLab();
        var a = lab.AddHost("plha", "10.0.0.2/24");
        var config = lab.WriteFile("plh.conf", Config(51, "10.0.0.100"));
        var socket = Path.Combine(lab.Directory, "plh.sock");
        var lb = lab.StartLb(a, "lb", ["-n", "-l", "-P", "-f", config, "--journal", Path.Combine(lab.Directory, "plh.jsonl"), "--socket", socket]);
        try
        {
            Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(a, "10.0.0.100/24"), Bound), "lb never became MASTER");
            Assert.Equal("no change\n", RunLb(socket, "reload", "--plan").EnsureSuccess().Stdout);

            File.WriteAllText(config, Config(51, "10.0.0.100", "10.0.0.101"));
            var plan = RunLb(socket, "reload", "--plan");
            output.WriteLine(plan.Output);
            Assert.Equal(0, plan.ExitCode);
            Assert.Contains("vrrp: instance VI_1: virtual_ipaddress + 10.0.0.101/24 dev eth0\n", plan.Stdout);
            Assert.DoesNotContain("10.0.0.101/24", lab.Addresses(a));

            var reload = RunLb(socket, "reload");
            output.WriteLine(reload.Output);
            Assert.Equal(0, reload.ExitCode);
            Assert.Equal(plan.Stdout, reload.Stdout);
            Assert.Contains("10.0.0.101/24", lab.Addresses(a)); // added before the reply
            Assert.Equal("no change\n", RunLb(socket, "reload", "--plan").EnsureSuccess().Stdout);

            // An error (VRID out of range) in a file that would also add a VIP: refused by the plan and by the reload.
            var bad = Config(300, "10.0.0.100", "10.0.0.101", "10.0.0.102");
            File.WriteAllText(config, bad);
            var line = bad.Split('\n').ToList().FindIndex(l => l.Contains("virtual_router_id 300", StringComparison.Ordinal)) + 1;
            foreach (var args in new[] { new[] { "reload", "--plan" }, ["reload"] })
            {
                var refused = RunLb(socket, args);
                output.WriteLine(refused.Output);
                Assert.Equal(1, refused.ExitCode);
                Assert.Contains($"{config}:{line}: error: ", refused.Stderr);
                Assert.Equal("", refused.Stdout);
            }
            Assert.Equal(["10.0.0.100/24", "10.0.0.101/24"], lab.Addresses(a).Where(x => x.StartsWith("10.0.0.10", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
            Assert.False(lb.HasExited);
        }
        finally
        {
            output.WriteLine(lb.Output);
        }
    }
}
