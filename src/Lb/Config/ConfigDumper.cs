using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Lb.Config;

/// <summary>
/// Writes the effective configuration as keepalived.conf text (which parses back to the same tree) or as JSON. Secrets
/// (<c>auth_pass</c>, the <c>SSL</c> block's <c>password</c>) are written as <see cref="Mask"/>, as keepalived 2.4 does in its
/// dumps, unless <c>showSecrets</c> (<c>lb -d --show-secrets</c>); only then does the text parse back to the same tree.
/// </summary>
public static class ConfigDumper
{
    /// <summary>What a secret is replaced by: keepalived 2.4's "Password = ********".</summary>
    public const string Mask = "********";

    public static string ToText(IEnumerable<ConfigNode> nodes, bool showSecrets = false)
    {
        var sb = new StringBuilder();
        foreach (var node in nodes)
            Write(sb, node, 0, null, showSecrets);
        return sb.ToString();
    }

    /// <summary>A statement whose arguments are a secret: <c>auth_pass</c> (VRRP authentication) and <c>password</c> in <c>SSL</c>.</summary>
    public static bool IsSecret(ConfigNode node, string? parent) => node.Keyword == "auth_pass" || (node.Keyword == "password" && parent == "SSL");

    private static void Write(StringBuilder sb, ConfigNode node, int depth, string? parent, bool showSecrets)
    {
        sb.Append(' ', depth * 4).Append(Quote(node.Keyword));
        var secret = !showSecrets && IsSecret(node, parent);
        foreach (var arg in node.Args)
            sb.Append(' ').Append(secret ? Mask : Quote(arg));
        if (!node.IsBlock)
        {
            sb.Append('\n');
            return;
        }
        sb.Append(" {\n");
        foreach (var child in node.Children)
            Write(sb, child, depth + 1, node.Keyword, showSecrets);
        sb.Append(' ', depth * 4).Append("}\n");
    }

    /// <summary>Quotes a word when reading it back would otherwise change it (whitespace, comment characters, braces, quotes, macros).</summary>
    public static string Quote(string word)
    {
        var needs = word.Length == 0 || word is "{" or "}" || word[0] is '@' or '~' || word.EndsWith('}')
            || word.Any(c => char.IsWhiteSpace(c) || c is '#' or '!' or '"' or '\'' or '\\' or '$' || char.IsControl(c));
        if (!needs)
            return word;
        var sb = new StringBuilder("\"");
        foreach (var c in word)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                case '\r': sb.Append("\\r"); break;
                case '$': sb.Append("\\x24"); break;
                default:
                    if (char.IsControl(c))
                        sb.Append("\\x").Append(((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    public static string ToJson(LoadedConfig config, bool showSecrets = false)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartArray("files");
            foreach (var f in config.Files)
                w.WriteStringValue(f);
            w.WriteEndArray();
            w.WriteStartArray("diagnostics");
            foreach (var d in config.Diagnostics)
            {
                w.WriteStartObject();
                w.WriteString("severity", d.Severity.ToString().ToLowerInvariant());
                if (d.Location.File.Length > 0)
                    w.WriteString("file", d.Location.File);
                if (d.Location.Line > 0)
                    w.WriteNumber("line", d.Location.Line);
                w.WriteString("message", d.Message);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("config");
            foreach (var n in config.Nodes)
                WriteJson(w, n, null, showSecrets);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteJson(Utf8JsonWriter w, ConfigNode node, string? parent, bool showSecrets)
    {
        w.WriteStartObject();
        w.WriteString("keyword", node.Keyword);
        if (node.Args.Length > 0)
        {
            var secret = !showSecrets && IsSecret(node, parent);
            w.WriteStartArray("args");
            foreach (var a in node.Args)
                w.WriteStringValue(secret ? Mask : a);
            w.WriteEndArray();
        }
        if (node.Location.IsKnown)
            w.WriteString("at", $"{node.Location.File}:{node.Location.Line}");
        else
            w.WriteBoolean("default", true);
        if (node.IsBlock)
        {
            w.WriteStartArray("children");
            foreach (var c in node.Children)
                WriteJson(w, c, node.Keyword, showSecrets);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }
}
