using System.Text.RegularExpressions;
using Lb.Checkers.Options;
using Lb.Config;
using Lb.TestSupport;
using Xunit;

namespace Lb.Tests.Config;

/// <summary>
/// FILE_CHECK in <c>lb -t</c>: a valid one is implemented (no warning, exit 0) and mapped with the track_file folded in;
/// a missing or unknown track_file gets keepalived 2.2.7's two errors. keepalived -t itself is the oracle for the texts
/// and the exit code (it reports "FILE_CHECK has no track_file" at the block's closing line, Lb at its opening line:
/// the tree keeps no closing positions, so the oracle test compares the messages without their positions).
/// </summary>
public sealed class FileCheckConfigTests
{
    private const string Valid = """
        track_file tf1 {
          file /run/lb-misc-tf1
          weight 2 reverse
          init_file 5 overwrite
        }
        virtual_server 10.0.0.1 80 {
          protocol TCP
          lb_algo rr
          lb_kind NAT
          real_server 10.0.0.2 80 {
            weight 10
            FILE_CHECK {
              track_file tf1
            }
            FILE_CHECK {
              track_file tf1
              weight -3 noreverse
            }
          }
        }

        """;

    private const string Invalid = """
        track_file tf1 {
          file /run/lb-misc-tf1
        }
        virtual_server 10.0.0.1 80 {
          protocol TCP
          lb_algo rr
          lb_kind NAT
          real_server 10.0.0.2 80 {
            FILE_CHECK {
              track_file nosuch
            }
            FILE_CHECK {
              weight 2
            }
          }
        }

        """;

    [Fact]
    public void A_valid_file_check_is_implemented_and_takes_the_track_file_s_weight_unless_it_has_its_own()
    {
        var loaded = ConfigLoader.LoadText(Valid, "t.conf");
        Assert.Empty(loaded.Diagnostics);
        Assert.Equal(0, loaded.ExitCode);
        var checks = loaded.Options.Checkers.VirtualServers.Single().RealServers.Single().Checkers.Cast<FileCheckOptions>().ToArray();
        Assert.Equal(2, checks.Length);
        Assert.All(checks, c => Assert.Equal(("tf1", "/run/lb-misc-tf1", (long?)5, true), (c.TrackFile, c.Path, c.InitFileValue, c.InitFileOverwrite)));
        Assert.Equal((2, true), (checks[0].Weight, checks[0].WeightReverse));
        Assert.Equal((-3, false), (checks[1].Weight, checks[1].WeightReverse));
        // none of the common checker options: polled every second, no retry, no alpha, no warmup
        Assert.Equal((TimeSpan.FromSeconds(1), 0, false, TimeSpan.Zero), (checks[0].DelayLoop, checks[0].Retry, checks[0].Alpha, checks[0].Warmup));
    }

    [Fact]
    public void An_unknown_or_missing_track_file_gets_keepalived_s_errors_and_the_checker_is_dropped()
    {
        var loaded = ConfigLoader.LoadText(Invalid, "t.conf");
        Assert.Equal(new[]
        {
            "(t.conf: Line 9) FILE_CHECK has no track_file specified - ignoring",
            "(t.conf: Line 10) track_file nosuch not found",
            "(t.conf: Line 12) FILE_CHECK has no track_file specified - ignoring",
        }, loaded.Diagnostics.OrderBy(d => d.Location.Line).ThenBy(d => d.Message, StringComparer.Ordinal).Select(d => d.ToString()));
        Assert.Equal(5, loaded.ExitCode);
        Assert.Empty(loaded.Options.Checkers.VirtualServers.Single().RealServers.Single().Checkers);
    }

    [RootTheory("keepalived")]
    [InlineData(Valid)]
    [InlineData(Invalid)]
    public void Keepalived_gives_the_same_messages_and_exit_code(string text)
    {
        Prerequisites.Require(Prerequisites.HasCommand("keepalived"), "keepalived 2.2.7 is the oracle");
        var dir = Directory.CreateTempSubdirectory("lb-misc-filecheck-");
        try
        {
            var path = Path.Combine(dir.FullName, "t.conf");
            File.WriteAllText(path, text);
            var (code, output) = KeepalivedOracleTests.RunKeepalived(path);
            var lb = ConfigLoader.LoadText(text, "t.conf");
            Assert.Equal(code, lb.ExitCode);
            static string Strip(string line) => Regex.Replace(line.Trim(), @"^\([^)]*t\.conf: Line \d+\) ", "");
            var theirs = output.Split('\n').Where(l => l.Contains("track_file", StringComparison.Ordinal) || l.Contains("FILE_CHECK", StringComparison.Ordinal)).Select(Strip).Order(StringComparer.Ordinal);
            Assert.Equal(theirs, lb.Diagnostics.Select(d => Strip(d.ToString())).Order(StringComparer.Ordinal));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
