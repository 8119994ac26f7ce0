using Lb.Netlink.Platform;
using Xunit;

namespace Lb.Netlink.Tests.Platform;

public class FileStatusTests
{
    [Fact]
    public void Stat_reports_type_owner_and_mode_and_lstat_sees_the_link_itself()
    {
        var root = FileStatus.Get("/");
        Assert.True(root.IsDirectory);
        Assert.Equal(0u, root.Uid);

        var dir = Directory.CreateTempSubdirectory("lb-stat-").FullName;
        try
        {
            var file = Path.Combine(dir, "f");
            File.WriteAllText(file, "x");
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherWrite);
            var link = Path.Combine(dir, "l");
            File.CreateSymbolicLink(link, file);

            var f = FileStatus.Get(file);
            Assert.True(f.IsRegularFile);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherWrite, f.Permissions);
            Assert.Equal(f.Inode, FileStatus.Get(link).Inode);
            Assert.True(FileStatus.GetLink(link).IsSymbolicLink);
            Assert.NotEqual(f.Inode, FileStatus.GetLink(link).Inode);

            var e = Assert.Throws<ErrnoException>(() => FileStatus.Get(Path.Combine(dir, "missing")));
            Assert.Equal(2, e.Errno);
            Assert.False(FileStatus.TryGet(Path.Combine(dir, "missing"), true, out _, out var errno));
            Assert.Equal(2, errno);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
