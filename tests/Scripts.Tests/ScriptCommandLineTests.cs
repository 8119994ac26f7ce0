using Xunit;

namespace Lb.Scripts.Tests;

public class ScriptCommandLineTests
{
    [Theory]
    [InlineData("/bin/check", new[] { "/bin/check" })]
    [InlineData("/bin/check  a \t  b", new[] { "/bin/check", "a", "b" })]
    [InlineData("/bin/check \"two words\" x", new[] { "/bin/check", "two words", "x" })]
    [InlineData("/bin/check 'single quoted' \"a\\\"b\"", new[] { "/bin/check", "single quoted", "a\"b" })]
    [InlineData("/bin/check a\\ b ;rm -rf", new[] { "/bin/check", "a b", ";rm", "-rf" })]
    [InlineData("/bin/check pre\"fix mid\"post", new[] { "/bin/check", "prefix midpost" })]
    [InlineData("/bin/check $HOME `id` |x", new[] { "/bin/check", "$HOME", "`id`", "|x" })]
    [InlineData("/path/fault.sh \"VG 1\" it\\'s", new[] { "/path/fault.sh", "VG 1", "it's" })]
    // keepalived escapes inside single quotes too, and \t is a TAB (the VRRP copy made "atb", the checker copy kept "a\tb").
    [InlineData("/bin/x \"a\\tb\" 'c\\td'", new[] { "/bin/x", "a\tb", "c\td" })]
    [InlineData("/bin/x a\\tb", new[] { "/bin/x", "a\tb" })]
    [InlineData("/bin/x \\101\\x41\\cA\\E\\q", new[] { "/bin/x", "AA\u0001\u001bq" })]
    public void Splits_with_keepalived_s_rules_without_a_shell(string command, string[] expected) =>
        Assert.Equal(expected, ScriptCommandLine.Split(command));

    [Theory]
    [InlineData("/bin/x \"oops", "missing terminating \"")]
    [InlineData("/bin/x 'oops", "missing terminating '")]
    [InlineData("/bin/x oops\\", "Missing escape char at end")]
    [InlineData("  \t ", "Unable to parse script")]
    public void An_unparsable_command_is_an_error_for_both_subsystems(string command, string message)
    {
        Assert.False(ScriptCommandLine.TrySplit(command, out var argv, out var error));
        Assert.Empty(argv);
        Assert.Contains(message, error);
        Assert.Throws<FormatException>(() => ScriptCommandLine.Split(command));
    }
}
