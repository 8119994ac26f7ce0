using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Lb.Config;

/// <summary>
/// Builds the statement tree from logical lines: words split on whitespace, quoted strings ("…" or '…', escapes inside
/// quotes as keepalived's), <c>{</c> and <c>}</c> outside quotes as their own tokens wherever they are (glued to a
/// word or to each other, as keepalived splits them), a block's opening brace on the keyword's line or the next.
/// </summary>
public sealed class ConfigTreeParser
{
    public const int MaxDepth = 64;

    private readonly DiagnosticBag _diagnostics;

    // The tokens are made line by line as the parser reaches them, from the lines' text in place, into a window that is
    // emptied at each statement: a big file is never held as a token list.
    private readonly List<Token> _window = new();
    private IReadOnlyList<LogicalLine> _lines = Array.Empty<LogicalLine>();
    private int _nextLine;
    private int _windowStart;
    private bool _ended;
    private int _pos;

    // The parser's own diagnostics are added after every line's tokenizer diagnostics, as when all lines were tokenized first.
    private readonly List<(Severity Severity, SourceLocation Location, string Message)> _parserDiagnostics = new();

    public ConfigTreeParser(DiagnosticBag diagnostics) => _diagnostics = diagnostics;

    private enum Kind
    {
        Word,
        Open,
        Close,
        EndOfLine,
    }

    private readonly record struct Token(Kind Kind, string Text, SourceLocation Location);

    public ImmutableArray<ConfigNode> Parse(IReadOnlyList<LogicalLine> lines)
    {
        _lines = lines;
        _nextLine = 0;
        _window.Clear();
        _windowStart = 0;
        _ended = false;
        _pos = 0;
        _parserDiagnostics.Clear();
        var missing = 0;
        var nodes = ParseStatements(0, ref missing);
        // Lines after a parse that stopped early are still tokenized: their diagnostics are reported all the same.
        _window.Clear();
        while (_nextLine < _lines.Count)
        {
            TokenizeNextLine();
            _window.Clear();
        }
        foreach (var (severity, location, message) in _parserDiagnostics)
            _diagnostics.Add(severity, location, message);
        _parserDiagnostics.Clear();
        if (missing > 0)
        {
            var last = lines.Count > 0 ? lines[^1].Location : SourceLocation.None;
            _diagnostics.Error(last, $"There are {missing} missing '}}'s or extra '{{'s");
        }
        _lines = Array.Empty<LogicalLine>();
        return nodes;
    }

    private void TokenizeNextLine()
    {
        var line = _lines[_nextLine++];
        Tokenize(line.Span, line.Location, _window, _diagnostics, _words);
        _window.Add(new Token(Kind.EndOfLine, string.Empty, line.Location));
    }

    /// <summary>True when there is a token at <paramref name="index"/> (tokenizing lines up to it).</summary>
    private bool Has(int index)
    {
        if (_ended)
            return false;
        while (index - _windowStart >= _window.Count)
        {
            if (_nextLine >= _lines.Count)
                return false;
            TokenizeNextLine();
        }
        return true;
    }

    private Token At(int index) => _window[index - _windowStart];

    /// <summary>Drops the tokens before the current one (called where no earlier token is needed any more).</summary>
    private void Slide()
    {
        var consumed = Math.Min(_pos - _windowStart, _window.Count);
        if (consumed >= 256)
        {
            _window.RemoveRange(0, consumed);
            _windowStart += consumed;
        }
    }

    /// <summary>Ends the parse here: every level sees no more tokens.</summary>
    private void End() => _ended = true;

    private void ParserError(SourceLocation location, string message) => _parserDiagnostics.Add((Severity.Error, location, message));

    private void ParserFatal(SourceLocation location, string message) => _parserDiagnostics.Add((Severity.Fatal, location, message));

    /// <summary>
    /// One string per distinct unquoted word (a big file repeats its keywords, ports and weights thousands of times): fewer
    /// allocations and less for the collector to copy while the tree is built. Bounded; past the bound words are not shared.
    /// </summary>
    private readonly Dictionary<string, string> _words = new(StringComparer.Ordinal);

    private const int MaxSharedWords = 16 * 1024;

    private static string Word(ReadOnlySpan<char> w, Dictionary<string, string>? words)
    {
        if (words is null)
            return w.ToString();
        var lookup = words.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(w, out var shared))
            return shared;
        var s = w.ToString();
        if (words.Count < MaxSharedWords)
            words.Add(s, s);
        return s;
    }

    private static bool IsBrace(char c) => c is '{' or '}';

    /// <summary>
    /// One line's tokens. As keepalived 2.2.7's read_line, a brace outside quotes stands for itself wherever it is
    /// (keepalived cuts the line before and after each one): <c>virtual_server 10.0.0.1 80{</c>, <c>{weight 1}</c>,
    /// <c>connect_timeout 3}}</c> are the braces and the words around them.
    /// </summary>
    private static void Tokenize(ReadOnlySpan<char> text, SourceLocation location, List<Token> tokens, DiagnosticBag? diagnostics, Dictionary<string, string>? words = null)
    {
        var i = 0;
        StringBuilder? builder = null;
        while (i < text.Length)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
                i++;
            if (i >= text.Length)
                break;
            if (text[i] == '{')
            {
                tokens.Add(new Token(Kind.Open, "{", location));
                i++;
                continue;
            }
            if (text[i] == '}')
            {
                tokens.Add(new Token(Kind.Close, "}", location));
                i++;
                continue;
            }

            // The common word has no quote: taken as it stands, without a builder (start-up of a big file).
            var start = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not ('"' or '\'' or '{' or '}'))
                i++;
            if (i == text.Length || text[i] is not ('"' or '\''))
            {
                tokens.Add(new Token(Kind.Word, Word(text[start..i], words), location));
                continue;
            }
            i = start;
            var word = builder ??= new StringBuilder();
            word.Clear();
            var quoted = false;
            while (i < text.Length && !char.IsWhiteSpace(text[i]) && !IsBrace(text[i]))
            {
                var c = text[i];
                if (c is '"' or '\'')
                {
                    quoted = true;
                    var quote = c;
                    i++;
                    var closed = false;
                    while (i < text.Length)
                    {
                        c = text[i];
                        if (c == quote)
                        {
                            closed = true;
                            i++;
                            break;
                        }
                        if (c == '\\' && i + 1 < text.Length)
                        {
                            i = Unescape(text, i + 1, word);
                            continue;
                        }
                        word.Append(c);
                        i++;
                    }
                    if (!closed)
                        diagnostics?.Error(location, $"Unmatched quote: '{quote}{word}'");
                    continue;
                }
                word.Append(c);
                i++;
            }
            tokens.Add(new Token(Kind.Word, quoted ? word.ToString() : Word(word.ToString(), words), location));
        }
    }

    private static int Unescape(ReadOnlySpan<char> text, int i, StringBuilder into)
    {
        var c = text[i];
        switch (c)
        {
            case 'a': into.Append('\a'); return i + 1;
            case 'b': into.Append('\b'); return i + 1;
            case 'E': into.Append('\u001b'); return i + 1;
            case 'f': into.Append('\f'); return i + 1;
            case 'n': into.Append('\n'); return i + 1;
            case 'r': into.Append('\r'); return i + 1;
            case 't': into.Append('\t'); return i + 1;
            case 'v': into.Append('\v'); return i + 1;
            case 'c' when i + 1 < text.Length:
                into.Append((char)(char.ToUpperInvariant(text[i + 1]) ^ 0x40));
                return i + 2;
            case 'x':
                {
                    var j = i + 1;
                    while (j < text.Length && char.IsAsciiHexDigit(text[j]))
                        j++;
                    if (j == i + 1)
                    {
                        into.Append('x');
                        return j;
                    }
                    var hex = text[(i + 1)..j];
                    into.Append((char)(int.Parse(hex.Length > 4 ? hex[^4..] : hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture) & 0xff));
                    return j;
                }
            case >= '0' and <= '7':
                {
                    var j = i;
                    var v = 0;
                    while (j < text.Length && j < i + 3 && text[j] is >= '0' and <= '7')
                        v = (v * 8) + (text[j++] - '0');
                    into.Append((char)(v & 0xff));
                    return j;
                }
            default:
                into.Append(c);
                return i + 1;
        }
    }

    /// <summary>The statements being collected at each depth, reused from block to block (a block's array is made once, at its exact size).</summary>
    private readonly List<List<ConfigNode>> _levels = new();

    private ImmutableArray<ConfigNode> ParseStatements(int depth, ref int missing)
    {
        if (_levels.Count <= depth)
            _levels.Add(new List<ConfigNode>());
        var nodes = _levels[depth];
        nodes.Clear();
        try
        {
            return ParseStatements(depth, nodes, ref missing);
        }
        finally
        {
            nodes.Clear();
        }
    }

    private static ImmutableArray<T> Freeze<T>(List<T> items) => items.Count == 0 ? ImmutableArray<T>.Empty : [.. items];

    private ImmutableArray<ConfigNode> ParseStatements(int depth, List<ConfigNode> nodes, ref int missing)
    {
        while (true)
        {
            SkipEndOfLines();
            Slide();
            if (!Has(_pos))
            {
                if (depth > 0)
                    missing++;
                return Freeze(nodes);
            }
            var token = At(_pos);
            if (token.Kind == Kind.Close)
            {
                _pos++;
                if (depth == 0)
                {
                    ParserError(token.Location, "Extra '}' found");
                    continue;
                }
                return Freeze(nodes);
            }
            if (token.Kind == Kind.Open)
            {
                _pos++;
                ParserError(token.Location, "'{' without a keyword before it; block ignored");
                if (depth >= MaxDepth)
                {
                    ParserFatal(token.Location, $"blocks nested deeper than {MaxDepth} levels");
                    End();
                    return Freeze(nodes);
                }
                ParseStatements(depth + 1, ref missing);
                continue;
            }

            var keyword = token.Text;
            var location = token.Location;
            _pos++;
            var first = _pos;
            while (Has(_pos) && At(_pos).Kind == Kind.Word)
                _pos++;
            var args = ImmutableArray<string>.Empty;
            if (_pos > first)
            {
                var words = new string[_pos - first];
                for (var k = 0; k < words.Length; k++)
                    words[k] = At(first + k).Text;
                args = ImmutableCollectionsMarshal.AsImmutableArray(words);
            }

            var isBlock = false;
            if (Has(_pos) && At(_pos).Kind == Kind.Open)
                isBlock = true;
            else if (Has(_pos) && At(_pos).Kind == Kind.EndOfLine)
            {
                var look = _pos;
                while (Has(look) && At(look).Kind == Kind.EndOfLine)
                    look++;
                if (Has(look) && At(look).Kind == Kind.Open)
                {
                    isBlock = true;
                    _pos = look;
                }
            }

            if (!isBlock)
            {
                nodes.Add(new ConfigNode(keyword, args, null, location));
                continue;
            }
            _pos++; // the '{'
            if (depth >= MaxDepth)
            {
                ParserFatal(location, $"blocks nested deeper than {MaxDepth} levels");
                End();
                return Freeze(nodes);
            }
            var children = ParseStatements(depth + 1, ref missing);
            nodes.Add(new ConfigNode(keyword, args, children, location));
        }
    }

    private void SkipEndOfLines()
    {
        while (Has(_pos) && At(_pos).Kind == Kind.EndOfLine)
            _pos++;
    }
}
