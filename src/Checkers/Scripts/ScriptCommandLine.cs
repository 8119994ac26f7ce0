using System.Text;

namespace Lb.Checkers.Scripts;

/// <summary>
/// Splits a keepalived script string into argv the way keepalived does (parser.c, <c>alloc_strvec_quoted_escaped</c>):
/// words separated by blanks; double or single quotes group words and are removed; a backslash escapes the next character.
/// The result is executed directly, never through a shell.
/// </summary>
public static class ScriptCommandLine
{
    /// <summary>Splits <paramref name="command"/> into words; throws <see cref="FormatException"/> on an unterminated quote.</summary>
    public static IReadOnlyList<string> Split(string command)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        var inWord = false;
        char quote = '\0';
        for (var i = 0; i < command.Length; i++)
        {
            var c = command[i];
            if (quote != '\0')
            {
                if (c == quote)
                    quote = '\0';
                else if (c == '\\' && quote == '"' && i + 1 < command.Length && (command[i + 1] == '"' || command[i + 1] == '\\'))
                    current.Append(command[++i]);
                else
                    current.Append(c);
                continue;
            }
            if (c is ' ' or '\t' or '\n' or '\r')
            {
                if (inWord)
                {
                    words.Add(current.ToString());
                    current.Clear();
                    inWord = false;
                }
                continue;
            }
            inWord = true;
            if (c is '"' or '\'')
                quote = c;
            else if (c == '\\' && i + 1 < command.Length)
                current.Append(command[++i]);
            else
                current.Append(c);
        }
        if (quote != '\0')
            throw new FormatException($"unterminated {quote} quote in script '{command}'");
        if (inWord)
            words.Add(current.ToString());
        return words;
    }
}
