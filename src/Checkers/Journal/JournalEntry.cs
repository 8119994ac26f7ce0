using System.Text.Json.Serialization;

namespace Lb.Checkers.Journal;

/// <summary>
/// One state change, journalled as one JSON object per line. Generic enough for both subsystems:
/// the checkers journal real servers, quorum and sorry servers; VRRP journals instances (<see cref="Instance"/>).
/// </summary>
public sealed record JournalEntry
{
    /// <summary>When the change happened (UTC, millisecond precision on disk).</summary>
    [JsonPropertyName("time")]
    public required DateTimeOffset Time { get; init; }

    /// <summary>The subsystem: <c>checkers</c> or <c>vrrp</c>.</summary>
    [JsonPropertyName("subsystem")]
    public required string Subsystem { get; init; }

    /// <summary>What changed: <c>real_server</c>, <c>weight</c>, <c>quorum</c>, <c>sorry_server</c>, <c>vrrp_instance</c>, …</summary>
    [JsonPropertyName("kind")]
    public required string Kind { get; init; }

    /// <summary>The virtual server in keepalived's form (<c>[10.0.0.100]:tcp:80</c>), if any.</summary>
    [JsonPropertyName("vs")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? VirtualServer { get; init; }

    /// <summary>The real (or sorry) server in keepalived's form (<c>[10.0.0.2]:tcp:80</c>), if any.</summary>
    [JsonPropertyName("rs")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RealServer { get; init; }

    /// <summary>The VRRP instance (or other named subject) when the subject is not a real server.</summary>
    [JsonPropertyName("instance")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Instance { get; init; }

    /// <summary>State before (<c>up</c>, <c>down</c>, <c>weight 1</c>, <c>BACKUP</c>…).</summary>
    [JsonPropertyName("old")]
    public required string OldState { get; init; }

    /// <summary>State after.</summary>
    [JsonPropertyName("new")]
    public required string NewState { get; init; }

    /// <summary>Why, in words: <c>HTTP status 503 on /health</c>, <c>connect timeout 3 s after 2 retries</c>, <c>misc_dynamic weight 7</c>.</summary>
    [JsonPropertyName("reason")]
    public required string Reason { get; init; }

    /// <summary>The kernel action taken (<c>removed from IPVS</c>, <c>weight 0 (inhibit)</c>, <c>none</c>, …).</summary>
    [JsonPropertyName("action")]
    public string Action { get; init; } = "none";

    /// <summary>Who did it (an operator command's caller), if anyone.</summary>
    [JsonPropertyName("by")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? By { get; init; }
}

/// <summary>Source-generated JSON for <see cref="JournalEntry"/>.</summary>
[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(JournalEntry))]
internal sealed partial class JournalJsonContext : JsonSerializerContext
{
}
