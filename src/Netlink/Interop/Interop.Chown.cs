using System.Runtime.InteropServices;

namespace Lb.Netlink.Interop;

internal static partial class Libc
{
    /// <summary><c>int lchown(const char *path, uid_t owner, gid_t group)</c>: never follows a symbolic link at
    /// <paramref name="path"/>; -1 (as uint) leaves that id unchanged.</summary>
    [LibraryImport(Name, EntryPoint = "lchown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Lchown(string path, uint owner, uint group);
}
