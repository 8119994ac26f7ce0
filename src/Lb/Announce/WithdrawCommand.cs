using System.Globalization;
using System.Net.Sockets;
using Lb.Checkers.Journal;
using Lb.Checkers.Options;
using Lb.Control;
using Lb.Netlink;
using Lb.Netlink.Route;
using Lb.Status;
using static Lb.Netlink.Route.RtnetlinkRouteConstants;

namespace Lb.Announce;

/// <summary>
/// <c>lb announce withdraw [--socket PATH | -p PIDFILE] [--journal PATH]</c>: with no lb running, deletes every announce
/// route Lb left in the kernel — each host route of Lb's protocol (<see cref="AnnounceOptions.RouteProtocol"/>) in any
/// table but <c>local</c> (the VIPs' local routes stay: a restarted lb adopts them). For what a dead lb cannot do itself:
/// the unit's <c>ExecStopPost=</c> runs it when lb exits, so a crash (SIGKILL, abort, OOM) withdraws the VIPs at once
/// instead of leaving them announced by the local FRR — the kernel does not tell zebra about routes it drops with a
/// device, so no device trick can do this (FRR 8.4 kept such a route announced). Refused while a daemon answers on the
/// control socket: its routes follow its decisions (<c>lb announce maintenance on</c> withdraws them). Each deleted route
/// is printed and, with <c>--journal</c>, journaled (kind "announce", announced → withdrawn).
/// </summary>
public static class WithdrawCommand
{
    public const int Done = 0;
    public const int Failed = 1;

    private const string Usage = "usage: lb announce withdraw [--socket PATH | -p PIDFILE] [--journal PATH]";

    /// <summary>Runs the command with the arguments after <c>lb announce withdraw</c>.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        string? socket = null, pidFile = null, journal = null;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--socket" or "-p" or "--pid" or "--journal" when i + 1 >= args.Count:
                    stderr.WriteLine($"lb announce withdraw: option '{args[i]}' requires an argument");
                    return Failed;
                case "--socket":
                    socket = args[++i];
                    break;
                case "-p" or "--pid":
                    pidFile = args[++i];
                    break;
                case "--journal":
                    journal = args[++i];
                    break;
                case "-h" or "--help":
                    stdout.WriteLine(Usage);
                    stdout.WriteLine("With no lb running (a crash; lb.service runs it as ExecStopPost): deletes the announce routes lb left");
                    stdout.WriteLine("(host routes of protocol 249 outside table local), prints and, with --journal, journals each.");
                    return Done;
                default:
                    stderr.WriteLine($"lb announce withdraw: unknown argument '{args[i]}' ({Usage})");
                    return Failed;
            }
        }
        var path = StatusServer.DefaultPath(socket, pidFile, null);
        if (DaemonAnswers(path))
        {
            stderr.WriteLine($"lb announce withdraw: lb is running (it answers on {path}): its routes follow its decisions; 'lb announce maintenance on' withdraws every VIP");
            return Failed;
        }
        List<JournalEntry> entries = [];
        try
        {
            using var client = RtnetlinkClient.Open();
            var routes = client.GetRoutesAsync().GetAwaiter().GetResult();
            foreach (var r in routes.Where(IsAnnounceRoute))
            {
                var text = $"{r.Destination}/{r.DestinationLength} table {r.Table} proto {AnnounceOptions.RouteProtocol}";
                client.DeleteRouteAsync(r with { Scope = Netlink.Route.RtnetlinkConstants.RT_SCOPE_NOWHERE, Type = 0 }, text).GetAwaiter().GetResult();
                stdout.WriteLine($"deleted route {text}");
                entries.Add(new JournalEntry
                {
                    Time = DateTimeOffset.UtcNow,
                    Subsystem = "announce",
                    Kind = "announce",
                    Instance = $"{r.Destination}/{r.DestinationLength.ToString(CultureInfo.InvariantCulture)}",
                    OldState = AnnouncePlan.AnnouncedState,
                    NewState = AnnouncePlan.WithdrawnState,
                    Reason = "lb not running (lb announce withdraw)",
                    Action = $"route {text} deleted",
                });
            }
        }
        catch (ErrnoException e)
        {
            stderr.WriteLine($"lb announce withdraw: {e.Message}");
            return Failed;
        }
        finally
        {
            Journal(journal, entries, stderr);
        }
        return Done;
    }

    /// <summary>A host route of Lb's protocol outside table local: what the announcer installs.</summary>
    internal static bool IsAnnounceRoute(RouteEntry r) =>
        r.Protocol == AnnounceOptions.RouteProtocol && r.Table != RT_TABLE_LOCAL && r.Destination is not null
        && r.DestinationLength == (r.Family == AddressFamily.InterNetworkV6 ? 128 : 32);

    /// <summary>Whether a daemon accepts a connection on the control socket (a crashed one leaves the file, nobody listening).</summary>
    private static bool DaemonAnswers(string path)
    {
        if (!File.Exists(path))
            return false;
        try
        {
            using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            s.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static void Journal(string? path, List<JournalEntry> entries, TextWriter stderr)
    {
        if (path is null || entries.Count == 0)
            return;
        try
        {
            using var writer = new JournalWriter(new JournalOptions { Path = path });
            writer.AppendBatchAsync(entries).AsTask().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JournalWriteException)
        {
            stderr.WriteLine($"lb announce withdraw: cannot journal to {path}: {e.Message}");
        }
    }
}
