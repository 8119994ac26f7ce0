using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Lb.Lb.Tests.EndToEnd;
using Lb.Metrics;
using Lb.Netlink.Platform;
using Lb.Status;
using Lb.TestSupport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.Hosting;

/// <summary>
/// The local attacks on the daemon's sockets and signals (issue 9): idle connections crowding out the metrics scrape, another
/// user's listener on the status path, an --interval that is not a number, and signals sent while the daemon starts.
/// </summary>
public sealed class SocketDefenceTests(ITestOutputHelper output)
{
    private const uint Nobody = 65534;

    // ---- metrics: idle connections ----

    [Fact]
    public async Task Metrics_scrape_succeeds_while_more_idle_connections_than_the_limit_are_open()
    {
        var server = MetricsServer.Start(new IPEndPoint(IPAddress.Loopback, 0), () => "lb_up 1\n", NullLogger.Instance);
        var idle = new List<Socket>();
        try
        {
            for (var i = 0; i < MetricsServer.MaxConcurrent + 4; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                idle.Add(s);
                await s.ConnectAsync(server.EndPoint);
            }
            // Accepted in order: the four beyond the limit each closed the oldest idle one.
            Assert.True(NetnsLab.WaitFor(() => server.Evicted == 4 && server.Connections == MetricsServer.MaxConcurrent, TimeSpan.FromSeconds(30)),
                $"held {server.Connections}, evicted {server.Evicted}");

            var response = await ScrapeAsync(server.EndPoint);
            Assert.StartsWith("HTTP/1.1 200 OK\r\n", response, StringComparison.Ordinal);
            Assert.EndsWith("\r\n\r\nlb_up 1\n", response, StringComparison.Ordinal);
            // The scrape made room by closing the oldest idle connection, which sees end of stream.
            Assert.Equal(5, server.Evicted);
            idle[0].ReceiveTimeout = 30_000;
            Assert.Equal(0, idle[0].Receive(new byte[1]));
        }
        finally
        {
            foreach (var s in idle)
                s.Dispose();
            await server.DisposeAsync();
        }
    }

    private static async Task<string> ScrapeAsync(IPEndPoint endPoint)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(endPoint, cts.Token);
        await s.SendAsync(Encoding.ASCII.GetBytes("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n"), SocketFlags.None, cts.Token);
        using var ms = new MemoryStream();
        var buffer = new byte[8192];
        int n;
        while ((n = await s.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
            ms.Write(buffer, 0, n);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    // ---- lb status --interval ----

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("-1")]
    [InlineData("0")]
    [InlineData("abc")]
    [InlineData("1e-12")]
    [InlineData("1e300")]
    public void Status_interval_that_is_not_a_positive_finite_number_is_refused_with_the_usage(string value)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.Equal(1, StatusCommand.Run(["--watch", "--interval", value], stdout, stderr));
        Assert.Contains($"--interval '{value}'", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains(StatusCommand.Usage, stderr.ToString(), StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(0.5), StatusCommand.ParseInterval("0.5"));
    }

    // ---- status socket: another user's listener, directories, clients ----

    /// <summary>A unix stream server that answers every connection with the bytes of a file.</summary>
    private const string ForgingServer = """
        import os, socket, sys
        path, reply = sys.argv[1], open(sys.argv[2], 'rb').read()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        os.chmod(path, 0o666)
        s.listen(8)
        print('ready', flush=True)
        while True:
            c, _ = s.accept()
            try:
                c.settimeout(5)
                c.recv(256)
                c.sendall(reply)
            except OSError:
                pass
            finally:
                c.close()
        """;

    /// <summary>Sends "status" and prints what comes back.</summary>
    private const string StatusRequest = """
        import socket, sys
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(sys.argv[1])
        s.sendall(b'status\n')
        data = b''
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        sys.stdout.write(data.decode())
        """;

    private static Process StartAsNobody(string workingDirectory, string script, params string[] args)
    {
        var psi = new ProcessStartInfo("setpriv") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory };
        foreach (var a in new[] { $"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups", "/usr/bin/python3", "-c", script })
            psi.ArgumentList.Add(a);
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    private static DirectoryInfo Directory(UnixFileMode mode)
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("lbsock-");
        File.SetUnixFileMode(dir.FullName, mode);
        return dir;
    }

    private const UnixFileMode Mode755 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
    private const UnixFileMode Mode777 = Mode755 | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;

    [RootFact("setpriv")]
    public async Task Lb_status_refuses_a_listener_of_another_user_and_the_daemon_takes_the_path_back()
    {
        // A world-writable sticky directory, as /tmp is for `-p /tmp/x.pid` (socket /tmp/x.sock).
        var dir = Directory(Mode777 | UnixFileMode.StickyBit);
        var path = Path.Combine(dir.FullName, "x.sock");
        var forged = Path.Combine(dir.FullName, "forged.json");
        File.WriteAllText(forged, JsonSerializer.Serialize(new StatusResponse(true, null, DaemonUnitTests.Report("MASTER")), StatusJsonContext.Default.StatusResponse) + "\n");
        File.SetUnixFileMode(forged, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        using var squatter = StartAsNobody(dir.FullName, ForgingServer, path, forged);
        StatusServer? server = null;
        try
        {
            var ready = await squatter.StandardOutput.ReadLineAsync().WaitAsync(DaemonLab.Bound);
            Assert.Equal("ready", ready);
            Assert.Equal(Nobody, FileStatus.TryGetLink(path)!.Value.Uid);

            // Root's lb status does not believe it.
            var (code, stdout, stderr) = DaemonLab.RunLb("status", "--socket", path);
            output.WriteLine($"lb status: exit {code}\n{stdout}{stderr}");
            Assert.Equal(3, code);
            Assert.Contains($"served by uid {Nobody}", stderr, StringComparison.Ordinal);
            Assert.Contains("refusing to talk to it", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("MASTER", stdout, StringComparison.Ordinal);

            // The daemon does not stand down: the squatted path is taken back, and serves the real state.
            var log = new ListLogger();
            server = StatusServer.Start(path, () => DaemonUnitTests.Report("BACKUP"), log);
            output.WriteLine(string.Join("\n", log.Lines));
            Assert.NotNull(server);
            Assert.Contains(log.Lines, l => l.Contains($"uid {Nobody}", StringComparison.Ordinal) && l.Contains("replacing it", StringComparison.Ordinal));
            Assert.Equal(0u, FileStatus.TryGetLink(path)!.Value.Uid);
            var response = await StatusClient.QueryAsync(path, timeout: DaemonLab.Bound);
            Assert.Equal("BACKUP", response.Status!.VrrpInstances.Single().State);
        }
        finally
        {
            if (server is not null)
                await server.DisposeAsync();
            squatter.Kill();
            await squatter.WaitForExitAsync();
            dir.Delete(true);
        }
    }

    [RootFact("setpriv", "chown")]
    public async Task Lb_status_talks_to_the_service_user_whose_runtime_directory_holds_the_socket_and_to_nobody_else()
    {
        // As lb.service runs it: the daemon is the user lb, its socket in /run/lb (RuntimeDirectory=, owned by lb, 0755):
        // only lb (or root) can have put a listener there, so root's lb status talks to it. The same listener in a
        // directory its group can also write is refused.
        foreach (var (mode, trusted) in new[] { (Mode755, true), (Mode755 | UnixFileMode.GroupWrite, false) })
        {
            var dir = Directory(Mode755);
            NetnsLab.Run("chown", $"{Nobody}:{Nobody}", dir.FullName);
            File.SetUnixFileMode(dir.FullName, mode);
            var path = Path.Combine(dir.FullName, "lb.sock");
            var reply = Path.Combine(Path.GetTempPath(), $"lbsock-reply-{Guid.NewGuid():N}.json");
            File.WriteAllText(reply, JsonSerializer.Serialize(new StatusResponse(true, null, DaemonUnitTests.Report("MASTER")), StatusJsonContext.Default.StatusResponse) + "\n");
            File.SetUnixFileMode(reply, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            using var daemon = StartAsNobody(dir.FullName, ForgingServer, path, reply);
            try
            {
                Assert.Equal("ready", await daemon.StandardOutput.ReadLineAsync().WaitAsync(DaemonLab.Bound));
                var (code, stdout, stderr) = DaemonLab.RunLb("status", "--socket", path);
                output.WriteLine($"mode {Convert.ToString((int)mode, 8)}: lb status: exit {code}\n{stdout}{stderr}");
                if (trusted)
                {
                    Assert.Equal(0, code);
                    Assert.Contains("MASTER", stdout, StringComparison.Ordinal);
                }
                else
                {
                    Assert.Equal(3, code);
                    Assert.Contains($"served by uid {Nobody}", stderr, StringComparison.Ordinal);
                    Assert.DoesNotContain("MASTER", stdout, StringComparison.Ordinal);
                }
            }
            finally
            {
                daemon.Kill();
                await daemon.WaitForExitAsync();
                File.Delete(reply);
                dir.Delete(true);
            }
        }
    }

    [RootFact("chown")]
    public void Status_server_refuses_a_directory_others_can_rewrite_and_leaves_a_file_that_is_not_a_socket()
    {
        var open = Directory(Mode777);
        var foreign = Directory(Mode755);
        var safe = Directory(Mode755);
        try
        {
            var log = new ListLogger();
            Assert.Null(StatusServer.Start(Path.Combine(open.FullName, "x.sock"), () => DaemonUnitTests.Report(), log));
            Assert.Contains(log.Lines, l => l.Contains("writable by every user without the sticky bit", StringComparison.Ordinal));
            Assert.False(File.Exists(Path.Combine(open.FullName, "x.sock")));

            NetnsLab.Run("chown", Nobody.ToString(System.Globalization.CultureInfo.InvariantCulture), foreign.FullName);
            Assert.Null(StatusServer.Start(Path.Combine(foreign.FullName, "x.sock"), () => DaemonUnitTests.Report(), log));
            Assert.Contains(log.Lines, l => l.Contains($"belongs to uid {Nobody}", StringComparison.Ordinal));

            // --socket naming an existing file that is not a socket: refused, not deleted.
            var file = Path.Combine(safe.FullName, "important");
            File.WriteAllText(file, "keep");
            Assert.Null(StatusServer.Start(file, () => DaemonUnitTests.Report(), log));
            Assert.Equal("keep", File.ReadAllText(file));
            Assert.Contains(log.Lines, l => l.Contains("is not a socket", StringComparison.Ordinal));
        }
        finally
        {
            open.Delete(true);
            foreign.Delete(true);
            safe.Delete(true);
        }
    }

    [RootFact("setpriv")]
    public async Task Status_server_answers_another_users_client_with_permission_denied_even_when_the_mode_lets_it_in()
    {
        var dir = Directory(Mode755);
        var path = Path.Combine(dir.FullName, "x.sock");
        var server = StatusServer.Start(path, () => DaemonUnitTests.Report(), NullLogger.Instance)!;
        try
        {
            Assert.NotNull(server);
            // As a mistaken chmod would: the mode no longer keeps others out; the peer check still does.
            File.SetUnixFileMode(path, Mode777 & ~(UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute));
            using var client = StartAsNobody(dir.FullName, StatusRequest, path);
            var stdout = client.StandardOutput.ReadToEndAsync();
            var stderr = client.StandardError.ReadToEndAsync();
            await client.WaitForExitAsync().WaitAsync(DaemonLab.Bound);
            output.WriteLine($"{await stdout}{await stderr}");
            Assert.Equal(0, client.ExitCode);
            var reply = JsonSerializer.Deserialize(await stdout, StatusJsonContext.Default.StatusResponse)!;
            Assert.False(reply.Ok);
            Assert.Null(reply.Status);
            Assert.Contains($"permission denied: uid {Nobody}", reply.Error, StringComparison.Ordinal);
            Assert.True((await StatusClient.QueryAsync(path, timeout: DaemonLab.Bound)).Ok);
        }
        finally
        {
            await server.DisposeAsync();
            dir.Delete(true);
        }
    }

    // ---- signals during start-up ----

    /// <summary>Start-up is under way once lb has written its first line: Main has run. (Before Main the .NET runtime is
    /// loading, a window no handler of Lb's can cover; a pid file or READY=1 is only there after Main.)</summary>
    private static void WaitForFirstLine(RunningProcess p) =>
        Assert.True(SpinWait.SpinUntil(() => p.Output.Length > 0 || p.HasExited, DaemonLab.Bound), "lb wrote nothing");

    [RootFact("ip")]
    public void SIGHUP_during_start_up_does_not_kill_the_daemon_and_the_reload_is_applied_once_started()
    {
        using var lab = new DaemonLab();
        var a = lab.Lab.AddHost("a", "10.0.0.2/24");
        var la = lab.StartVrrp(a, "a", 150, "MASTER");
        try
        {
            WaitForFirstLine(la);
            var sent = 0;
            while (!la.OutputContains("Startup complete") && !la.HasExited && sent < 1000)
            {
                try
                {
                    la.Signal("HUP");
                }
                catch (InvalidOperationException)
                {
                    break; // kill found no such process: it died (asserted below)
                }
                sent++;
            }
            output.WriteLine($"{sent} SIGHUP(s) sent during start-up");
            Assert.False(la.HasExited, $"lb died during start-up after {sent} SIGHUP(s), exit code {(la.HasExited ? la.ExitCode : 0)}");
            Assert.True(sent > 0);
            // The reload that arrived during start-up is applied to the started subsystems, after start-up.
            Assert.True(NetnsLab.WaitFor(() => la.OutputContains("Reload complete"), DaemonLab.Bound), "the reload was not applied");
            var text = la.Output;
            var started = text.IndexOf("Startup complete", StringComparison.Ordinal);
            Assert.InRange(text.IndexOf("Reload requested during start-up; applying it now", StringComparison.Ordinal), started, int.MaxValue);
            Assert.InRange(text.IndexOf("VRRP reload: no change", StringComparison.Ordinal), started, int.MaxValue);
            Assert.DoesNotContain("subsystem is not running", text, StringComparison.Ordinal);
            Assert.Equal("MASTER", lab.WaitStatus("a", s => s.VrrpInstances.Count == 1 && s.VrrpInstances[0].State == "MASTER", la).VrrpInstances[0].State);
            Assert.False(la.HasExited);
        }
        finally
        {
            output.WriteLine(la.Output);
        }
    }

    [RootFact("ip")]
    public void SIGTERM_during_start_up_stops_the_daemon_cleanly()
    {
        using var lab = new DaemonLab();
        var a = lab.Lab.AddHost("a", "10.0.0.2/24");
        var la = lab.StartVrrp(a, "a", 150, "MASTER");
        try
        {
            WaitForFirstLine(la);
            la.Signal("TERM");
            Assert.True(la.WaitForExit(DaemonLab.Bound), "lb did not exit after SIGTERM");
            // Killed by the signal's default action, the exit code would be 143 and the pid file left behind.
            Assert.Equal(0, la.ExitCode);
            Assert.False(File.Exists(lab.PidFile("a")));
            Assert.False(lab.Lab.HasAddress(a, DaemonLab.Vip));
        }
        finally
        {
            output.WriteLine(la.Output);
        }
    }
}
