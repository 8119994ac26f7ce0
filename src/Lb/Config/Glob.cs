using System.Text;
using System.Text.RegularExpressions;

namespace Lb.Config;

/// <summary>The subset of glob(3) keepalived's include uses: <c>* ? [...]</c> per path segment and csh-style <c>{a,b}</c> braces.</summary>
public static class Glob
{
    public static bool HasWildcard(string pattern) => pattern.IndexOfAny(new[] { '*', '?', '[' }) >= 0;

    /// <summary>Expands <c>{a,b}</c> (nested allowed) into alternatives, at most <paramref name="limit"/> of them.</summary>
    public static List<string> ExpandBraces(string pattern, int limit)
    {
        var results = new List<string>();
        Expand(pattern, results, limit);
        return results;
    }

    private static void Expand(string pattern, List<string> results, int limit)
    {
        if (results.Count >= limit)
            return;
        var open = pattern.IndexOf('{', StringComparison.Ordinal);
        if (open < 0)
        {
            results.Add(pattern);
            return;
        }
        var depth = 0;
        var close = -1;
        var commas = new List<int>();
        for (var i = open; i < pattern.Length; i++)
        {
            if (pattern[i] == '{')
                depth++;
            else if (pattern[i] == '}')
            {
                depth--;
                if (depth == 0)
                {
                    close = i;
                    break;
                }
            }
            else if (pattern[i] == ',' && depth == 1)
                commas.Add(i);
        }
        if (close < 0 || commas.Count == 0)
        {
            // Not a brace expression: keep the brace literally.
            if (close < 0)
            {
                results.Add(pattern);
                return;
            }
            var literal = pattern[..close];
            foreach (var tail in ExpandBraces(pattern[(close + 1)..], limit))
                Expand(literal + "}" + tail, results, limit);
            return;
        }
        var prefix = pattern[..open];
        var suffix = pattern[(close + 1)..];
        var start = open + 1;
        foreach (var comma in commas.Append(close))
        {
            Expand(prefix + pattern[start..comma] + suffix, results, limit);
            start = comma + 1;
        }
    }

    /// <summary>Paths matching an absolute pattern, sorted as glob(3) sorts them.</summary>
    public static List<string> Match(string absolutePattern, int limit)
    {
        var segments = absolutePattern.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var current = new List<string> { absolutePattern.StartsWith('/') ? "/" : "." };
        foreach (var segment in segments)
        {
            var next = new List<string>();
            if (!HasWildcard(segment))
            {
                foreach (var dir in current)
                {
                    var p = Path.Combine(dir, segment);
                    if (File.Exists(p) || Directory.Exists(p))
                        next.Add(p);
                }
            }
            else
            {
                var regex = ToRegex(segment);
                foreach (var dir in current)
                {
                    if (!Directory.Exists(dir))
                        continue;
                    IEnumerable<string> entries;
                    try
                    {
                        entries = Directory.EnumerateFileSystemEntries(dir).ToList();
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        continue;
                    }
                    foreach (var entry in entries)
                    {
                        var name = Path.GetFileName(entry);
                        if (name.StartsWith('.') && !segment.StartsWith('.'))
                            continue;
                        if (regex.IsMatch(name))
                            next.Add(entry);
                        if (next.Count > limit)
                            break;
                    }
                }
            }
            next.Sort(StringComparer.Ordinal);
            current = next;
            if (current.Count == 0)
                break;
        }
        return current;
    }

    private static Regex ToRegex(string segment)
    {
        var sb = new StringBuilder("^");
        for (var i = 0; i < segment.Length; i++)
        {
            var c = segment[i];
            switch (c)
            {
                case '*':
                    sb.Append("[^/]*");
                    break;
                case '?':
                    sb.Append("[^/]");
                    break;
                case '[':
                    var close = segment.IndexOf(']', i + 1);
                    if (close < 0)
                    {
                        sb.Append(@"\[");
                        break;
                    }
                    var set = segment[(i + 1)..close];
                    if (set.StartsWith('!'))
                        set = "^" + set[1..];
                    sb.Append('[').Append(set.Replace("\\", "\\\\", StringComparison.Ordinal)).Append(']');
                    i = close;
                    break;
                default:
                    sb.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }
        sb.Append('$');
        return new Regex(sb.ToString(), RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }
}
