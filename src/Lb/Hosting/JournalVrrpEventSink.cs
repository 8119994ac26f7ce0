using System.Threading.Channels;
using Lb.Checkers.Journal;
using Lb.Vrrp.Host;
using Microsoft.Extensions.Logging;

namespace Lb.Hosting;

/// <summary>
/// Journals every VRRP state change. The VRRP engine must never wait on a disk, so entries go through an unbounded queue
/// to one writer (fsync per entry); <see cref="DisposeAsync"/> drains the queue, so nothing is lost on a graceful stop.
/// </summary>
public sealed class JournalVrrpEventSink : IVrrpEventSink, IAsyncDisposable
{
    private readonly IJournal _journal;
    private readonly ILogger _logger;
    private readonly Channel<JournalEntry> _queue = Channel.CreateUnbounded<JournalEntry>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

    public JournalVrrpEventSink(IJournal journal, ILogger logger)
    {
        _journal = journal;
        _logger = logger;
        _writer = Task.Run(WriteAsync);
    }

    public event Action<VrrpStateChange>? StateChanged;

    /// <summary>VRRP's notify FIFO lines and mails, for the host's <see cref="Alerts.AlertHub"/>.</summary>
    public event Action<Vrrp.Notify.VrrpNotification>? Notified;

    public void OnNotification(Vrrp.Notify.VrrpNotification notification) => Notified?.Invoke(notification);

    public void OnStateChanged(VrrpStateChange change)
    {
        _queue.Writer.TryWrite(new JournalEntry
        {
            Time = change.At,
            Subsystem = "vrrp",
            Kind = change.Kind == VrrpEntityKind.Group ? "sync_group" : "instance",
            Instance = change.Name,
            OldState = change.OldState.ToString().ToUpperInvariant(),
            NewState = change.NewState.ToString().ToUpperInvariant(),
            Reason = change.Reason,
            Action = change.NewState switch
            {
                VrrpState.Master => $"VIPs added, priority {change.Priority}",
                VrrpState.Backup or VrrpState.Fault or VrrpState.Stop => $"VIPs removed, priority {change.Priority}",
                _ => "none",
            },
        });
        StateChanged?.Invoke(change);
    }

    /// <summary>Every object a reload added, removed or changed is journalled too.</summary>
    public void OnReloadApplied(Vrrp.Reload.VrrpReloadChange change)
    {
        _queue.Writer.TryWrite(new JournalEntry
        {
            Time = change.At,
            Subsystem = "vrrp",
            Kind = "reload",
            Instance = change.Name,
            OldState = change.Action == Vrrp.Reload.VrrpReloadAction.Added ? "absent" : "configured",
            NewState = change.Action.ToString(),
            Reason = change.Fields.Count > 0 ? $"configuration reload: {change.Object} {string.Join(", ", change.Fields)}" : $"configuration reload: {change.Object}",
            Action = change.Action.ToString(),
        });
    }

    /// <summary>A split brain (another MAC answering for a VIP of ours while we are MASTER) is journalled once per episode.</summary>
    public void OnSplitBrain(VrrpSplitBrain detection)
    {
        ArgumentNullException.ThrowIfNull(detection);
        _queue.Writer.TryWrite(new JournalEntry
        {
            Time = detection.At,
            Subsystem = "vrrp",
            Kind = "split_brain",
            Instance = detection.Instance,
            OldState = "MASTER",
            NewState = "MASTER",
            Reason = $"{detection.Vip} on {detection.Interface} also answered by {detection.OtherMac} (ours {detection.OurMac}): another MASTER",
            Action = "gratuitous ARP/NA burst",
        });
    }

    private async Task WriteAsync()
    {
        await foreach (var entry in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                await _journal.AppendAsync(entry).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                _logger.LogError("Journal: cannot record {Instance} {Old} -> {New}: {Message}", entry.Instance, entry.OldState, entry.NewState, e.Message);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
    }
}
