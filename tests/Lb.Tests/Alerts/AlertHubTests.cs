using Lb.Alerts;
using Lb.Checkers;
using Lb.TestSupport;
using Lb.Vrrp.Host;
using Lb.Vrrp.Notify;
using Xunit;

namespace Lb.Lb.Tests.Alerts;

/// <summary>
/// keepalived's split of the notify FIFOs (lib/notify.c, global_data.c), as the host routes both subsystems' events:
/// notify_fifo gets VRRP and checker lines, vrrp_notify_fifo VRRP only, lvs_notify_fifo checker only; a FIFO named by
/// two keywords is one FIFO; -P/-C open only what their subsystem writes. Oracle: the test's own readers of FIFOs it
/// created with mkfifo.
/// </summary>
public sealed class AlertHubTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("alerts-hub-").FullName;
    private readonly ListLogger _logs = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static readonly VrrpNotification Master = new(VrrpEntityKind.Instance, "VI_1", "MASTER", 100, false);
    private static readonly VrrpNotification Group = new(VrrpEntityKind.Group, "G1", "BACKUP", 0, false);
    private static readonly CheckerNotification RsDown = new("RS [10.0.0.2]:tcp:80 [10.0.0.100]:tcp:80 DOWN", null);

    private List<string> Reader(string name)
    {
        var path = P(name);
        Assert.Equal(0, ProcessRunner.Run("mkfifo", path).ExitCode);
        var lines = new List<string>();
        _ = Task.Run(() =>
        {
            using var sr = new StreamReader(path);
            while (sr.ReadLine() is { } l)
            {
                lock (lines)
                    lines.Add(l);
            }
        });
        return lines;
    }

    private static string[] Snapshot(List<string> lines)
    {
        lock (lines)
            return lines.ToArray();
    }

    [Fact]
    public async Task Notify_fifo_gets_both_subsystems_vrrp_and_lvs_fifos_only_their_own()
    {
        var (global, vrrp, lvs) = (Reader("g.fifo"), Reader("v.fifo"), Reader("l.fifo"));
        await using (var hub = new AlertHub(new AlertOptions
        {
            NotifyFifo = new FifoOptions(P("g.fifo")),
            VrrpNotifyFifo = new FifoOptions(P("v.fifo")),
            LvsNotifyFifo = new FifoOptions(P("l.fifo")),
        }, vrrp: true, checkers: true, _logs, TimeProvider.System))
        {
            hub.Start();
            hub.OnVrrp(Master);
            hub.OnChecker(RsDown);
            hub.OnVrrp(Group);
            await hub.FlushAsync(CancellationToken.None);
            Assert.True(Wait.Until(() => Snapshot(global).Length == 3 && Snapshot(vrrp).Length == 2 && Snapshot(lvs).Length == 1));
        }
        Assert.Equal(["INSTANCE \"VI_1\" MASTER 100", "RS [10.0.0.2]:tcp:80 [10.0.0.100]:tcp:80 DOWN", "GROUP \"G1\" BACKUP 0"], Snapshot(global));
        Assert.Equal(["INSTANCE \"VI_1\" MASTER 100", "GROUP \"G1\" BACKUP 0"], Snapshot(vrrp));
        Assert.Equal(["RS [10.0.0.2]:tcp:80 [10.0.0.100]:tcp:80 DOWN"], Snapshot(lvs));
    }

    [Fact]
    public async Task A_fifo_named_twice_is_written_once_per_line_and_vrrp_only_opens_no_lvs_fifo()
    {
        var global = Reader("g.fifo");
        await using (var hub = new AlertHub(new AlertOptions
        {
            NotifyFifo = new FifoOptions(P("g.fifo")),
            VrrpNotifyFifo = new FifoOptions(P("g.fifo")),
            LvsNotifyFifo = new FifoOptions(P("l.fifo")),
        }, vrrp: true, checkers: false, _logs, TimeProvider.System))
        {
            hub.Start();
            hub.OnVrrp(Master);
            await hub.FlushAsync(CancellationToken.None);
            Assert.True(Wait.Until(() => Snapshot(global).Length == 1));
            Assert.True(_logs.Contains($"notify FIFO {P("g.fifo")} has been specified for global and vrrp FIFO - ignoring vrrp FIFO"));
            Assert.Single(hub.Fifos);
        }
        Assert.Equal(["INSTANCE \"VI_1\" MASTER 100"], Snapshot(global));
        Assert.False(File.Exists(P("l.fifo"))); // -P: the checkers' own FIFO is not created
    }

    [Fact]
    public void Vrrp_mail_texts_are_keepalived_s()
    {
        Assert.Equal(("Entering MASTER state", "=> VRRP Instance is now owning VRRP VIPs <="), AlertHub.VrrpMail(Master));
        Assert.Equal(("Entering BACKUP state", "=> All VRRP group instances are now in BACKUP state <="), AlertHub.VrrpMail(Group));
        Assert.Equal(("Stopping", "=> VRRP Instance stopping <="), AlertHub.VrrpMail(Master with { State = "STOP" }));
        Assert.Null(AlertHub.VrrpMail(Master with { State = "MASTER_PRIORITY" }));
        Assert.Equal("Mon, 30 Nov 2026 21:05:09 +0100", SmtpAlerter.Rfc822(new DateTimeOffset(2026, 11, 30, 21, 5, 9, TimeSpan.FromHours(1))));
    }
}
