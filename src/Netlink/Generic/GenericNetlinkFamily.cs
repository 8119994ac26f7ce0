using Lb.Netlink.Protocol;
using static Lb.Netlink.Generic.GenericNetlinkConstants;
using static Lb.Netlink.Protocol.NetlinkConstants;

namespace Lb.Netlink.Generic;

/// <summary>A resolved generic netlink family: its dynamic id, version, and multicast groups by name.</summary>
public sealed record GenericNetlinkFamily(string Name, ushort Id, uint Version, uint MaxAttribute, IReadOnlyDictionary<string, uint> MulticastGroups)
{
    /// <summary>Encodes CTRL_CMD_GETFAMILY for <paramref name="name"/>.</summary>
    public static NetlinkRequest CreateGetFamilyRequest(string name) =>
        NetlinkRequest.Create($"resolve generic netlink family {name}", (ref NetlinkWriter w) =>
        {
            using (w.BeginMessage(GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK))
            {
                w.WriteGenericHeader(CTRL_CMD_GETFAMILY, 1);
                w.WriteString(CTRL_ATTR_FAMILY_NAME, name);
            }
        });

    /// <summary>Decodes a CTRL_CMD_NEWFAMILY reply.</summary>
    public static bool TryParse(NetlinkMessage message, out GenericNetlinkFamily family)
    {
        family = null!;
        if (message.Type != GENL_ID_CTRL || message.GenericCommand != CTRL_CMD_NEWFAMILY)
            return false;
        string? name = null;
        ushort? id = null;
        uint version = 0, maxAttr = 0;
        var groups = new Dictionary<string, uint>(StringComparer.Ordinal);
        var attrs = message.Attributes(GENL_HDRLEN);
        while (attrs.TryRead(out var a))
        {
            switch (a.Type)
            {
                case CTRL_ATTR_FAMILY_ID: id = a.GetUInt16(); break;
                case CTRL_ATTR_FAMILY_NAME: name = a.GetString(); break;
                case CTRL_ATTR_VERSION: version = a.GetUInt32(); break;
                case CTRL_ATTR_MAXATTR: maxAttr = a.GetUInt32(); break;
                case CTRL_ATTR_MCAST_GROUPS:
                    var list = a.Nested;
                    while (list.TryRead(out var entry))
                    {
                        string? groupName = null;
                        uint? groupId = null;
                        var fields = entry.Nested;
                        while (fields.TryRead(out var f))
                        {
                            if (f.Type == CTRL_ATTR_MCAST_GRP_NAME)
                                groupName = f.GetString();
                            else if (f.Type == CTRL_ATTR_MCAST_GRP_ID)
                                groupId = f.GetUInt32();
                        }
                        if (groupName is not null && groupId is not null)
                            groups[groupName] = groupId.Value;
                    }
                    break;
            }
        }
        if (name is null || id is null)
            throw new NetlinkFormatException("CTRL_CMD_NEWFAMILY reply without a family name or id");
        family = new GenericNetlinkFamily(name, id.Value, version, maxAttr, groups);
        return true;
    }

    /// <summary>
    /// Resolves <paramref name="name"/> over <paramref name="socket"/> (a NETLINK_GENERIC socket).
    /// Throws <see cref="GenericNetlinkFamilyNotFoundException"/> when the kernel does not know the family.
    /// </summary>
    public static async Task<GenericNetlinkFamily> ResolveAsync(NetlinkSocket socket, string name, CancellationToken cancellationToken = default)
    {
        List<GenericNetlinkFamily> replies;
        try
        {
            replies = await socket.RequestAsync<GenericNetlinkFamily>(CreateGetFamilyRequest(name), TryParse, cancellationToken).ConfigureAwait(false);
        }
        catch (NetlinkException e) when (e.Errno == Errno.ENOENT && e is not GenericNetlinkFamilyNotFoundException)
        {
            throw new GenericNetlinkFamilyNotFoundException(name, e.KernelMessage);
        }
        return replies.Count > 0 ? replies[0] : throw new NetlinkFormatException($"no CTRL_CMD_NEWFAMILY reply for generic netlink family {name}");
    }
}
