using System.Text;
using Lb.Netlink.TrackFile;
using Xunit;

namespace Lb.Netlink.Tests.TrackFile;

/// <summary>The file's bytes read as keepalived 2.2.7 reads them: <c>strtol(buf, NULL, 0)</c>, then the INT32 range check.</summary>
public class TrackFileReaderTests
{
    [Theory]
    [InlineData("", 0L)]
    [InlineData("3\n", 3L)]
    [InlineData("  \t-7 trailing", -7L)]
    [InlineData("+12", 12L)]
    [InlineData("0x1f", 31L)]
    [InlineData("0X10", 16L)]
    [InlineData("010", 8L)]
    [InlineData("09", 0L)]
    [InlineData("0x", 0L)]
    [InlineData("abc", 0L)]
    [InlineData("2147483648", 2147483648L)]
    [InlineData("-2147483648", -2147483648L)]
    public void Values_parse_as_strtol_base_0(string text, long expected)
        => Assert.Equal(new TrackFileRead(expected), TrackFileReader.Parse(Encoding.ASCII.GetBytes(text)));

    [Theory]
    [InlineData("2147483649", "2147483649")]
    [InlineData("-2147483649", "-2147483649")]
    [InlineData("99999999999999999999", "9223372036854775807")]
    public void Out_of_range_numbers_are_ignored(string text, string logged)
        => Assert.Equal(new TrackFileRead(null, logged), TrackFileReader.Parse(Encoding.ASCII.GetBytes(text)));

    [Fact]
    public async Task A_missing_file_reads_as_zero_and_init_file_writes_it_first()
    {
        var path = Path.Combine(Path.GetTempPath(), $"lb-tf-{Guid.NewGuid():N}");
        var reads = new List<TrackFileRead>();
        var reader = new TrackFileReader(path, (_, r) =>
        {
            lock (reads)
                reads.Add(r);
        });
        try
        {
            Assert.True(reader.TryStart());
            Assert.Equal(new TrackFileRead(0), await reader.Current);
            Assert.True(reader.TryStart(new TrackFileInit(4, Overwrite: false)));
            Assert.Equal(new TrackFileRead(4), await reader.Current);
            Assert.Equal("4\n", File.ReadAllText(path));
            lock (reads)
                Assert.Equal([new TrackFileRead(0), new TrackFileRead(4)], reads);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Init_file_overwrite_does_not_write_through_a_symbolic_link_planted_at_the_path()
    {
        var dir = Directory.CreateTempSubdirectory("lb-tf-").FullName;
        try
        {
            var victim = Path.Combine(dir, "victim");
            File.WriteAllText(victim, "root:x:0:0\n");
            var path = Path.Combine(dir, "track");
            File.CreateSymbolicLink(path, victim);
            var reader = new TrackFileReader(path, (_, _) => { });
            Assert.True(reader.TryStart(new TrackFileInit(7, Overwrite: true)));
            await reader.Current;
            Assert.Equal("root:x:0:0\n", File.ReadAllText(victim));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
