using System.Text.RegularExpressions;
using Lb.TestSupport;
using Xunit;

namespace Lb.Lb.Tests.Packaging;

/// <summary>
/// The package packaging/build-deb.sh builds, read with dpkg's own tools (<c>dpkg-deb -f/-c/-e/-x</c>) on the host: its
/// control fields, conffiles, files and modes, maintainer scripts and unit. Cheap (one build per run, ~10 s); the
/// install/remove/purge cycle is <see cref="DebPackageKernelTests"/>, in the kernel VM.
/// </summary>
public sealed partial class DebPackageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dbh-debtest-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Check(params string[] command) =>
        ProcessRunner.Check(new ProcessOptions { Timeout = DebPackage.Bound, Label = string.Join(' ', command) }, command[0], command[1..]);

    [ToolFact("dpkg-deb", "dpkg", "ldd")]
    public void ControlFieldsNameTheVersionAndEveryLibraryTheBinaryLoads()
    {
        var deb = DebPackage.Deb;
        string Field(string name) => Check("dpkg-deb", "-f", deb, name).Trim();

        Assert.Equal("lb", Field("Package"));
        Assert.Equal(DebPackage.ProjectVersion, Field("Version"));
        Assert.Equal("amd64", Field("Architecture"));
        Assert.Equal($"lb_{DebPackage.ProjectVersion}_amd64.deb", Path.GetFileName(deb));
        Assert.Equal("net", Field("Section"));
        Assert.False(string.IsNullOrEmpty(Field("Maintainer")));
        Assert.True(int.Parse(Field("Installed-Size"), System.Globalization.CultureInfo.InvariantCulture) > 10_000, "Installed-Size (KiB) below the binary's size");

        Check("dpkg-deb", "-x", deb, _dir);
        var lb = Path.Combine(_dir, "usr", "sbin", "lb");
        Assert.StartsWith($"Lb v{DebPackage.ProjectVersion} ", Check(lb, "--version"));

        // Depends names the package of every shared library the binary loads (ldd's view, owner by dpkg -S).
        var depends = Field("Depends").Split(',').Select(d => d.Trim().Split(' ')[0]).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("adduser", depends); // postinst's adduser/addgroup
        var libs = LddPath().Matches(Check("ldd", lb)).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(libs);
        foreach (var lib in libs)
        {
            var owner = Check("dpkg", "-S", lib).Split(':')[0].Trim();
            Assert.True(depends.Contains(owner), $"{lib} belongs to {owner}, which Depends ({Field("Depends")}) does not name");
        }
        Assert.Matches(@"(^|, )libc6 \(>= 2\.\d+\)", Field("Depends"));
    }

    [ToolFact("dpkg-deb", "sh")]
    public void FilesModesConffilesAndMaintainerScripts()
    {
        var deb = DebPackage.Deb;
        // dpkg-deb -c: "MODE OWNER SIZE DATE TIME ./PATH"
        var entries = Check("dpkg-deb", "-c", deb).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(f => f[^1].TrimStart('.'), f => (Mode: f[0], Owner: f[1]), StringComparer.Ordinal);

        Assert.All(entries, e => Assert.Equal("root/root", e.Value.Owner));
        var files = new Dictionary<string, string>
        {
            ["/usr/sbin/lb"] = "-rwxr-xr-x",
            ["/usr/lib/systemd/system/lb.service"] = "-rw-r--r--",
            ["/usr/share/man/man8/lb.8.gz"] = "-rw-r--r--",
            ["/etc/lb/keepalived.conf"] = "-rw-r--r--",
            ["/usr/share/doc/lb/copyright"] = "-rw-r--r--",
            ["/usr/share/doc/lb/changelog.gz"] = "-rw-r--r--",
        };
        foreach (var (path, mode) in files)
        {
            Assert.True(entries.ContainsKey(path), $"{path} is not in the package:\n{string.Join('\n', entries.Keys)}");
            Assert.Equal(mode, entries[path].Mode);
        }
        // State is made by postinst (and kept by dpkg -r), never shipped; nothing under /run or /usr/local.
        Assert.DoesNotContain(entries.Keys, p => p.StartsWith("/var/", StringComparison.Ordinal) || p.StartsWith("/run/", StringComparison.Ordinal) || p.StartsWith("/usr/local/", StringComparison.Ordinal));

        var control = Path.Combine(_dir, "DEBIAN");
        Check("dpkg-deb", "-e", deb, control);
        // Every file under /etc is a conffile (dpkg keeps an operator's edits), and nothing else is.
        var conffiles = File.ReadAllLines(Path.Combine(control, "conffiles")).Where(l => l.Length > 0).Order(StringComparer.Ordinal);
        var etc = entries.Where(e => e.Key.StartsWith("/etc/", StringComparison.Ordinal) && e.Value.Mode[0] == '-').Select(e => e.Key).Order(StringComparer.Ordinal);
        Assert.Equal(["/etc/lb/keepalived.conf"], conffiles);
        Assert.Equal(conffiles, etc);

        foreach (var script in (string[])["postinst", "prerm", "postrm"])
        {
            var path = Path.Combine(control, script);
            Assert.True(File.Exists(path), $"no {script}");
            Assert.True(File.GetUnixFileMode(path).HasFlag(UnixFileMode.UserExecute), $"{script} is not executable");
            Assert.StartsWith("#!/bin/sh\n", File.ReadAllText(path));
            var syntax = ProcessRunner.Run("sh", "-n", path);
            Assert.True(syntax.ExitCode == 0, $"{script}: {syntax.Output}");
        }
        // dpkg's md5sums cover every shipped file.
        var sums = File.ReadAllLines(Path.Combine(control, "md5sums")).Select(l => "/" + l[34..]).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(entries.Where(e => e.Value.Mode[0] == '-').Select(e => e.Key).Order(StringComparer.Ordinal), sums.Order(StringComparer.Ordinal));
    }

    [ToolFact("dpkg-deb", "keepalived", "groff", "zcat")]
    public void UnitRunsThePackagedBinaryOnTheConffileWithTheUsersDirectories()
    {
        var deb = DebPackage.Deb;
        Check("dpkg-deb", "-x", deb, _dir);
        string InPackage(string path) => Path.Combine(_dir, path.TrimStart('/'));
        var unit = DebPackage.UnitSettings(File.ReadAllText(InPackage("/usr/lib/systemd/system/lb.service")));
        var exec = DebPackage.ExecStart(unit);
        var conffiles = Check("dpkg-deb", "-I", deb, "conffiles").Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("/usr/sbin/lb", exec[0]);
        Assert.True(File.Exists(InPackage(exec[0])));
        Assert.Equal("notify", unit["Service.Type"]);
        Assert.Equal("lb", unit["Service.User"]);
        Assert.Equal("lb", unit["Service.Group"]);
        Assert.Equal("multi-user.target", unit["Install.WantedBy"]);
        Assert.Contains("man:lb(8)", unit["Unit.Documentation"], StringComparison.Ordinal);
        // The configuration is the package's conffile, and the condition guards that file.
        var config = DebPackage.ArgumentOf(exec, "-f");
        Assert.Equal("/etc/lb/keepalived.conf", config);
        Assert.Contains(config, conffiles);
        Assert.Equal(config, unit["Unit.ConditionFileNotEmpty"]);
        // Pid file (and so the control socket) in the RuntimeDirectory systemd makes for User=; the journal in the
        // StateDirectory (operator-state.json goes beside it); PIDFile= matches -p.
        var pid = DebPackage.ArgumentOf(exec, "-p");
        Assert.Equal("/run/" + unit["Service.RuntimeDirectory"], Path.GetDirectoryName(pid));
        Assert.Equal(pid, unit["Service.PIDFile"]);
        Assert.Equal("/var/lib/" + unit["Service.StateDirectory"], Path.GetDirectoryName(DebPackage.ArgumentOf(exec, "--journal")));
        foreach (var dump in (string[])["--data-file", "--stats-file", "--json-file"])
            Assert.StartsWith("/run/lb/", DebPackage.ArgumentOf(exec, dump));
        // After lb exits, ExecStopPost withdraws the announce routes a crash left: the same binary, socket (beside -p) and journal.
        var post = DebPackage.Exec(unit, "ExecStopPost");
        Assert.Equal([exec[0], "announce", "withdraw"], post[..3]);
        Assert.Equal(pid, DebPackage.ArgumentOf(post, "-p"));
        Assert.Equal(DebPackage.ArgumentOf(exec, "--journal"), DebPackage.ArgumentOf(post, "--journal"));
        // The daemon accepts the unit's arguments (with -t: parse, check the file, exit).
        var packaged = InPackage(exec[0]);
        var cli = ProcessRunner.Run(new ProcessOptions { Label = "lb -t" }, packaged, [.. exec[1..].Select(a => a == config ? InPackage(config) : a), "-t"]);
        Assert.True(cli.ExitCode == 0, cli.Output);

        // The shipped configuration is keepalived's language: keepalived itself accepts it (and so does lb).
        var ka = ProcessRunner.Run(new ProcessOptions { Label = "keepalived -t" }, "keepalived", "-t", "-f", InPackage(config));
        Assert.True(ka.ExitCode == 0, ka.Output);

        // The man page is the repo's, with the package's version in its footer, and renders without warnings.
        var man = Check("zcat", InPackage("/usr/share/man/man8/lb.8.gz"));
        Assert.Contains($"\"Lb {DebPackage.ProjectVersion}\"", man.Split('\n').Single(l => l.StartsWith(".TH ", StringComparison.Ordinal)), StringComparison.Ordinal);
        var groff = ProcessRunner.Run(new ProcessOptions { Label = "groff", Stdin = man }, "groff", "-man", "-Tutf8", "-ww", "-z");
        Assert.True(groff.ExitCode == 0 && groff.Stderr.Length == 0, groff.Output);
    }

    [GeneratedRegex(@"=> (/\S+) \(0x")]
    private static partial Regex LddPath();
}
