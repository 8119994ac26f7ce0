using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;

namespace Lb.Status;

/// <summary><c>lb status [--json] [--watch [--interval S]] [--socket PATH | -p PIDFILE] [-s NS]</c>.</summary>
public static class StatusCommand
{
    public const string Usage = "usage: lb status [--json] [--watch] [--interval SECONDS] [--socket PATH | -p PIDFILE] [-s NAMESPACE]";

    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        string? socket = null, pidFile = null, netns = null;
        var json = false;
        var watch = false;
        var interval = TimeSpan.FromSeconds(2);
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new CliException($"option '{args[i]}' requires an argument");
            try
            {
                switch (args[i])
                {
                    case "--json": json = true; break;
                    case "--watch" or "-w": watch = true; break;
                    case "--interval": interval = ParseInterval(Value()); break;
                    case "--socket": socket = Value(); break;
                    case "-p" or "--pid": pidFile = Value(); break;
                    case "-s" or "--namespace": netns = Value(); break;
                    case "-h" or "--help":
                        stdout.WriteLine(Usage);
                        return 0;
                    default: throw new CliException($"unknown option '{args[i]}'");
                }
            }
            catch (CliException e)
            {
                stderr.WriteLine($"lb status: {e.Message}");
                stderr.WriteLine(Usage);
                return 1;
            }
        }
        var path = StatusServer.DefaultPath(socket, pidFile, netns);
        if (!watch)
            return Once(path, json, stdout, stderr);
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        while (!stop.IsCancellationRequested)
        {
            if (!json && !Console.IsOutputRedirected)
                stdout.Write("\x1b[H\x1b[2J");
            Once(path, json, stdout, stderr);
            stdout.Flush();
            stop.Token.WaitHandle.WaitOne(interval);
        }
        return 0;
    }

    /// <summary>Longest accepted --interval: one day (a longer watch is not a watch).</summary>
    public const double MaxIntervalSeconds = 86400;

    /// <summary>Seconds, a finite number in (0, <see cref="MaxIntervalSeconds"/>]; NaN, infinities, 0 and negatives are refused.</summary>
    public static TimeSpan ParseInterval(string value)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || !double.IsFinite(seconds))
            throw new CliException($"--interval '{value}': expected a number of seconds (e.g. 2 or 0.5)");
        if (seconds <= 0 || seconds > MaxIntervalSeconds)
            throw new CliException($"--interval '{value}': must be more than 0 and at most {MaxIntervalSeconds} seconds");
        var interval = TimeSpan.FromSeconds(seconds);
        return interval > TimeSpan.Zero ? interval : throw new CliException($"--interval '{value}': must be at least one tick (100 ns)");
    }

    private static int Once(string path, bool json, TextWriter stdout, TextWriter stderr)
    {
        StatusResponse response;
        if (!File.Exists(path))
        {
            stderr.WriteLine($"lb status: no status socket at {path} (is lb running? --socket PATH or -p PIDFILE selects another daemon)");
            return 3;
        }
        try
        {
            response = StatusClient.QueryAsync(path).GetAwaiter().GetResult();
        }
        catch (UntrustedStatusServerException e)
        {
            stderr.WriteLine($"lb status: {e.Message}");
            return 3;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or JsonException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"lb status: cannot reach the daemon on {path}: {e.Message} (is lb running? --socket PATH or -p PIDFILE selects another daemon)");
            return 3;
        }
        if (!response.Ok || response.Status is null)
        {
            stderr.WriteLine($"lb status: {response.Error}");
            return 1;
        }
        stdout.Write(json ? JsonSerializer.Serialize(response.Status, StatusJsonContext.Default.StatusReport) + "\n" : StatusText.Tables(response.Status));
        return 0;
    }
}
