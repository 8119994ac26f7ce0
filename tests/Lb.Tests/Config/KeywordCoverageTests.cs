using System.Collections.Frozen;
using System.Text;
using System.Text.RegularExpressions;
using Lb.Config;
using Lb.Config.Schema;
using Lb.Vrrp.Options;
using Xunit;

namespace Lb.Tests.Config;

/// <summary>
/// The schema's implementation marks checked against the code. A configuration holding every schema keyword (generated from
/// the schema) is loaded while <see cref="ConfigNode.ReadObserver"/> records which (block, keyword) the mappers read. Rules:
/// <list type="number">
/// <item>a keyword the mappers read is marked <c>@impl</c> (a subsystem uses it) or <c>@noeffect "reason"</c> (carried, unused):
/// never warned as "not implemented";</item>
/// <item>a keyword marked <c>@impl</c> is read by the mappers (or listed in <see cref="ReadElsewhere"/> with the stage that reads it);</item>
/// <item>a keyword marked <c>@impl</c> is mentioned, as a whole word, in a test source (<c>tests/**/*.cs</c> other than this file);</item>
/// <item>a keyword marked <c>@noeffect</c> gets its warning, with its reason, when used;</item>
/// <item>list entries (<c>*</c>) carry their block's mark.</item>
/// </list>
/// Unmarked keywords that the mappers do not read are warned "parsed but not implemented" by the validator.
/// </summary>
public sealed class KeywordCoverageTests
{
    /// <summary>Implemented keywords handled before the mappers: (block, keyword) → the stage that reads them.</summary>
    private static readonly Dictionary<(string Block, string Keyword), string> ReadElsewhere = new()
    {
        [("global_defs", "include_check")] = "Preprocessor (include checks)",
    };

    private static readonly Dictionary<string, string> EntryValues = new(StringComparer.Ordinal)
    {
        ["virtual_ipaddress"] = "10.0.0.10/32 dev eth0",
        ["virtual_ipaddress_excluded"] = "10.0.0.11/32 dev eth0",
        ["static_ipaddress"] = "10.0.0.12/32 dev eth0",
        ["static_routes"] = "10.1.0.0/16 via 10.0.0.1 dev eth0",
        ["static_rules"] = "from 10.0.0.1 table 100",
        ["virtual_routes"] = "10.2.0.0/16 via 10.0.0.1 dev eth0",
        ["virtual_rules"] = "from 10.0.0.2 table 101 priority 100",
        ["unicast_peer"] = "10.0.0.5",
        ["track_interface"] = "eth1",
        ["virtual_server_group"] = "10.0.0.1 80",
        ["linkbeat_interfaces"] = "eth0",
        ["interface_up_down_delays"] = "eth0 1",
        ["notification_email"] = "root@example.com",
        ["group"] = "VI_1",
        ["track_script"] = "chk",
        ["track_file"] = "tf",
        ["track_process"] = "tp",
        ["track_bfd"] = "bfd1",
        ["interfaces"] = "eth0",
    };

    /// <summary>Arguments for keywords whose type alone does not give a valid value.</summary>
    private static readonly Dictionary<string, string> Values = new(StringComparer.Ordinal)
    {
        ["virtual_server"] = "10.0.0.1 80",
        ["real_server"] = "10.0.0.2 80",
        ["sorry_server"] = "10.0.0.3 80",
        ["interface"] = "eth0",
        ["vrrp_instance"] = "VI_1",
        ["state"] = "BACKUP",
        ["virtual_router_id"] = "51",
        ["priority"] = "100",
        ["auth_type"] = "PASS",
        ["auth_pass"] = "secret",
        ["lvs_sched"] = "rr",
        ["lb_algo"] = "rr",
        ["lvs_method"] = "NAT",
        ["lb_kind"] = "NAT",
        ["sorry_server_lvs_method"] = "NAT",
        ["protocol"] = "TCP",
        ["status_code"] = "200",
        ["path"] = "/",
        ["digest"] = "0123456789abcdef0123456789abcdef",
        ["misc_path"] = "/bin/true",
        ["script"] = "/bin/true",
        ["notify_master"] = "/bin/true",
        ["notify_backup"] = "/bin/true",
        ["notify_fault"] = "/bin/true",
        ["notify_stop"] = "/bin/true",
        ["notify_deleted"] = "/bin/true",
        ["notify"] = "/bin/true",
        ["notify_master_rx_lower_pri"] = "/bin/true",
        ["notify_up"] = "/bin/true",
        ["notify_down"] = "/bin/true",
        ["quorum_up"] = "/bin/true",
        ["quorum_down"] = "/bin/true",
        ["startup_script"] = "/bin/true",
        ["shutdown_script"] = "/bin/true",
        ["notify_fifo_script"] = "/bin/true",
        ["vrrp_notify_fifo_script"] = "/bin/true",
        ["lvs_notify_fifo_script"] = "/bin/true",
        ["notify_fifo"] = "/tmp/lb-fifo",
        ["vrrp_notify_fifo"] = "/tmp/lb-vfifo",
        ["lvs_notify_fifo"] = "/tmp/lb-lfifo",
        ["script_user"] = "root",
        ["user"] = "root",
        ["process"] = "sshd",
        ["file"] = "/tmp/lb-track",
        ["init_file"] = "0",
        ["lvs_sync_daemon"] = "eth0 VI_1",
        ["lvs_timeouts"] = "tcp 900",
        ["smtp_server"] = "10.0.0.9",
        ["persistence_granularity"] = "255.255.255.0",
        ["persistence_engine"] = "sip",
        ["use_vmac"] = "vrrp.51",
        ["vmac_prefix"] = "vrrp",
        ["vmac_addr_prefix"] = "vrrp",
        ["regex"] = "ok",
        ["regex_options"] = "caseless",
        ["payload"] = "00",
        ["require_reply"] = "00",
        ["garp_extra_if"] = "5",
        ["vrrp_garp_extra_if"] = "5",
        ["vrrp_rx_bufs_policy"] = "MTU",
        ["umask"] = "022",
        ["vrrp_iptables"] = "INPUT",
        ["bind_if"] = "eth0",
        ["net_namespace"] = "lbns",
        ["instance"] = "one",
        ["default_interface"] = "eth0",
        ["vrf"] = "vrf0",
        ["use_ipvlan"] = "ipv0",
        ["helo_name"] = "lb.example.com",
        ["router_id"] = "lb1",
        ["name"] = "example.com",
        ["track_group"] = "tg",
        ["neighbor_ip"] = "10.0.0.7",
        ["source_ip"] = "10.0.0.8",
        ["mcast_src_ip"] = "10.0.0.1",
        ["unicast_src_ip"] = "10.0.0.1",
        ["mcast_dst_ip"] = "224.0.0.18",
        ["vrrp_mcast_group4"] = "224.0.0.18",
        ["vrrp_mcast_group6"] = "ff02::12",
        ["connect_ip"] = "10.0.0.2",
        ["bindto"] = "10.0.0.1",
        ["weight"] = "1",
    };

    private static string Value(string keyword, ImmutableArraySpecs args)
    {
        if (Values.TryGetValue(keyword, out var v))
            return v;
        var words = new List<string>();
        foreach (var a in args.Items)
        {
            if (a.Arity != Arity.One)
                break;
            words.Add(a.Type switch
            {
                ArgType.Int or ArgType.Timer => (a.Min is decimal min && min > 1 ? min : a.Max is decimal max && max < 1 ? max : 1m).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ArgType.Bool => "on",
                ArgType.Ip => "10.0.0.1",
                ArgType.IpPrefix => "10.0.0.0/24",
                ArgType.Port => "80",
                ArgType.Enum => a.Choices[0],
                ArgType.Hex => "1",
                ArgType.Rest => "x",
                _ => "x",
            });
        }
        return string.Join(' ', words);
    }

    private readonly record struct ImmutableArraySpecs(IReadOnlyList<ArgSpec> Items);

    /// <summary>A configuration with every keyword of the schema (aliases left out: they are renamed before mapping).</summary>
    internal static string Everything()
    {
        var sb = new StringBuilder();
        foreach (var spec in KeywordSchema.Default.Root.Values.OrderBy(s => s.Line.Number))
            Write(sb, spec, null, 0);
        // The named objects the instance's track_* lists refer to.
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, KeywordSpec spec, string? block, int depth)
    {
        if (spec.AliasOf is not null)
            return;
        var indent = new string(' ', depth * 2);
        var name = spec.Name == "*" ? EntryValues.GetValueOrDefault(block ?? string.Empty, "x") : spec.Name;
        var args = spec.Name == "*" ? string.Empty : Value(spec.Name, new ImmutableArraySpecs(spec.Args));
        sb.Append(indent).Append(name);
        if (args.Length > 0)
            sb.Append(' ').Append(args);
        if (!spec.IsBlock)
        {
            sb.Append('\n');
            return;
        }
        sb.Append(" {\n");
        foreach (var child in spec.Children.Values.OrderBy(s => s.Line.Number))
            Write(sb, child, spec.Name, depth + 1);
        sb.Append(indent).Append("}\n");
    }

    private static (HashSet<(string Block, string Keyword)> Reads, LoadedConfig Config) LoadRecorded(string text)
    {
        var reads = new HashSet<(string, string)>();
        ConfigNode.ReadObserver = (block, keyword) => reads.Add((block.Keyword, keyword));
        try
        {
            return (reads, ConfigLoader.LoadText(text, "all.conf"));
        }
        finally
        {
            ConfigNode.ReadObserver = null;
        }
    }

    private static IEnumerable<(string Block, KeywordSpec Spec, KeywordSpec? Parent)> Walk(FrozenDictionary<string, KeywordSpec> specs, string block, KeywordSpec? parent)
    {
        foreach (var spec in specs.Values.OrderBy(s => s.Line.Number))
        {
            if (spec.AliasOf is not null)
                continue;
            yield return (block, spec, parent);
            foreach (var inner in Walk(spec.Children, spec.Name, spec))
                yield return inner;
        }
    }

    [Fact]
    public void Marks_agree_with_what_the_mappers_read()
    {
        var (reads, config) = LoadRecorded(Everything());
        Assert.True(reads.Count > 100, $"the recorder saw only {reads.Count} reads");
        var tests = TestSources();
        var problems = new List<string>();
        foreach (var (block, spec, parent) in Walk(KeywordSchema.Default.Root, string.Empty, null))
        {
            var where = $"keywords.schema line {spec.Line.Number}: '{spec.Name}'{(block.Length > 0 ? $" in {block}" : string.Empty)}";
            if (spec.Name == "*")
            {
                if (parent is not null && (spec.Implemented != parent.Implemented || spec.NoEffect is not null))
                    problems.Add($"{where}: a list entry carries its block's mark (block @impl: {parent.Implemented}, entry @impl: {spec.Implemented})");
                continue;
            }
            var read = reads.Contains((block, spec.Name)) || ReadElsewhere.ContainsKey((block, spec.Name));
            if (read && !spec.Implemented && spec.NoEffect is null)
                problems.Add($"{where}: read by the mappers but warned as not implemented (mark it @impl if a subsystem uses it, else @noeffect \"reason\")");
            if (spec.Implemented && !read)
                problems.Add($"{where}: marked @impl but the mappers never read it");
            // an extension keyword lb:NAME is written "#lb: NAME" in a configuration: a test names it by NAME
            if (spec.Implemented && !tests.Contains(spec.Name.StartsWith("lb:", StringComparison.Ordinal) ? spec.Name[3..] : spec.Name))
                problems.Add($"{where}: marked @impl but no test under tests/ mentions it");
            if (spec.NoEffect is not null && !config.Diagnostics.Any(d => d.Severity == Severity.Warning && d.Message.StartsWith($"'{spec.Name}' is parsed but has no effect in Lb yet: {spec.NoEffect}", StringComparison.Ordinal)))
                problems.Add($"{where}: marked @noeffect but using it gave no warning");
        }
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void The_generated_configuration_reaches_every_block_the_mappers_map()
    {
        var (reads, config) = LoadRecorded(Everything());
        Assert.Single(config.Options.Vrrp.Instances);
        var rs = Assert.Single(Assert.Single(config.Options.Checkers.VirtualServers).RealServers);
        Assert.Equal(9, rs.Checkers.Count); // HTTP_GET, SSL_GET, TCP_CHECK, MISC_CHECK, DNS_CHECK, UDP_CHECK, PING_CHECK, SMTP_CHECK, FILE_CHECK
        Assert.Contains(("url", "path"), reads);
    }

    [Fact]
    public void Auth_type_ah_maps_to_ah_authentication_without_a_warning()
    {
        var config = ConfigLoader.LoadText("vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  authentication {\n    auth_type AH\n    auth_pass secret\n  }\n  virtual_ipaddress {\n    10.0.0.10/32\n  }\n}\n", "ah.conf");
        Assert.Empty(config.Diagnostics);
        Assert.Equal(new VrrpAuthentication(VrrpAuthType.Ah, "secret"), Assert.Single(config.Options.Vrrp.Instances).Authentication);
    }

    [Fact]
    public void V3_checksum_as_v2_is_a_global_keyword_that_reaches_the_vrrp_options()
    {
        var config = ConfigLoader.LoadText("global_defs {\n  v3_checksum_as_v2\n}\n", "v3.conf");
        Assert.Empty(config.Diagnostics);
        Assert.True(config.Options.Vrrp.V3ChecksumAsV2);
        Assert.False(ConfigLoader.LoadText("global_defs {\n}\n", "v3.conf").Options.Vrrp.V3ChecksumAsV2);
    }

    private static HashSet<string> TestSources([System.Runtime.CompilerServices.CallerFilePath] string self = "")
    {
        var root = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(self)!, "..", ".."));
        var words = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            if (file == self || file.Contains("/obj/", StringComparison.Ordinal) || file.Contains("/bin/", StringComparison.Ordinal))
                continue;
            var text = File.ReadAllText(file);
            foreach (Match m in Regex.Matches(text, @"[A-Za-z0-9_\-]+"))
                words.Add(m.Value);
            // Lb's extension keywords (#lb: KEYWORD) are named lb:KEYWORD in the schema.
            foreach (Match m in Regex.Matches(text, @"lb:[A-Za-z0-9_\-]+"))
                words.Add(m.Value);
        }
        return words;
    }
}
