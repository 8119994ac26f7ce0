using Lb.TestSupport;
using Lb.Netlink.Platform;
using Xunit;

namespace Lb.Netlink.Tests.Platform;

/// <summary><see cref="FileStatus"/> tells regular files from FIFOs and devices without opening them.</summary>
public sealed class FileKindTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("lb-probe-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void Kinds_mode_and_size_are_read_without_opening()
    {
        var file = Path.Combine(_dir.FullName, "f.conf");
        File.WriteAllText(file, "12345");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var fifo = Path.Combine(_dir.FullName, "fifo");
        MkFifo(fifo);
        var link = Path.Combine(_dir.FullName, "link");
        File.CreateSymbolicLink(link, fifo);

        var f = FileStatus.Get(file);
        Assert.Equal(FileKind.Regular, f.Kind);
        Assert.Equal(5, f.Size);
        Assert.True(f.IsExecutable);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, f.Permissions);
        // Opening a FIFO for reading would block here: statx does not open it.
        Assert.Equal(FileKind.Fifo, FileStatus.Get(fifo).Kind);
        Assert.Equal(FileKind.Fifo, FileStatus.Get(link).Kind);
        Assert.Equal(FileKind.SymbolicLink, FileStatus.GetLink(link).Kind);
        Assert.Equal(FileKind.CharacterDevice, FileStatus.Get("/dev/zero").Kind);
        Assert.Equal(FileKind.Directory, FileStatus.Get(_dir.FullName).Kind);
        Assert.False(FileStatus.TryGet(Path.Combine(_dir.FullName, "none"), followLinks: true, out _, out var errno));
        Assert.Equal(2, errno); // ENOENT
    }

    private static void MkFifo(string path) => ProcessRunner.Check("mkfifo", path);
}
