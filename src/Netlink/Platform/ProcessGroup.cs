using System.Runtime.InteropServices;
using Lb.Netlink.Interop;

namespace Lb.Netlink.Platform;

/// <summary>Signals a whole process group (a script started with setsid leads its own).</summary>
public static class ProcessGroup
{
    /// <summary>SIGKILL to every process of group <paramref name="groupId"/>; false when it has no member left (ESRCH).</summary>
    public static bool Kill(int groupId)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(groupId);
        if (Libc.Kill(-groupId, Libc.SIGKILL) == 0)
            return true;
        var errno = Marshal.GetLastPInvokeError();
        return errno == 3 ? false : throw new ErrnoException($"kill process group {groupId}", errno);
    }
}
