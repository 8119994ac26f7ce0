using Lb.Control;
using Lb.Lb.Tests.EndToEnd;
using Lb.Lb.Tests.Hosting;
using Lb.Status;
using Lb.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Lb.Tests.Control;

/// <summary>
/// The control commands on the status socket: the CLI's argv reaches the verb registered for its noun with the caller's
/// kernel-recorded credentials; unknown and unserved nouns are refused with a reason; only root, the daemon's uid and
/// the control group's members (primary or supplementary) may use it — checked with real processes of other uids
/// (<c>setpriv</c>) running the real <c>lb</c> client.
/// </summary>
public sealed class ControlCommandTests : IDisposable
{
    private readonly DirectoryInfo _dir;

    public ControlCommandTests()
    {
        _dir = Directory.CreateTempSubdirectory("lb-control-");
        // Other users must reach the socket inside (the check refuses group/other-writable directories, not readable ones).
        File.SetUnixFileMode(_dir.FullName, (UnixFileMode)0b111_101_101);
    }

    public void Dispose() => _dir.Delete(recursive: true);

    private string SocketPath => Path.Combine(_dir.FullName, "lb.sock");

    private StatusServer Start(ControlCommands commands, ControlAccess? access = null) =>
        StatusServer.Start(SocketPath, () => DaemonUnitTests.Report(), NullLogger.Instance, commands: commands, access: access)!;

    private static ControlCommands Echo(List<(ControlCaller Caller, string[] Args)> seen)
    {
        var commands = new ControlCommands();
        commands.Register("rs", (caller, args, _) =>
        {
            lock (seen)
                seen.Add((caller, args.ToArray()));
            return Task.FromResult(args.Count > 0 && args[0] == "fail" ? ControlReply.Refused("no such real server") : ControlReply.Ok($"did {string.Join(' ', args)} for {caller.User}"));
        });
        return commands;
    }

    [Fact]
    public async Task A_command_reaches_its_verb_with_the_arguments_after_the_noun_and_the_callers_credentials()
    {
        var seen = new List<(ControlCaller, string[])>();
        await using var server = Start(Echo(seen));
        var reply = await ControlClient.RunAsync(SocketPath, ["rs", "drain", "10.0.0.100:80", "10.0.0.11:80", "--timeout", "30"]);
        Assert.Equal(ControlCommands.Done, reply.ExitCode);
        var (caller, args) = Assert.Single(seen);
        Assert.Equal(["drain", "10.0.0.100:80", "10.0.0.11:80", "--timeout", "30"], args);
        Assert.Equal(global::Lb.Netlink.Platform.PeerCredentials.EffectiveUid, caller.Uid);
        Assert.Equal(Environment.ProcessId, caller.Pid);
        Assert.Equal($"did drain 10.0.0.100:80 10.0.0.11:80 --timeout 30 for {caller.User}", reply.Text);
        Assert.Equal($"{caller.User} (uid {caller.Uid}, pid {caller.Pid})", caller.Describe());

        var refused = await ControlClient.RunAsync(SocketPath, ["rs", "fail"]);
        Assert.Equal((ControlCommands.Refused, "no such real server"), (refused.ExitCode, refused.Text));
        // A noun Lb knows but this daemon does not serve, and one nobody knows.
        var unserved = await ControlClient.RunAsync(SocketPath, ["vrrp", "failover", "VI_1"]);
        Assert.Equal(ControlCommands.Refused, unserved.ExitCode);
        Assert.Contains("does not run what 'lb vrrp' controls", unserved.Text, StringComparison.Ordinal);
        var unknown = await ControlClient.RunAsync(SocketPath, ["frob"]);
        Assert.Contains("unknown command 'frob'", unknown.Text, StringComparison.Ordinal);
        // The status request on the same socket is unchanged.
        Assert.True((await StatusClient.QueryAsync(SocketPath)).Ok);
    }

    [Fact]
    public async Task The_cli_client_prints_the_reply_and_exits_with_its_code()
    {
        var seen = new List<(ControlCaller, string[])>();
        await using var server = Start(Echo(seen));
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Assert.Equal(0, Cli.Run(["rs", "enable", "1.2.3.4:80", "5.6.7.8:80", "--socket", SocketPath], stdout, stderr));
        Assert.StartsWith("did enable 1.2.3.4:80 5.6.7.8:80 for ", stdout.ToString(), StringComparison.Ordinal);
        (stdout, stderr) = (new StringWriter(), new StringWriter());
        Assert.Equal(1, Cli.Run(["rs", "fail", "--socket", SocketPath], stdout, stderr));
        Assert.Equal("no such real server\n", stderr.ToString());
        Assert.Equal(3, Cli.Run(["rs", "enable", "a", "b", "--socket", Path.Combine(_dir.FullName, "none.sock")], stdout, stderr));
        Assert.Equal(0, Cli.Run(["rs", "--help"], stdout, stderr));
        Assert.Contains("lb rs drain VS RS [--timeout SECONDS]", stdout.ToString(), StringComparison.Ordinal);
    }

    [RootFact("setpriv")]
    public async Task Only_root_the_daemons_uid_and_the_control_groups_members_may_control_it()
    {
        Prerequisites.Require(File.Exists(LbLab.LbPath), $"the published lb ({LbLab.LbPath})");
        const uint group = 47123; // a numeric group: nothing in /etc/group is touched
        var seen = new List<(ControlCaller Caller, string[] Args)>();
        await using var server = Start(Echo(seen), ControlAccess.For(group.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var st = global::Lb.Netlink.Platform.FileStatus.TryGetLink(SocketPath)!.Value;
        Assert.Equal(group, st.Gid);
        Assert.Equal((UnixFileMode)0b110_110_000, st.Permissions & (UnixFileMode)0b111_111_111);

        ProcessResult As(params string[] ids) =>
            ProcessRunner.Run(new ProcessOptions(), "setpriv", [.. ids, LbLab.LbPath, "rs", "disable", "10.0.0.100:80", "10.0.0.11:80", "--socket", SocketPath]);

        var primary = As("--reuid=65534", "--regid=" + group, "--clear-groups");
        Assert.True(primary.ExitCode == 0, primary.Stderr + primary.Stdout);
        var supplementary = As("--reuid=65534", "--regid=65534", "--groups=" + group);
        Assert.True(supplementary.ExitCode == 0, supplementary.Stderr + supplementary.Stdout);
        // An outsider cannot connect (mode 0660, another group); with the mode widened the daemon still refuses it.
        Assert.Equal(ControlCommands.Unreachable, As("--reuid=65534", "--regid=65534", "--clear-groups").ExitCode);
        File.SetUnixFileMode(SocketPath, (UnixFileMode)0b110_110_110);
        var outsider = As("--reuid=65534", "--regid=65534", "--clear-groups");
        Assert.Equal(ControlCommands.PermissionDenied, outsider.ExitCode);
        Assert.Contains("permission denied: ", outsider.Stderr, StringComparison.Ordinal);
        Assert.Contains("(uid 65534, pid ", outsider.Stderr, StringComparison.Ordinal);
        // The two members reached the verb as uid 65534; the outsider never did.
        Assert.Equal(2, seen.Count);
        Assert.All(seen, s => Assert.Equal(65534u, s.Caller.Uid));
    }

    [RootFact("setpriv")]
    public async Task Without_a_control_group_another_user_cannot_even_connect_and_is_refused_if_the_mode_is_widened()
    {
        Prerequisites.Require(File.Exists(LbLab.LbPath), $"the published lb ({LbLab.LbPath})");
        var seen = new List<(ControlCaller, string[])>();
        await using var server = Start(Echo(seen));
        var st = global::Lb.Netlink.Platform.FileStatus.TryGetLink(SocketPath)!.Value;
        Assert.Equal((UnixFileMode)0b110_000_000, st.Permissions & (UnixFileMode)0b111_111_111);
        string[] client = [LbLab.LbPath, "rs", "disable", "a:1", "b:1", "--socket", SocketPath];
        var blocked = ProcessRunner.Run(new ProcessOptions(), "setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", .. client]);
        Assert.Equal(ControlCommands.Unreachable, blocked.ExitCode);
        File.SetUnixFileMode(SocketPath, (UnixFileMode)0b110_110_110);
        var refused = ProcessRunner.Run(new ProcessOptions(), "setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", .. client]);
        Assert.Equal(ControlCommands.PermissionDenied, refused.ExitCode);
        Assert.Empty(seen);
    }
}
