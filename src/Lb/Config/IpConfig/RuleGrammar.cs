using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Lb.Vrrp.Options;

namespace Lb.Config.IpConfig;

/// <summary>
/// One <c>virtual_rules</c> / <c>static_rules</c> line, read as keepalived 2.2.7's <c>alloc_rule</c> (vrrp_iprule.c) reads it,
/// with its messages. Null when keepalived drops the line. A rule without a priority gets the next of keepalived's
/// per-family counter (16384 downwards), with keepalived's error.
/// </summary>
public static class RuleGrammar
{
    private const byte RtprotKeepalived = 18;

    public static VirtualRule? Parse(IReadOnlyList<string> words, bool isStatic, IpGrammarContext cx)
    {
        try
        {
            return new Reader(words, isStatic, cx).Rule();
        }
        catch (MissingParameterException)
        {
            return null;
        }
    }

    private sealed class Reader(IReadOnlyList<string> words, bool isStatic, IpGrammarContext cx)
    {
        private int _i;

        private string Next() => ++_i < words.Count ? words[_i] : throw cx.MissingParameter(words, _i);

        public VirtualRule? Rule()
        {
            var family = AddressFamily.Unspecified;
            RuleAction? action = null;
            uint? table = null;
            uint? gotoTarget = null;
            uint? priority = null;
            var tableOption = false;
            var l3mdev = false;
            var noTrack = false;
            byte? protocol = null;
            string? trackGroup = null;
            (IPAddress? Address, int Prefix)? from = null, to = null;
            var rule = new VirtualRule { Text = string.Join(' ', words), Action = RuleAction.Nop, Priority = 0 };

            while (_i < words.Count)
            {
                var str = words[_i];
                switch (str)
                {
                    case "inet6" or "inet":
                        {
                            var f = str == "inet6" ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
                            if (family == AddressFamily.Unspecified)
                                family = f;
                            else if (family != f)
                            {
                                cx.Error(str == "inet6" ? "inet6 specified for IPv4 rule" : "inet specified for IPv6 rule");
                                return null;
                            }
                            // keepalived 2.2.7 steps over the word after inet/inet6 too ("inet6 default" loses "default").
                            _i++;
                            break;
                        }
                    case "from" or "to":
                        {
                            var text = Next();
                            if (!cx.TryParseRoutePrefix(text, out var a, out var p, out var f))
                            {
                                cx.Error($"Invalid rule {str} address {text}");
                                return null;
                            }
                            if (family == AddressFamily.Unspecified)
                                family = f;
                            else if (f != family)
                            {
                                cx.Error("rule specification has mixed IPv4 and IPv6");
                                return null;
                            }
                            if (str == "from")
                                from = (a, p);
                            else
                                to = (a, p);
                            break;
                        }
                    case "table" or "lookup":
                        {
                            var text = Next();
                            if (!cx.Names.TryTable(text, out var t))
                            {
                                cx.Error($"Routing table {text} not found for rule");
                                return null;
                            }
                            if (t == 0)
                            {
                                cx.Error("Table 0 is not valid");
                                return null;
                            }
                            table = t;
                            if (action is not null)
                            {
                                cx.Error("Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable for rule");
                                return null;
                            }
                            action = RuleAction.ToTable;
                            break;
                        }
                    case "not":
                        rule = rule with { Invert = true };
                        break;
                    case "preference" or "order" or "priority":
                        if (!cx.ReadUnsigned(Next(), 0, uint.MaxValue, out var pref, numberBase: 0))
                        {
                            cx.Error($"Invalid rule preference {str} specified");
                            return null;
                        }
                        priority = (uint)pref;
                        break;
                    case "tos" or "dsfield":
                        {
                            var text = Next();
                            if (!cx.Names.TryDsfield(text, out var tos))
                            {
                                cx.Error($"TOS value {text} is invalid");
                                return null;
                            }
                            rule = rule with { Tos = tos };
                            break;
                        }
                    case "fwmark":
                        {
                            var text = Next();
                            if (!FwMark(text, out var mark, out var mask))
                            {
                                cx.Error($"Invalid rule fwmark {text.TrimStart(' ', '\t')} specified");
                                return null;
                            }
                            rule = rule with { FwMark = mark, FwMask = mask };
                            break;
                        }
                    case "realms":
                        {
                            var text = Next();
                            if (!cx.Names.TryRealms(text, out var realms))
                            {
                                cx.Error($"invalid realms {text} for rule");
                                return null;
                            }
                            rule = rule with { Realms = realms };
                            tableOption = true;
                            if (family == AddressFamily.Unspecified)
                                family = AddressFamily.InterNetwork;
                            else if (family != AddressFamily.InterNetwork)
                            {
                                cx.Error("realms is only valid for IPv4");
                                return null;
                            }
                            break;
                        }
                    case "suppress_prefixlength" or "sup_pl":
                        if (!cx.ReadUnsigned(Next(), 0, int.MaxValue, out var spl))
                        {
                            cx.Error($"Invalid suppress_prefixlength {str} specified");
                            return null;
                        }
                        rule = rule with { SuppressPrefixLength = (int)spl };
                        tableOption = true;
                        break;
                    case "suppress_ifgroup" or "sup_group":
                        {
                            var text = Next();
                            if (!cx.Names.TryGroup(text, out var group))
                            {
                                cx.Error($"suppress_group {text} is invalid");
                                return null;
                            }
                            rule = rule with { SuppressGroup = group };
                            tableOption = true;
                            break;
                        }
                    case "dev" or "iif" or "oif":
                        {
                            var name = Next();
                            if (!cx.InterfaceExists(name))
                            {
                                cx.Error($"WARNING - interface {name} for rule doesn't exist");
                                return null;
                            }
                            rule = str == "oif" ? rule with { OutputInterface = name } : rule with { InputInterface = name };
                            break;
                        }
                    case "tunnel-id":
                        if (!CNumber.ReadUnsigned(Next(), 0, ulong.MaxValue, cx.Diagnostics, cx.Location, out var tunnel, 10, ulong.MaxValue))
                        {
                            cx.Error($"Invalid tunnel-id {str} specified");
                            return null;
                        }
                        rule = rule with { TunnelId = tunnel };
                        break;
                    case "uidrange":
                        {
                            if (ScanRange(Next(), uint.MaxValue) is not (2, var first, var last))
                            {
                                cx.Error($"Invalid uidrange {str} specified");
                                return null;
                            }
                            rule = rule with { UidRange = new ValueRange(first, last) };
                            break;
                        }
                    case "l3mdev":
                        l3mdev = true;
                        if (action is not null)
                        {
                            cx.Error("Cannot specify l3mdev with other action");
                            return null;
                        }
                        action = RuleAction.ToTable;
                        break;
                    case "protocol":
                        {
                            var text = Next();
                            if (!cx.ReadUnsigned(text, 0, 255, out var p))
                                cx.Error($"Invalid protocol {text}");
                            else
                                protocol = (byte)p;
                            break;
                        }
                    case "ipproto":
                        {
                            var text = Next();
                            if (cx.Names.TryIpProtocol(text, out var p))
                                rule = rule with { IpProtocol = p };
                            else
                                cx.Error($"Invalid ipproto {text}");
                            break;
                        }
                    case "sport" or "dport":
                        {
                            // keepalived 2.2.7 reports a single port ("sport 80") as invalid too: it tests the sscanf count after defaulting the end.
                            var text = Next();
                            if (ScanRange(text, ushort.MaxValue) is not (2, var first, var last))
                                cx.Error($"invalid {str} range {text}");
                            else
                                rule = str == "sport" ? rule with { SourcePorts = new ValueRange(first, last) } : rule with { DestinationPorts = new ValueRange(first, last) };
                            break;
                        }
                    case "no_track":
                        noTrack = true;
                        break;
                    case "track_group" when isStatic:
                        {
                            var name = Next();
                            if (trackGroup is not null)
                            {
                                cx.Error($"track_group {name} is a duplicate");
                                goto endOfOptions;
                            }
                            if (cx.TrackGroups.Contains(name))
                                trackGroup = name;
                            else
                                cx.Error($"track_group {name} not found");
                            break;
                        }
                    default:
                        {
                            RuleAction a;
                            if (str == "type")
                                str = Next();
                            if (str == "goto")
                            {
                                if (!cx.ReadUnsigned(Next(), 0, uint.MaxValue, out var target))
                                {
                                    cx.Error($"Invalid target {str} specified");
                                    return null;
                                }
                                gotoTarget = (uint)target;
                                a = RuleAction.Goto;
                            }
                            else if (str == "nop")
                                a = RuleAction.Nop;
                            else if (RtNames.TryRouteType(str, out var type))
                            {
                                if (type is not ((byte)RuleAction.Blackhole or (byte)RuleAction.Unreachable or (byte)RuleAction.Prohibit))
                                {
                                    cx.Error($"Invalid rule action {str}");
                                    return null;
                                }
                                a = (RuleAction)type;
                            }
                            else
                            {
                                cx.Error($"Unknown rule option {str}");
                                return null;
                            }
                            if (action is not null)
                            {
                                cx.Error("Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev for rule");
                                return null;
                            }
                            action = a;
                            break;
                        }
                }
                _i++;
            }
        endOfOptions:

            if (action == RuleAction.Goto)
            {
                if (priority is { } p)
                {
                    if (p >= gotoTarget)
                    {
                        cx.Error($"Invalid rule - preference {p} >= goto target {gotoTarget}");
                        return null;
                    }
                }
                else
                {
                    cx.Error($"Invalid rule - goto target {gotoTarget} specified without preference");
                    return null;
                }
            }
            if (action is null)
            {
                cx.Error("No action specified for rule - ignoring");
                return null;
            }
            if (action != RuleAction.ToTable && tableOption)
            {
                cx.Error("suppressor/realm specified for non table action - skipping");
                return null;
            }
            if (table is not null && l3mdev)
            {
                cx.Error("table cannot be specified for l3mdev rules");
                return null;
            }
            if (!noTrack)
            {
                if (protocol is { } proto && proto != RtprotKeepalived)
                    cx.Error($"Rule cannot be tracked if protocol is not RTPROT_KEEPALIVED({RtprotKeepalived}), resetting protocol");
                protocol = RtprotKeepalived;
            }
            if (trackGroup is not null && rule.InputInterface is null)
            {
                cx.Error("Static rule cannot have track_group if dev/iif not specified");
                trackGroup = null;
            }

            if (family == AddressFamily.Unspecified)
                family = AddressFamily.InterNetwork;
            var assigned = priority is null;
            if (priority is null)
            {
                if (family == AddressFamily.InterNetwork)
                    priority = cx.NextRulePriority4--;
                else
                    priority = cx.NextRulePriority6--;
                cx.Error(string.Create(CultureInfo.InvariantCulture, $"Rule has no preference specified - setting to {priority}. This is probably not what you want."));
            }

            return rule with
            {
                Family = family,
                Action = action.Value,
                Table = table,
                GotoTarget = gotoTarget,
                Priority = priority.Value,
                PriorityAssigned = assigned,
                From = from is { } fr ? IpGrammarContext.Prefix(fr.Address, fr.Prefix, family) : null,
                To = to is { } t2 ? IpGrammarContext.Prefix(t2.Address, t2.Prefix, family) : null,
                L3mdev = l3mdev,
                Protocol = protocol,
                NoTrack = noTrack,
                TrackGroup = trackGroup,
            };
        }

        // "M[/MASK]", each as strtoul(base 0) within 32 bits; no sign, nothing after.
        private static bool FwMark(string text, out uint? mark, out uint? mask)
        {
            mark = null;
            mask = null;
            var s = text.TrimStart(' ', '\t', '\n', '\r', '\f', '\v');
            if (s.StartsWith('-'))
                return false;
            if (!CNumber.TryStrtoul(s, 0, out var value, out var end) || value > uint.MaxValue)
                return false;
            ulong maskValue = 0;
            var haveMask = false;
            if (end < s.Length && s[end] == '/')
            {
                var rest = s[(end + 1)..];
                if (rest.Length > 0 && (char.IsWhiteSpace(rest[0]) || rest[0] == '-'))
                    return false;
                if (!CNumber.TryStrtoul(rest, 0, out maskValue, out var end2) || maskValue > uint.MaxValue)
                    return false;
                haveMask = true;
                s = rest;
                end = end2;
            }
            if (end < s.Length)
                return false;
            mark = (uint)value;
            mask = haveMask ? (uint)maskValue : null;
            return true;
        }

        // sscanf("%u-%u"): how many numbers matched (a number may be signed, as for scanf), and their values.
        private static (int Count, uint First, uint Last) ScanRange(string text, uint max)
        {
            var n = ScanNumber(text, 0, max, out var first, out var next);
            if (!n)
                return (0, 0, 0);
            if (next >= text.Length || text[next] != '-')
                return (1, first, first);
            return ScanNumber(text, next + 1, max, out var last, out _) ? (2, first, last) : (1, first, first);
        }

        private static bool ScanNumber(string text, int start, uint max, out uint value, out int next)
        {
            var i = start;
            while (i < text.Length && char.IsWhiteSpace(text[i]))
                i++;
            var sub = text[i..];
            CNumber.TryStrtoul(sub, 10, out var v, out var end);
            value = unchecked((uint)v) & max;
            next = i + end;
            return end > 0;
        }
    }
}
