using Lb.TestSupport;
using Xunit;

namespace Lb.Scripts.Tests;

/// <summary>keepalived's check_script_secure: owners and writability of every path component, symbolic links followed.</summary>
public class ScriptSecurityTests
{
    private static readonly ScriptIdentity Root = new(0, 0, "root");
    private static readonly ScriptIdentity Nobody = ScriptIdentity.Lookup("nobody", null, out _)!;

    [RootFact("chown")]
    public void A_script_owned_by_nobody_is_disabled_when_it_would_run_as_root()
    {
        using var d = new ScratchDirectory();
        var script = d.Script("nobody.sh", "exit 0");
        ScratchDirectory.Chown("nobody", script);

        var check = ScriptSecurity.Check(script, Root, scriptSecurity: true);
        Assert.True(check.Disabled);
        Assert.Equal(ScriptCheckFlags.IsScript | ScriptCheckFlags.Executable | ScriptCheckFlags.Insecure | ScriptCheckFlags.Inhibit, check.Flags);
        Assert.Contains($"Unsafe permissions found for script '{script}' - disabling.", check.Messages);

        // Without enable_script_security keepalived only notes it (and reports a SECURITY VIOLATION with insecure scripts).
        var unprotected = ScriptSecurity.Check(script, Root, scriptSecurity: false);
        Assert.False(unprotected.Disabled);
        Assert.True((unprotected.Flags & ScriptCheckFlags.Insecure) != 0);
    }

    [RootFact("chown")]
    public void A_symlink_into_a_directory_nobody_owns_is_followed_and_disabled()
    {
        using var d = new ScratchDirectory();
        var dir = d.Dir("nob");
        var target = d.Script("nob/s.sh", "exit 0");
        ScratchDirectory.Chown("nobody", dir);
        var link = Path.Combine(d.Path, "link.sh");
        File.CreateSymbolicLink(link, target);

        var check = ScriptSecurity.Check(link, Root, scriptSecurity: true);
        Assert.True(check.Disabled);
        Assert.Equal(target, check.Program);
        Assert.Contains($"Unsafe permissions found for script '{target}' - disabling.", check.Messages);

        // A symlink owned by nobody (pointing at a safe file in the same directory) is itself a component keepalived refuses.
        var safe = d.Script("safe.sh", "exit 0");
        var nobodyLink = Path.Combine(d.Path, "safe-link.sh");
        File.CreateSymbolicLink(nobodyLink, safe);
        Assert.False(ScriptSecurity.Check(safe, Root, true).Disabled);
        ScratchDirectory.Chown("nobody", nobodyLink);
        Assert.True(ScriptSecurity.Check(nobodyLink, Root, true).Disabled);
    }

    [RootFact("chown", "chgrp")]
    public void A_group_or_world_writable_path_component_is_insecure_unless_the_group_is_root_or_the_directory_sticky()
    {
        using var d = new ScratchDirectory();
        var sub = d.Dir("sub", (UnixFileMode)0b111_111_101);
        var script = d.Script("sub/check.sh", "exit 0");
        ProcessRunner.Check("chgrp", "nogroup", sub);
        Assert.True(ScriptSecurity.Check(script, Root, true).Disabled);

        ProcessRunner.Check("chgrp", "root", sub);
        Assert.False(ScriptSecurity.Check(script, Root, true).Disabled);

        File.SetUnixFileMode(sub, (UnixFileMode)0b111_111_111);
        Assert.True(ScriptSecurity.Check(script, Root, true).Disabled);

        // A root-owned sticky directory (like /tmp) may be world-writable: only its owner matters.
        File.SetUnixFileMode(sub, (UnixFileMode)0b1_111_111_111);
        Assert.False(ScriptSecurity.Check(script, Root, true).Disabled);

        // A world-writable file is insecure wherever it is.
        File.SetUnixFileMode(script, (UnixFileMode)0b111_101_111);
        Assert.True(ScriptSecurity.Check(script, Root, true).Disabled);
    }

    [RootFact("chown")]
    public void A_script_run_as_an_unprivileged_user_needs_no_protection()
    {
        using var d = new ScratchDirectory();
        var script = d.Script("nobody.sh", "exit 0");
        ScratchDirectory.Chown("nobody", script);
        var check = ScriptSecurity.Check(script, Nobody, scriptSecurity: true);
        Assert.False(check.Disabled);
        Assert.Equal(ScriptCheckFlags.IsScript | ScriptCheckFlags.Executable, check.Flags);
    }

    [Fact]
    public void A_bare_name_is_resolved_through_the_path_and_a_missing_one_is_not_found()
    {
        var sh = ScriptSecurity.Check("sh", Root, true);
        Assert.False(sh.Disabled);
        Assert.StartsWith("/", sh.Program);
        Assert.Contains(sh.Messages, m => m.Contains("resolved by path search", StringComparison.Ordinal));

        var missing = ScriptSecurity.Check("/nonexistent/check", Root, true);
        Assert.True(missing.Disabled);
        Assert.Equal(ScriptCheckFlags.NotFound, missing.Flags);
        Assert.Equal(ScriptCheckFlags.NotFound, ScriptSecurity.Check("lb-no-such-program", Root, true).Flags);
    }

    [Fact]
    public void A_file_not_executable_by_the_script_user_is_disabled()
    {
        using var d = new ScratchDirectory();
        var script = d.Script("plain.sh", "exit 0", (UnixFileMode)0b110_100_100);
        Assert.True(ScriptSecurity.Check(script, Root, false).Disabled);
        Assert.Equal(ScriptCheckFlags.IsScript, ScriptSecurity.Check(script, Root, false).Flags);
    }

    [Fact]
    public void RealPath_resolves_links_dots_and_relative_targets()
    {
        using var d = new ScratchDirectory();
        var target = d.Script("a/b/t.sh", "exit 0");
        File.CreateSymbolicLink(Path.Combine(d.Path, "a", "l1"), "b/../b/t.sh");
        File.CreateSymbolicLink(Path.Combine(d.Path, "l2"), Path.Combine(d.Path, "a", "l1"));
        Assert.Equal(target, Lb.Netlink.Platform.FileStatus.RealPath(Path.Combine(d.Path, "l2"), out _));
        Assert.Equal(target, Lb.Netlink.Platform.FileStatus.RealPath(Path.Combine(d.Path, "a", ".", "b", "..", "b", "t.sh"), out _));
        File.CreateSymbolicLink(Path.Combine(d.Path, "loop"), Path.Combine(d.Path, "loop"));
        Assert.Null(Lb.Netlink.Platform.FileStatus.RealPath(Path.Combine(d.Path, "loop"), out var error));
        Assert.Contains("symbolic links", error);
    }
}
