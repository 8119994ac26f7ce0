using System.Threading.Channels;
using Lb.Vrrp.Diagnostics;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Scripts;
using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.Notify;

/// <summary>
/// Runs notify_master/backup/fault/stop and then <c>notify</c> (with "GROUP"|"INSTANCE", name, state,
/// priority appended), then publishes the notification (<see cref="VrrpNotification"/>: keepalived's FIFO line
/// <c>INSTANCE "VI_1" MASTER 100</c> and whether it is mailed) to <see cref="IVrrpEventSink.OnNotification"/>, in
/// order, off the engine lock. The FIFOs and the mail are the host's: <c>notify_fifo</c> also carries the checkers'
/// lines, so it lives once, above both subsystems (src/Lb/Alerts over <see cref="Lb.Scripts.NotifyFifo"/>).
/// </summary>
internal sealed class NotifyDispatcher : IAsyncDisposable
{
    private volatile VrrpSubsystemOptions _options;
    private readonly IScriptRunner _runner;
    private readonly ILogger _logger;
    private readonly Channel<Func<Task>> _queue = Channel.CreateBounded<Func<Task>>(new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    private readonly Task _worker;
    private readonly IVrrpEventSink _events;
    private readonly TimeSpan _scriptTimeout = TimeSpan.FromSeconds(30);

    public NotifyDispatcher(VrrpSubsystemOptions options, IScriptRunner runner, ILogger logger, IVrrpEventSink? events = null)
    {
        _options = options;
        _runner = runner;
        _logger = logger;
        _events = events ?? NoEvents.Instance;
        _worker = Task.Run(WorkAsync);
    }

    private sealed class NoEvents : IVrrpEventSink
    {
        public static readonly NoEvents Instance = new();

        public void OnStateChanged(VrrpStateChange change)
        {
        }
    }

    /// <summary>Reload: script_user, enable_script_security apply to the next scripts run.</summary>
    public void Update(VrrpSubsystemOptions next) => _options = next;

    /// <summary>FIFO lines published so far, also kept for tests/status (bounded).</summary>
    public List<string> RecentFifoLines { get; } = new();

    public static string StateWord(VrrpState s) => s switch
    {
        VrrpState.Master => "MASTER",
        VrrpState.Backup => "BACKUP",
        VrrpState.Fault => "FAULT",
        VrrpState.Stop => "STOP",
        _ => "INIT",
    };

    /// <summary>The FIFO line keepalived writes.</summary>
    public static string FifoLine(VrrpEntityKind kind, string name, string state, int priority)
        => $"{(kind == VrrpEntityKind.Group ? "GROUP" : "INSTANCE")} \"{name}\" {state} {priority}";

    /// <summary>The argv of a <c>notify</c> script: its own argv + 4 arguments.</summary>
    public static IReadOnlyList<string> NotifyArgv(NotifyScript script, VrrpEntityKind kind, string name, string state, int priority)
        => [.. script.Command, kind == VrrpEntityKind.Group ? "GROUP" : "INSTANCE", name, state, priority.ToString(System.Globalization.CultureInfo.InvariantCulture)];

    public void InstanceChanged(VrrpInstanceOptions o, VrrpState state, int priority)
    {
        var specific = state switch
        {
            VrrpState.Master => o.NotifyMaster,
            VrrpState.Backup => o.NotifyBackup,
            VrrpState.Fault => o.NotifyFault,
            VrrpState.Stop => o.NotifyStop,
            _ => null,
        };
        Enqueue(VrrpEntityKind.Instance, o.Name, StateWord(state), priority, specific, o.Notify, o.SmtpAlert == true);
    }

    public void MasterRxLowerPri(VrrpInstanceOptions o, int priority)
        => Enqueue(VrrpEntityKind.Instance, o.Name, "MASTER_RX_LOWER_PRI", priority, o.NotifyMasterRxLowerPri, null, false);

    /// <summary>A sync group changed state; keepalived reports a group's priority as 0 (script argument and FIFO line).</summary>
    public void GroupChanged(VrrpSyncGroupOptions g, VrrpState state)
    {
        var specific = state switch
        {
            VrrpState.Master => g.NotifyMaster,
            VrrpState.Backup => g.NotifyBackup,
            VrrpState.Fault => g.NotifyFault,
            VrrpState.Stop => g.NotifyStop,
            _ => null,
        };
        Enqueue(VrrpEntityKind.Group, g.Name, StateWord(state), 0, specific, g.Notify, g.SmtpAlert == true);
    }

    public void PriorityChanged(VrrpInstanceOptions o, VrrpState state, int priority)
        => Enqueue(VrrpEntityKind.Instance, o.Name, state == VrrpState.Master ? "MASTER_PRIORITY" : "BACKUP_PRIORITY", priority, null, null, false);

    private void Enqueue(VrrpEntityKind kind, string name, string state, int priority, NotifyScript? specific, NotifyScript? notify, bool smtpAlert)
    {
        _queue.Writer.TryWrite(async () =>
        {
            if (specific is not null)
                await RunAsync(name, specific.Command, specific).ConfigureAwait(false);
            if (notify is not null)
                await RunAsync(name, NotifyArgv(notify, kind, name, state, priority), notify).ConfigureAwait(false);
            Publish(new VrrpNotification(kind, name, state, priority, smtpAlert));
        });
    }

    private async Task RunAsync(string name, IReadOnlyList<string> argv, NotifyScript script)
    {
        var r = await _runner.RunAsync(ScriptInvocation.Create(argv, script.User, script.Group, _options.ScriptUser, _options.ScriptGroup, _scriptTimeout), CancellationToken.None).ConfigureAwait(false);
        if (!r.Succeeded)
            _logger.NotifyExited(name, string.Join(' ', argv), r.ExitCode ?? -1);
    }

    private void Publish(VrrpNotification notification)
    {
        lock (RecentFifoLines)
        {
            RecentFifoLines.Add(notification.FifoLine);
            if (RecentFifoLines.Count > 256)
                RecentFifoLines.RemoveAt(0);
        }
        try
        {
            _events.OnNotification(notification);
        }
        catch (Exception ex)
        {
            _logger.ActionFailed("notify", "publish", ex.Message);
        }
    }

    /// <summary>Waits until everything queued so far has run.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (_queue.Writer.TryWrite(() =>
        {
            done.TrySetResult();
            return Task.CompletedTask;
        }))
        {
            await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task WorkAsync()
    {
        await foreach (var item in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                await item().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                _logger.ActionFailed("notify", "run", ex.Message);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _worker.ConfigureAwait(false);
    }
}
