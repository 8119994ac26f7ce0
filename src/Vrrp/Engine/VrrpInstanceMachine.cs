using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Lb.Vrrp.Diagnostics;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Lb.Vrrp.Protocol;
using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.Engine;

/// <summary>
/// The VRRP state machine of one instance (RFC 3768 / RFC 5798 section 6.4, with keepalived's
/// extensions: preempt_delay, nopreempt, tracking, GARP repeats). Pure: driven by received adverts,
/// timers from the injected <see cref="TimeProvider"/> and tracking updates; everything it does to the
/// world goes out as <see cref="VrrpAction"/>s. All entry points take the engine lock.
/// </summary>
internal sealed class VrrpInstanceMachine
{
    private readonly object _gate;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IVrrpActionSink _sink;
    private readonly IVrrpEventSink _events;
    private readonly RateLimiter _dropLog;
    private readonly RateLimiter _lowerPriorityLog;
    private ITimer? _timer;
    private ITimer? _garpDelayTimer;
    private ITimer? _garpRefreshTimer;
    private ITimer? _lowerPrioGarpTimer;
    private long? _preemptAt;
    private long _timerDueAt;
    private int _ownFaults;
    private int _priorityDelta;
    private bool _started;
    private byte[] _ahKey = [];
    private uint _ahSequence;
    private bool _ahCycle;
    private long? _lastAdvertAt;

    public VrrpInstanceMachine(InstanceSettings settings, object gate, IVrrpActionSink sink, IVrrpEventSink events, TimeProvider time, ILogger logger)
    {
        Settings = settings;
        _gate = gate;
        _sink = sink;
        _events = events;
        _time = time;
        _logger = logger;
        _dropLog = new RateLimiter(time);
        _lowerPriorityLog = new RateLimiter(time);
        BasePriority = settings.Options.Priority;
        EffectivePriority = BasePriority;
        MasterAdverInterval = settings.AdvertInterval;
        _ahKey = AhKeyOf(settings);
    }

    public InstanceSettings Settings { get; private set; }

    /// <summary>True once <see cref="Start"/> ran.</summary>
    public bool Started => _started;

    /// <summary>
    /// Reload, "soft" change: takes <paramref name="next"/> in place, keeping the state, the timers and
    /// the master it knows. A new <c>priority</c> is applied to the effective priority (elections then run
    /// by the protocol: a BACKUP now above the MASTER preempts on the MASTER's next advert, a MASTER now
    /// below a BACKUP loses to it when that BACKUP preempts); a shorter <c>advert_int</c> pulls the next
    /// MASTER advert in; <c>garp_master_refresh</c> is re-armed; a changed preempt setting forgets a pending
    /// preempt_delay. Nothing is sent and no transition happens here.
    /// </summary>
    public void ApplySettings(InstanceSettings next)
    {
        lock (_gate)
        {
            var old = Settings;
            Settings = next;
            _ahKey = AhKeyOf(next);
            if (old.Options.Priority != next.Options.Priority)
            {
                BasePriority = next.Options.Priority;
                SetEffectivePriority();
            }
            if (old.Options.Preempt != next.Options.Preempt || old.Options.PreemptDelay != next.Options.PreemptDelay)
                _preemptAt = null;
            if (old.AdvertInterval != next.AdvertInterval)
            {
                if (State != VrrpState.Backup || MasterAdverInterval == old.AdvertInterval)
                    MasterAdverInterval = next.AdvertInterval;
                if (State == VrrpState.Master && TimeToTimer > next.AdvertInterval)
                    ScheduleMain(next.AdvertInterval);
            }
            if (State == VrrpState.Master && (old.GarpMasterRefresh != next.GarpMasterRefresh || old.GarpMasterRefreshRepeat != next.GarpMasterRefreshRepeat))
            {
                _garpRefreshTimer?.Dispose();
                _garpRefreshTimer = null;
                if (next.GarpMasterRefresh > TimeSpan.Zero)
                    _garpRefreshTimer = _time.CreateTimer(_ => Guarded(() => Emit(new VrrpAction(VrrpActionKind.SendGarps, Repeat: Settings.GarpMasterRefreshRepeat))), null, next.GarpMasterRefresh, next.GarpMasterRefresh);
            }
        }
    }

    public string Name => Settings.Name;

    public VrrpState State { get; private set; } = VrrpState.Init;

    public int BasePriority { get; private set; }

    public int EffectivePriority { get; private set; }

    public TimeSpan MasterAdverInterval { get; private set; }

    public IPAddress? MasterAddress { get; private set; }

    public int MasterPriority { get; private set; }

    /// <summary>Our advert source address (for the equal-priority tie-break and own-packet detection); set by the transport.</summary>
    public IPAddress? SourceAddress { get; set; }

    public DateTimeOffset? LastTransition { get; private set; }

    public string LastReason { get; private set; } = "";

    public bool VipsSet { get; private set; }

    public VrrpDropCounters Drops { get; } = new();

    public long AdvertsReceived { get; private set; }

    public long AdvertsSent { get; private set; }

    public long PriorityZeroReceived { get; private set; }

    /// <summary>Valid adverts of a lower priority than ours (as MASTER, or discarded by a preempting BACKUP); logged at a bounded rate.</summary>
    public long LowerPriorityReceived { get; private set; }

    public long PriorityZeroSent { get; private set; }

    /// <summary>Trackers in fault plus the configuration's own fault (unicast_fault_no_peer without peers).</summary>
    public int OwnFaults => _ownFaults + ConfigFaults;

    /// <summary>keepalived's <c>num_config_faults</c>: <c>unicast_fault_no_peer</c> with no <c>unicast_peer</c> keeps the instance in FAULT.</summary>
    private int ConfigFaults => Settings.Options.UnicastFaultNoPeer && Settings.Options.UnicastPeers.Count == 0 ? 1 : 0;

    /// <summary>Adverts an address owner dropped (<c>owner_ignore_adverts</c>); not counted as received, as keepalived.</summary>
    public long OwnerIgnoredAdverts { get; private set; }

    internal SyncGroupCoordinator? Group { get; set; }

    /// <summary>The operator's holds of this machine's engine (maintenance by instance name; see <see cref="OperatorActions"/>).</summary>
    internal OperatorHolds Holds { get; init; } = new();

    /// <summary>The operator put this instance in maintenance (<c>lb vrrp maintenance NAME on</c>): it never becomes MASTER.</summary>
    public bool InMaintenance => Holds.Maintenance.Contains(Name);

    /// <summary>Maintenance of this instance or of a member of its sync group: held in BACKUP (or FAULT), never MASTER.</summary>
    internal bool HeldBackup => InMaintenance || (Group?.AnyMemberInMaintenance ?? false);

    /// <summary>
    /// After <c>lb vrrp failover</c>: this BACKUP accepts any master it hears, whatever its priority (as with nopreempt), and
    /// becomes MASTER again only when no master is heard (master-down timer, or a priority-0 advert); cleared then.
    /// </summary>
    public bool FailoverHold { get; internal set; }

    /// <summary>A valid advert from another router has been received since start (a peer exists; a silent BACKUP is not heard).</summary>
    public bool PeerHeard { get; private set; }

    /// <summary>Master-down expiries ignored in maintenance since the last advert heard (logged on the first only).</summary>
    private long _heldExpiries;

    /// <summary>The master-down interval: down_timer_adverts × Master_Adver_Interval + Skew_Time.</summary>
    public TimeSpan MasterDownInterval => (MasterAdverInterval * Settings.DownTimerAdverts) + SkewTime;

    /// <summary>Skew_Time: VRRPv2 (256 − priority)/256 s; VRRPv3 ((256 − priority) × Master_Adver_Interval)/256.</summary>
    public TimeSpan SkewTime
    {
        get
        {
            long us = Settings.Version == 3
                ? (256L - EffectivePriority) * (MasterAdverInterval.Ticks / 10) / 256
                : (256L - EffectivePriority) * 1_000_000 / 256;
            return TimeSpan.FromTicks(us * 10);
        }
    }

    /// <summary>INIT → BACKUP (or MASTER for an address owner configured MASTER, or FAULT when tracking says so).</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_started)
                return;
            _started = true;
            _timer = _time.CreateTimer(_ => OnTimer(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            if (ConfigFaults > 0)
                _logger.UnicastWithoutPeers(Name);
            if (IsFaulted)
            {
                _logger.EnteringFaultStateInit(Name);
                SetState(VrrpState.Fault, ConfigFaults > 0 ? "init: unicast_fault_no_peer without unicast peers" : "init: tracking fault");
                Emit(new VrrpAction(VrrpActionKind.Notify, State: VrrpState.Fault));
                return;
            }
            if (Settings.Options.InitialState == VrrpInitialState.Master && BasePriority == VrrpDefaults.OwnerPriority && !HeldBackup)
            {
                GotoMaster("init: address owner", force: false);
                return;
            }
            EnterBackupInit();
        }
    }

    private void EnterBackupInit()
    {
        _logger.EnteringBackupStateInit(Name);
        SetState(VrrpState.Backup, "init");
        MasterAdverInterval = Settings.AdvertInterval;
        Emit(new VrrpAction(VrrpActionKind.Notify, State: VrrpState.Backup));
        ScheduleMain(MasterDownInterval);
    }

    /// <summary>Stops: a MASTER sends a priority-0 advert and removes its VIPs (neither with <paramref name="keepVips"/>, keepalived's --dont-release-vrrp); notify_stop runs.</summary>
    public void Stop(bool keepVips = false)
    {
        lock (_gate)
        {
            if (!_started || State == VrrpState.Stop)
                return;
            CancelGarpTimers();
            _timer?.Dispose();
            _timer = null;
            // keepalived with --dont-release-vrrp skips restore_vrrp_interfaces entirely: no priority 0, VIPs stay
            if (State == VrrpState.Master && !keepVips)
            {
                SendAdvert(0);
                RemoveVips();
            }
            SetState(VrrpState.Stop, "stopping");
            Emit(new VrrpAction(VrrpActionKind.Notify, State: VrrpState.Stop));
        }
    }

    /// <summary>A tracker changed: <paramref name="faults"/> trackers in fault, <paramref name="priorityDelta"/> summed weights.</summary>
    public void UpdateTracking(int faults, int priorityDelta, string reason)
    {
        lock (_gate)
        {
            _ownFaults = faults;
            _priorityDelta = priorityDelta;
            SetEffectivePriority();
            if (!_started || State == VrrpState.Stop)
                return;
            if (Group is not null)
                Group.Reevaluate(reason);
            else
                ApplyFault(reason);
        }
    }

    internal bool IsFaulted => OwnFaults > 0 || (Group?.AnyMemberFaulted ?? false);

    /// <summary>Moves into or out of FAULT according to the tracking state.</summary>
    internal void ApplyFault(string reason)
    {
        if (!_started || State == VrrpState.Stop)
            return;
        var fault = IsFaulted;
        if (fault && State != VrrpState.Fault)
        {
            if (State == VrrpState.Master)
            {
                LeaveMaster(VrrpState.Fault, reason);
            }
            else
            {
                _logger.EnteringFaultState(Name);
                _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                SetState(VrrpState.Fault, reason);
                Emit(new VrrpAction(VrrpActionKind.Notify, State: VrrpState.Fault));
            }
        }
        else if (!fault && State == VrrpState.Fault)
        {
            MasterAdverInterval = Settings.AdvertInterval;
            if (Settings.Options.InitialState == VrrpInitialState.Master && BasePriority == VrrpDefaults.OwnerPriority && !HeldBackup)
            {
                GotoMaster(reason, force: false);
                return;
            }
            _logger.EnteringBackupState(Name);
            _preemptAt = null;
            SetState(VrrpState.Backup, reason);
            Emit(new VrrpAction(VrrpActionKind.Notify, State: VrrpState.Backup));
            ScheduleMain(MasterDownInterval);
        }
    }

    private void SetEffectivePriority()
    {
        var old = EffectivePriority;
        var eff = BasePriority == VrrpDefaults.OwnerPriority ? BasePriority : Math.Clamp(BasePriority + _priorityDelta, 1, 254);
        if (eff == old)
            return;
        EffectivePriority = eff;
        _logger.ChangingEffectivePriority(Name, old, eff);
        _events.OnPriorityChanged(Name, old, eff);
    }

    /// <summary>An advert for our VRID arrived (already parsed and checksummed). <paramref name="ttl"/> is -1 when unknown.</summary>
    public void ReceiveAdvert(VrrpPacket packet, IPAddress source, int ttl)
    {
        lock (_gate)
        {
            if (!_started || State is VrrpState.Fault or VrrpState.Stop or VrrpState.Init)
                return;
            // owner_ignore_adverts (keepalived 2.3.3): an address owner drops every advert, before it counts as received
            if (Settings.OwnerIgnoreAdverts && EffectivePriority == VrrpDefaults.OwnerPriority)
            {
                OwnerIgnoredAdverts++;
                if (_dropLog.ShouldLog(-1, out _))
                    _logger.OwnerDroppingAdverts(Name, source);
                return;
            }
            var checkAddresses = !Settings.SkipCheckAdvAddr || MasterAddress is null || !MasterAddress.Equals(source);
            var reason = Validate(packet, source, ttl, checkAddresses, out var message);
            if (reason != VrrpDropReason.None)
            {
                CountDrop(reason, message);
                return;
            }
            AdvertsReceived++;
            PeerHeard = true;
            _heldExpiries = 0;
            if (packet.Priority == 0)
                PriorityZeroReceived++;
            if (State == VrrpState.Backup)
                BackupReceive(packet, source);
            else if (State == VrrpState.Master)
                MasterReceive(packet, source);
        }
    }

    /// <summary>Counts a drop decided outside the machine (codec errors on the instance's socket).</summary>
    public void CountDrop(VrrpDropReason reason, string message)
    {
        Drops.Increment(reason);
        if (_dropLog.ShouldLog((int)reason, out var suppressed))
        {
            if (suppressed > 0)
                _logger.DroppedSuppressed(Name, suppressed, reason.ToString());
            _logger.Dropped(Name, message);
        }
    }

    /// <summary>A flood of lower-priority adverts gets the drop logs' bound: a burst, then one line per interval with the count not logged.</summary>
    private bool ShouldLogLowerPriority()
    {
        if (!_lowerPriorityLog.ShouldLog(0, out var suppressed))
            return false;
        if (suppressed > 0)
            _logger.LowerPrioritySuppressed(Name, suppressed);
        return true;
    }

    private VrrpDropReason Validate(VrrpPacket p, IPAddress source, int ttl, bool checkAddresses, out string message)
    {
        var o = Settings.Options;
        if (SourceAddress is not null && SourceAddress.Equals(source))
        {
            message = $"received our own advert from {source}";
            return VrrpDropReason.OwnPacket;
        }
        if (p.Family != Settings.Family)
        {
            message = $"received advert of the wrong address family from {source}";
            return VrrpDropReason.WrongFamily;
        }
        if (p.Family == AddressFamily.InterNetwork && (p.Ah is not null) != UsesAh)
        {
            message = p.Ah is not null ? "Received AH header but auth type not AH" : "No AH header but auth type is AH";
            return VrrpDropReason.AuthTypeMismatch;
        }
        UnicastPeer? peer = null;
        if (Settings.IsUnicast)
        {
            foreach (var up in o.UnicastPeers)
            {
                if (up.Address.Equals(source))
                    peer = up;
            }
        }
        if (!Settings.IsUnicast && ttl >= 0 && ttl != 255)
        {
            message = $"invalid ttl. {ttl} and expect 255";
            return VrrpDropReason.BadTtl;
        }
        if (peer is not null && peer.HasTtlRange && ttl >= 0 && (ttl < peer.MinTtl || ttl > peer.MaxTtl))
        {
            message = $"invalid ttl {ttl} from {source}, expected {peer.MinTtl}..{peer.MaxTtl}";
            return VrrpDropReason.BadTtl;
        }
        if (p.Version == 2 && Settings.Version == 2)
        {
            var ours = o.Authentication?.Type ?? VrrpAuthType.None;
            if (p.RawAuthType > 2)
            {
                message = $"Invalid auth type: {p.RawAuthType}";
                return VrrpDropReason.InvalidAuthType;
            }
            if ((int)ours != p.RawAuthType)
            {
                message = $"received a {p.RawAuthType} auth, expecting {(int)ours}!";
                return VrrpDropReason.AuthTypeMismatch;
            }
            if (ours == VrrpAuthType.Pass && !p.AuthData.Span.SequenceEqual(Settings.AuthData.AsSpan()))
            {
                message = "received an invalid passwd!";
                return VrrpDropReason.AuthFailure;
            }
            if (ours == VrrpAuthType.Ah && UsesAh)
            {
                var ah = CheckAh(p, source, out message);
                if (ah != VrrpDropReason.None)
                    return ah;
            }
            if (p.AdvertIntervalCentiseconds != (int)(Settings.AdvertInterval.Ticks / TimeSpan.TicksPerMillisecond / 10))
            {
                message = $"advertisement interval mismatch mine={(int)Settings.AdvertInterval.TotalSeconds} sec rcved={p.AdvertIntervalCentiseconds / 100} sec";
                return VrrpDropReason.AdvertIntervalMismatch;
            }
        }
        if (p.Version != Settings.Version)
        {
            message = $"invalid version. {p.Version} and expect {Settings.Version}";
            return VrrpDropReason.BadVersion;
        }
        var expected = Settings.AdvertAddresses;
        if (expected.Count != p.Addresses.Count)
        {
            message = $"received an invalid ip number count {p.Addresses.Count}, expected {expected.Count}!";
            return VrrpDropReason.AddressCountMismatch;
        }
        if (checkAddresses)
        {
            foreach (var a in expected)
            {
                var found = false;
                foreach (var b in p.Addresses)
                {
                    if (a.Equals(b))
                    {
                        found = true;
                        break;
                    }
                }
                if (!found)
                {
                    message = $"ip address associated with VRID {o.VirtualRouterId} not present in MASTER advert : {a}";
                    return VrrpDropReason.AddressListMismatch;
                }
            }
            if (Settings.IsUnicast && Settings.CheckUnicastSrc && peer is null)
            {
                message = $"unicast source address {source} not a unicast peer";
                return VrrpDropReason.NotUnicastPeer;
            }
        }
        message = "";
        return VrrpDropReason.None;
    }

    private void BackupReceive(VrrpPacket p, IPAddress source)
    {
        var now = _time.GetTimestamp();
        if (p.Priority == 0)
        {
            _logger.BackupReceivedPriorityZero(Name);
            ScheduleMain(SkewTime);
            return;
        }
        var preemptDelay = Settings.Options.PreemptDelay;
        if (!Settings.Options.Preempt
            || FailoverHold
            || HeldBackup
            || p.Priority >= EffectivePriority
            || (preemptDelay > TimeSpan.Zero && (_preemptAt is null || _preemptAt.Value > now)))
        {
            if (Settings.Version == 3)
            {
                var mai = p.AdvertInterval;
                if (mai != MasterAdverInterval && mai > TimeSpan.Zero)
                {
                    _logger.AdvertIntervalUpdated(Name, (long)MasterAdverInterval.TotalMilliseconds, (long)mai.TotalMilliseconds);
                    MasterAdverInterval = mai;
                }
            }
            MasterAddress = source;
            MasterPriority = p.Priority;
            if (preemptDelay > TimeSpan.Zero)
            {
                if (p.Priority >= EffectivePriority)
                    _preemptAt = null;
                else if (_preemptAt is null)
                    _preemptAt = now + (long)(preemptDelay.TotalSeconds * _time.TimestampFrequency);
            }
            ScheduleMain(MasterDownInterval);
            return;
        }
        LowerPriorityReceived++;
        if (ShouldLogLowerPriority())
            _logger.ReceivedLowerPriorityDiscarding(Name, p.Priority, source);
        MasterAddress = source;
    }

    private int CompareWithOurAddress(IPAddress source)
    {
        if (SourceAddress is null || SourceAddress.AddressFamily != source.AddressFamily)
            return 0;
        Span<byte> a = stackalloc byte[16];
        Span<byte> b = stackalloc byte[16];
        source.TryWriteBytes(a, out var la);
        SourceAddress.TryWriteBytes(b, out var lb);
        return a[..la].SequenceCompareTo(b[..lb]);
    }

    private void MasterReceive(VrrpPacket p, IPAddress source)
    {
        var addrCmp = CompareWithOurAddress(source);
        if (p.Priority == 0
            || (Settings.HigherPrioSendAdvert && (p.Priority > EffectivePriority || (p.Priority == EffectivePriority && addrCmp > 0))))
        {
            SendAdvert(EffectivePriority);
            if (p.Priority == 0)
                return;
        }
        if (p.Priority == EffectivePriority)
        {
            if (addrCmp == 0)
            {
                _logger.EqualPriorityOwnAddress(Name);
            }
            else if (EffectivePriority == VrrpDefaults.OwnerPriority)
            {
                _logger.BothAddressOwners(Name);
                BasePriority = VrrpDefaults.OwnerPriority - 1;
                SetEffectivePriority();
            }
        }
        if (p.Priority < EffectivePriority || (p.Priority == EffectivePriority && addrCmp < 0))
        {
            LowerPriorityReceived++;
            if (ShouldLogLowerPriority())
            {
                _logger.MasterReceivedLowerPriority(Name, source, p.Priority, EffectivePriority, Settings.LowerPrioNoAdvert ? "" : ", forcing new election");
                if (p.Ah is not null)
                    _logger.AhSyncingSequence(Name);
            }
            if (p.Ah is { } lowerAh)
            {
                // keepalived: the lower-priority advert's sequence number + 1, so our next adverts are above what it has seen
                _ahSequence = unchecked(lowerAh.SequenceNumber + 1);
                _ahCycle = false;
            }
            if (!Settings.LowerPrioNoAdvert)
                SendAdvert(EffectivePriority);
            if (Settings.GarpLowerPrioRepeat > 0)
            {
                Emit(new VrrpAction(VrrpActionKind.SendGarps, Repeat: Settings.GarpLowerPrioRepeat));
                if (Settings.GarpLowerPrioDelay > TimeSpan.Zero)
                {
                    _lowerPrioGarpTimer?.Dispose();
                    _lowerPrioGarpTimer = OneShot(Settings.GarpLowerPrioDelay, () => Emit(new VrrpAction(VrrpActionKind.SendGarps, Repeat: Settings.GarpLowerPrioRepeat)));
                }
            }
            Emit(new VrrpAction(VrrpActionKind.NotifyMasterRxLowerPri));
            return;
        }
        if (p.Priority > EffectivePriority || (p.Priority == EffectivePriority && addrCmp > 0))
        {
            if (p.Priority > EffectivePriority)
                _logger.MasterReceivedHigherPriority(Name, source, p.Priority, EffectivePriority);
            else
                _logger.MasterReceivedSamePriorityHigherIp(Name, source, p.Priority);
            if (UsesAh)
                _ahCycle = false;
            if (Settings.Version == 3 && p.AdvertInterval > TimeSpan.Zero)
                MasterAdverInterval = p.AdvertInterval;
            MasterAddress = source;
            MasterPriority = p.Priority;
            LeaveMaster(VrrpState.Backup, p.Priority > EffectivePriority
                ? $"higher priority advert from {source} ({p.Priority})"
                : $"equal priority advert from higher address {source}");
        }
    }

    private void OnTimer()
    {
        lock (_gate)
        {
            if (!_started)
                return;
            // an expiry taken by the timer thread just before an advert (on the receive thread) moved the timer
            // forward: stale, the new expiry is still queued (2 ms of tolerance for clocks that round)
            if (_timerDueAt - _time.GetTimestamp() > _time.TimestampFrequency / 500)
                return;
            if (State == VrrpState.Backup && HeldBackup)
            {
                // maintenance: the master-down timer runs (the state is an ordinary BACKUP) but never promotes
                if (_heldExpiries++ == 0)
                    _logger.MaintenanceNotTakingOver(Name);
                ScheduleMain(MasterDownInterval);
            }
            else if (State == VrrpState.Backup)
            {
                _logger.ReceiveAdvertisementTimeout(Name);
                GotoMaster("advertisement timeout", force: false);
            }
            else if (State == VrrpState.Master)
            {
                if (TimerExpiredTooLate())
                    return;
                SendAdvert(EffectivePriority);
                ScheduleMain(Settings.AdvertInterval);
            }
        }
    }

    /// <summary>BACKUP → MASTER. Unless forced by the sync group, a group member waits until the group may go MASTER.</summary>
    internal void GotoMaster(string reason, bool force)
    {
        if (HeldBackup || (!force && Group is not null && !Group.CanGotoMaster(this)))
        {
            ScheduleMain(MasterDownInterval);
            return;
        }
        if (FailoverHold)
        {
            FailoverHold = false;
            _logger.OperatorAction(Name, $"failover hold ended: {reason}");
        }
        var previous = State;
        if (_ahCycle)
        {
            // keepalived: becoming MASTER after the counter ran out resets the anti-replay counter
            _ahCycle = false;
            _ahSequence = 0;
        }
        State = VrrpState.Master;
        MasterAdverInterval = Settings.AdvertInterval;
        MasterAddress = SourceAddress;
        MasterPriority = EffectivePriority;
        _preemptAt = null;
        SendAdvert(EffectivePriority);
        _logger.EnteringMasterState(Name);
        Transition(previous, VrrpState.Master, reason);
        _logger.SettingVips(Name);
        VipsSet = true;
        Emit(new VrrpAction(VrrpActionKind.AddVips));
        if (Settings.GarpMasterRepeat > 0)
        {
            Emit(new VrrpAction(VrrpActionKind.SendGarps, Repeat: Settings.GarpMasterRepeat));
            if (Settings.GarpMasterDelay > TimeSpan.Zero)
                _garpDelayTimer = OneShot(Settings.GarpMasterDelay, () => Emit(new VrrpAction(VrrpActionKind.SendGarps, Repeat: Settings.GarpMasterRepeat)));
        }
        if (Settings.GarpMasterRefresh > TimeSpan.Zero)
        {
            _garpRefreshTimer = _time.CreateTimer(_ => Guarded(() => Emit(new VrrpAction(VrrpActionKind.SendGarps, Repeat: Settings.GarpMasterRefreshRepeat))), null, Settings.GarpMasterRefresh, Settings.GarpMasterRefresh);
        }
        Emit(new VrrpAction(VrrpActionKind.Notify, State: VrrpState.Master));
        ScheduleMain(Settings.AdvertInterval);
        Group?.MemberBecameMaster(this);
    }

    /// <summary>MASTER → BACKUP or FAULT (FAULT sends a priority-0 advert so backups take over after Skew_Time).</summary>
    internal void LeaveMaster(VrrpState to, string reason)
    {
        if (State != VrrpState.Master)
            return;
        if (to == VrrpState.Backup)
        {
            _logger.EnteringBackupState(Name);
            _preemptAt = null;
        }
        else
        {
            _logger.EnteringFaultState(Name);
            SendAdvert(0);
        }
        CancelGarpTimers();
        RemoveVips();
        Transition(VrrpState.Master, to, reason);
        Emit(new VrrpAction(VrrpActionKind.Notify, State: to));
        if (to == VrrpState.Backup)
        {
            ScheduleMain(MasterDownInterval);
            Group?.MemberLeftMaster(this);
        }
        else
        {
            _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    private void RemoveVips()
    {
        _logger.RemovingVips(Name);
        VipsSet = false;
        Emit(new VrrpAction(VrrpActionKind.RemoveVips));
    }

    /// <summary>
    /// <c>timer_expired_backup</c> (keepalived 2.2.8 vrrp_thread_timeout_handler): the advert timer of a MASTER fired so
    /// late that a router of the configured highest other priority may have taken over (3 × advert_int plus that
    /// priority's skew time since our last advert): BACKUP instead of advertising (nopreempt keeps it there).
    /// </summary>
    private bool TimerExpiredTooLate()
    {
        if (Settings.Options.TimerExpiredBackup is not { } other || _lastAdvertAt is not { } last)
            return false;
        var skew = Settings.Version == 3
            ? TimeSpan.FromTicks((256L - other) * Settings.AdvertInterval.Ticks / 256)
            : TimeSpan.FromTicks((256L - other) * TimeSpan.TicksPerSecond / 256);
        var since = _time.GetElapsedTime(last);
        if (since < (Settings.AdvertInterval * 3) + skew)
            return false;
        var late = since - Settings.AdvertInterval;
        _logger.ThreadTimerExpired(late.TotalSeconds.ToString("0.000000", System.Globalization.CultureInfo.InvariantCulture));
        LeaveMaster(VrrpState.Backup, $"timer_expired_backup: no advert sent for {since.TotalSeconds:0.###} s");
        return true;
    }

    /// <summary>
    /// An operator's leave (maintenance, failover): a priority-0 advert first (RFC 5798 6.4.3: the backups take over after
    /// Skew_Time, not the master-down interval). Sync-group members are left by <see cref="OperatorActions"/>.
    /// </summary>
    internal void SendPriorityZero() => SendAdvert(0);

    private void SendAdvert(int priority)
    {
        _lastAdvertAt = _time.GetTimestamp();
        AdvertsSent++;
        if (priority == 0)
            PriorityZeroSent++;
        VrrpAhSigning? ah = null;
        if (UsesAh)
        {
            // keepalived counts up once per advert (every unicast peer gets the same number); past 0xFFFFFFFD it stops
            // counting and marks the counter as cycled (reset when it next becomes MASTER)
            if (_ahSequence > 0xFFFFFFFD)
                _ahCycle = true;
            else
                _ahSequence++;
            ah = new VrrpAhSigning(_ahKey, _ahSequence, Settings.IsUnicast);
        }
        Emit(new VrrpAction(VrrpActionKind.SendAdvert, Priority: priority) { AhSigning = ah });
    }

    // ---- IPsec AH (auth_type AH, VRRPv2 over IPv4) -----------------------------------------------

    /// <summary>
    /// The AH sequence counter: the number of the last advert sent or the highest accepted, one counter for both as in
    /// keepalived (a BACKUP that takes over continues above the numbers its peers have seen).
    /// </summary>
    public uint AhSequenceNumber => _ahSequence;

    /// <summary>True when this instance authenticates with IPsec AH (auth_type AH, VRRPv2, IPv4).</summary>
    private bool UsesAh => Settings.Version == 2 && Settings.Family == AddressFamily.InterNetwork && Settings.Options.Authentication?.Type == VrrpAuthType.Ah;

    /// <summary>keepalived's HMAC key: auth_pass in 8 bytes, zero padded (longer passwords truncated).</summary>
    private static byte[] AhKeyOf(InstanceSettings s) => s.Options.Authentication is { Type: VrrpAuthType.Ah } a ? VrrpPacket.PasswordBytes(a.Password) : [];

    /// <summary>A reload that restarts this instance keeps the AH counter of the one it replaces (keepalived's restore_vrrp_state).</summary>
    internal void CarryAhSequence(VrrpInstanceMachine previous)
    {
        lock (_gate)
        {
            _ahSequence = previous._ahSequence;
            _ahCycle = previous._ahCycle;
        }
    }

    /// <summary>
    /// keepalived's vrrp_in_chk_ipsecah, in its order: the ICV (key, unicast TTL rule), the SPI (= the IP source), then the
    /// sequence number, which must be above the counter and becomes it. Texts are keepalived's (its "%u" of the addresses
    /// in network byte order is printed as a little-endian host prints it).
    /// </summary>
    private VrrpDropReason CheckAh(VrrpPacket p, IPAddress source, out string message)
    {
        var ah = p.Ah!.Value;
        if (!VrrpAh.VerifyIcv(p.AhDatagram.Span, _ahKey, Settings.IsUnicast))
        {
            message = "IPSEC-AH : invalid IPSEC HMAC-MD5 value. Due to fields mutation or bad password !";
            return VrrpDropReason.AhIcvMismatch;
        }
        var spi = VrrpAh.SpiOf(source);
        if (ah.Spi != spi)
        {
            message = $"IPSEC AH : invalid IPSEC SPI value. {BinaryPrimitives.ReverseEndianness(spi)} and expect {BinaryPrimitives.ReverseEndianness(ah.Spi)}";
            return VrrpDropReason.AhSpiMismatch;
        }
        if (ah.SequenceNumber <= _ahSequence)
        {
            message = $"IPSEC-AH : sequence number {ah.SequenceNumber} already processed. Packet dropped. Local({_ahSequence})";
            return VrrpDropReason.AhSequenceReplay;
        }
        _ahSequence = ah.SequenceNumber;
        if (State == VrrpState.Backup)
            _ahCycle = false;
        message = "";
        return VrrpDropReason.None;
    }

    private void SetState(VrrpState to, string reason) => Transition(State, to, reason);

    private void Transition(VrrpState from, VrrpState to, string reason)
    {
        State = to;
        LastTransition = _time.GetUtcNow();
        LastReason = reason;
        _events.OnStateChanged(new VrrpStateChange(LastTransition.Value, VrrpEntityKind.Instance, Name, from, to, EffectivePriority, reason));
    }

    private void ScheduleMain(TimeSpan due)
    {
        if (due < TimeSpan.Zero)
            due = TimeSpan.Zero;
        _timerDueAt = _time.GetTimestamp() + (long)(due.TotalSeconds * _time.TimestampFrequency);
        _timer?.Change(due, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Time left before the main timer fires (master-down timer in BACKUP, next advert in MASTER).</summary>
    public TimeSpan TimeToTimer => _time.GetElapsedTime(_time.GetTimestamp(), _timerDueAt);

    private ITimer OneShot(TimeSpan due, Action action)
    {
        ITimer? t = null;
        t = _time.CreateTimer(_ => Guarded(action), null, due, Timeout.InfiniteTimeSpan);
        return t;
    }

    private void Guarded(Action action)
    {
        lock (_gate)
        {
            if (State == VrrpState.Master)
                action();
        }
    }

    private void CancelGarpTimers()
    {
        _garpDelayTimer?.Dispose();
        _garpDelayTimer = null;
        _garpRefreshTimer?.Dispose();
        _garpRefreshTimer = null;
        _lowerPrioGarpTimer?.Dispose();
        _lowerPrioGarpTimer = null;
    }

    private void Emit(VrrpAction action)
    {
        try
        {
            var o = Settings.Options;
            IReadOnlyList<VirtualAddress> vips = action.Kind is VrrpActionKind.AddVips or VrrpActionKind.RemoveVips or VrrpActionKind.SendGarps
                ? [.. o.VirtualIpAddresses, .. o.VirtualIpAddressesExcluded]
                : [];
            _sink.Execute(this, action with { Instance = o, EffectivePriority = EffectivePriority, Vips = vips });
        }
        catch (Exception ex)
        {
            _logger.ActionFailed(Name, action.Kind.ToString(), ex.Message);
        }
    }
}
