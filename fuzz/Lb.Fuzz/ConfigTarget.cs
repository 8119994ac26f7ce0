using System.Text.RegularExpressions;
using Lb.Config;

namespace Lb.Fuzz;

/// <summary>
/// keepalived.conf as <c>lb -t -d</c> reads it: preprocessor, tree parser, schema validator, semantic checks, then the
/// diagnostics and the dump. The input is split at <c>%%%</c> lines: the first part is <c>keepalived.conf</c>, the
/// others <c>inc/f1.conf</c>, <c>inc/f2.conf</c>… for includes. Nothing here is an expected exception: the loader
/// reports bad input as diagnostics.
/// </summary>
internal sealed class ConfigTarget : IFuzzTarget
{
    private static readonly string[] IncludeKeywords = ["include", "includer", "includem", "includew", "includeb", "includea"];

    /// <summary>Skip inputs that hit defects already known and fixed elsewhere (LBFUZZ_KNOWN=report turns this off).</summary>
    private static readonly bool SkipKnown = Environment.GetEnvironmentVariable("LBFUZZ_KNOWN") != "report";

    private static readonly bool Verbose = Environment.GetEnvironmentVariable("LBFUZZ_VERBOSE") == "1";

    public void Warmup(string work)
    {
        Run("$X=1\n~SEQ(i, 1, 2) global_defs { router_id r$i }\ninclude inc/*.conf\n%%%\nvrrp_instance v { interface lo virtual_router_id 1 priority 100 virtual_ipaddress { 10.0.0.1/24 } }\n"u8.ToArray(), work);
    }

    public void Run(byte[] data, string work)
    {
        var parts = Sections.Split(data);
        if (SkipKnown && parts.Any(HitsKnownDefect))
            return;
        var inc = Path.Combine(work, "inc");
        if (Directory.Exists(inc))
            Directory.Delete(inc, recursive: true);
        Directory.CreateDirectory(inc);
        var main = Path.Combine(work, "keepalived.conf");
        File.WriteAllBytes(main, parts[0]);
        for (var i = 1; i < parts.Count; i++)
            File.WriteAllBytes(Path.Combine(inc, $"f{i}.conf"), parts[i]);

        var options = new ConfigLoadOptions
        {
            Preprocessor = new PreprocessorOptions { ConfigId = "fuzz", RandomSeed = 1 },
            CheckInterfaces = false,
        };
        try
        {
            var config = ConfigLoader.Load(main, options);
            foreach (var d in config.Diagnostics)
            {
                var text = d.ToString();
                if (Verbose)
                    Console.WriteLine(text);
            }
            _ = config.ExitCode;
            if (!config.HasFatal)
            {
                _ = ConfigDumper.ToText(config.Nodes);
                _ = ConfigDumper.ToJson(config);
            }
        }
        catch (RegexParseException e) when (SkipKnown && e.StackTrace?.Contains("Lb.Config.Glob.ToRegex", StringComparison.Ordinal) == true)
        {
            // Known: glob character classes like [z-a] reach Regex unchecked.
        }
    }

    /// <summary>Known: an include pattern with a brace group that has no top-level comma (<c>{word}</c>) recurses without end.</summary>
    private static bool HitsKnownDefect(byte[] part)
    {
        foreach (var raw in System.Text.Encoding.UTF8.GetString(part).Split('\n'))
        {
            var line = raw.Trim();
            var first = line.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
            if (IncludeKeywords.Contains(first, StringComparer.Ordinal) && HasCommalessBraceGroup(line))
                return true;
        }
        return false;
    }

    private static bool HasCommalessBraceGroup(string s)
    {
        for (var open = s.IndexOf('{'); open >= 0; open = s.IndexOf('{', open + 1))
        {
            var depth = 0;
            var comma = false;
            for (var i = open; i < s.Length; i++)
            {
                if (s[i] == '{')
                    depth++;
                else if (s[i] == ',' && depth == 1)
                    comma = true;
                else if (s[i] == '}' && --depth == 0)
                {
                    if (!comma)
                        return true;
                    break;
                }
            }
        }
        return false;
    }
}
