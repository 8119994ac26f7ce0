using Lb.Vrrp.Host;

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

/// <summary>One action.</summary>
internal readonly record struct VrrpAction(VrrpActionKind Kind, int Priority = 0, int Repeat = 0, VrrpState State = VrrpState.Init);

/// <summary>Performs the actions of a machine. Called with the engine lock held: must not block.</summary>
internal interface IVrrpActionSink
{
    void Execute(VrrpInstanceMachine instance, VrrpAction action);
}
