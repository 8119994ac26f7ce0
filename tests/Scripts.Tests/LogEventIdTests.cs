using System.Text.RegularExpressions;
using Xunit;

namespace Lb.Scripts.Tests;

/// <summary>
/// Log event ids identify a log line to whoever filters on them (NLog rules, a journal query): within one assembly each id
/// names one message. Scans every src project's sources for <c>[LoggerMessage(N, …)]</c> / <c>EventId = N</c>.
/// </summary>
public sealed partial class LogEventIdTests
{
    [GeneratedRegex(@"\[LoggerMessage\((?:EventId\s*=\s*)?(\d+)\s*,")]
    private static partial Regex Id();

    [Fact]
    public void Each_event_id_names_one_message_within_its_project()
    {
        var src = Path.GetFullPath(Path.Combine(Directory(), "..", "..", "src"));
        var projects = System.IO.Directory.GetDirectories(src);
        Assert.True(projects.Length >= 5, $"found only {projects.Length} projects under {src}");
        var problems = new List<string>();
        var total = 0;
        foreach (var project in projects)
        {
            var seen = new Dictionary<int, string>();
            foreach (var file in System.IO.Directory.EnumerateFiles(project, "*.cs", SearchOption.AllDirectories))
            {
                if (file.Contains("/obj/", StringComparison.Ordinal) || file.Contains("/bin/", StringComparison.Ordinal))
                    continue;
                var lines = File.ReadAllLines(file);
                for (var i = 0; i < lines.Length; i++)
                {
                    foreach (Match m in Id().Matches(lines[i]))
                    {
                        total++;
                        var id = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                        var where = $"{Path.GetRelativePath(src, file)}:{i + 1}";
                        if (!seen.TryAdd(id, where))
                            problems.Add($"event id {id} at {where} is already used at {seen[id]}");
                    }
                }
            }
        }
        Assert.True(total > 100, $"found only {total} log messages");
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    private static string Directory([System.Runtime.CompilerServices.CallerFilePath] string self = "") => Path.GetDirectoryName(self)!;
}
