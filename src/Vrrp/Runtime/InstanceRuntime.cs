using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Lb.Vrrp.Addresses;
using Lb.Vrrp.Diagnostics;
using Lb.Vrrp.Engine;
using Lb.Vrrp.Host;
using Lb.Vrrp.Notify;
using Lb.Vrrp.Options;
using Lb.Vrrp.Protocol;
using Lb.Vrrp.Tracking;
using Lb.Vrrp.Transport;
using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.Runtime;

/// <summary>What every instance runtime shares: the subsystem's parts it calls, never its state.</summary>
internal sealed record InstanceServices(VrrpEngine Engine, SocketPool Sockets, VipManager Vips, NotifyDispatcher Notify, ILinkMonitor Links, ILogger Logger, VmacManager Vmacs)
{
    /// <summary>virtual_routes / virtual_rules, installed after the VIPs and removed before them (null: none).</summary>
    public RouteManager? Routes { get; init; }

    /// <summary>Split-brain probing while MASTER (null: none).</summary>
    public SplitBrain.SplitBrainMonitor? SplitBrain { get; init; }
}

/// <summary>
/// One <c>vrrp_instance</c> at run time (keepalived's vrrp_t outside the state machine): its machine, the socket it
/// sends adverts on (receive dispatch is the <see cref="SocketPool"/>'s), and an ordered work queue for its address
/// I/O. It executes its own machine's actions (<see cref="IVrrpActionSink"/>, under the engine lock): each action
/// carries its payload, so nothing is looked up.
/// </summary>
internal sealed class InstanceRuntime : IVrrpActionSink, IDisposable
{
    private readonly InstanceServices _services;
    private readonly Channel<Func<CancellationToken, Task>> _work = Channel.CreateUnbounded<Func<CancellationToken, Task>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<IPAddress> _removing = new();
    private readonly Lock _garpGate = new();
    private CancellationTokenSource _garpCts = new();
    private bool _disposed;
    private Task? _worker;
    private CancellationTokenSource? _workerCts;

    /// <summary>A runtime and its machine (created by the engine, not registered: the caller adds it).</summary>
    public InstanceRuntime(InstanceServices services, InstanceSettings settings, IReadOnlyList<TrackerBinding> bindings)
    {
        _services = services;
        Bindings = bindings;
        Machine = services.Engine.CreateMachine(settings, this);
    }

    public GarpBurstState Garps { get; } = new();

    public VrrpInstanceMachine Machine { get; }

    public string Name => Machine.Name;

    public IReadOnlyList<TrackerBinding> Bindings { get; set; }

    public IVrrpTransport? Socket { get; set; }

    public SocketEntry? SocketEntry { get; set; }

    /// <summary>The instance's VMAC while it has one (<c>use_vmac</c>, see <see cref="VmacManager"/>).</summary>
    public VmacInterface? Vmac { get; set; }

    // ---- actions (engine lock held) ----------------------------------------------------------

    public void Execute(VrrpInstanceMachine instance, VrrpAction action)
    {
        switch (action.Kind)
        {
            case VrrpActionKind.SendAdvert:
                SendAdvert(action.Priority, action.AhSigning);
                break;
            case VrrpActionKind.AddVips:
                // the list was taken at emission, under the engine lock: a reload changing it later does not rewrite queued work
                _services.Vips.Add(this, action.Vips);
                _services.Routes?.Add(this, action.Instance!);
                _services.SplitBrain?.Start(this);
                break;
            case VrrpActionKind.RemoveVips:
                _services.SplitBrain?.Stop(this);
                CancelGarps();
                _services.Routes?.Remove(this, action.Instance!);
                _services.Vips.Remove(this, action.Vips);
                break;
            case VrrpActionKind.SendGarps:
                _services.Vips.Announce(this, action.Vips, action.Repeat);
                break;
            case VrrpActionKind.Notify:
                _services.Notify.InstanceChanged(action.Instance!, action.State, action.EffectivePriority);
                break;
            case VrrpActionKind.NotifyMasterRxLowerPri:
                _services.Notify.MasterRxLowerPri(action.Instance!, action.EffectivePriority);
                break;
        }
    }

    private void SendAdvert(int priority, VrrpAhSigning? ah)
    {
        var m = Machine;
        var s = m.Settings;
        var socket = Socket;
        if (socket is null || m.SourceAddress is null)
            return;
        var packet = new VrrpPacket
        {
            Version = s.Version,
            VirtualRouterId = (byte)s.Options.VirtualRouterId,
            Priority = (byte)priority,
            AuthType = s.Version == 2 ? s.Options.Authentication?.Type ?? VrrpAuthType.None : VrrpAuthType.None,
            AdvertIntervalCentiseconds = (int)(s.AdvertInterval.TotalMilliseconds / 10),
            Family = s.Family,
            Addresses = s.AdvertAddresses,
            AuthData = s.AuthData.ToArray(),
            AhSigning = ah,
        };
        try
        {
            if (s.IsUnicast)
            {
                foreach (var peer in s.Options.UnicastPeers)
                    socket.Send(packet, m.SourceAddress, peer.Address, (byte)s.Options.UnicastTtl, s.V3ChecksumAsV2);
            }
            else
            {
                socket.Send(packet, m.SourceAddress, s.MulticastGroup, 255, s.V3ChecksumAsV2);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            if (_services.Sockets.DropLog.ShouldLog(-1, out _))
                _services.Logger.ActionFailed(m.Name, $"send advert on {socket.InterfaceName}", ex.Message);
        }
    }

    // ---- interface, source address and socket ------------------------------------------------

    /// <summary>
    /// Resolves the GARP/NA sources of its interfaces, its advert source, and takes its socket from the pool
    /// (<paramref name="register"/>: visible to receive dispatch at once; a reload registers it later).
    /// </summary>
    public async Task AttachAsync(CancellationToken ct, bool register = true)
    {
        var s = Machine.Settings;
        var ifname = s.Options.Interface;
        if (ifname is null)
            return;
        var link = _services.Links.GetLink(ifname);
        if (link is null || !link.Exists)
            return;
        // the GARP/NA source of every interface this instance announces on, resolved once here (link events keep it current)
        _services.Vips.ResolveLinks(s.Options);
        var vmac = await _services.Vmacs.EnsureAsync(this, ct).ConfigureAwait(false);
        var source = s.ConfiguredSource ?? await _services.Vips.PrimaryAddressAsync(ifname, s, ct).ConfigureAwait(false);
        lock (_services.Engine.Gate)
            Machine.SourceAddress = source;
        if (source is null)
            return;
        // adverts go out on the VMAC (with its MAC) unless vmac_xmit_base
        if (vmac is not null && !s.Options.VmacXmitBase && _services.Links.GetLink(vmac.Name) is { Exists: true } vlink)
            (ifname, link) = (vmac.Name, vlink);
        _services.Sockets.Attach(this, ifname, link.Index, s.IsUnicast ? source : null, register);
    }

    /// <summary>
    /// An address changed on the host: a VIP of ours removed while we are MASTER holding our VIPs is restored (unless
    /// we are removing it ourselves); any address change on our interface makes us choose the advert source again.
    /// </summary>
    public void OnAddressChanged(AddressChangedEventArgs e)
    {
        var o = Machine.Settings.Options;
        if (e.Removed)
        {
            foreach (var v in VipManager.AllVips(o))
            {
                var dev = VmacManager.DeviceOf(this, v);
                if (!v.NoTrack && v.Address.Equals(e.Address.Address) && dev == e.Address.Interface)
                {
                    bool set;
                    lock (_services.Engine.Gate)
                        set = Machine.VipsSet && Machine.State == VrrpState.Master;
                    if (set)
                        _services.Vips.Restore(this, v, dev!);
                }
            }
        }
        if (o.Interface == e.Address.Interface && Machine.Settings.ConfiguredSource is null
            && !o.VirtualIpAddresses.Any(v => v.Address.Equals(e.Address.Address)))
        {
            RefreshSource();
        }
    }

    /// <summary>An address of its interface changed: the advert source is chosen again (and the socket opened if it has none).</summary>
    private void RefreshSource()
    {
        Enqueue(async ct =>
        {
            var s = Machine.Settings;
            var src = await _services.Vips.PrimaryAddressAsync(s.Options.Interface!, s, ct).ConfigureAwait(false);
            if (src is not null)
            {
                lock (_services.Engine.Gate)
                    Machine.SourceAddress = src;
                if (Socket is null)
                    await AttachAsync(ct).ConfigureAwait(false);
            }
        });
    }

    // ---- the address work queue --------------------------------------------------------------

    public void Enqueue(Func<CancellationToken, Task> work) => _work.Writer.TryWrite(work);

    public void MarkRemoving(VirtualAddress v, bool on)
    {
        lock (_removing)
        {
            if (on)
                _removing.Add(v.Address);
            else
                _removing.Remove(v.Address);
        }
    }

    public bool IsRemoving(VirtualAddress v)
    {
        lock (_removing)
            return _removing.Contains(v.Address);
    }

    /// <summary>A task completing when everything queued so far has run (or the worker is gone).</summary>
    public Task Barrier()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (_worker is null || !_work.Writer.TryWrite(_ =>
        {
            done.TrySetResult();
            return Task.CompletedTask;
        }))
        {
            return Task.CompletedTask;
        }
        return done.Task;
    }

    public void StartWorker(CancellationToken outer)
    {
        _workerCts = CancellationTokenSource.CreateLinkedTokenSource(outer);
        var ct = _workerCts.Token;
        // The loop observes ct itself; it must start even if ct is already cancelled, so Barrier/DrainAsync complete.
        _worker = Task.Run(async () =>
        {
            try
            {
                await foreach (var w in _work.Reader.ReadAllAsync(ct).ConfigureAwait(false))
                {
                    try
                    {
                        await w(ct).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        // a cancelled GARP burst (left MASTER / stopping)
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // logged by the work item itself where it matters; never kill the queue
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);
    }

    public async Task DrainAsync(CancellationToken ct)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (_worker is null || !_work.Writer.TryWrite(_ =>
        {
            done.TrySetResult();
            return Task.CompletedTask;
        }))
        {
            return;
        }
        try
        {
            await done.Task.WaitAsync(TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // a stuck address operation must not block shutdown
        }
    }

    // ---- GARP bursts -------------------------------------------------------------------------

    /// <summary>Token of the current GARP bursts (cancelled once the runtime is disposed).</summary>
    public CancellationToken GarpToken
    {
        get
        {
            lock (_garpGate)
                return _disposed ? new CancellationToken(canceled: true) : _garpCts.Token;
        }
    }

    /// <summary>Cancels queued/pacing GARP bursts (keepalived: vrrp_remove_delayed_arp).</summary>
    public void CancelGarps()
    {
        CancellationTokenSource old;
        lock (_garpGate)
        {
            if (_disposed)
                return;
            old = _garpCts;
            _garpCts = new CancellationTokenSource();
        }
        old.Cancel();
        old.Dispose();
    }

    /// <summary>
    /// Ends the worker and cancels pending GARP bursts: for a runtime retired by a reload (after
    /// <see cref="DrainAsync"/>), one prepared by a failed reload, and every runtime at dispose. Idempotent.
    /// </summary>
    public void Dispose()
    {
        _work.Writer.TryComplete();
        lock (_garpGate)
        {
            if (_disposed)
                return;
            _disposed = true;
        }
        _workerCts?.Cancel();
        _workerCts?.Dispose();
        _garpCts.Cancel();
        _garpCts.Dispose();
    }
}
