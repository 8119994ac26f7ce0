using System.Net.Sockets;
using Lb.Lb.Tests.EndToEnd;
using Lb.TestSupport;
using Xunit;

namespace Lb.Lb.Tests.Announce;

/// <summary>
/// <c>lb announce withdraw</c> (the unit's ExecStopPost) as a user runs it: the NativeAOT lb in a network namespace of
/// the host (routes need no IPVS), with <c>ip route</c> as the oracle of what it deleted and kept. Its use against FRR
/// after a crash is EcmpKernelTests's; as the packaged unit's user, DebPackageKernelTests's.
/// </summary>
public sealed class WithdrawCommandTests
{
    private static ProcessResult Withdraw(string ns, params string[] args) =>
        ProcessRunner.Run(new ProcessOptions { Timeout = TimeSpan.FromSeconds(60) }, "ip", ["netns", "exec", ns, LbLab.LbPath, "announce", "withdraw", .. args]);

    private static void Routes(string ns)
    {
        // What a dead lb leaves (proto 249 host routes in its announce table, any table after a reload; its local route),
        // and what is not its own (another protocol, a prefix).
        NetnsLab.Run("ip", "-n", ns, "route", "add", "198.51.100.10/32", "dev", "lo", "table", "200", "proto", "249");
        NetnsLab.Run("ip", "-n", ns, "-6", "route", "add", "2001:db8::10/128", "dev", "lo", "table", "201", "proto", "249");
        NetnsLab.Run("ip", "-n", ns, "route", "add", "local", "198.51.100.10/32", "dev", "lo", "table", "local", "proto", "249");
        NetnsLab.Run("ip", "-n", ns, "route", "add", "198.51.100.11/32", "dev", "lo", "table", "200", "proto", "static");
        NetnsLab.Run("ip", "-n", ns, "route", "add", "198.51.100.0/24", "dev", "lo", "table", "200", "proto", "249");
    }

    private static string Proto249(string ns) =>
        NetnsLab.Run("ip", "-n", ns, "route", "show", "table", "all", "proto", "249") + NetnsLab.Run("ip", "-n", ns, "-6", "route", "show", "table", "all", "proto", "249");

    [RootFact("ip")]
    public void Deletes_the_announce_routes_of_a_dead_lb_and_nothing_else_and_journals_them()
    {
        using var lab = new NetnsLab();
        var ns = lab.AddNamespace("wd");
        NetnsLab.Run("ip", "-n", ns, "link", "set", "lo", "up");
        Routes(ns);
        var journal = Path.Combine(lab.Directory, "journal.jsonl");
        // A crashed daemon's socket file: nobody listens on it.
        var sock = Path.Combine(lab.Directory, "lb.sock");
        using (var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            s.Bind(new UnixDomainSocketEndPoint(sock));

        var r = Withdraw(ns, "--socket", sock, "--journal", journal);
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Equal(["deleted route 198.51.100.10/32 table 200 proto 249", "deleted route 2001:db8::10/128 table 201 proto 249"],
            r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
        var left = Proto249(ns);
        Assert.DoesNotContain("198.51.100.10 dev lo table 200", left, StringComparison.Ordinal);
        Assert.DoesNotContain("2001:db8::10", left, StringComparison.Ordinal);
        Assert.Contains("local 198.51.100.10 dev lo table local", left, StringComparison.Ordinal);
        Assert.Contains("198.51.100.0/24 dev lo table 200", left, StringComparison.Ordinal);
        Assert.Contains("198.51.100.11 dev lo proto static", NetnsLab.Run("ip", "-n", ns, "route", "show", "table", "200"), StringComparison.Ordinal);
        var lines = File.ReadAllLines(journal);
        Assert.Equal(2, lines.Length);
        Assert.All(lines, l => Assert.Contains("\"old\":\"announced\",\"new\":\"withdrawn\",\"reason\":\"lb not running (lb announce withdraw)\"", l, StringComparison.Ordinal));

        // Again: nothing left to do, nothing printed, success (ExecStopPost after a clean stop).
        r = Withdraw(ns, "--socket", sock);
        Assert.Equal((0, ""), (r.ExitCode, r.Stdout));
    }

    [RootFact("ip")]
    public void Is_refused_while_a_daemon_answers_on_the_socket_and_deletes_nothing()
    {
        using var lab = new NetnsLab();
        var ns = lab.AddNamespace("wr");
        Routes(ns);
        var sock = Path.Combine(lab.Directory, "lb.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(sock));
        listener.Listen(1);
        var before = Proto249(ns);
        var r = Withdraw(ns, "--socket", sock);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"lb is running (it answers on {sock})", r.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, Proto249(ns));

        r = Withdraw(ns, "--bogus");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("unknown argument '--bogus'", r.Stderr, StringComparison.Ordinal);
        r = Withdraw(ns, "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith("usage: lb announce withdraw", r.Stdout, StringComparison.Ordinal);
        Assert.Equal(before, Proto249(ns));
    }
}
