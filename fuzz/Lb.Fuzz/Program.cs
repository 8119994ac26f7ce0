using System.Runtime.InteropServices;
using SharpFuzz;

namespace Lb.Fuzz;

/// <summary>
/// <c>Lb.Fuzz TARGET</c> runs one fuzz target under afl-fuzz (SharpFuzz's out-of-process fork server: a stack
/// overflow or a fail-fast kills a child, which afl-fuzz sees as a crash). <c>Lb.Fuzz TARGET --replay FILE...</c> runs
/// files through the target without afl-fuzz and prints what each one did (for triage and afl-tmin).
/// Targets: config, vrrp, netlink, journal. A crash is any exception the target does not document as its
/// "invalid input" result; hangs are afl-fuzz timeouts.
/// </summary>
public static class Program
{
    private static readonly Dictionary<string, Func<IFuzzTarget>> Targets = new(StringComparer.Ordinal)
    {
        ["config"] = () => new ConfigTarget(),
        ["vrrp"] = () => new VrrpTarget(),
        ["netlink"] = () => new NetlinkTarget(),
        ["journal"] = () => new JournalTarget(),
    };

    public static int Main(string[] args)
    {
        if (args.Length == 0 || !Targets.TryGetValue(args[0], out var create))
        {
            Console.Error.WriteLine($"usage: Lb.Fuzz {{{string.Join('|', Targets.Keys)}}} [--replay FILE... | --seeds DIR]");
            return 2;
        }
        if (args.Length == 3 && args[1] == "--seeds")
        {
            Directory.CreateDirectory(args[2]);
            foreach (var (name, data) in Seeds.For(args[0]))
                File.WriteAllBytes(Path.Combine(args[2], name), data);
            return 0;
        }
        var target = create();
        var work = Environment.GetEnvironmentVariable("LBFUZZ_WORK") is { Length: > 0 } w
            ? Path.Combine(w, $"{args[0]}-{Environment.ProcessId}")
            : Path.Combine(Path.GetTempPath(), "lbfuzz", "work", $"{args[0]}-{Environment.ProcessId}");
        var confined = new Confined(target, work);

        if (args.Length > 1 && args[1] == "--replay")
        {
            var failed = 0;
            // Read every file first: the target is confined to its work directory from its first input on.
            var inputs = args.Skip(2).Select(f => (File: f, Data: File.ReadAllBytes(f))).ToList();
            foreach (var (file, data) in inputs)
            {
                try
                {
                    confined.Run(data);
                    Console.WriteLine($"{file}: ok");
                }
                catch (Exception e)
                {
                    failed++;
                    Console.WriteLine($"{file}: CRASH {e}");
                }
            }
            return failed == 0 ? 0 : 1;
        }

        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var ms = new MemoryStream();
            stream.CopyTo(ms);
            confined.Run(ms.ToArray());
        });
        return 0;
    }

    /// <summary>Runs a target inside its work directory, confined by Landlock from the first input on.</summary>
    private sealed class Confined(IFuzzTarget target, string work)
    {
        private bool _ready;

        public void Run(byte[] data)
        {
            if (!_ready)
            {
                Directory.CreateDirectory(work);
                Directory.SetCurrentDirectory(work);
                // Load every assembly the target needs before the filesystem is closed off.
                target.Warmup(work);
                Landlock.Restrict(work, [AppContext.BaseDirectory, RuntimeEnvironment.GetRuntimeDirectory()]);
                _ready = true;
            }
            target.Run(data, work);
        }
    }
}

/// <summary>One fuzz target. <see cref="Run"/> throws only for a finding.</summary>
internal interface IFuzzTarget
{
    void Warmup(string work);

    void Run(byte[] data, string work);
}

internal static class Sections
{
    private static readonly byte[] Separator = "\n%%%\n"u8.ToArray();

    /// <summary>Splits an input into files at lines that hold only <c>%%%</c>.</summary>
    public static List<byte[]> Split(byte[] data)
    {
        var parts = new List<byte[]>();
        var span = data.AsSpan();
        while (true)
        {
            var at = span.IndexOf(Separator);
            if (at < 0)
            {
                parts.Add(span.ToArray());
                return parts;
            }
            parts.Add(span[..at].ToArray());
            span = span[(at + Separator.Length)..];
        }
    }
}
