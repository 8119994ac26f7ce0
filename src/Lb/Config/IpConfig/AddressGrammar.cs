using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Lb.Vrrp.Options;

namespace Lb.Config.IpConfig;

/// <summary>
/// One <c>virtual_ipaddress</c> / <c>virtual_ipaddress_excluded</c> / <c>static_ipaddress</c> line, read as keepalived 2.2.7's
/// <c>alloc_ipaddress</c> (vrrp_ipaddress.c) reads it, with its messages. Null when keepalived drops the line.
/// </summary>
public static class AddressGrammar
{
    public static VirtualAddress? Parse(IReadOnlyList<string> words, bool isStatic, IpGrammarContext cx)
    {
        if (words.Count == 0 || !cx.TryParseAddress(words[0], true, out var address, out var prefix))
            return null;
        var written = words[0];
        var v6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        var maxPrefix = v6 ? 128 : 32;
        var vip = new VirtualAddress { Address = address, PrefixLength = written.Contains('/', StringComparison.Ordinal) ? prefix : -1 };
        var broadcastMode = 0; // -1 '+', -2 '-'
        var haveBroadcast = false;
        IPAddress? broadcast = null;
        var havePeer = false;
        byte? scope = null;

        var i = 1;
        while (i < words.Count)
        {
            var word = words[i];
            var hasValue = words.Count >= i + 2;
            switch (word)
            {
                case "dev":
                    if (!hasValue)
                        return Missing(word);
                    if (vip.Device is not null)
                    {
                        cx.Error($"Cannot specify ipaddress device more than once for {written}");
                        return null;
                    }
                    if (!cx.InterfaceExists(words[++i]))
                    {
                        cx.Error($"WARNING - interface {words[i]} for ip address {written} doesn't exist");
                        return null;
                    }
                    vip = vip with { Device = words[i] };
                    break;
                case "scope":
                    if (!hasValue)
                        return Missing(word);
                    if (cx.Names.TryScope(words[++i], out var s))
                        scope = s;
                    else
                        cx.Error($"Invalid scope '{words[i]}' specified for {written} - ignoring");
                    break;
                case "broadcast" or "brd":
                    if (!hasValue)
                        return Missing(word);
                    if (v6)
                    {
                        // keepalived prints the keyword where it means the value.
                        cx.Error($"VRRP is trying to assign a broadcast {word} to the IPv6 address {written} !!?? WTF... skipping VIP...");
                        return null;
                    }
                    haveBroadcast = true;
                    var value = words[++i];
                    if (value == "-")
                        broadcastMode = -2;
                    else if (value == "+")
                        broadcastMode = -1;
                    else if (IpGrammarContext.InetPton(value, false, out var b))
                        broadcast = b;
                    else
                    {
                        cx.Error($"VRRP is trying to assign invalid broadcast {value}. skipping VIP...");
                        return null;
                    }
                    break;
                case "label":
                    if (!hasValue)
                        return Missing(word);
                    var label = words[++i];
                    if (System.Text.Encoding.UTF8.GetByteCount(label) >= 16)
                    {
                        cx.Error($"Address label {label} is longer than maximum length 15 - removing address");
                        return null;
                    }
                    vip = vip with { Label = label };
                    break;
                case "peer":
                    if (!hasValue)
                        return Missing(word);
                    i++;
                    if (havePeer)
                    {
                        // keepalived then reads the value again as an option ("Unknown configuration entry").
                        cx.Error($"Peer {words[i]} - another peer has already been specified");
                        continue;
                    }
                    var peerText = words[i];
                    if (!TryPeer(peerText, cx, out var peer))
                        cx.Error($"Invalid peer address {peerText}");
                    else if (peer.AddressFamily != address.AddressFamily)
                        cx.Error($"Peer address {peerText} does not match address family");
                    else
                    {
                        if (prefix != maxPrefix)
                            cx.Error("Cannot specify address prefix when specifying peer address - ignoring");
                        havePeer = true;
                        prefix = maxPrefix;
                        vip = vip with { Peer = peer, PrefixLength = maxPrefix };
                    }
                    break;
                case "home":
                    vip = vip with { Home = true };
                    break;
                case "-nodad":
                    vip = vip with { NoDad = true };
                    break;
                case "mngtmpaddr":
                    vip = vip with { ManageTempAddress = true };
                    break;
                case "noprefixroute":
                    vip = vip with { NoPrefixRoute = true };
                    break;
                case "autojoin":
                    vip = vip with { AutoJoin = true };
                    break;
                case "no_track":
                    vip = vip with { NoTrack = true };
                    break;
                case "preferred_lft":
                    if (!hasValue)
                        return Missing(word);
                    i++;
                    if (words[i] == "forever")
                        vip = vip with { PreferredLifetime = uint.MaxValue };
                    else if (cx.ReadUnsigned(words[i], 0, uint.MaxValue, out var lft))
                        vip = vip with { PreferredLifetime = (uint)lft };
                    else
                        cx.Error($"preferred_lft {words[i]} is invalid");
                    break;
                case "track_group" when isStatic:
                    if (!hasValue)
                        return Missing(word);
                    i++;
                    if (vip.TrackGroup is not null)
                    {
                        cx.Error($"track_group {words[i]} is a duplicate");
                        goto done;
                    }
                    if (cx.TrackGroups.Contains(words[i]))
                        vip = vip with { TrackGroup = words[i] };
                    else
                        cx.Error($"track_group {words[i]} not found");
                    break;
                case "use_vmac" when !isStatic:
                    vip = vip with { UseVmac = true };
                    break;
                default:
                    cx.Error($"Unknown configuration entry '{word}' for ip address - ignoring");
                    break;
            }
            i++;
        }
    done:
        if (haveBroadcast && havePeer)
        {
            cx.Error("Cannot specify broadcast and peer addresses - ignoring broadcast address");
            broadcast = null;
        }
        else if (broadcastMode < 0 && prefix <= 30)
        {
            var basis = BinaryPrimitives.ReadUInt32BigEndian((havePeer ? vip.Peer! : address).GetAddressBytes());
            var hostMask = prefix == 0 ? uint.MaxValue : uint.MaxValue >> prefix;
            var value = broadcastMode == -1 ? basis | hostMask : basis & ~hostMask;
            var bytes = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
            broadcast = new IPAddress(bytes);
        }
        else if (broadcastMode < 0)
            cx.Error($"Address prefix length {prefix} too long for broadcast");
        vip = vip with { Broadcast = broadcast };

        if (isStatic && vip.Device is null)
        {
            if (!cx.InterfaceExists(cx.DefaultInterface))
            {
                cx.Diagnostics.Fatal(cx.Location, $"Static address {written} requires either an interface or default interface must exist");
                return null;
            }
            vip = vip with { Device = cx.DefaultInterface };
        }

        if (v6)
        {
            if (scope is > 0)
            {
                cx.Error($"Cannot specify scope for IPv6 addresses ({written}) - ignoring scope");
                scope = null;
            }
            if (vip.Label is not null)
            {
                cx.Error($"Cannot specify label for IPv6 addresses ({written}) - ignoring label");
                vip = vip with { Label = null };
            }
        }
        if (scope is { } sc)
            vip = vip with { Scope = (AddressScope)sc };

        if (vip.TrackGroup is not null && vip.Device is null)
        {
            cx.Error("Static route cannot have track_group if interface not specified");
            vip = vip with { TrackGroup = null };
        }
        return vip;

        VirtualAddress? Missing(string keyword)
        {
            cx.Error($"No {keyword} parameter specified for {written}");
            return null;
        }
    }

    // The peer is parsed without a prefix (parse_ipaddress(..., false)); its prefix is the host prefix.
    private static bool TryPeer(string text, IpGrammarContext cx, out IPAddress peer) => cx.TryParseAddress(text, false, out peer, out _);
}
