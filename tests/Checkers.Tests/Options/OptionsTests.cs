using System.Net;
using Lb.Checkers.Options;
using Xunit;

namespace Lb.Checkers.Tests.Options;

public class OptionsTests
{
    private static readonly IPAddress Rs = IPAddress.Parse("10.0.0.2");

    [Fact]
    public void Defaults_are_keepalived_2_2_7()
    {
        var vs = new VirtualServerOptions();
        Assert.Equal("wlc", vs.Scheduler);
        Assert.Equal(ForwardingMethod.Nat, vs.ForwardingMethod);
        Assert.Equal(1, vs.Quorum);
        Assert.Equal(0, vs.Hysteresis);
        Assert.Equal(IpvsProtocol.Tcp, vs.Protocol);
        Assert.Equal(1, new RealServerOptions { Address = Rs }.Weight);
        Assert.Equal(HttpProtocol.Http10, new HttpCheckOptions().Protocol);
        Assert.Equal("SOA", new DnsCheckOptions().Type);
        Assert.Equal(".", new DnsCheckOptions().Name);
        Assert.Equal(255, new UdpCheckOptions().MaxReplyLength);
        Assert.Equal("smtpchecker.keepalived", new SmtpCheckOptions().HeloName);
        Assert.Equal("/var/lib/lb/journal.jsonl", new JournalOptions().Path);
    }

    [Theory]
    [InlineData("HTTP", 1, 3.0)]
    [InlineData("TCP", 1, 1.0)]
    [InlineData("DNS", 3, 60.0)]
    [InlineData("MISC", 0, 1.0)]
    [InlineData("SMTP", 1, 1.0)]
    public void Per_kind_retry_and_delay_before_retry_defaults(string kind, int retry, double dbr)
    {
        CheckerOptions c = kind switch
        {
            "HTTP" => new HttpCheckOptions(),
            "TCP" => new TcpCheckOptions(),
            "DNS" => new DnsCheckOptions(),
            "MISC" => new MiscCheckOptions { Path = "/bin/true" },
            _ => new SmtpCheckOptions(),
        };
        var rs = new RealServerOptions { Address = Rs, Port = 80, Checkers = [c] };
        var s = EffectiveSettings.Resolve(new VirtualServerOptions { Address = Rs, Port = 80 }, rs, c);
        Assert.Equal(retry, s.Retry);
        Assert.Equal(TimeSpan.FromSeconds(dbr), s.DelayBeforeRetry);
        Assert.Equal(TimeSpan.FromSeconds(60), s.DelayLoop);
        Assert.Equal(TimeSpan.FromSeconds(60), s.Warmup);
        Assert.Equal(TimeSpan.FromSeconds(5), s.ConnectTimeout);
    }

    [Fact]
    public void Inheritance_is_checker_then_real_server_then_virtual_server()
    {
        var c = new TcpCheckOptions { ConnectTimeout = TimeSpan.FromSeconds(2), ConnectPort = 8080 };
        var rs = new RealServerOptions { Address = Rs, Retry = 4, DelayLoop = TimeSpan.FromSeconds(10), Checkers = [c] };
        var vs = new VirtualServerOptions
        {
            Address = IPAddress.Parse("10.0.0.100"),
            Port = 80,
            Retry = 9,
            DelayLoop = TimeSpan.FromSeconds(20),
            DelayBeforeRetry = TimeSpan.FromSeconds(7),
            ConnectTimeout = TimeSpan.FromSeconds(9),
            Alpha = true,
        };
        var s = EffectiveSettings.Resolve(vs, rs, c);
        Assert.Equal(TimeSpan.FromSeconds(2), s.ConnectTimeout);
        Assert.Equal(4, s.Retry);
        Assert.Equal(TimeSpan.FromSeconds(10), s.DelayLoop);
        Assert.Equal(TimeSpan.FromSeconds(10), s.Warmup);
        Assert.Equal(TimeSpan.FromSeconds(7), s.DelayBeforeRetry);
        Assert.True(s.Alpha);
        Assert.Equal(8080, s.ConnectPort);
        Assert.Equal(Rs, s.ConnectAddress);
    }

    [Theory]
    [InlineData("200", 200, 200)]
    [InlineData("200-299", 200, 299)]
    [InlineData("503", 503, 503)]
    public void Status_code_ranges_parse(string text, int min, int max)
    {
        Assert.True(StatusCodeRange.TryParse(text, out var r));
        Assert.Equal(new StatusCodeRange(min, max), r);
        Assert.True(r.Contains(min) && r.Contains(max) && !r.Contains(max + 1));
    }

    [Theory]
    [InlineData("299-200")]
    [InlineData("abc")]
    [InlineData("99")]
    public void Bad_status_codes_are_rejected(string text) => Assert.False(StatusCodeRange.TryParse(text, out _));

    [Fact]
    public void Hex_strings_parse_as_keepalived_documents()
    {
        var p = HexPattern.Parse("Ab12f 3 456 546443123");
        Assert.Equal(Convert.FromHexString("AB120F0345065464431203"), p.Value);
        var masked = HexPattern.Parse("01x2");
        Assert.True(masked.Matches([0x01, 0x52]));
        Assert.False(masked.Matches([0x01, 0x53]));
        Assert.Throws<FormatException>(() => HexPattern.Parse("zz"));
    }
}
