using System.Runtime.InteropServices;

namespace Lb.Netlink.Interop;

internal static partial class Libc
{
    /// <summary><c>int mkfifo(const char *path, mode_t mode)</c>: never follows a symbolic link at <paramref name="path"/> (EEXIST).</summary>
    [LibraryImport(Name, EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Mkfifo(string path, uint mode);
}
