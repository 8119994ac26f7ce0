using Lb.Checkers;
using Lb.Scripts;
using Lb.Vrrp.Host;
using Lb.Vrrp.Notify;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lb.Alerts;

/// <summary>
/// The host's side of keepalived's notify FIFOs and alert mail, composed from both subsystems' events (they never
/// reference each other, and neither owns <c>notify_fifo</c>, which carries both). keepalived's split
/// (lib/notify.c, vrrp_notify.c, ipwrapper.c, global_data.c):
/// <list type="bullet">
/// <item><c>notify_fifo</c>: VRRP lines and checker lines; its script runs once (keepalived lets the checker process run it).</item>
/// <item><c>vrrp_notify_fifo</c>: VRRP lines only, opened when VRRP runs; ignored when it is <c>notify_fifo</c>'s path.</item>
/// <item><c>lvs_notify_fifo</c>: checker lines only, opened when the checkers run; ignored when it is <c>notify_fifo</c>'s
/// path; the same path as <c>vrrp_notify_fifo</c> is one FIFO carrying both, and with two scripts the LVS one is ignored.</item>
/// </list>
/// Mail: a VRRP instance or group entering MASTER/BACKUP/FAULT/STOP with <c>smtp_alert</c> (not twice for one state; not
/// FAULT with <c>no_email_faults</c>), and the checkers' mails (<see cref="CheckerNotification.Mail"/>), sent by
/// <see cref="SmtpAlerter"/> in the background. The FIFOs are opened at start and kept until the stop (a reload that
/// changes them is warned about); the mail settings follow a reload.
/// </summary>
public sealed class AlertHub : IHostedService, IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly bool _vrrp;
    private readonly bool _checkers;
    private readonly IScriptRunner _runner;
    private readonly SmtpAlerter _mail;
    private readonly Dictionary<string, NotifyFifo> _fifos = new(StringComparer.Ordinal);
    private readonly Dictionary<(VrrpEntityKind, string), string> _lastEmailState = new();
    private AlertOptions _options;
    // Views into _fifos (which owns and disposes them): one FIFO object per path, shared when two keywords name one path.
#pragma warning disable CA2213
    private NotifyFifo? _global;
    private NotifyFifo? _vrrpFifo;
    private NotifyFifo? _lvsFifo;
#pragma warning restore CA2213
    private bool _started;
    private int _disposed;

    /// <summary>
    /// The alerts of a process running VRRP (<paramref name="vrrp"/>) and/or the checkers (<paramref name="checkers"/>),
    /// as -P/-C decide; nothing is opened before <see cref="Start"/>.
    /// </summary>
    public AlertHub(AlertOptions options, bool vrrp, bool checkers, ILoggerFactory loggerFactory, TimeProvider time, IScriptRunner? runner = null)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _options = options;
        _vrrp = vrrp;
        _checkers = checkers;
        _logger = loggerFactory.CreateLogger("Lb.Alerts");
        _runner = runner ?? new ScriptRunner(options.EnableScriptSecurity, time);
        _mail = new SmtpAlerter(options, _logger, time);
    }

    /// <summary>The FIFOs open, by path (for tests and status).</summary>
    public IReadOnlyCollection<NotifyFifo> Fifos => _fifos.Values;

    /// <summary>Opens (creating when missing) the FIFOs this process writes and starts their scripts.</summary>
    public void Start()
    {
        if (_started)
            return;
        _started = true;
        var o = _options;
        var vrrp = _vrrp ? o.VrrpNotifyFifo : null;
        var lvs = _checkers ? o.LvsNotifyFifo : null;
        if (o.NotifyFifo is { } g)
        {
            if (vrrp?.Path == g.Path)
            {
                _logger.FifoDuplicate(g.Path, "vrrp");
                vrrp = null;
            }
            if (lvs?.Path == g.Path)
            {
                _logger.FifoDuplicate(g.Path, "LVS");
                lvs = null;
            }
        }
        if (lvs is { Script: not null } && vrrp is { Script: not null } && lvs.Path == vrrp.Path)
        {
            _logger.FifoScriptDuplicate();
            lvs = lvs with { Script = null };
        }
        if (_vrrp || _checkers)
            _global = Open(o.NotifyFifo, "notify_fifo");
        _vrrpFifo = Open(vrrp, "vrrp_notify_fifo");
        _lvsFifo = Open(lvs, "lvs_notify_fifo");
    }

    private NotifyFifo? Open(FifoOptions? options, string keyword)
    {
        if (options is null)
            return null;
        if (!_fifos.TryGetValue(options.Path, out var fifo))
        {
            var name = keyword;
            fifo = new NotifyFifo(options.Path, keyword, (action, error) => _logger.FifoFailed(name, action, error));
            _fifos[options.Path] = fifo;
        }
        if (options.Script is { Count: > 0 } argv)
            fifo.StartScript(_runner, ScriptInvocation.Create([.. argv, options.Path], options.User, options.Group, _options.ScriptUser, _options.ScriptGroup, Timeout.InfiniteTimeSpan));
        return fifo;
    }

    /// <summary>A VRRP notification: its line on notify_fifo and vrrp_notify_fifo, and its mail when due.</summary>
    public void OnVrrp(VrrpNotification n)
    {
        ArgumentNullException.ThrowIfNull(n);
        var line = n.FifoLine;
        _global?.Write(line);
        if (_vrrpFifo is not null && !ReferenceEquals(_vrrpFifo, _global))
            _vrrpFifo.Write(line);
        if (!n.SmtpAlert || (_options.NoEmailFaults && n.State == "FAULT"))
            return;
        var text = VrrpMail(n);
        if (text is null)
            return;
        lock (_lastEmailState)
        {
            var key = (n.Kind, n.Name);
            if (_lastEmailState.TryGetValue(key, out var last) && last == n.State)
                return;
            _lastEmailState[key] = n.State;
        }
        _mail.Send($"{(n.Kind == VrrpEntityKind.Group ? "VRRP Group" : "VRRP Instance")} {n.Name} - {text.Value.Subject}", text.Value.Body);
    }

    /// <summary>keepalived's vrrp_smtp_notifier / vrrp_sync_smtp_notifier texts; null for what it does not mail.</summary>
    public static (string Subject, string Body)? VrrpMail(VrrpNotification n)
    {
        ArgumentNullException.ThrowIfNull(n);
        var group = n.Kind == VrrpEntityKind.Group;
        return n.State switch
        {
            "MASTER" => ("Entering MASTER state", group ? "=> All VRRP group instances are now in MASTER state <=" : "=> VRRP Instance is now owning VRRP VIPs <="),
            "BACKUP" => ("Entering BACKUP state", group ? "=> All VRRP group instances are now in BACKUP state <=" : "=> VRRP Instance is no longer owning VRRP VIPs <="),
            "FAULT" => ("Entering FAULT state", group ? "=> All VRRP group instances are now in FAULT state <=" : "=> VRRP Instance is no longer owning VRRP VIPs <="),
            "STOP" => ("Stopping", group ? "=> All VRRP group instances are now stopping <=" : "=> VRRP Instance stopping <="),
            _ => null,
        };
    }

    /// <summary>A checker notification: its line on notify_fifo and lvs_notify_fifo, and its mail.</summary>
    public void OnChecker(CheckerNotification n)
    {
        ArgumentNullException.ThrowIfNull(n);
        if (n.FifoLine is { } line)
        {
            _global?.Write(line);
            if (_lvsFifo is not null && !ReferenceEquals(_lvsFifo, _global))
                _lvsFifo.Write(line);
        }
        if (n.Mail is { } mail)
            _mail.Send(mail.Subject, mail.Body);
    }

    /// <summary>A reload: the mail follows the new settings; the FIFOs and their scripts stay until a restart (warned).</summary>
    public void Reload(AlertOptions next)
    {
        ArgumentNullException.ThrowIfNull(next);
        var old = _options;
        foreach (var (what, a, b) in new[] { ("notify_fifo", old.NotifyFifo, next.NotifyFifo), ("vrrp_notify_fifo", old.VrrpNotifyFifo, next.VrrpNotifyFifo), ("lvs_notify_fifo", old.LvsNotifyFifo, next.LvsNotifyFifo) })
        {
            if (a != b)
                _logger.FifoReloadIgnored(what);
        }
        _options = next with { NotifyFifo = old.NotifyFifo, VrrpNotifyFifo = old.VrrpNotifyFifo, LvsNotifyFifo = old.LvsNotifyFifo };
        _mail.Update(_options);
    }

    /// <summary>Waits until the lines and mails queued so far were written and sent (or given up).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        foreach (var f in _fifos.Values)
            await f.FlushAsync(cancellationToken).ConfigureAwait(false);
        await _mail.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    Task IHostedService.StartAsync(CancellationToken cancellationToken)
    {
        Start();
        return Task.CompletedTask;
    }

    /// <summary>Registered before the subsystems, so it stops after them: their STOP lines and last mails are written first.</summary>
    async Task IHostedService.StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    /// <summary>Writes what is queued, tries the queued mails for a short while, kills the FIFO scripts, removes FIFOs Lb created.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        foreach (var f in _fifos.Values)
            await f.DisposeAsync().ConfigureAwait(false);
        _fifos.Clear();
        _global = _vrrpFifo = _lvsFifo = null;
        await _mail.DisposeAsync().ConfigureAwait(false);
    }
}
