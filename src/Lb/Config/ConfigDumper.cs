using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Lb.Config;

/// <summary>Writes the effective configuration as keepalived.conf text (which parses back to the same tree) or as JSON.</summary>
public static class ConfigDumper
{
    public static string ToText(IEnumerable<ConfigNode> nodes)
    {
        var sb = new StringBuilder();
        foreach (var node in nodes)
            Write(sb, node, 0);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, ConfigNode node, int depth)
    {
        sb.Append(' ', depth * 4).Append(Quote(node.Keyword));
        foreach (var arg in node.Args)
            sb.Append(' ').Append(Quote(arg));
        if (!node.IsBlock)
        {
            sb.Append('\n');
            return;
        }
        sb.Append(" {\n");
        foreach (var child in node.Children)
            Write(sb, child, depth + 1);
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

    public static string ToJson(LoadedConfig config)
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
                WriteJson(w, n);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteJson(Utf8JsonWriter w, ConfigNode node)
    {
        w.WriteStartObject();
        w.WriteString("keyword", node.Keyword);
        if (node.Args.Length > 0)
        {
            w.WriteStartArray("args");
            foreach (var a in node.Args)
                w.WriteStringValue(a);
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
                WriteJson(w, c);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }
}
