using System.Collections.Immutable;
using Lb.Checkers.Options;
using Lb.Config;
using Lb.Config.Mapping;
using Xunit;

namespace Lb.Tests.Config;

/// <summary>
/// Lb's extension keyword <c>lb:slow_start</c> (written <c>#lb: slow_start SECONDS [at_start]</c> in the file, a comment
/// for keepalived) mapped onto the checker options: the virtual server's value is the default of its real servers, a
/// real server's own value overrides it. Built on the tree the preprocessor makes of the <c>#lb:</c> lines.
/// </summary>
public sealed class SlowStartMappingTests
{
    private static readonly SourceLocation At = new("t.conf", 1);

    private static ConfigNode N(string keyword, params string[] args) => new(keyword, [.. args], null, At);

    private static ConfigNode B(string keyword, string[] args, params ConfigNode[] children) => new(keyword, [.. args], [.. children], At);

    [Fact]
    public void Virtual_server_and_real_server_slow_start_are_mapped()
    {
        var tree = ImmutableArray.Create(
            B("virtual_server", ["10.0.0.100", "80"],
                N("lb_kind", "DR"),
                N("lb:slow_start", "30"),
                B("real_server", ["10.0.0.11", "80"], N("weight", "10")),
                B("real_server", ["10.0.0.12", "80"], N("lb:slow_start", "5", "at_start"))));
        var options = ConfigMapper.Map(tree, new DiagnosticBag()).Checkers;
        var vs = Assert.Single(options.VirtualServers);
        Assert.Equal(new SlowStartOptions { Duration = TimeSpan.FromSeconds(30) }, vs.SlowStart);
        Assert.Null(vs.RealServers[0].SlowStart); // inherits the virtual server's (resolved by the engine)
        Assert.Equal(new SlowStartOptions { Duration = TimeSpan.FromSeconds(5), AtStart = true }, vs.RealServers[1].SlowStart);
    }

    [Fact]
    public void Without_the_keyword_there_is_no_slow_start()
    {
        var tree = ImmutableArray.Create(B("virtual_server", ["10.0.0.100", "80"], B("real_server", ["10.0.0.11", "80"])));
        var vs = Assert.Single(ConfigMapper.Map(tree, new DiagnosticBag()).Checkers.VirtualServers);
        Assert.Null(vs.SlowStart);
        Assert.Null(vs.RealServers[0].SlowStart);
    }
}
