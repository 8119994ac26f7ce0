using Lb.Scripts;
using Xunit;

namespace Lb.Checkers.Tests.Scripts;

public class ScriptCommandLineTests
{
    [Theory]
    [InlineData("/bin/check", new[] { "/bin/check" })]
    [InlineData("/bin/check  a   b", new[] { "/bin/check", "a", "b" })]
    [InlineData("/bin/check \"two words\" x", new[] { "/bin/check", "two words", "x" })]
    [InlineData("/bin/check 'single quoted' \"a\\\"b\"", new[] { "/bin/check", "single quoted", "a\"b" })]
    [InlineData("/bin/check a\\ b ;rm -rf", new[] { "/bin/check", "a b", ";rm", "-rf" })]
    [InlineData("/bin/check pre\"fix mid\"post", new[] { "/bin/check", "prefix midpost" })]
    [InlineData("/bin/check $HOME `id` |x", new[] { "/bin/check", "$HOME", "`id`", "|x" })]
    public void Splits_like_keepalived_without_a_shell(string command, string[] expected) =>
        Assert.Equal(expected, ScriptCommandLine.Split(command));

    [Fact]
    public void Unterminated_quote_is_an_error() => Assert.Throws<FormatException>(() => ScriptCommandLine.Split("/bin/x \"oops"));

    [Fact]
    public void Launcher_switches_user_with_setpriv_only_when_needed()
    {
        var same = ScriptRunner.LaunchArgv(new ScriptInvocation(["/bin/true"], Environment.UserName, null, TimeSpan.FromSeconds(1)));
        Assert.DoesNotContain("setpriv", same);
        Assert.Equal("/bin/true", same[^1]);

        var other = ScriptRunner.LaunchArgv(new ScriptInvocation(["/bin/check", "a b"], "nobody", null, TimeSpan.FromSeconds(1)), currentUser: "root");
        var i = other.ToList().IndexOf("setpriv");
        Assert.True(i >= 0);
        Assert.Equal(["--reuid=65534", "--regid=65534", "--init-groups", "--", "/bin/check", "a b"], other.Skip(i + 1));
        Assert.Equal("setsid", other[0]);
    }
}
