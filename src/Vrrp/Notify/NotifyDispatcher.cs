using System.Threading.Channels;
using Lb.Netlink.Platform;
using Lb.Vrrp.Diagnostics;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Scripts;
using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.Notify;

/// <summary>
/// Runs notify_master/backup/fault/stop and then <c>notify</c> (with "GROUP"|"INSTANCE", name, state,
/// priority appended), and writes keepalived's FIFO lines (<c>INSTANCE "VI_1" MASTER 100</c>), in
/// order, off the engine lock.
/// </summary>
internal sealed class NotifyDispatcher : IAsyncDisposable
{
    private volatile VrrpSubsystemOptions _options;
    private readonly IScriptRunner _runner;
    private readonly ILogger _logger;
    private readonly Channel<Func<Task>> _queue = Channel.CreateBounded<Func<Task>>(new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    private readonly Task _worker;
    private readonly Channel<string> _fifoQueue = Channel.CreateBounded<string>(new BoundedChannelOptions(4096) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    private readonly Task _fifoWorker;
    private readonly TimeSpan _scriptTimeout = TimeSpan.FromSeconds(30);

    public NotifyDispatcher(VrrpSubsystemOptions options, IScriptRunner runner, ILogger logger)
    {
        _options = options;
        _runner = runner;
        _logger = logger;
        _worker = Task.Run(WorkAsync);
        _fifoWorker = Task.Run(FifoWorkAsync);
    }

    /// <summary>Reload: script_user, enable_script_security apply to the next scripts run; the FIFO and its script stay as started (a restart changes them).</summary>
    public void Update(VrrpSubsystemOptions next)
    {
        var old = _options;
        _options = next with { NotifyFifo = old.NotifyFifo, NotifyFifoScript = old.NotifyFifoScript };
    }

    /// <summary>Lines written to the FIFO, also kept for tests/status (bounded).</summary>
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
        Enqueue(VrrpEntityKind.Instance, o.Name, StateWord(state), priority, specific, o.Notify);
    }

    public void MasterRxLowerPri(VrrpInstanceOptions o, int priority)
        => Enqueue(VrrpEntityKind.Instance, o.Name, "MASTER_RX_LOWER_PRI", priority, o.NotifyMasterRxLowerPri, null);

    public void GroupChanged(VrrpSyncGroupOptions g, VrrpState state, int priority)
    {
        var specific = state switch
        {
            VrrpState.Master => g.NotifyMaster,
            VrrpState.Backup => g.NotifyBackup,
            VrrpState.Fault => g.NotifyFault,
            VrrpState.Stop => g.NotifyStop,
            _ => null,
        };
        Enqueue(VrrpEntityKind.Group, g.Name, StateWord(state), priority, specific, g.Notify);
    }

    public void PriorityChanged(VrrpInstanceOptions o, VrrpState state, int priority)
        => Enqueue(VrrpEntityKind.Instance, o.Name, state == VrrpState.Master ? "MASTER_PRIORITY" : "BACKUP_PRIORITY", priority, null, null);

    private void Enqueue(VrrpEntityKind kind, string name, string state, int priority, NotifyScript? specific, NotifyScript? notify)
    {
        _queue.Writer.TryWrite(async () =>
        {
            if (specific is not null)
                await RunAsync(name, specific.Command, specific).ConfigureAwait(false);
            if (notify is not null)
                await RunAsync(name, NotifyArgv(notify, kind, name, state, priority), notify).ConfigureAwait(false);
            await WriteFifoAsync(FifoLine(kind, name, state, priority)).ConfigureAwait(false);
        });
    }

    private async Task RunAsync(string name, IReadOnlyList<string> argv, NotifyScript script)
    {
        var r = await _runner.RunAsync(ScriptInvocation.Create(argv, script.User, script.Group, _options.ScriptUser, _options.ScriptGroup, _scriptTimeout), CancellationToken.None).ConfigureAwait(false);
        if (!r.Succeeded)
            _logger.NotifyExited(name, string.Join(' ', argv), r.ExitCode ?? -1);
    }

    private Task WriteFifoAsync(string line)
    {
        lock (RecentFifoLines)
        {
            RecentFifoLines.Add(line);
            if (RecentFifoLines.Count > 256)
                RecentFifoLines.RemoveAt(0);
        }
        if (_options.NotifyFifo is not null)
            _fifoQueue.Writer.TryWrite(line);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Writes FIFO lines on a task of their own, opened as keepalived opens notify_fifo: created (mkfifo) when missing,
    /// then <c>O_RDWR|O_NONBLOCK|O_NOFOLLOW|O_CLOEXEC</c> and refused unless it is a FIFO owned by us or root (a symbolic
    /// link planted at the path is ELOOP, so its target is never written). Read-write, so readers see one continuous
    /// stream and opening never blocks; non-blocking, so a FIFO nobody reads drops lines (logged once per stall) instead
    /// of stalling. A refused FIFO is not used until a restart (keepalived: "not using"); a FIFO Lb created is removed
    /// when it stops, as keepalived does.
    /// </summary>
    private async Task FifoWorkAsync()
    {
        FileStream? fifo = null;
        var refused = false;
        var dropping = false;
        try
        {
            await foreach (var line in _fifoQueue.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                if (refused)
                    continue;
                try
                {
#pragma warning disable CA2000 // kept open across lines in 'fifo': disposed after a write error and in the finally below
                    fifo ??= OpenFifo(_options.NotifyFifo!);
#pragma warning restore CA2000
                    fifo.Write(System.Text.Encoding.UTF8.GetBytes(line + "\n"));
                    dropping = false;
                }
                catch (SafeFileException ex)
                {
                    _logger.ActionFailed("notify_fifo", "open", ex.Message + "; not using it");
                    refused = true;
                }
                catch (IOException ex) when (ex.HResult == EAGAIN)
                {
                    if (!dropping)
                        _logger.ActionFailed("notify_fifo", "write", $"{_options.NotifyFifo} is full (no reader?); dropping lines until it drains");
                    dropping = true;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    _logger.ActionFailed("notify_fifo", "write", ex.Message);
                    if (fifo is not null)
                        await fifo.DisposeAsync().ConfigureAwait(false);
                    fifo = null;
                }
            }
        }
        finally
        {
            // As keepalived: unlink first, so a reader that loops reopening the FIFO cannot reopen this one.
            FileIdentity? createdFifo;
            lock (_fifoGate)
                createdFifo = _createdFifo;
            if (createdFifo is { } created && _options.NotifyFifo is { } path)
            {
                try
                {
                    if (SafeFile.StatusOf(path)?.Identity == created)
                        File.Delete(path);
                }
                catch (IOException)
                {
                }
            }
            if (fifo is not null)
                await fifo.DisposeAsync().ConfigureAwait(false);
        }
    }

    private const int EAGAIN = 11;

    /// <summary>The FIFO Lb created (mkfifo), removed when it stops; null if it was there already. Under <see cref="_fifoGate"/>.</summary>
    private FileIdentity? _createdFifo;
    private readonly Lock _fifoGate = new();

    /// <summary>mkfifo when missing (never through a link: an existing one is EEXIST, then refused at open).</summary>
    private void CreateFifo(string path)
    {
        if (SafeFile.CreateFifo(path) && SafeFile.StatusOf(path) is { } created)
        {
            lock (_fifoGate)
                _createdFifo = created.Identity;
        }
    }

    private FileStream OpenFifo(string path)
    {
        CreateFifo(path);
        return SafeFile.OpenFifo(path);
    }

    private readonly CancellationTokenSource _fifoScriptCts = new();
    private Task? _fifoScript;

    /// <summary>Creates the FIFO if needed and starts <c>notify_fifo_script</c> with the FIFO name as its last argument (killed at dispose).</summary>
    public void StartFifoScript()
    {
        if (_options.NotifyFifo is not { } path || _options.NotifyFifoScript is not { } script || script.Command.Count == 0)
            return;
        try
        {
            CreateFifo(path);
        }
        catch (IOException ex)
        {
            _logger.ActionFailed("notify_fifo", "mkfifo", ex.Message);
            return;
        }
        _fifoScript = _runner.RunAsync(ScriptInvocation.Create([.. script.Command, path], script.User, script.Group, _options.ScriptUser, _options.ScriptGroup, Timeout.InfiniteTimeSpan), _fifoScriptCts.Token);
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
        _fifoQueue.Writer.TryComplete();
        await _fifoScriptCts.CancelAsync().ConfigureAwait(false);
        if (_fifoScript is not null)
            await _fifoScript.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _fifoScriptCts.Dispose();
        await _fifoWorker.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
