using Lb.Netlink.Collections;
namespace Lb.Checkers.Options;

/// <summary>
/// Everything the checker subsystem needs: the virtual servers from <c>virtual_server</c> blocks and the few
/// <c>global_defs</c> keywords that affect health checking. Pure data; the config parser in src/Lb builds it.
/// </summary>
public sealed record CheckerSubsystemOptions
{
    /// <summary>The <c>virtual_server</c> blocks, in file order.</summary>
    public ValueList<VirtualServerOptions> VirtualServers { get; init; } = [];

    /// <summary><c>script_user username [groupname]</c>: the user scripts (misc_path, notify_*, quorum_*) run as when they name none. Null: the user lb runs as.</summary>
    public string? ScriptUser { get; init; }

    /// <summary>The group of <c>script_user username [groupname]</c>. Null: the user's primary group.</summary>
    public string? ScriptGroup { get; init; }

    /// <summary><c>enable_script_security</c>: refuse to run a script writable by a non-root user when running it as root.</summary>
    public bool EnableScriptSecurity { get; init; }

    /// <summary><c>lvs_flush</c>: flush the whole IPVS table at start-up.</summary>
    public bool LvsFlush { get; init; }

    /// <summary><c>lvs_flush_on_stop [VS]</c>: what is removed from IPVS at shutdown.</summary>
    public LvsFlushOnStop LvsFlushOnStop { get; init; } = LvsFlushOnStop.None;

    /// <summary><c>checker_log_all_failures</c>: log every failed check attempt, not only state changes.</summary>
    public bool CheckerLogAllFailures { get; init; }

    /// <summary><c>rs_init_notifies</c>: run notify_up for real servers that are up at start-up.</summary>
    public bool RsInitNotifies { get; init; }

    /// <summary><c>no_checker_emails</c>: a checker's mail only when its real server changed state, not for every checker that changed.</summary>
    public bool NoCheckerEmails { get; init; }

    /// <summary>Lb-specific: time a notify_up/notify_down/quorum_up/quorum_down script may run before its process tree is killed (keepalived has no limit). Default 30 s.</summary>
    public TimeSpan NotifyScriptTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Lb-specific: the state-change journal (location, rotation).</summary>
    public JournalOptions Journal { get; init; } = new();
}

/// <summary>Values of <c>lvs_flush_on_stop</c>.</summary>
public enum LvsFlushOnStop
{
    /// <summary>Keyword absent: remove only what lb added (keepalived's default).</summary>
    None,

    /// <summary><c>lvs_flush_on_stop VS</c>: remove the configured virtual servers without removing real servers one by one.</summary>
    VirtualServers,

    /// <summary><c>lvs_flush_on_stop</c>: flush the whole IPVS table.</summary>
    Full,
}

/// <summary>Where the durable journal of state changes lives and how it rotates.</summary>
public sealed record JournalOptions
{
    /// <summary>Default location of the journal file.</summary>
    public const string DefaultPath = "/var/lib/lb/journal.jsonl";

    /// <summary>Path of the journal file (one JSON object per line). Default <c>/var/lib/lb/journal.jsonl</c>.</summary>
    public string Path { get; init; } = DefaultPath;

    /// <summary>Size in bytes past which the file is rotated to <c>.1</c>, <c>.2</c>, … Default 10 MiB.</summary>
    public long MaxFileBytes { get; init; } = 10 * 1024 * 1024;

    /// <summary>Number of rotated files kept besides the live one. Default 5.</summary>
    public int MaxRotatedFiles { get; init; } = 5;

    /// <summary>Whether each append is fsynced (<c>FileStream.Flush(true)</c>) before it is reported done. Default true.</summary>
    public bool Fsync { get; init; } = true;
}
