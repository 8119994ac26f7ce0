using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Lb.Control;

/// <summary>
/// What operators set at run time (<c>lb rs disable</c>, <c>lb vrrp maintenance</c>, …), kept in one JSON file beside the
/// journal (<c>/var/lib/lb/operator-state.json</c>) so that it survives SIGHUP and a restart. Sections by subsystem
/// (<c>rs</c>, <c>vrrp</c>), each a map from the object's key to the owner's payload. Every change is written before
/// <see cref="Set"/> returns: a temporary file in the same directory, fsynced, renamed over the old one (a crash leaves
/// the old file or the new one, never half of one). A file that cannot be read is kept aside (renamed
/// <c>.unreadable</c>) and logged, never silently overwritten. Thread-safe.
/// </summary>
public sealed class OperatorStateStore
{
    /// <summary>The file's name beside the journal.</summary>
    public const string FileName = "operator-state.json";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, SortedDictionary<string, JsonElement>> _sections = new(StringComparer.Ordinal);
    private readonly ILogger _logger;

    private OperatorStateStore(string path, ILogger logger)
    {
        Path = path;
        _logger = logger;
    }

    /// <summary>The state file.</summary>
    public string Path { get; }

    /// <summary>The state file beside <paramref name="journalPath"/>.</summary>
    public static string PathBeside(string journalPath) =>
        System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(journalPath)) ?? "/", FileName);

    /// <summary>Loads <paramref name="path"/> (absent: empty).</summary>
    public static OperatorStateStore Open(string path, ILogger logger)
    {
        var store = new OperatorStateStore(path, logger);
        store.Load();
        return store;
    }

    private void Load()
    {
        byte[] bytes;
        try
        {
            if (!File.Exists(Path))
                return;
            bytes = File.ReadAllBytes(Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogError("Operator state {Path} cannot be read: {Message}; starting without operator overrides", Path, e.Message);
            return;
        }
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            if (!doc.RootElement.TryGetProperty("sections", out var sections) || sections.ValueKind != JsonValueKind.Object)
                throw new JsonException("no \"sections\" object");
            foreach (var section in sections.EnumerateObject())
            {
                if (section.Value.ValueKind != JsonValueKind.Object)
                    throw new JsonException($"section \"{section.Name}\" is not an object");
                var map = new SortedDictionary<string, JsonElement>(StringComparer.Ordinal);
                foreach (var entry in section.Value.EnumerateObject())
                    map[entry.Name] = entry.Value.Clone();
                _sections[section.Name] = map;
            }
            _logger.LogInformation("Operator state loaded from {Path}: {Summary}", Path, Summary());
        }
        catch (JsonException e)
        {
            var aside = Path + ".unreadable";
            try
            {
                File.Move(Path, aside, overwrite: true);
            }
            catch (IOException)
            {
            }
            _sections.Clear();
            _logger.LogError("Operator state {Path} is not valid ({Message}); kept as {Aside}, starting without operator overrides", Path, e.Message, aside);
        }
    }

    private string Summary()
    {
        var parts = _sections.Where(s => s.Value.Count > 0).Select(s => $"{s.Value.Count} {s.Key}").ToList();
        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }

    /// <summary>The entries of <paramref name="section"/> (a copy).</summary>
    public IReadOnlyDictionary<string, JsonElement> Section(string section)
    {
        lock (_gate)
            return _sections.TryGetValue(section, out var map) ? new Dictionary<string, JsonElement>(map, StringComparer.Ordinal) : new Dictionary<string, JsonElement>(StringComparer.Ordinal);
    }

    /// <summary>Sets (or with null removes) <paramref name="key"/> of <paramref name="section"/> and writes the file before returning.</summary>
    /// <exception cref="IOException">The file could not be written (the change is not kept in memory either).</exception>
    public void Set(string section, string key, JsonElement? value)
    {
        lock (_gate)
        {
            if (!_sections.TryGetValue(section, out var map))
                _sections[section] = map = new SortedDictionary<string, JsonElement>(StringComparer.Ordinal);
            var had = map.TryGetValue(key, out var old);
            if (value is { } v)
                map[key] = v.Clone();
            else
                map.Remove(key);
            try
            {
                Write();
            }
            catch
            {
                if (had)
                    map[key] = old;
                else
                    map.Remove(key);
                throw;
            }
        }
    }

    private void Write()
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("version", 1);
            w.WriteStartObject("sections");
            foreach (var (name, map) in _sections.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                if (map.Count == 0)
                    continue;
                w.WriteStartObject(name);
                foreach (var (key, value) in map)
                {
                    w.WritePropertyName(key);
                    value.WriteTo(w);
                }
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        buffer.Write(Encoding.UTF8.GetBytes("\n"));
        var dir = System.IO.Path.GetDirectoryName(Path) ?? "/";
        Directory.CreateDirectory(dir);
        var temp = System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileName(Path)}.{Environment.ProcessId}.tmp");
        using (var f = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.None))
        {
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            buffer.Position = 0;
            buffer.CopyTo(f);
            f.Flush(flushToDisk: true);
        }
        File.Move(temp, Path, overwrite: true);
    }
}
