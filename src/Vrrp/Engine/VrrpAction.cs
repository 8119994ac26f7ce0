using Lb.Vrrp.Host;
using Lb.Vrrp.Options;

namespace Lb.Vrrp.Engine;

/// <summary>What the pure state machine asks the outside world to do.</summary>
internal enum VrrpActionKind
{
    /// <summary>Send an advertisement with <see cref="VrrpAction.Priority"/>.</summary>
    SendAdvert,

    /// <summary>Add the VIPs and excluded VIPs (and routes/rules).</summary>
    AddVips,

    /// <summary>Remove the VIPs and excluded VIPs.</summary>
    RemoveVips,

    /// <summary>Send <see cref="VrrpAction.Repeat"/> gratuitous ARPs / unsolicited NAs for every VIP.</summary>
    SendGarps,

    /// <summary>Run the notify scripts / FIFO for <see cref="VrrpAction.State"/>.</summary>
    Notify,

    /// <summary>notify_master_rx_lower_pri.</summary>
    NotifyMasterRxLowerPri,
}

/// <summary>
/// One action, carrying what its executor needs (<see cref="Instance"/>, <see cref="EffectivePriority"/>, <see cref="Vips"/>),
/// filled in by the machine when it emits it (under the engine lock): the executor looks nothing up. Equality is
/// the decision (kind, priority, repeat, state), not the payload copied from the machine.
/// </summary>
internal readonly record struct VrrpAction(VrrpActionKind Kind, int Priority = 0, int Repeat = 0, VrrpState State = VrrpState.Init)
{
    /// <summary>The emitting instance's options (notify scripts, interface of the VIPs).</summary>
    public VrrpInstanceOptions? Instance { get; init; }

    /// <summary>The instance's effective priority when the action was emitted (notify).</summary>
    public int EffectivePriority { get; init; }

    /// <summary>VIPs then excluded VIPs of the instance when the action was emitted (AddVips, RemoveVips, SendGarps).</summary>
    public IReadOnlyList<VirtualAddress> Vips { get; init; } = [];

    /// <summary>SendAdvert of an <c>auth_type AH</c> instance: the key and the sequence number the machine chose for this advert.</summary>
    public Protocol.VrrpAhSigning? AhSigning { get; init; }

    /// <inheritdoc/>
    public bool Equals(VrrpAction other) => Kind == other.Kind && Priority == other.Priority && Repeat == other.Repeat && State == other.State;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Kind, Priority, Repeat, State);
}

/// <summary>Performs the actions of a machine. Called with the engine lock held: must not block.</summary>
internal interface IVrrpActionSink
{
    void Execute(VrrpInstanceMachine instance, VrrpAction action);
}
