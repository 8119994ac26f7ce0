using System.Net.Sockets;
using System.Text;

namespace Lb.Hosting;

/// <summary>
/// systemd's readiness protocol written directly: one datagram per notification to <c>$NOTIFY_SOCKET</c> (a path, or
/// an abstract socket written with a leading '@'). Without the variable (not started by systemd) every call is a no-op.
/// Errors are swallowed: a missing notification must never stop the daemon.
/// </summary>
public sealed class SdNotify : IDisposable
{
    public const string EnvironmentVariable = "NOTIFY_SOCKET";

    private readonly Socket? _socket;
    private readonly UnixDomainSocketEndPoint? _endPoint;

    public SdNotify(string? notifySocket)
    {
        if (string.IsNullOrEmpty(notifySocket) || (notifySocket[0] != '/' && notifySocket[0] != '@'))
            return;
        // Abstract namespace: '@' stands for the leading NUL byte.
        _endPoint = new UnixDomainSocketEndPoint(notifySocket[0] == '@' ? "\0" + notifySocket[1..] : notifySocket);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    }

    public static SdNotify FromEnvironment() => new(Environment.GetEnvironmentVariable(EnvironmentVariable));

    public bool Enabled => _socket is not null;

    public bool Send(string state)
    {
        if (_socket is null || _endPoint is null)
            return false;
        try
        {
            lock (_socket)
                _socket.SendTo(Encoding.UTF8.GetBytes(state), SocketFlags.None, _endPoint);
            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    public bool Ready(string status) => Send($"READY=1\nSTATUS={status}\nMAINPID={Environment.ProcessId}");

    public bool Reloading() => Send($"RELOADING=1\nMONOTONIC_USEC={MonotonicMicroseconds()}");

    public bool Stopping() => Send("STOPPING=1");

    public bool Status(string status) => Send($"STATUS={status}");

    /// <summary>CLOCK_MONOTONIC in microseconds (systemd ≥ 253 wants it with RELOADING=1); Stopwatch reads that clock on Linux.</summary>
    private static long MonotonicMicroseconds() => (long)(System.Diagnostics.Stopwatch.GetTimestamp() / (System.Diagnostics.Stopwatch.Frequency / 1_000_000.0));

    public void Dispose() => _socket?.Dispose();
}
