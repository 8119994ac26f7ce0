using System.Net.Sockets;

namespace Lb.Checkers.Net;

/// <summary>
/// The socket of a checker's attempt in flight, so that the attempt's timer can take a last look before it calls a
/// timeout: has the answer the attempt waits for (the connect's completion, or response bytes) already arrived, only
/// not yet been processed? keepalived decides a check in its single event loop on the socket's readiness, however late
/// the loop runs; a process behind on its socket events would otherwise fail servers that answered in time.
/// One attempt at a time per checker; the fields are written by the attempt and read by the timer's thread.
/// </summary>
internal sealed class InFlightSocket
{
    private Socket? _socket;
    private volatile bool _awaitingData;

    /// <summary>The attempt's socket was created and its connect is starting.</summary>
    public void Connecting(Socket socket)
    {
        _awaitingData = false;
        Volatile.Write(ref _socket, socket);
    }

    /// <summary>Connected: the attempt now waits for the server's bytes.</summary>
    public void AwaitingData() => _awaitingData = true;

    /// <summary>The attempt is over (its socket is being disposed).</summary>
    public void Done() => Volatile.Write(ref _socket, null);

    /// <summary>
    /// True when the socket is ready for what the attempt waits for (writable once the connect finished, successfully or
    /// not; readable when bytes or the end of the stream arrived): its completion is queued, not missing.
    /// </summary>
    public bool AnswerArrived()
    {
        var s = Volatile.Read(ref _socket);
        if (s is null)
            return false;
        try
        {
            return s.Poll(0, _awaitingData ? SelectMode.SelectRead : SelectMode.SelectWrite);
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
        {
            return false; // the attempt ended meanwhile
        }
    }
}
