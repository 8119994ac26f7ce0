using Lb.Netlink.Platform;
using Xunit;

namespace Lb.Netlink.Tests.Platform;

/// <summary><see cref="FileProbe"/> tells regular files from FIFOs and devices without opening them; its statx layout matches the headers.</summary>
public sealed class FileProbeTests : IDisposable
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

        var f = FileProbe.Stat(file);
        Assert.Equal(FileKind.Regular, f.Kind);
        Assert.Equal(5, f.Size);
        Assert.True(f.IsExecutable);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, f.Mode);
        // Opening a FIFO for reading would block here: statx does not open it.
        Assert.Equal(FileKind.Fifo, FileProbe.Stat(fifo).Kind);
        Assert.Equal(FileKind.Fifo, FileProbe.Stat(link).Kind);
        Assert.Equal(FileKind.SymbolicLink, FileProbe.Stat(link, followLinks: false).Kind);
        Assert.Equal(FileKind.CharacterDevice, FileProbe.Stat("/dev/zero").Kind);
        Assert.Equal(FileKind.Directory, FileProbe.Stat(_dir.FullName).Kind);
        var missing = FileProbe.Stat(Path.Combine(_dir.FullName, "none"));
        Assert.Equal(FileKind.Missing, missing.Kind);
        Assert.Equal(2, missing.Errno); // ENOENT
    }

    private static void MkFifo(string path) => Shell.Check("mkfifo", path);
}
