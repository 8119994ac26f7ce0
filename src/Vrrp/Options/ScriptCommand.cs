using System.Text;

namespace Lb.Vrrp.Options;

/// <summary>Splits a keepalived script string (<c>"/path/fault.sh VG_1"</c>) into argv the way keepalived does: whitespace separates words, single and double quotes group, backslash escapes the next character. No shell is involved.</summary>
public static class ScriptCommand
{
    /// <summary>Splits <paramref name="command"/> into argv.</summary>
    public static IReadOnlyList<string> Split(string command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var args = new List<string>();
        var current = new StringBuilder();
        var inWord = false;
        char quote = '\0';
        for (var i = 0; i < command.Length; i++)
        {
            var c = command[i];
            if (c == '\\' && i + 1 < command.Length && quote != '\'')
            {
                current.Append(command[++i]);
                inWord = true;
            }
            else if (quote != '\0')
            {
                if (c == quote)
                    quote = '\0';
                else
                    current.Append(c);
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    args.Add(current.ToString());
                    current.Clear();
                    inWord = false;
                }
            }
            else
            {
                current.Append(c);
                inWord = true;
            }
        }
        if (inWord)
            args.Add(current.ToString());
        return args;
    }
}
