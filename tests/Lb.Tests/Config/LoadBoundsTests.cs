using System.Diagnostics;
using Lb.Config;
using Lb.TestSupport;
using Xunit;

namespace Lb.Lb.Tests.Config;

/// <summary>
/// Issue 9: configurations that crashed, hung or exhausted memory while loading. Each test reproduces the attack through
/// <c>lb -t</c> (<see cref="Cli.Run"/>) or the loader, and asserts the diagnostic with its file and line and the exit code.
/// </summary>
public sealed class LoadBoundsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lb-bounds-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string relative, string text)
    {
        var path = Path.Combine(_dir, relative);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary><c>lb -t -f path</c>: exit code and what it printed.</summary>
    private static (int Code, string Output) LbTest(string path)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = Cli.Run(["-t", "-f", path], stdout, stderr);
        // Positions name the main file as given to -f (keepalived does): the test's own temporary directory is left out.
        return (code, (stderr.ToString() + stdout).Replace("(" + Path.GetDirectoryName(path) + "/", "(", StringComparison.Ordinal));
    }

    private static (List<LogicalLine> Lines, List<Diagnostic> Diagnostics) Preprocess(string path, PreprocessorOptions? options = null)
    {
        var bag = new DiagnosticBag();
        var lines = new Preprocessor(options ?? new PreprocessorOptions { ConfigId = "main" }, bag).Run(path).ToList();
        // Positions name the main file as given (keepalived does): shown relative to the test's own temporary directory.
        var dir = Path.GetDirectoryName(path)!;
        return (lines, bag.ToImmutable().Select(d => d.Location.File.StartsWith(dir + "/", StringComparison.Ordinal)
            ? d with { Location = d.Location with { File = Path.GetRelativePath(dir, d.Location.File) } } : d).ToList());
    }

    [Fact]
    public void Include_with_a_single_word_brace_group_is_expanded_as_glob_brace_does_not_recursed_forever()
    {
        // Before the fix "{SITE}" (a group without a comma) made Glob recurse until the stack overflowed: lb -t, start and
        // SIGHUP died with SIGABRT. glibc's GLOB_BRACE takes a one-alternative group as that alternative, so an undefined
        // ${SITE} names the file "$SITE.conf", as keepalived 2.2.7 shows (keepalived -t reads '$SITE.conf').
        Directory.CreateDirectory(Path.Combine(_dir, "conf.d"));
        Write("conf.d/$SITE.conf", "from_dollar_site\n");
        Write("conf.d/paris.conf", "from_paris\n");
        var main = Write("k.conf", "first\ninclude conf.d/${SITE}.conf\n$SITE=paris\ninclude conf.d/${SITE}.conf\ninclude conf.d/{{paris}}.conf\nlast\n");
        var (lines, diags) = Preprocess(main);
        Assert.Empty(diags);
        Assert.Equal(new[] { "first", "from_dollar_site", "from_paris", "from_paris", "last" }, lines.Select(l => l.Text));

        Assert.Equal(new[] { "$SITE" }, Glob.ExpandBraces("${SITE}", 10).Alternatives);
        Assert.Equal(new[] { ".conf" }, Glob.ExpandBraces("{}.conf", 10).Alternatives);
        Assert.Equal(new[] { "{a" }, Glob.ExpandBraces("{a", 10).Alternatives);
        Assert.Equal(new[] { "a}" }, Glob.ExpandBraces("{a}}", 10).Alternatives);
        Assert.Equal(new[] { "a", "b" }, Glob.ExpandBraces("{a,{b}}", 10).Alternatives);
        Assert.Equal(new[] { @"\{a}" }, Glob.ExpandBraces(@"\{a}", 10).Alternatives);
        // Deep nesting is a loop, not recursion.
        Assert.Equal(new[] { "x" }, Glob.ExpandBraces(new string('{', 2000) + "x" + new string('}', 2000), 10).Alternatives);

        var (code, output) = LbTest(Write("t.conf", "include conf.d/${UNSET}.conf\n"));
        Assert.Equal(0, code);
        Assert.Contains("(t.conf: Line 1) Config files missing 'conf.d/$UNSET.conf'.", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Brace_expansion_that_multiplies_is_refused_with_its_line()
    {
        var main = Write("k.conf", "! braces\ninclude x" + string.Concat(Enumerable.Repeat("{0,1}", 30)) + ".conf\n");
        var (code, output) = LbTest(main);
        Assert.Equal(4, code);
        Assert.Contains("(k.conf: Line 2) include 'x{0,1}", output, StringComparison.Ordinal);
        Assert.Contains("brace expansion gives more than 1024 alternatives; not read", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Include_with_a_reversed_range_is_a_diagnostic_not_a_stack_trace()
    {
        // Before the fix the pattern became a .NET regex "[z-a]" and ArgumentException escaped lb -t.
        Write("b.conf", "from_b\n");
        var main = Write("k.conf", "! reversed ranges\ninclude [z-a]*.conf\ninclude [^z-a].conf\n");
        var (code, output) = LbTest(main);
        // keepalived -t: glob matches nothing, exit 0. Lb says why.
        Assert.Equal(0, code);
        Assert.Contains("(k.conf: Line 2) include pattern '[z-a]*.conf': range 'z-a' is in reverse order, so it matches nothing", output, StringComparison.Ordinal);
        Assert.Contains("(k.conf: Line 3) include pattern '[^z-a].conf': range 'z-a' is in reverse order", output, StringComparison.Ordinal);
        Assert.DoesNotContain("from_b", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);

        var (strict, strictOutput) = LbTest(Write("w.conf", "includew [z-a]*.conf\n"));
        Assert.NotEqual(0, strict);
        Assert.Contains("(w.conf: Line 1) Config files missing '[z-a]*.conf'.", strictOutput, StringComparison.Ordinal);

        Assert.True(Glob.IsMatch("[a-c]x", "bx"));
        Assert.True(Glob.IsMatch("[!a-c]x", "dx"));
        Assert.False(Glob.IsMatch("[z-a]x", "bx"));
        Assert.True(Glob.IsMatch("[[:digit:]]*", "7up"));
        Assert.True(Glob.IsMatch(@"a\*", "a*"));
        Assert.False(Glob.IsMatch(@"a\*", "ab"));
        Assert.True(Glob.IsMatch("[a-]", "-"));
        Assert.True(Glob.IsMatch("[", "["));
        Assert.True(Glob.IsMatch("*a*b*c*", new string('a', 5000) + "bc"));
    }

    [Fact]
    public void Nested_seq_that_emits_nothing_is_stopped_by_the_step_bound()
    {
        // 2e6 × 2e6 iterations whose lines emit nothing (a conditional for another host): the line bound never fired and
        // the load ran for days, so a reload stuck here ignored every later SIGHUP.
        var main = Write("k.conf", "global_defs {\n}\n~SEQ(i,1,2000000) ~SEQ(j,1,2000000) @otherhost x$i.$j\nlast\n");
        var (code, output) = LbTest(main);
        Assert.Equal(4, code);
        Assert.Contains("(k.conf: Line 3) configuration needs more than 5000000 preprocessing steps (nested ~SEQ/~LST generators or macros that multiply); stopped reading", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Multiline_macros_that_double_are_stopped_by_the_step_bound()
    {
        // $L40 expands to 2^40 lines, each a conditional for another host: nothing is emitted, so only a bound on the work
        // done stops it.
        var text = new System.Text.StringBuilder("$L0=@otherhost x\n");
        for (var k = 1; k <= 40; k++)
            text.Append($"$L{k}= \\\n$L{k - 1} \\\n$L{k - 1}\n");
        text.Append("$L40\n");
        var main = Write("k.conf", text.ToString());
        var macroLine = text.ToString().Split('\n').Length - 1;
        // A lower step bound than the default keeps the test short; the nested ~SEQ test runs with the defaults.
        var config = ConfigLoader.Load(main, new ConfigLoadOptions { Preprocessor = new PreprocessorOptions { ConfigId = "main", MaxSteps = 200_000 } });
        Assert.Equal(4, config.ExitCode);
        Assert.Equal($"({main}: Line {macroLine}) configuration needs more than 200000 preprocessing steps (nested ~SEQ/~LST generators or macros that multiply); stopped reading",
            Assert.Single(config.Diagnostics).ToString());
    }

    [Fact]
    public void Macros_defined_by_a_generator_are_bounded_by_the_characters_they_hold()
    {
        // 100 000 macros of 1000 characters each emit no line at all, yet would hold 100 M characters.
        var main = Write("k.conf", "$BIG=" + new string('x', 1000) + "\n~SEQ(i,1,100000) $V${i}=$BIG\n");
        var config = ConfigLoader.Load(main, new ConfigLoadOptions { Preprocessor = new PreprocessorOptions { ConfigId = "main" } });
        Assert.Equal(4, config.ExitCode);
        Assert.Equal($"({main}: Line 2) macro definitions hold more than 67108864 characters; stopped reading", Assert.Single(config.Diagnostics).ToString());
    }

    [Fact]
    public void Generators_nested_in_a_chain_of_includes_cannot_overflow_the_stack()
    {
        // Each file nests 60 generators (under the per-line limit of 64) around an include of the next: 30 files deep that
        // is some 1800 levels of recursion, which overflowed a reload thread's stack (an uncatchable crash).
        var nest = string.Concat(Enumerable.Range(0, 60).Select(k => $"~SEQ(v{k},1,1) "));
        for (var i = 0; i < 30; i++)
            Write($"f{i}.conf", $"{nest}include f{i + 1}.conf\n");
        Write("f30.conf", "! end\n");
        var path = Path.Combine(_dir, "f0.conf");

        List<Diagnostic>? bounded = null, unbounded = null;
        var thread = new Thread(() =>
        {
            bounded = Preprocess(path).Diagnostics;
            // With the level count out of the way the stack check alone still stops it.
            unbounded = Preprocess(path, new PreprocessorOptions { ConfigId = "main", MaxNesting = int.MaxValue }).Diagnostics;
        }, maxStackSize: 1024 * 1024);
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(120)), "the load did not end");
        Assert.Equal("(f4.conf: Line 1) macros, generators and includes nested more than 256 levels deep together; stopped reading", Assert.Single(bounded!).ToString());
        var d = Assert.Single(unbounded!);
        Assert.Equal(Severity.Fatal, d.Severity);
        Assert.Matches(@"^\(f\d+\.conf: Line 1\) macros, generators and includes nested more than \d+ levels deep together; stopped reading$", d.ToString());
    }

    [Fact]
    public void Load_time_is_bounded()
    {
        var main = Write("k.conf", "a\nb\nc\nd\n");
        var (lines, diags) = Preprocess(main, new PreprocessorOptions { ConfigId = "main", Time = new JumpingTime(TimeSpan.FromSeconds(25)) });
        // Started at 0; the steps read the clock at 25, 50, 75 s: the third line is over the 60 s bound.
        Assert.Equal(new[] { "a", "b" }, lines.Select(l => l.Text));
        Assert.Equal("(k.conf: Line 3) reading the configuration took longer than 60 s; stopped reading", Assert.Single(diags).ToString());
    }

    [Fact]
    public void Include_of_a_character_device_is_refused_without_reading_it()
    {
        // Before the fix /dev/zero was read until 4.2 GB and an abort; after a refused reload the daemon kept that memory.
        var main = Write("k.conf", "! a device\ninclude /dev/zero\n");
        var (code, output) = LbTest(main);
        Assert.Equal(0, code); // keepalived -t: "... is not a regular non-executable file - skipping", exit 0
        Assert.Contains("(k.conf: Line 2) Configuration file '/dev/zero' is not a regular non-executable file (a character device) - skipping", output, StringComparison.Ordinal);

        var (strict, strictOutput) = LbTest(Write("r.conf", "! a device\nincluder /dev/zero\n"));
        Assert.Equal(4, strict); // keepalived -t exits non-zero too
        Assert.Contains("(r.conf: Line 2) Configuration file '/dev/zero' is not a regular non-executable file (a character device) - skipping", strictOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Include_of_a_fifo_returns_instead_of_blocking()
    {
        // Before the fix open() of the FIFO blocked until a writer came: start and the reload loop hung forever.
        var fifo = Path.Combine(_dir, "pipe.conf");
        MkFifo(fifo);
        var main = Write("k.conf", "! a FIFO\nincluder pipe.conf\n");
        var run = Task.Run(() => LbTest(main));
        try
        {
            // A generous bound that only a hang can exceed; the result, not the time, is what is asserted.
            Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60))) == run, "lb -t blocked on a FIFO include");
            var (code, output) = await run;
            Assert.Equal(4, code);
            Assert.Contains("(k.conf: Line 2) Configuration file 'pipe.conf' is not a regular non-executable file (a FIFO) - skipping", output, StringComparison.Ordinal);

            // The FIFO as the main file.
            var (mainCode, mainOutput) = LbTest(fifo);
            Assert.Equal(4, mainCode);
            Assert.Contains("Configuration file '" + fifo + "' is not a regular non-executable file (a FIFO) - skipping", mainOutput, StringComparison.Ordinal);
        }
        finally
        {
            if (!run.IsCompleted)
            {
                // Unblock the reader so the test host can end.
                using var writer = new FileStream(fifo, FileMode.Open, FileAccess.Write);
            }
        }
    }

    [Fact]
    public void One_file_included_many_times_is_bounded_by_the_total_bytes_of_the_load()
    {
        // 40 includes of an 8 MiB file grew memory to 1.85 GB: the per-file bound did not see the sum.
        var big = Path.Combine(_dir, "big.conf");
        using (var w = new StreamWriter(big))
        {
            var comment = "# " + new string('x', 1021) + "\n";
            for (var i = 0; i < 8 * 1024; i++)
                w.Write(comment);
        }
        Assert.Equal(8L * 1024 * 1024, new FileInfo(big).Length);
        var main = Write("k.conf", string.Concat(Enumerable.Repeat("include big.conf\n", 40)));
        var (code, output) = LbTest(main);
        Assert.Equal(4, code);
        // The main file and 3 × 8 MiB fit in 32 MiB; the fourth include is refused and reading stops.
        Assert.Contains("(k.conf: Line 4) reading 'big.conf' (8388608 bytes) would take this load past 32 MiB of configuration files (a file included several times counts each time); stopped reading", output, StringComparison.Ordinal);
        Assert.Equal(1, output.Split("would take this load past").Length - 1);
    }

    [Fact]
    public void Seq_next_to_the_64_bit_limit_ends_instead_of_wrapping()
    {
        // keepalived 2.2.7 wraps to -9223372036854775808 and never ends; before the fix Lb wrapped until its line bound.
        var main = Write("k.conf", "~SEQ(i, 9223372036854775806, 9223372036854775807) v$i\n~SEQ(j, -9223372036854775807, -1, -9223372036854775808) w$j\n~SEQx(k, 0x7ffffffffffffffe, 0xffffffffffffffff) x$k\n");
        var (lines, diags) = Preprocess(main);
        Assert.Equal(new[] { "v9223372036854775806", "v9223372036854775807", "w-9223372036854775807", "w-9223372036854775808" }, lines.Select(l => l.Text));
        Assert.Collection(diags,
            d => Assert.Equal("(k.conf: Line 1) ~SEQ ends at 9223372036854775807, next to the 64-bit limit: keepalived 2.2.7 would wrap around there and never stop", d.ToString()),
            d => Assert.Equal("(k.conf: Line 2) ~SEQ ends at -9223372036854775808, next to the 64-bit limit: keepalived 2.2.7 would wrap around there and never stop", d.ToString()),
            d => Assert.Equal("(k.conf: Line 3) ~SEQ argument '0xffffffffffffffff' is not an integer in [-9223372036854775808, 9223372036854775807]", d.ToString()));
    }

    [Fact]
    public void Reload_that_hits_a_bound_is_refused_and_the_running_configuration_kept()
    {
        // SIGHUP's path: the reloader loads the new file, meets the bound, logs the diagnostic with its line and keeps the
        // configuration in force; a later SIGHUP is still served.
        var path = Write("k.conf", "global_defs {\n    router_id one\n}\n");
        var options = CliOptions.Parse(["-f", path, "-i", "main"]);
        var running = ConfigLoader.Load(path, new ConfigLoadOptions { Preprocessor = new PreprocessorOptions { ConfigId = "main" } });
        Assert.Equal(0, running.ExitCode);
        var log = new ListLogger();
        using var notify = new global::Lb.Hosting.SdNotify(null);
        using var reloader = new global::Lb.Hosting.Reloader(options, running, log, notify, () => "ok", vrrp: null, checkers: null);

        Write("k.conf", "global_defs {\n    router_id two\n}\n~SEQ(i,1,2000000) ~SEQ(j,1,2000000) @otherhost x$i.$j\n");
        reloader.Request();
        Assert.True(SpinWait.SpinUntil(() => reloader.Completed >= 1, TimeSpan.FromSeconds(120)), "the reload did not end");
        Assert.Contains(log.Lines, l => l == $"({path}: Line 4) configuration needs more than 5000000 preprocessing steps (nested ~SEQ/~LST generators or macros that multiply); stopped reading");
        Assert.Contains(log.Lines, l => l.StartsWith("Reload refused", StringComparison.Ordinal) && l.EndsWith("keeping the running configuration", StringComparison.Ordinal));
        Assert.DoesNotContain(log.Lines, l => l == "Reload complete");

        Write("k.conf", "global_defs {\n    router_id two\n}\n");
        reloader.Request();
        Assert.True(SpinWait.SpinUntil(() => reloader.Completed >= 2, TimeSpan.FromSeconds(120)), "the second reload did not end");
        Assert.Contains(log.Lines, l => l == "Reload complete");
    }

    /// <summary>keepalived 2.2.7 as oracle for the include cases it finishes: Lb's <c>-t</c> is non-zero exactly where keepalived's is.</summary>
    [RootFact("keepalived")]
    public void Include_verdicts_agree_with_keepalived()
    {
        Write("a.conf", "bogus_keyword_a\n");
        Write("$SITE.conf", "bogus_keyword_site\n");
        MkFifo(Path.Combine(_dir, "pipe.conf"));
        var cases = new[]
        {
            "include {a}.conf", "include ${SITE}.conf", "include [z-a]*.conf", "include {a", "include {}.conf",
            "include /dev/zero", "includer /dev/zero", "include pipe.conf", "includer pipe.conf",
        };
        var failures = new List<string>();
        foreach (var (text, i) in cases.Select((t, i) => (t, i)))
        {
            var path = Write($"case{i}.conf", text + "\n");
            var keepalived = Keepalived(path);
            var (lb, output) = LbTest(path);
            if ((keepalived == 0) != (lb == 0) || (keepalived == 5) != (lb == 5))
                failures.Add($"'{text}': keepalived {keepalived}, lb {lb}\n{output}");
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    private int Keepalived(string path)
    {
        return ProcessRunner.Run(new ProcessOptions { WorkingDirectory = _dir },
            "keepalived", "-t", "-l", "-f", path, "-p", Path.Combine(_dir, "p"), "-r", Path.Combine(_dir, "r"), "-c", Path.Combine(_dir, "c"), "-b", Path.Combine(_dir, "b")).ExitCode;
    }

    internal static void MkFifo(string path)
    {
        var r = ProcessRunner.Run("mkfifo", path);
        Assert.True(r.Succeeded, $"mkfifo {path} failed: {r.Output}");
    }

    /// <summary>A clock that moves on by <c>step</c> each time it is read.</summary>
    private sealed class JumpingTime(TimeSpan step) : TimeProvider
    {
        private long _now;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Add(ref _now, step.Ticks) - step.Ticks;
    }
}
