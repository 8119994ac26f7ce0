using System.Diagnostics;
using System.Text;
using Lb.Netlink.Interop;
using Lb.Netlink.Platform;
using Lb.TestSupport;
using Xunit;

namespace Lb.Netlink.Tests.Platform;

/// <summary>
/// The attacks of issue 9 against <see cref="SafeFile"/>: a symbolic (or hard) link planted at a path a root daemon
/// writes, pointing at a file it must not touch. Every refusal leaves the victim byte for byte as it was.
/// </summary>
public sealed class SafeFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lb-safefile-").FullName;
    private const string VictimText = "root:x:0:0:root:/root:/bin/bash\nsecond line\n";

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private string Victim()
    {
        var victim = P("victim");
        File.WriteAllText(victim, VictimText);
        return victim;
    }

    [Fact]
    public void A_symbolic_link_at_the_path_is_refused_with_ELOOP_and_the_target_is_untouched()
    {
        var victim = Victim();
        File.CreateSymbolicLink(P("lb.pid"), victim);
        var e = Assert.Throws<SafeFileException>(() => SafeFile.OpenRegular(P("lb.pid")));
        Assert.Equal(SafeFile.ELOOP, e.Errno);
        Assert.Equal(P("lb.pid"), e.Path);
        Assert.Equal($"{P("lb.pid")} is a symbolic link; not following it (ELOOP)", e.Message);
        Assert.Equal(VictimText, File.ReadAllText(victim));
    }

    [Fact]
    public void A_dangling_symbolic_link_does_not_create_its_target()
    {
        File.CreateSymbolicLink(P("journal.jsonl"), P("created-by-attacker"));
        var e = Assert.Throws<SafeFileException>(() => SafeFile.OpenRegular(P("journal.jsonl"), append: true));
        Assert.Equal(SafeFile.ELOOP, e.Errno);
        Assert.False(File.Exists(P("created-by-attacker")));
    }

    [Fact]
    public void A_hard_link_to_another_file_is_refused()
    {
        var victim = Victim();
        ProcessRunner.Check("ln", victim, P("lb.pid"));
        var e = Assert.Throws<SafeFileException>(() => SafeFile.OpenRegular(P("lb.pid")));
        Assert.Contains("has 2 hard links", e.Message, StringComparison.Ordinal);
        Assert.Equal(VictimText, File.ReadAllText(victim));
    }

    [Fact]
    public void A_missing_file_is_created_with_the_mode_given_and_an_existing_one_is_not_truncated()
    {
        using (var s = SafeFile.OpenRegularStream(P("new"), UnixFileMode.UserRead | UnixFileMode.UserWrite))
            s.Write("abc"u8);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(P("new")));
        using (var s = SafeFile.OpenRegularStream(P("new"), append: true))
            s.Write("def"u8);
        Assert.Equal("abcdef", File.ReadAllText(P("new")));
    }

    [Fact]
    public void Without_create_a_missing_file_stays_missing()
    {
        var e = Assert.Throws<SafeFileException>(() => SafeFile.OpenRegular(P("gone"), create: false));
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.False(e.Refused);
        Assert.False(File.Exists(P("gone")));
    }

    [Fact]
    public void A_fifo_is_not_a_regular_file()
    {
        Assert.True(SafeFile.CreateFifo(P("fifo")));
        var e = Assert.Throws<SafeFileException>(() => SafeFile.OpenRegular(P("fifo")));
        Assert.Contains("is a FIFO, not a regular file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_symbolic_link_at_a_fifo_path_is_refused_and_its_target_keeps_its_first_line()
    {
        // The attack of the issue: notify_fifo /tmp/x, /tmp/x -> /etc/victim. mkfifo sees EEXIST, open must refuse.
        var victim = Victim();
        File.CreateSymbolicLink(P("notify.fifo"), victim);
        Assert.False(SafeFile.CreateFifo(P("notify.fifo")));
        var e = Assert.Throws<SafeFileException>(() => SafeFile.OpenFifo(P("notify.fifo")));
        Assert.Equal(SafeFile.ELOOP, e.Errno);
        Assert.Equal(VictimText, File.ReadAllText(victim));
    }

    [Fact]
    public void A_regular_file_at_a_fifo_path_is_refused()
    {
        var victim = Victim();
        var e = Assert.Throws<SafeFileException>(() => SafeFile.OpenFifo(victim));
        Assert.Contains("is a regular file, not a FIFO", e.Message, StringComparison.Ordinal);
        Assert.Equal(VictimText, File.ReadAllText(victim));
    }

    [RootFact("chown")]
    public void A_fifo_owned_by_another_user_is_refused()
    {
        Assert.True(SafeFile.CreateFifo(P("fifo")));
        ProcessRunner.Check("chown", "65534", P("fifo"));
        var e = Assert.Throws<SafeFileException>(() => SafeFile.OpenFifo(P("fifo")));
        Assert.Contains("owned by uid 65534", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_full_fifo_fails_the_write_with_EAGAIN_instead_of_blocking()
    {
        Assert.True(SafeFile.CreateFifo(P("fifo")));
        using var fifo = SafeFile.OpenFifo(P("fifo"));
        var line = Encoding.ASCII.GetBytes(new string('x', 1023) + "\n");
        IOException? full = null;
        for (var i = 0; i < 1024 && full is null; i++)
        {
            try
            {
                fifo.Write(line);
            }
            catch (IOException e)
            {
                full = e;
            }
        }
        Assert.NotNull(full);
        Assert.Equal(11, full.HResult);
    }

    [Fact]
    public void Status_of_a_path_names_what_is_there_without_following_links()
    {
        var victim = Victim();
        File.CreateSymbolicLink(P("link"), victim);
        Assert.Equal(FileKind.SymbolicLink, SafeFile.StatusOf(P("link"))!.Value.Kind);
        Assert.Null(SafeFile.StatusOf(P("missing")));
        using var h = SafeFile.OpenRegular(victim);
        Assert.Equal(SafeFile.StatusOf(victim)!.Value.Identity, SafeFile.Status(h).Identity);
        Assert.Equal(VictimText.Length, SafeFile.Status(h).Size);
    }

    [Fact]
    public void Open_flags_and_errnos_match_the_installed_headers()
    {
        Assert.True(File.Exists("/usr/bin/gcc") || File.Exists("/usr/local/bin/gcc"), "gcc is needed");
        var checks = new (string C, long Value)[]
        {
            ("O_RDONLY", OpenFlags.O_RDONLY), ("O_WRONLY", OpenFlags.O_WRONLY), ("O_RDWR", OpenFlags.O_RDWR),
            ("O_CREAT", OpenFlags.O_CREAT), ("O_EXCL", OpenFlags.O_EXCL), ("O_NOCTTY", OpenFlags.O_NOCTTY),
            ("O_TRUNC", OpenFlags.O_TRUNC), ("O_APPEND", OpenFlags.O_APPEND), ("O_NONBLOCK", OpenFlags.O_NONBLOCK),
            ("O_NOFOLLOW", OpenFlags.O_NOFOLLOW), ("O_CLOEXEC", OpenFlags.O_CLOEXEC), ("O_PATH", OpenFlags.O_PATH),
            ("ENOTDIR", SafeFile.ENOTDIR), ("EMLINK", SafeFile.EMLINK), ("ELOOP", SafeFile.ELOOP),
        };
        var sb = new StringBuilder("#define _GNU_SOURCE\n#include <stddef.h>\n#include <errno.h>\n#include <fcntl.h>\n#include <sys/stat.h>\nint main(void) {\n");
        foreach (var (c, v) in checks)
            sb.AppendLine($"  _Static_assert((long long)({c}) == {v}LL, \"{c} != {v}\");");
        sb.AppendLine("  return 0;\n}");
        var source = P("check.c");
        File.WriteAllText(source, sb.ToString());
        var (_, exit, stdout, stderr) = ProcessRunner.Run("gcc", "-std=gnu11", "-Wall", "-Werror", "-o", P("check"), source);
        Assert.True(exit == 0, $"an open flag or errno differs from the headers:\n{stdout}{stderr}");
        Assert.Equal("ELOOP", Errno.GetName(SafeFile.ELOOP));
    }
}
