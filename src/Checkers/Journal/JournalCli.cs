using System.Globalization;
using Lb.Checkers.Options;

namespace Lb.Checkers.Journal;

/// <summary>
/// <c>lb journal [--since T] [--vs X] [--rs Y] [--follow] [--json] [--file PATH]</c>: prints the journal as a table
/// (or JSON lines), newest last. <c>--since</c> takes an ISO 8601 time or an age (<c>90s</c>, <c>15m</c>, <c>2h</c>, <c>3d</c>).
/// </summary>
public static class JournalCli
{
    /// <summary>Usage text.</summary>
    public const string Usage = "usage: lb journal [--since TIME|AGE] [--vs TEXT] [--rs TEXT] [--follow] [--json] [--file PATH]";

    /// <summary>Runs the command; returns the exit code (0 ok, 2 usage, 1 error).</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr,
        TimeProvider? timeProvider = null, TimeSpan? pollInterval = null, CancellationToken cancellationToken = default)
    {
        timeProvider ??= TimeProvider.System;
        var path = JournalOptions.DefaultPath;
        var query = new JournalQuery();
        bool follow = false, json = false;
        for (var i = 0; i < args.Count; i++)
        {
            string? Next()
            {
                if (i + 1 >= args.Count)
                    return null;
                return args[++i];
            }
            switch (args[i])
            {
                case "--since":
                    var s = Next();
                    if (s is null || !TryParseSince(s, timeProvider.GetUtcNow(), out var since))
                    {
                        stderr.WriteLine($"lb journal: invalid --since '{s}'");
                        stderr.WriteLine(Usage);
                        return 2;
                    }
                    query = query with { Since = since };
                    break;
                case "--vs":
                    query = query with { VirtualServer = Next() };
                    if (query.VirtualServer is null)
                        goto default;
                    break;
                case "--rs":
                    query = query with { RealServer = Next() };
                    if (query.RealServer is null)
                        goto default;
                    break;
                case "--file":
                    var p = Next();
                    if (p is null)
                        goto default;
                    path = p;
                    break;
                case "--follow":
                case "-f":
                    follow = true;
                    break;
                case "--json":
                    json = true;
                    break;
                case "-h":
                case "--help":
                    stdout.WriteLine(Usage);
                    return 0;
                default:
                    stderr.WriteLine($"lb journal: unexpected argument '{args[i]}'");
                    stderr.WriteLine(Usage);
                    return 2;
            }
        }

        var reader = new JournalReader(path);
        if (!follow && reader.Files().Count == 0)
        {
            stderr.WriteLine($"lb journal: no journal at {path}");
            return 1;
        }
        if (!json)
            stdout.WriteLine(Header());
        if (follow)
        {
            await foreach (var e in reader.FollowAsync(query, pollInterval ?? TimeSpan.FromSeconds(1), timeProvider, cancellationToken).ConfigureAwait(false))
            {
                stdout.WriteLine(json ? JournalWriter.Serialize(e) : Row(e));
                await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        else
        {
            // Newest last by time: VRRP entries are queued off the engine thread, so file order can lag by a moment.
            foreach (var e in reader.Read(query).OrderBy(e => e.Time))
                stdout.WriteLine(json ? JournalWriter.Serialize(e) : Row(e));
        }
        if (reader.SkippedLines > 0)
            stderr.WriteLine($"lb journal: skipped {reader.SkippedLines} incomplete line(s)");
        return 0;
    }

    /// <summary>Parses an ISO 8601 time or an age relative to <paramref name="now"/>.</summary>
    public static bool TryParseSince(string text, DateTimeOffset now, out DateTimeOffset since)
    {
        since = default;
        if (text.Length >= 2 && char.IsDigit(text[0]) && "smhd".Contains(text[^1], StringComparison.Ordinal) &&
            double.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var n))
        {
            var age = text[^1] switch
            {
                's' => TimeSpan.FromSeconds(n),
                'm' => TimeSpan.FromMinutes(n),
                'h' => TimeSpan.FromHours(n),
                _ => TimeSpan.FromDays(n),
            };
            since = now - age;
            return true;
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out since);
    }

    /// <summary>The table header.</summary>
    public static string Header() =>
        $"{"TIME (UTC)",-23}  {"KIND",-12}  {"VIRTUAL SERVER",-24}  {"REAL SERVER",-24}  {"OLD -> NEW",-18}  {"REASON",-40}  ACTION";

    /// <summary>One table row.</summary>
    public static string Row(JournalEntry e) =>
        $"{e.Time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture),-23}  {e.Kind,-12}  {e.VirtualServer ?? "-",-24}  {e.RealServer ?? e.Instance ?? "-",-24}  {e.OldState + " -> " + e.NewState,-18}  {e.Reason,-40}  {e.Action}";
}
