using System.Net.Sockets;
using Lb.Netlink.Platform;
using Lb.Scripts;

namespace Lb.Control;

/// <summary>
/// Who may use the status socket and its control commands: root, the daemon's own uid, and — when
/// <c>#lb: control_group NAME</c> is set in global_defs — the members of that group (primary or supplementary, as the
/// kernel recorded them at connect: SO_PEERCRED and SO_PEERGROUPS, which the client cannot forge). Everyone else is
/// refused with exit code 5. The socket itself is then mode 0660 and owned by that group (0600 otherwise).
/// </summary>
public sealed class ControlAccess
{
    /// <summary>Nobody but root and the daemon's uid.</summary>
    public static readonly ControlAccess OwnerOnly = new(null, null);

    private ControlAccess(string? groupName, uint? gid)
    {
        GroupName = groupName;
        Gid = gid;
    }

    /// <summary>The control group's name, when one is configured.</summary>
    public string? GroupName { get; }

    /// <summary>The control group's gid, when one is configured and exists.</summary>
    public uint? Gid { get; }

    /// <summary>Access for <paramref name="group"/> (a name or a number; null: owner only); null gid when it does not exist.</summary>
    public static ControlAccess For(string? group) => group is null ? OwnerOnly : new ControlAccess(group, UserDatabase.Group(group));

    /// <summary>Whether the client on <paramref name="connection"/> with <paramref name="peer"/> credentials may use the socket.</summary>
    public bool Allows(Socket connection, PeerCredentials peer)
    {
        if (Status.StatusSocketSecurity.IsTrusted(peer.Uid))
            return true;
        if (Gid is not { } gid)
            return false;
        if (peer.Gid == gid)
            return true;
        return PeerCredentials.GroupsOf(connection).Contains(gid);
    }

    /// <summary>Who may use the socket, for refusals and log lines.</summary>
    public string Describe() => GroupName is null
        ? $"root and uid {PeerCredentials.EffectiveUid}"
        : $"root, uid {PeerCredentials.EffectiveUid} and group {GroupName}{(Gid is null ? " (which does not exist)" : "")}";
}
