using System.Net;
using System.Net.Sockets;
using Lb.Checkers.Engine;
using Lb.Checkers.Net;
using Lb.Checkers.Tests.Support;
using Lb.TestSupport;
using Xunit;

namespace Lb.Checkers.Tests.Engine;

/// <summary>
/// The last look before a timeout: when an attempt's time limit passes with its answer already at the socket (the
/// process is behind on its socket events), the round waits for it instead of failing the server — keepalived decides on
/// the socket's readiness however late its loop runs. Real loopback sockets; only the processing of the answer is held
/// back, by a probe that completes when the test says so (a process behind cannot be produced on demand).
/// </summary>
public sealed class LastLookTests
{
    /// <summary>Connected loopback pair: the probe's socket and the server's end.</summary>
    private sealed class Pair : IDisposable
    {
        private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        public Pair()
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(1);
            Client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            Client.Connect(_listener.LocalEndPoint!);
            Server = _listener.Accept();
        }

        public Socket Client { get; }
        public Socket Server { get; }

        public void Dispose()
        {
            Client.Dispose();
            Server.Dispose();
            _listener.Dispose();
        }
    }

    /// <summary>A probe waiting for response bytes on a real socket; its processing of them waits for <see cref="Process"/>.</summary>
    private sealed class HeldBack : ICheck, IAnswerArrival
    {
        private readonly InFlightSocket _inFlight = new();
        private readonly TaskCompletionSource _process = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Socket _socket;

        public HeldBack(Socket socket) => _socket = socket;

        public void Process() => _process.TrySetResult();

        public async ValueTask<CheckOutcome> ExecuteAsync(CancellationToken cancellationToken)
        {
            _inFlight.Connecting(_socket);
            _inFlight.AwaitingData();
            try
            {
                await _process.Task.WaitAsync(cancellationToken);
                var buf = new byte[16];
                var n = _socket.Receive(buf);
                return n > 0 ? CheckOutcome.Ok("answered") : CheckOutcome.Fail("closed");
            }
            finally
            {
                _inFlight.Done();
            }
        }

        public bool AnswerArrived() => _inFlight.AnswerArrived();

        public string TimeoutReason(TimeSpan timeout) => $"connect timeout {timeout.TotalSeconds} s";
    }

    [Fact]
    public async Task An_answer_waiting_at_the_socket_when_the_limit_passes_is_waited_for_not_a_timeout()
    {
        using var pair = new Pair();
        var time = new ManualTimeProvider();
        using var pacer = new CheckPacer(time);
        var probe = new HeldBack(pair.Client);
        var round = new CheckRound(probe, TimeSpan.FromSeconds(3), TimeSpan.Zero, time, null, pacer);
        var run = round.RunAsync(0, CancellationToken.None);

        pair.Server.Send("HTTP/1.0 200 OK\r\n\r\n"u8); // the server answered in time...
        Assert.True(Wait.Until(() => pair.Client.Available > 0));
        ManualClock.Advance(time, 3); // ...but the process has not processed it when the limit passes
        Assert.False(run.IsCompleted);
        probe.Process();

        var (outcome, _) = await run.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(outcome.Success, outcome.Reason);
        Assert.True(round.Verdict);
        Assert.Equal(1, pacer.Snapshot().AnswersLate);
        Assert.Equal(0, pacer.Snapshot().IgnoredTimeouts);
    }

    [Fact]
    public async Task A_silent_server_still_times_out_at_the_limit()
    {
        using var pair = new Pair();
        var time = new ManualTimeProvider();
        using var pacer = new CheckPacer(time);
        var probe = new HeldBack(pair.Client);
        var round = new CheckRound(probe, TimeSpan.FromSeconds(3), TimeSpan.Zero, time, null, pacer);
        var run = round.RunAsync(0, CancellationToken.None);

        ManualClock.Advance(time, 3);
        var (outcome, _) = await run.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.False(outcome.Success);
        Assert.Equal("connect timeout 3 s", outcome.Reason);
        Assert.True(round.Verdict);
        Assert.Equal(0, pacer.Snapshot().AnswersLate);
    }

    [Fact]
    public async Task The_last_look_is_taken_once_an_answer_never_processed_times_out_after_one_more_limit()
    {
        using var pair = new Pair();
        var time = new ManualTimeProvider();
        var probe = new HeldBack(pair.Client);
        var round = new CheckRound(probe, TimeSpan.FromSeconds(3), TimeSpan.Zero, time, null);
        var run = round.RunAsync(0, CancellationToken.None);

        pair.Server.Send("x"u8);
        Assert.True(Wait.Until(() => pair.Client.Available > 0));
        ManualClock.Advance(time, 3);
        Assert.False(run.IsCompleted);
        ManualClock.Advance(time, 3);
        var (outcome, _) = await run.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("connect timeout 3 s", outcome.Reason);
        Assert.Equal(0, time.ActiveTimers);
    }

    [Fact]
    public void A_connect_in_progress_has_no_answer_a_finished_one_has()
    {
        var inFlight = new InFlightSocket();
        using var pair = new Pair();
        Assert.False(inFlight.AnswerArrived()); // nothing in flight
        inFlight.Connecting(pair.Client);
        Assert.True(inFlight.AnswerArrived()); // connected: writable, its completion is due
        inFlight.AwaitingData();
        Assert.False(inFlight.AnswerArrived()); // no bytes yet
        pair.Server.Shutdown(SocketShutdown.Send); // the end of the stream is an answer too
        Assert.True(Wait.Until(inFlight.AnswerArrived));
        inFlight.Done();
        Assert.False(inFlight.AnswerArrived());
    }
}
