using System.Globalization;
using System.Runtime.InteropServices;

namespace Lb.Lb.Tests.Hosting;

/// <summary>
/// Sends signals from this process (kill(2), no process per signal) and waits until the target has taken each one: a
/// standard signal sent while one of its kind is still pending is merged by the kernel, so a storm counted by the test must
/// be delivered one at a time. "Taken" is read from the kernel (<c>/proc/PID/status</c>, ShdPnd/SigPnd no longer show it).
/// </summary>
internal static class SignalDelivery
{
    public const int SIGHUP = 1, SIGUSR1 = 10;

    public static void Send(int pid, int signal)
    {
        if (kill(pid, signal) != 0)
            throw new InvalidOperationException($"kill({pid}, {signal}) failed (errno {Marshal.GetLastPInvokeError()})");
    }

    public static void SendAndWaitTaken(int pid, int signal, TimeSpan bound)
    {
        Send(pid, signal);
        if (!global::Lb.TestSupport.NetnsLab.WaitFor(() => !IsPending(pid, signal), bound))
            throw new TimeoutException($"signal {signal} stayed pending in {pid}");
    }

    public static bool IsPending(int pid, int signal)
    {
        var bit = 1UL << (signal - 1);
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("ShdPnd:", StringComparison.Ordinal) || line.StartsWith("SigPnd:", StringComparison.Ordinal))
            {
                if ((ulong.Parse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) & bit) != 0)
                    return true;
            }
        }
        return false;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
