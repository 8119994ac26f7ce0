using System.Text;

namespace Lb.Config;

/// <summary>The result of <see cref="Glob.ExpandBraces"/>: the alternatives in order, or why the pattern was refused.</summary>
public sealed record BraceExpansion(IReadOnlyList<string> Alternatives, string? Error);

/// <summary>The result of <see cref="Glob.Match"/>: matching paths sorted as glob(3) sorts them; <c>Truncated</c> when more than the limit matched.</summary>
public sealed record GlobMatch(IReadOnlyList<string> Paths, bool Truncated);

/// <summary>
/// The glob(3) that keepalived's <c>include</c> uses (<c>GLOB_BRACE</c>, backslash escapes, no <c>GLOB_PERIOD</c>): <c>* ? [...]</c>
/// per path segment and csh-style <c>{a,b}</c> braces, expanded the way glibc expands them. Nothing here recurses: brace
/// expansion runs on an explicit work list and matching backtracks in a loop, each with a bound, so no pattern can exhaust
/// the stack or run without end.
/// </summary>
public static class Glob
{
    /// <summary>Longer patterns are refused: PATH_MAX, beyond which no path can match anyway.</summary>
    public const int MaxPatternLength = 4096;

    /// <summary>Alternatives examined while expanding braces, counting intermediate ones, per pattern.</summary>
    public const int MaxBraceSteps = 16_384;

    /// <summary>True when the pattern has an unescaped <c>*</c>, <c>?</c> or a <c>[</c> that opens a bracket expression.</summary>
    public static bool HasWildcard(string pattern)
    {
        for (var i = 0; i < pattern.Length; i++)
        {
            switch (pattern[i])
            {
                case '\\':
                    i++;
                    break;
                case '*' or '?':
                    return true;
                case '[':
                    if (ParseBracket(pattern, i, '\0').Kind != BracketKind.NotABracket)
                        return true;
                    break;
            }
        }
        return false;
    }

    /// <summary>True when the pattern has an unescaped <c>{</c> (keepalived's <c>have_brace</c>, which decides brace_match checks).</summary>
    public static bool HasBrace(string pattern) => FirstUnescaped(pattern, '{') >= 0;

    /// <summary>
    /// Expands braces as glibc's <c>GLOB_BRACE</c> does: the first unescaped <c>{</c> with a well-formed group is replaced by
    /// each of its comma-separated alternatives in turn (a single alternative too: <c>{a}</c> is <c>a</c>, <c>{}</c> is empty,
    /// so <c>${SITE}</c> becomes <c>$SITE</c>), and each result is expanded again; a first <c>{</c> without its <c>}</c>
    /// leaves the whole pattern literal. At most <paramref name="limit"/> alternatives.
    /// </summary>
    public static BraceExpansion ExpandBraces(string pattern, int limit)
    {
        if (pattern.Length > MaxPatternLength)
            return new BraceExpansion(Array.Empty<string>(), $"pattern is longer than {MaxPatternLength} characters");
        var results = new List<string>();
        var work = new Stack<string>();
        work.Push(pattern);
        var steps = 0;
        while (work.Count > 0)
        {
            if (++steps > MaxBraceSteps)
                return new BraceExpansion(results, $"brace expansion needs more than {MaxBraceSteps} steps");
            var p = work.Pop();
            var begin = FirstUnescaped(p, '{');
            var group = begin < 0 ? null : BraceGroup(p, begin);
            if (group is null)
            {
                if (results.Count >= limit)
                    return new BraceExpansion(results, $"brace expansion gives more than {limit} alternatives");
                results.Add(p);
                continue;
            }
            var (ends, close) = group.Value;
            var prefix = p.AsSpan(0, begin);
            var rest = p.AsSpan(close + 1);
            // Pushed last-first so the alternatives come out in their written order.
            for (var k = ends.Count - 1; k >= 0; k--)
            {
                var start = k == 0 ? begin + 1 : ends[k - 1] + 1;
                work.Push(string.Concat(prefix, p.AsSpan(start, ends[k] - start), rest));
            }
        }
        return new BraceExpansion(results, null);
    }

    /// <summary>The end of each alternative (a top-level <c>,</c> or the closing <c>}</c>) of the group opened at <paramref name="begin"/>, or null when it is not closed.</summary>
    private static (List<int> Ends, int Close)? BraceGroup(string p, int begin)
    {
        var ends = new List<int>();
        var depth = 0;
        for (var i = begin + 1; i < p.Length; i++)
        {
            var c = p[i];
            if (c == '\\')
            {
                i++;
                continue;
            }
            if (c == '{')
                depth++;
            else if (c == '}')
            {
                if (depth == 0)
                {
                    ends.Add(i);
                    return (ends, i);
                }
                depth--;
            }
            else if (c == ',' && depth == 0)
                ends.Add(i);
        }
        return null;
    }

    private static int FirstUnescaped(string p, char wanted)
    {
        for (var i = 0; i < p.Length; i++)
        {
            if (p[i] == '\\')
                i++;
            else if (p[i] == wanted)
                return i;
        }
        return -1;
    }

    /// <summary>
    /// A bracket expression that can never match (a range in reverse order such as <c>[z-a]</c>, an unknown <c>[:class:]</c>),
    /// described for a diagnostic; null when the pattern has none. glob(3) silently matches nothing for these.
    /// </summary>
    public static string? FindProblem(string pattern)
    {
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == '\\')
                i++;
            else if (pattern[i] == '[')
            {
                var b = ParseBracket(pattern, i, '\0');
                if (b.Kind == BracketKind.Invalid)
                    return b.Problem;
                if (b.Kind != BracketKind.NotABracket)
                    i = b.Next - 1;
            }
        }
        return null;
    }

    /// <summary>
    /// Paths matching <paramref name="pattern"/> (braces already expanded), relative patterns resolved against
    /// <paramref name="baseDirectory"/>, which is taken literally. Sorted by ordinal comparison of the whole path, as glob(3)
    /// sorts in the C locale. A segment without wildcards is a plain existence check.
    /// </summary>
    public static GlobMatch Match(string pattern, string baseDirectory, int limit)
    {
        var rooted = pattern.StartsWith('/');
        var segments = pattern.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var current = new List<string> { rooted ? "/" : baseDirectory };
        var truncated = false;
        foreach (var segment in segments)
        {
            var next = new List<string>();
            if (!HasWildcard(segment))
            {
                var literal = Unescape(segment);
                foreach (var dir in current)
                {
                    var p = Path.Combine(dir, literal);
                    if (File.Exists(p) || Directory.Exists(p) || IsLink(p))
                        next.Add(p);
                }
            }
            else
            {
                foreach (var dir in current)
                {
                    if (next.Count > limit)
                        break;
                    if (!Directory.Exists(dir))
                        continue;
                    try
                    {
                        foreach (var entry in Directory.EnumerateFileSystemEntries(dir))
                        {
                            var name = Path.GetFileName(entry);
                            // Without GLOB_PERIOD a leading '.' is matched only by a literal '.'.
                            if (name.StartsWith('.') && !segment.StartsWith('.'))
                                continue;
                            if (IsMatch(segment, name))
                                next.Add(entry);
                            if (next.Count > limit)
                                break;
                        }
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        // An unreadable directory matches nothing, as for glob(3) without GLOB_ERR.
                    }
                }
            }
            if (next.Count > limit)
            {
                truncated = true;
                next.RemoveRange(limit, next.Count - limit);
            }
            current = next;
            if (current.Count == 0)
                break;
        }
        current.Sort(StringComparer.Ordinal);
        return new GlobMatch(current, truncated);
    }

    private static bool IsLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget is not null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Removes glob escapes: <c>\x</c> is <c>x</c>.</summary>
    public static string Unescape(string s)
    {
        if (!s.Contains('\\', StringComparison.Ordinal))
            return s;
        var sb = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 1 < s.Length)
                i++;
            sb.Append(s[i]);
        }
        return sb.ToString();
    }

    /// <summary>fnmatch(3) of one path segment without flags: <c>*</c>, <c>?</c>, bracket expressions, backslash escapes. Iterative.</summary>
    public static bool IsMatch(string pattern, string name)
    {
        int pi = 0, ni = 0, starP = -1, starN = -1;
        while (ni < name.Length)
        {
            if (pi < pattern.Length)
            {
                var c = pattern[pi];
                if (c == '*')
                {
                    starP = ++pi;
                    starN = ni;
                    continue;
                }
                if (c == '?')
                {
                    pi++;
                    ni++;
                    continue;
                }
                if (c == '[')
                {
                    var b = ParseBracket(pattern, pi, name[ni]);
                    if (b.Kind == BracketKind.Match)
                    {
                        pi = b.Next;
                        ni++;
                        continue;
                    }
                    if (b.Kind == BracketKind.NotABracket && name[ni] == '[')
                    {
                        pi++;
                        ni++;
                        continue;
                    }
                }
                else
                {
                    var width = 1;
                    if (c == '\\' && pi + 1 < pattern.Length)
                    {
                        c = pattern[pi + 1];
                        width = 2;
                    }
                    if (c == name[ni])
                    {
                        pi += width;
                        ni++;
                        continue;
                    }
                }
            }
            if (starP < 0)
                return false;
            pi = starP;
            ni = ++starN;
        }
        while (pi < pattern.Length && pattern[pi] == '*')
            pi++;
        return pi == pattern.Length;
    }

    private enum BracketKind
    {
        NotABracket,
        Match,
        NoMatch,
        Invalid,
    }

    private readonly record struct Bracket(BracketKind Kind, int Next, string? Problem = null);

    /// <summary>Parses the bracket expression at <paramref name="open"/> and tests <paramref name="ch"/> against it.</summary>
    private static Bracket ParseBracket(string p, int open, char ch)
    {
        var i = open + 1;
        var negate = i < p.Length && p[i] is '!' or '^';
        if (negate)
            i++;
        var matched = false;
        string? problem = null;
        var first = true;
        while (true)
        {
            if (i >= p.Length)
                return new Bracket(BracketKind.NotABracket, open + 1);
            var c = p[i];
            if (c == ']' && !first)
            {
                i++;
                break;
            }
            first = false;
            if (c == '[' && i + 1 < p.Length && p[i + 1] == ':')
            {
                var end = p.IndexOf(":]", i + 2, StringComparison.Ordinal);
                if (end >= 0)
                {
                    var cls = p[(i + 2)..end];
                    var test = CharacterClass(cls);
                    if (test is null)
                        problem ??= $"unknown character class '[:{cls}:]' in '{p[open..]}'";
                    else if (test(ch))
                        matched = true;
                    i = end + 2;
                    continue;
                }
            }
            if (c == '\\' && i + 1 < p.Length)
                c = p[++i];
            i++;
            if (i + 1 < p.Length && p[i] == '-' && p[i + 1] != ']')
            {
                var hi = p[i + 1];
                i += 2;
                if (hi == '\\' && i < p.Length)
                    hi = p[i++];
                if (hi < c)
                    problem ??= $"range '{c}-{hi}' is in reverse order";
                else if (ch >= c && ch <= hi)
                    matched = true;
                continue;
            }
            if (ch == c)
                matched = true;
        }
        if (problem is not null)
            return new Bracket(BracketKind.Invalid, i, problem);
        return new Bracket(matched != negate ? BracketKind.Match : BracketKind.NoMatch, i);
    }

    private static Func<char, bool>? CharacterClass(string name) => name switch
    {
        "alpha" => char.IsAsciiLetter,
        "digit" => char.IsAsciiDigit,
        "alnum" => char.IsAsciiLetterOrDigit,
        "upper" => char.IsAsciiLetterUpper,
        "lower" => char.IsAsciiLetterLower,
        "xdigit" => char.IsAsciiHexDigit,
        "space" => c => c is ' ' or '\t' or '\n' or '\r' or '\f' or '\v',
        "blank" => c => c is ' ' or '\t',
        "punct" => c => c is > ' ' and < (char)127 && !char.IsAsciiLetterOrDigit(c),
        "cntrl" => c => c < ' ' || c == (char)127,
        "graph" => c => c is > ' ' and < (char)127,
        "print" => c => c is >= ' ' and < (char)127,
        _ => null,
    };
}
