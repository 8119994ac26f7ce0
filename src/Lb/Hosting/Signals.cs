using System.Runtime.InteropServices;

namespace Lb.Hosting;

/// <summary>Signal numbers .NET's <see cref="PosixSignal"/> does not name. On Linux a raw signal number cast to
/// <see cref="PosixSignal"/> is accepted by <see cref="PosixSignalRegistration.Create"/>.</summary>
public static class Signals
{
    /// <summary>SIGUSR1 (10 on Linux): the data dump.</summary>
    public const PosixSignal SIGUSR1 = (PosixSignal)10;

    /// <summary>SIGUSR2 (12 on Linux): the statistics.</summary>
    public const PosixSignal SIGUSR2 = (PosixSignal)12;

    /// <summary>glibc's SIGRTMIN is 34 (it keeps 32 and 33 for threads), so keepalived's JSON signal SIGRTMIN+2 is 36
    /// (<c>kill -s RTMIN+2</c>).</summary>
    public const int JsonDumpNumber = 36;

    /// <summary>SIGRTMIN+2: the JSON dump.</summary>
    public const PosixSignal JsonDump = (PosixSignal)JsonDumpNumber;
}
