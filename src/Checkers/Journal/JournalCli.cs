using System.Globalization;
using System.Text;
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
                        await stderr.WriteLineAsync($"lb journal: invalid --since '{Escape(s ?? "")}': expected an ISO 8601 time or an age (90s, 15m, 2h, 3d) reaching no further back than year 1").ConfigureAwait(false);
                        await stderr.WriteLineAsync(Usage).ConfigureAwait(false);
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
                    await stdout.WriteLineAsync(Usage).ConfigureAwait(false);
                    return 0;
                default:
                    await stderr.WriteLineAsync($"lb journal: unexpected argument '{Escape(args[i])}'").ConfigureAwait(false);
                    await stderr.WriteLineAsync(Usage).ConfigureAwait(false);
                    return 2;
            }
        }

        var reader = new JournalReader(path);
        if (!follow && reader.Files().Count == 0)
        {
            await stderr.WriteLineAsync($"lb journal: no journal at {Escape(path)}").ConfigureAwait(false);
            return 1;
        }
        if (!json)
            await stdout.WriteLineAsync(Header()).ConfigureAwait(false);
        if (follow)
        {
            await foreach (var e in reader.FollowAsync(query, pollInterval ?? TimeSpan.FromSeconds(1), timeProvider, cancellationToken).ConfigureAwait(false))
            {
                await stdout.WriteLineAsync(json ? JournalWriter.Serialize(e) : Row(e)).ConfigureAwait(false);
                await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        else
        {
            // Newest last by time: VRRP entries are queued off the engine thread, so file order can lag by a moment.
            foreach (var e in reader.Read(query).OrderBy(e => e.Time))
                await stdout.WriteLineAsync(json ? JournalWriter.Serialize(e) : Row(e)).ConfigureAwait(false);
        }
        if (reader.SkippedLines > 0)
            await stderr.WriteLineAsync($"lb journal: skipped {reader.SkippedLines} incomplete line(s)").ConfigureAwait(false);
        return 0;
    }

    /// <summary>
    /// Parses an ISO 8601 time or an age relative to <paramref name="now"/>; false (never an exception) for anything else,
    /// including an age reaching back before year 1 (<c>99999999999d</c>).
    /// </summary>
    public static bool TryParseSince(string text, DateTimeOffset now, out DateTimeOffset since)
    {
        since = default;
        if (text.Length >= 2 && char.IsDigit(text[0]) && "smhd".Contains(text[^1], StringComparison.Ordinal) &&
            double.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var n))
        {
            var seconds = n * text[^1] switch
            {
                's' => 1.0,
                'm' => 60.0,
                'h' => 3600.0,
                _ => 86400.0,
            };
            var reach = (now - DateTimeOffset.MinValue).TotalSeconds;
            if (!double.IsFinite(seconds) || seconds < 0 || seconds >= reach)
                return false;
            since = now - TimeSpan.FromSeconds(seconds);
            return true;
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out since);
    }

    /// <summary>
    /// Makes text from the journal safe to print on a terminal: control characters (C0, DEL, C1), bidirectional
    /// overrides and the backslash become visible escapes (<c>\r</c>, <c>\n</c>, <c>\t</c>, <c>\x1b</c>, <c>\u202e</c>,
    /// <c>\\</c>), so a backend's greeting or a hostile name cannot move the cursor, rewrite lines or change colours.
    /// </summary>
    public static string Escape(string text)
    {
        if (!text.Any(NeedsEscape))
            return text;
        var sb = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            switch (c)
            {
                case '\\': sb.Append(@"\\"); break;
                case '\r': sb.Append(@"\r"); break;
                case '\n': sb.Append(@"\n"); break;
                case '\t': sb.Append(@"\t"); break;
                case < ' ' or '\x7f': sb.Append(CultureInfo.InvariantCulture, $@"\x{(int)c:x2}"); break;
                default:
                    if (NeedsEscape(c))
                        sb.Append(CultureInfo.InvariantCulture, $@"\u{(int)c:x4}");
                    else
                        sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }

    private static bool NeedsEscape(char c) =>
        c is < ' ' or '\\' or '\x7f' or (>= '\x80' and <= '\x9f') or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069') or '\u200e' or '\u200f' or '\u061c';

    /// <summary>The table header.</summary>
    public static string Header() =>
        $"{"TIME (UTC)",-23}  {"KIND",-12}  {"VIRTUAL SERVER",-24}  {"REAL SERVER",-24}  {"OLD -> NEW",-18}  {"REASON",-40}  ACTION";

    /// <summary>One table row; every field from the file is <see cref="Escape">escaped</see>.</summary>
    public static string Row(JournalEntry e) =>
        $"{e.Time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture),-23}  {Escape(e.Kind),-12}  {Escape(e.VirtualServer ?? "-"),-24}  {Escape(e.RealServer ?? e.Instance ?? "-"),-24}  {Escape(e.OldState + " -> " + e.NewState),-18}  {Escape(e.Reason),-40}  {Escape(e.Action)}{(e.By is null ? "" : "  by " + Escape(e.By))}";
}
