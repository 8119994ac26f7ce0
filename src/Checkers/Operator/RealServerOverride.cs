using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lb.Checkers.Operator;

/// <summary>
/// A real server's operator override as persisted (the host's operator-state file, section <c>rs</c>, key
/// <see cref="RealServerOverride.Key"/>): restored at start before the first IPVS programming, kept across a reload for
/// servers still configured, dropped for removed ones.
/// </summary>
public sealed record RealServerOverride
{
    /// <summary><c>enabled</c> (only a weight is overridden), <c>disabled</c> or <c>draining</c>.</summary>
    [JsonPropertyName("state")]
    public required string State { get; init; }

    /// <summary>The operator's weight (<c>lb rs weight</c>); null: the configured one.</summary>
    [JsonPropertyName("weight")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Weight { get; init; }

    /// <summary>While draining: the deadline (a restart keeps what is left of it).</summary>
    [JsonPropertyName("deadline")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>Who set it.</summary>
    [JsonPropertyName("by")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? By { get; init; }

    /// <summary>When it was set.</summary>
    [JsonPropertyName("since")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? Since { get; init; }

    /// <summary>The persistence key of a real server: <c>[10.0.0.100]:tcp:80 [10.0.0.11]:tcp:80</c> (keepalived's texts).</summary>
    public static string Key(string virtualServer, string realServer) => $"{virtualServer} {realServer}";

    /// <summary>As a JSON element (source-generated, NativeAOT-safe).</summary>
    public JsonElement ToJson() => JsonSerializer.SerializeToElement(this, RealServerOverrideJsonContext.Default.RealServerOverride);

    /// <summary>Reads a persisted override; null when it is not one (a file edited by hand).</summary>
    public static RealServerOverride? FromJson(JsonElement element)
    {
        try
        {
            return element.Deserialize(RealServerOverrideJsonContext.Default.RealServerOverride);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>Source-generated JSON for <see cref="RealServerOverride"/>.</summary>
[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(RealServerOverride))]
internal sealed partial class RealServerOverrideJsonContext : JsonSerializerContext
{
}
