using Lb.Checkers.Journal;

namespace Lb.Fuzz;

/// <summary>
/// The journal as <c>lb journal</c> reads it: the input is split at <c>%%%</c> lines into rotated files
/// (<c>journal.jsonl.N</c> … <c>.1</c>) and the live <c>journal.jsonl</c>, then listed as a table and as JSON with
/// filters. Lines that do not parse are skipped and counted; nothing may throw.
/// </summary>
internal sealed class JournalTarget : IFuzzTarget
{
    public void Warmup(string work) =>
        Run("""{"time":"2026-01-01T00:00:00.000+00:00","subsystem":"checkers","kind":"real_server","vs":"[10.0.0.1]:tcp:80","rs":"[10.0.0.2]:tcp:80","old":"up","new":"down","reason":"r","action":"none"}"""u8.ToArray(), work);

    public void Run(byte[] data, string work)
    {
        foreach (var old in Directory.EnumerateFiles(work, "journal.jsonl*"))
            File.Delete(old);
        var parts = Sections.Split(data);
        var path = Path.Combine(work, "journal.jsonl");
        for (var i = 0; i < parts.Count; i++)
        {
            var rotation = parts.Count - 1 - i;
            File.WriteAllBytes(rotation == 0 ? path : $"{path}.{rotation}", parts[i]);
        }

        using var output = new StringWriter();
        List<string[]> commands =
        [
            ["--file", path],
            ["--json", "--file", path, "--vs", "10.0", "--rs", "A", "--since", "2026-01-01T00:00:00Z"],
        ];
        foreach (var args in commands)
        {
            var code = JournalCli.RunAsync(args, output, output).GetAwaiter().GetResult();
            if (code != 0)
                throw new InvalidOperationException($"lb journal exited {code}: {output}");
        }
        var reader = new JournalReader(path);
        foreach (var entry in reader.Read())
            _ = JournalWriter.Serialize(entry);
    }
}
