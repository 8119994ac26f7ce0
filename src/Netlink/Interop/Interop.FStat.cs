using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Lb.Netlink.Interop;

internal static partial class Libc
{
    /// <summary><c>int fstat(int fd, struct stat *buf)</c> into a raw buffer of at least <see cref="StatLayout.Size"/> bytes.</summary>
    [LibraryImport(Name, EntryPoint = "fstat", SetLastError = true)]
    internal static unsafe partial int FStat(SafeFileHandle fd, byte* buffer);
}

/// <summary>
/// The fields of <c>struct stat</c> Lb reads, at their offsets for the running architecture (x86_64's own layout, or
/// the generic one arm64 uses); the current architecture's values are checked against the headers by a test.
/// </summary>
internal static class StatLayout
{
    internal const int S_IFMT = 0xF000;
    internal const int S_IFIFO = 0x1000;
    internal const int S_IFREG = 0x8000;
    internal const int S_IFLNK = 0xA000;

    private static readonly bool X64 = RuntimeInformation.ProcessArchitecture == Architecture.X64;

    internal static int Size => X64 ? 144 : 128;
    internal static int Dev => 0;
    internal static int Ino => 8;
    internal static int Nlink => X64 ? 16 : 20;
    internal static int NlinkSize => X64 ? 8 : 4;
    internal static int Mode => X64 ? 24 : 16;
    internal static int Uid => X64 ? 28 : 24;
    internal static int Gid => X64 ? 32 : 28;
    internal static int FileSize => 48;

    /// <summary>Reads the fields out of a buffer <c>fstat</c> filled.</summary>
    internal static (ulong Device, ulong Inode, ulong Links, uint Mode, uint Uid, uint Gid, long Size) Read(ReadOnlySpan<byte> b) => (
        BinaryPrimitives.ReadUInt64LittleEndian(b[Dev..]),
        BinaryPrimitives.ReadUInt64LittleEndian(b[Ino..]),
        NlinkSize == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(b[Nlink..]) : BinaryPrimitives.ReadUInt32LittleEndian(b[Nlink..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[Mode..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[Uid..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[Gid..]),
        BinaryPrimitives.ReadInt64LittleEndian(b[FileSize..]));
}
