using System.Text;
using System.Threading.Channels;
using Lb.Netlink.Platform;

namespace Lb.Scripts;

/// <summary>
/// One notify FIFO (<c>notify_fifo</c>, <c>vrrp_notify_fifo</c>, <c>lvs_notify_fifo</c>) and the script that reads it,
/// as keepalived's lib/notify.c <c>fifo_open</c>/<c>fifo_close</c>: created with mkfifo when missing (removed again at
/// stop), its <c>*_notify_fifo_script</c> started with the FIFO's name as last argument (killed at stop), lines written
/// in order by one task of its own so no writer ever waits.
/// <para>
/// Opened <c>O_RDWR|O_NONBLOCK|O_NOFOLLOW|O_CLOEXEC</c> and refused unless it is a FIFO owned by us or root (a symbolic
/// link planted at the path is ELOOP, so its target is never written). Read-write, so readers see one continuous stream
/// and opening never blocks; non-blocking, so a FIFO nobody reads drops lines (logged once per stall) instead of
/// stalling. A refused FIFO is not used until a restart (keepalived: "not using").
/// </para>
/// </summary>
public sealed class NotifyFifo : IAsyncDisposable
{
    private const int EAGAIN = 11;

    private readonly string _keyword;
    private readonly Action<string, string> _failed;
    private readonly Channel<object> _queue = Channel.CreateBounded<object>(new BoundedChannelOptions(4096) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    private readonly Task _worker;
    private readonly CancellationTokenSource _scriptCts = new();
    private readonly Lock _gate = new();
    private Task? _script;
    private FileIdentity? _created;

    /// <summary>
    /// A FIFO at <paramref name="path"/>; <paramref name="keyword"/> names it in log lines (<c>notify_fifo</c>…);
    /// <paramref name="failed"/> receives (action, error) for every problem (open, write, mkfifo).
    /// </summary>
    public NotifyFifo(string path, string keyword, Action<string, string> failed)
    {
        Path = path;
        _keyword = keyword;
        _failed = failed;
        _worker = Task.Run(WorkAsync);
    }

    /// <summary>The FIFO's path.</summary>
    public string Path { get; }

    /// <summary>Which configuration keyword this FIFO comes from (<c>notify_fifo</c>, <c>vrrp_notify_fifo</c>, <c>lvs_notify_fifo</c>).</summary>
    public string Keyword => _keyword;

    /// <summary>Queues one line (without its newline); never blocks.</summary>
    public void Write(string line) => _queue.Writer.TryWrite(line);

    /// <summary>
    /// Creates the FIFO if needed and starts <paramref name="script"/> (its argv already ends with the FIFO's name) on
    /// <paramref name="runner"/>; it runs until <see cref="DisposeAsync"/> kills it.
    /// </summary>
    public void StartScript(IScriptRunner runner, ScriptInvocation script)
    {
        try
        {
            Create();
        }
        catch (IOException ex)
        {
            _failed("mkfifo", ex.Message);
            return;
        }
        _script = runner.RunAsync(script, _scriptCts.Token);
    }

    /// <summary>Waits until every line queued so far has been written (or dropped).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (_queue.Writer.TryWrite(done))
            await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private void Create()
    {
        if (SafeFile.CreateFifo(Path) && SafeFile.StatusOf(Path) is { } created)
        {
            lock (_gate)
                _created = created.Identity;
        }
    }

    private FileStream Open()
    {
        Create();
        return SafeFile.OpenFifo(Path);
    }

    private async Task WorkAsync()
    {
        FileStream? fifo = null;
        var refused = false;
        var dropping = false;
        try
        {
            await foreach (var item in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                if (item is TaskCompletionSource flushed)
                {
                    flushed.TrySetResult();
                    continue;
                }
                var line = (string)item;
                if (refused)
                    continue;
                try
                {
#pragma warning disable CA2000 // kept open across lines in 'fifo': disposed after a write error and in the finally below
                    fifo ??= Open();
#pragma warning restore CA2000
                    fifo.Write(Encoding.UTF8.GetBytes(line + "\n"));
                    dropping = false;
                }
                catch (SafeFileException ex)
                {
                    _failed("open", ex.Message + "; not using it");
                    refused = true;
                }
                catch (IOException ex) when (ex.HResult == EAGAIN)
                {
                    if (!dropping)
                        _failed("write", $"{Path} is full (no reader?); dropping lines until it drains");
                    dropping = true;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    _failed("write", ex.Message);
                    if (fifo is not null)
                        await fifo.DisposeAsync().ConfigureAwait(false);
                    fifo = null;
                }
            }
        }
        finally
        {
            // As keepalived: unlink first, so a reader that loops reopening the FIFO cannot reopen this one.
            FileIdentity? created;
            lock (_gate)
                created = _created;
            if (created is { } identity)
            {
                try
                {
                    if (SafeFile.StatusOf(Path)?.Identity == identity)
                        File.Delete(Path);
                }
                catch (IOException)
                {
                }
            }
            if (fifo is not null)
                await fifo.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Writes what is queued, kills the script, closes the FIFO and removes it if Lb created it.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _scriptCts.CancelAsync().ConfigureAwait(false);
        if (_script is not null)
            await _script.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _worker.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _scriptCts.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"{_keyword} {Path}";
}
