using System.Net;
using System.Net.Sockets;
using Lb.Vrrp.Options;

namespace Lb.Config.IpConfig;

/// <summary>
/// One <c>virtual_routes</c> / <c>static_routes</c> line, read as keepalived 2.2.7's <c>alloc_route</c> (vrrp_iproute.c) reads it,
/// with its messages. Null when keepalived drops the line.
/// </summary>
public static class RouteGrammar
{
    private const byte RtprotKeepalived = 18;

    public static VirtualRoute? Parse(IReadOnlyList<string> words, bool isStatic, IpGrammarContext cx)
    {
        try
        {
            return new Reader(words, isStatic, cx).Route();
        }
        catch (MissingParameterException)
        {
            return null;
        }
    }

    private sealed class Reader(IReadOnlyList<string> words, bool isStatic, IpGrammarContext cx)
    {
        private AddressFamily _family = AddressFamily.Unspecified;
        private int _i;

        private string Slot(int index) => index < words.Count ? words[index] : throw cx.MissingParameter(words, index);

        private string Next() => Slot(++_i);

        private bool SameFamily(AddressFamily family)
        {
            if (_family == AddressFamily.Unspecified)
                _family = family;
            return _family == family;
        }

        public VirtualRoute? Route()
        {
            var r = new VirtualRoute { Text = string.Join(' ', words), Destination = default };
            IPAddress? dst = null;
            int dstPrefix = 0;
            string? dest = null;
            var haveDst = false;
            var dstFamily = AddressFamily.Unspecified;
            (IPAddress? Address, int Prefix)? from = null;
            var metrics = new RouteMetrics();
            var nextHops = new List<RouteNextHop>();
            var doNextHop = false;
            var noTrack = false;
            string? trackGroup = null;
            byte? protocol = null;

            while (_i < words.Count)
            {
                var str = words[_i];
                switch (str)
                {
                    case "inet6" or "inet":
                        {
                            var f = str == "inet6" ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
                            if (!SameFamily(f))
                            {
                                cx.Error(str == "inet6" ? "inet6 specified for IPv4 route" : "inet specified for IPv6 route");
                                return null;
                            }
                            // keepalived 2.2.7 steps over the word after inet/inet6 too ("inet6 default" loses "default").
                            _i++;
                            break;
                        }
                    case "src":
                        {
                            var text = Next();
                            if (!cx.TryParseAddress(text, false, out var a, out _))
                            {
                                cx.Error($"invalid route src address {text}");
                                return null;
                            }
                            if (!SameFamily(a.AddressFamily))
                                return Mix();
                            r = r with { PreferredSource = a };
                            break;
                        }
                    case "as":
                        if (Next() == "to")
                            _i++;
                        cx.Error("\"as to\" for MPLS only - ignoring");
                        break;
                    case "via" or "gw":
                        {
                            if (str == "gw")
                                cx.Error("\"gw\" for routes is deprecated. Please use \"via\"");
                            var text = Next();
                            AddressFamily f;
                            if (text is "inet" or "inet6")
                            {
                                f = text == "inet" ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
                                text = Next();
                            }
                            else
                                f = _family;
                            if (!SameFamily(f))
                                return Mix();
                            if (!cx.TryParseAddress(text, false, out var a, out _))
                            {
                                cx.Error($"invalid route via address {words[_i]}");
                                return null;
                            }
                            if (!SameFamily(a.AddressFamily))
                                return Mix();
                            r = r with { Via = a };
                            break;
                        }
                    case "from":
                        {
                            var text = Next();
                            if (!cx.TryParseRoutePrefix(text, out var a, out var p, out var f))
                            {
                                cx.Error($"invalid route from address {text}");
                                return null;
                            }
                            if (f != AddressFamily.InterNetworkV6)
                            {
                                cx.Error($"route from address only supported with IPv6 ({text})");
                                return null;
                            }
                            if (!SameFamily(f))
                                return Mix();
                            from = (a, p);
                            break;
                        }
                    case "tos" or "dsfield":
                        {
                            var text = Next();
                            if (!cx.Names.TryDsfield(text, out var tos))
                            {
                                cx.Error($"TOS value {text} is invalid");
                                return null;
                            }
                            r = r with { Tos = tos };
                            break;
                        }
                    case "table":
                        {
                            var text = Next();
                            if (!cx.Names.TryTable(text, out var table))
                            {
                                cx.Error($"Routing table {text} not found for route");
                                return null;
                            }
                            r = r with { Table = table };
                            break;
                        }
                    case "protocol":
                        {
                            var text = Next();
                            if (!cx.Names.TryProtocol(text, out var p))
                            {
                                cx.Error($"Protocol {text} not found or invalid for route");
                                return null;
                            }
                            protocol = p;
                            break;
                        }
                    case "scope":
                        {
                            var text = Next();
                            if (!cx.Names.TryScope(text, out var s))
                            {
                                cx.Error($"Scope {text} not found or invalid for route");
                                return null;
                            }
                            r = r with { Scope = s };
                            break;
                        }
                    case "metric" or "priority" or "preference":
                        if (!cx.GetUnsigned(Next(), uint.MaxValue, "Invalid metric {0} specified for route", out var metric))
                            return null;
                        r = r with { Metric = (uint)metric };
                        break;
                    case "dev" or "oif":
                        {
                            var name = Next();
                            if (!cx.InterfaceExists(name))
                            {
                                cx.Error($"WARNING - interface {name} for VROUTE nexthop doesn't exist");
                                return null;
                            }
                            r = r with { Device = name };
                            break;
                        }
                    case "onlink":
                        r = r with { OnLink = true };
                        break;
                    case "encap":
                        {
                            var encap = Encap();
                            if (encap is not null)
                                r = r with { Encap = encap };
                            break;
                        }
                    case "expires":
                        {
                            _i++;
                            if (_family == AddressFamily.InterNetwork)
                            {
                                cx.Error("expires is only valid for IPv6");
                                return null;
                            }
                            _family = AddressFamily.InterNetworkV6;
                            if (!cx.GetUnsigned(Slot(_i), uint.MaxValue, "Invalid expires time {0} specified for route", out var v))
                                return null;
                            r = r with { Expires = (uint)v };
                            break;
                        }
                    case "mtu" or "advmss" or "reordering" or "cwnd" or "ssthresh":
                        {
                            var locked = Lock(str);
                            if (!cx.GetUnsigned(Slot(_i), uint.MaxValue, MetricMessage(str), out var v))
                                return null;
                            metrics = str switch
                            {
                                "mtu" => metrics with { Mtu = (uint)v },
                                "advmss" => metrics with { AdvMss = (uint)v },
                                "reordering" => metrics with { Reordering = (uint)v },
                                "cwnd" => metrics with { Cwnd = (uint)v },
                                _ => metrics with { SsThresh = (uint)v },
                            };
                            metrics = metrics with { Locked = metrics.Locked | locked };
                            break;
                        }
                    case "window" or "initcwnd" or "initrwnd":
                        {
                            if (!cx.GetUnsigned(Next(), uint.MaxValue, MetricMessage(str), out var v))
                                return null;
                            metrics = str switch
                            {
                                "window" => metrics with { Window = (uint)v },
                                "initcwnd" => metrics with { InitCwnd = (uint)v },
                                _ => metrics with { InitRwnd = (uint)v },
                            };
                            break;
                        }
                    case "hoplimit":
                        if (!cx.GetUnsigned(Next(), 255, "Invalid hoplimit {0} specified for route", out var hop))
                            return null;
                        metrics = metrics with { HopLimit = (byte)hop };
                        break;
                    case "rtt" or "rttvar" or "rto_min":
                        {
                            var locked = Lock(str);
                            var text = Slot(_i);
                            var unit = str switch { "rtt" => 8u, "rttvar" => 4u, _ => 1u };
                            if (!TimeRtt(text, unit, out var v))
                            {
                                cx.Error(str == "rto_min" ? $"Invalid rto_min value {text} specified for route" : $"Invalid {str} {text} for route");
                                return null;
                            }
                            metrics = str switch
                            {
                                "rtt" => metrics with { Rtt = v },
                                "rttvar" => metrics with { RttVar = v },
                                _ => metrics with { RtoMin = v },
                            };
                            metrics = metrics with { Locked = metrics.Locked | locked };
                            break;
                        }
                    case "realms":
                        {
                            var text = Next();
                            if (!cx.Names.TryRealms(text, out var realms))
                            {
                                cx.Error($"Invalid realms {text} for route");
                                return null;
                            }
                            if (_family == AddressFamily.InterNetworkV6)
                            {
                                cx.Error("realms are only valid for IPv4");
                                return null;
                            }
                            _family = AddressFamily.InterNetwork;
                            r = r with { Realms = realms };
                            break;
                        }
                    case "features":
                        {
                            var text = Next();
                            if (text == "ecn")
                                metrics = metrics with { Features = metrics.Features | 1 };
                            else
                                cx.Error($"feature {text} not supported");
                            break;
                        }
                    case "quickack" or "fastopen_no_cookie":
                        {
                            if (!cx.GetUnsigned(Next(), 1, $"Invalid {str} value {{0}} specified for route", out var v))
                                return null;
                            metrics = str == "quickack" ? metrics with { QuickAck = v != 0 } : metrics with { FastOpenNoCookie = v != 0 };
                            break;
                        }
                    case "congctl":
                        {
                            _i++;
                            if (Slot(_i) == "lock")
                            {
                                metrics = metrics with { Locked = metrics.Locked | (1u << 16) };
                                _i++;
                            }
                            metrics = metrics with { CongestionControl = Slot(_i) };
                            break;
                        }
                    case "pref":
                        {
                            _i++;
                            if (_family == AddressFamily.InterNetwork)
                            {
                                cx.Error("pref is only valid for IPv6");
                                return null;
                            }
                            _family = AddressFamily.InterNetworkV6;
                            var text = Slot(_i);
                            byte pref;
                            if (text == "low")
                                pref = 3;
                            else if (text == "medium")
                                pref = 0;
                            else if (text == "high")
                                pref = 1;
                            else if (cx.GetUnsigned(text, 255, "Invalid pref value {0} specified for route", out var v))
                                pref = (byte)v;
                            else
                                return null;
                            r = r with { Preference = pref };
                            break;
                        }
                    case "ttl-propagate":
                        {
                            var text = Next();
                            if (text == "enabled")
                                r = r with { TtlPropagate = true };
                            else if (text == "disabled")
                                r = r with { TtlPropagate = false };
                            else
                                cx.Error($"ttl-propagate value {text} not recognised");
                            break;
                        }
                    case "add":
                        r = r with { InsertMode = RouteInsertMode.Add };
                        break;
                    case "prepend":
                        r = r with { InsertMode = RouteInsertMode.Prepend };
                        break;
                    case "append":
                        r = r with { InsertMode = RouteInsertMode.Append };
                        break;
                    case "or":
                        {
                            cx.Error("\"or\" for routes is deprecated. Please use \"nexthop\"");
                            if (nextHops.Count > 0)
                            {
                                cx.Error("\"or\" route already specified - ignoring subsequent");
                                _i += 2;
                                continue;
                            }
                            nextHops.Add(new RouteNextHop { Via = r.Via });
                            r = r with { Via = null };
                            var text = Next();
                            if (!cx.TryParseAddress(text, false, out var a, out _))
                            {
                                cx.Error($"Invalid \"or\" address {text}");
                                return null;
                            }
                            nextHops.Add(new RouteNextHop { Via = a });
                            break;
                        }
                    case "nexthop":
                        if (nextHops.Count > 0)
                            cx.Error("Cannot specify nexthops with \"or\" route");
                        else
                            doNextHop = true;
                        goto endOfOptions;
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
                    case "vrf":
                        {
                            // keepalived takes the table of an existing VRF interface; Lb checks that it exists, issue 13 reads its table.
                            var name = Next();
                            if (cx.Interfaces is { } known && !known.Contains(name))
                            {
                                cx.Error($"VRF {name} not found for route");
                                return null;
                            }
                            r = r with { Vrf = name };
                            break;
                        }
                    default:
                        {
                            if (str == "to")
                                _i++;
                            if (RtNames.TryRouteType(str, out var type))
                            {
                                r = r with { Type = (RouteType)type };
                                _i++;
                            }
                            dest = Slot(_i);
                            if (!cx.TryParseRoutePrefix(dest, out dst, out dstPrefix, out dstFamily))
                            {
                                cx.Error($"unknown route keyword {dest}");
                                return null;
                            }
                            haveDst = true;
                            // As keepalived: "default" has no family, so after inet/inet6 or an address it is a mix.
                            if (!SameFamily(dstFamily))
                            {
                                cx.Error($"Cannot mix IPv4 and IPv6 addresses for route ({dest})");
                                return null;
                            }
                            break;
                        }
                }
                _i++;
            }
        endOfOptions:

            if (doNextHop)
                NextHops(nextHops); // keepalived keeps the route when a nexthop is bad: it drops that nexthop and the rest
            else if (_i < words.Count)
            {
                cx.Error($"Route has trailing nonsense - {words[_i]}");
                return null;
            }

            if (!haveDst)
            {
                cx.Error("Route must have a destination");
                return null;
            }

            if (!noTrack)
            {
                if (protocol is { } p && p != RtprotKeepalived)
                    cx.Error($"Route cannot be tracked if protocol is not RTPROT_KEEPALIVED({RtprotKeepalived}), resetting protocol");
                protocol = RtprotKeepalived;
                if (r.Device is null)
                {
                    cx.Error($"Warning - cannot track route {dest} with no interface specified, not tracking");
                    noTrack = true;
                }
            }

            if (trackGroup is not null && r.Device is null)
            {
                cx.Error("Static route cannot have track group if no oif specified");
                trackGroup = null;
            }

            var family = _family == AddressFamily.Unspecified ? AddressFamily.InterNetwork : _family;
            return r with
            {
                Family = family,
                Destination = IpGrammarContext.Prefix(dst, dstPrefix, family),
                From = from is { } source ? IpGrammarContext.Prefix(source.Address, source.Prefix, family) : null,
                Metrics = metrics,
                NextHops = nextHops,
                NoTrack = noTrack,
                TrackGroup = trackGroup,
                Protocol = protocol,
            };
        }

        private VirtualRoute? Mix()
        {
            cx.Error("Cannot mix IPv4 and IPv6 addresses for route");
            return null;
        }

        private static string MetricMessage(string keyword) => keyword switch
        {
            "mtu" => "Invalid MTU {0} specified for route",
            "advmss" => "Invalid advmss {0} specified for route",
            "window" => "Invalid window value {0} specified for route",
            _ => $"Invalid {keyword} value {{0}} specified for route",
        };

        // "KEYWORD [lock] VALUE": leaves _i on VALUE, returns the RTAX lock bit.
        private uint Lock(string keyword)
        {
            if (Next() != "lock")
                return 0;
            _i++;
            return 1u << keyword switch
            {
                "mtu" => 2,
                "rtt" => 4,
                "rttvar" => 5,
                "ssthresh" => 6,
                "cwnd" => 7,
                "advmss" => 8,
                "reordering" => 9,
                _ => 13, // rto_min
            };
        }

        // get_time_rtt: "N" (raw units), "Ns"/"Nsec"/"Nsecs" or "Nms"; 0.2 s .. 120 s once converted.
        private bool TimeRtt(string text, uint unitMultiplier, out uint value)
        {
            value = 0;
            var s = text.TrimStart(' ', '\t');
            var raw = true;
            var shift = 0;
            var p = s.IndexOfAny(['s', 'S']);
            if (p >= 0)
            {
                var suffix = s[p..].ToLowerInvariant();
                if (suffix is not ("s" or "sec" or "secs"))
                    return false;
                raw = false;
                if (p > 0 && char.ToLowerInvariant(s[p - 1]) == 'm')
                    p--;
                else
                    shift = 3;
                if (p == 0)
                    return false;
                s = s[..p];
            }
            if (s.AsSpan().IndexOfAny("eE") >= 0)
                return false;
            if (!DecimalUnsigned(s, shift, 120_000UL * unitMultiplier, out var res))
                return false;
            if (!raw)
                res *= unitMultiplier;
            res = Math.Clamp(res, 200UL * unitMultiplier, 120_000UL * unitMultiplier);
            value = (uint)res;
            return true;
        }

        // read_decimal_unsigned(str, 0..max, shift): value * 10^shift, keepalived's messages on failure.
        private bool DecimalUnsigned(string text, int shift, ulong max, out ulong value)
        {
            value = 0;
            if (text.StartsWith('-'))
            {
                cx.Error($"negative number '{text}'");
                return false;
            }
            var dot = text.IndexOf('.', StringComparison.Ordinal);
            var digits = dot >= 0 ? text.Length - dot - 1 : 0;
            var roundUp = false;
            if (digits > shift)
            {
                cx.Error($"number '{text}' has too many decimal places");
                roundUp = text[dot + shift + 1] >= '5';
                digits = shift;
            }
            var whole = dot >= 0 ? text[..dot] + text.Substring(dot + 1, digits) : text;
            whole += new string('0', shift - digits);
            var ok = CNumber.TryStrtoul(whole, 10, out value, out var end);
            if (roundUp)
                value++;
            if (end != whole.Length && !(end == 0 && whole.Length == 0))
            {
                cx.Error($"invalid number '{text}'");
                return false;
            }
            if (!ok)
            {
                cx.Error($"number '{text}' outside unsigned decimal range");
                return false;
            }
            if (value > max)
            {
                // printf("%lu.%*.*lu") of keepalived: no fraction digits at all when shift is 0.
                var scale = (ulong)Math.Pow(10, shift);
                string Fixed(ulong v) => shift == 0 ? $"{v}." : $"{v / scale}.{(v % scale).ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(shift, '0')}";
                cx.Error($"number '{text}' outside range [{Fixed(0)}, {Fixed(max)}]");
                return false;
            }
            return true;
        }

        private RouteEncap? Encap()
        {
            if (words.Count <= ++_i)
            {
                cx.Error("Missing encap type");
                return null;
            }
            var type = words[_i++];
            RouteEncap? encap;
            switch (type)
            {
                case "ip" or "ip6":
                    encap = EncapIp(type == "ip6");
                    break;
                case "mpls":
                    {
                        if (_i >= words.Count)
                        {
                            cx.Error("missing address for MPLS encapsulation");
                            encap = null;
                            break;
                        }
                        var text = words[_i++];
                        encap = MplsLabels(text) ? new RouteEncap { Type = "mpls", Text = text } : null;
                        if (encap is null)
                            cx.Error($"invalid mpls address {text} for encapsulation");
                        break;
                    }
                case "ila":
                    {
                        if (_i >= words.Count)
                        {
                            cx.Error("missing locator for ILA encapsulation");
                            encap = null;
                            break;
                        }
                        var text = words[_i++];
                        encap = Locator(text) ? new RouteEncap { Type = "ila", Text = text } : null;
                        if (encap is null)
                            cx.Error($"invalid locator {text} for ila encapsulation");
                        break;
                    }
                default:
                    cx.Error($"Unknown encap type - {type}");
                    return null;
            }
            _i--;
            return encap;
        }

        private RouteEncap? EncapIp(bool v6)
        {
            var e = new RouteEncap { Type = v6 ? "ip6" : "ip" };
            var name = v6 ? "ip6" : "ip";
            while (_i + 1 < words.Count)
            {
                var str = words[_i];
                var value = words[_i + 1];
                switch (str)
                {
                    case "id":
                        if (!CNumber.ReadUnsigned(value, 0, ulong.MaxValue, cx.Diagnostics, cx.Location, out var id, 10, ulong.MaxValue))
                        {
                            cx.Error(v6 ? $"id {value} value invalid for IPv6 encapsulation" : $"encap id {value} value is invalid");
                            return Fail();
                        }
                        e = e with { Id = id };
                        break;
                    case "dst" or "src":
                        {
                            if (!cx.TryParseAddress(value, false, out var a, out _))
                            {
                                cx.Error($"Invalid encap {name} {str} {value}");
                                return Fail();
                            }
                            if ((a.AddressFamily == AddressFamily.InterNetworkV6) != v6)
                            {
                                cx.Error(v6 ? $"IPv4 address {value} not valid for ip6 encapsulation" : $"IPv6 address {value} not valid for ip encapsulation");
                                return Fail();
                            }
                            e = str == "dst" ? e with { Destination = a } : e with { Source = a };
                            break;
                        }
                    case "tos" when !v6:
                    case "tc" when v6:
                        if (!cx.Names.TryDsfield(value, out var tos))
                        {
                            cx.Error(v6 ? $"tc value {str} is invalid for ip6 encapsulation" : $"dsfield {value} not valid for ip encapsulation");
                            return Fail();
                        }
                        e = e with { Tos = tos };
                        break;
                    case "ttl" when !v6:
                    case "hoplimit" when v6:
                        if (!cx.GetUnsigned(value, 255, v6 ? "Invalid hoplimit {0} specified for ip6 encapsulation" : "ttl {0} is not valid for ip encapsulation", out var ttl))
                            return Fail();
                        e = e with { Ttl = (byte)ttl };
                        break;
                    case "flags":
                        if (!cx.GetUnsigned(value, ushort.MaxValue, v6 ? "flags {0} is not valid for ip6 encapsulation" : "flags {0} is not valid for ip encapsulation", out var flags))
                            return Fail();
                        e = e with { Flags = (ushort)flags };
                        break;
                    default:
                        goto end;
                }
                _i += 2;
            }
        end:
            // keepalived 2.2.7 tests the IPv4 member for ip6 too; the union makes them the same field.
            if (e.Destination is null && e.Id is null)
            {
                cx.Error(v6 ? "address or id missing for ip6 encapsulation" : "address or id missing for ip encapsulation");
                return null;
            }
            return e;

            RouteEncap? Fail() => null;
        }

        private static bool MplsLabels(string text)
        {
            foreach (var part in text.Split('/'))
            {
                if (!CNumber.TryStrtoul(part, 0, out var v, out var end) || end != part.Length || end == 0 || v >= 1 << 20)
                    return false;
            }
            return true;
        }

        private static bool Locator(string text)
        {
            var parts = text.TrimStart(' ', '\t').Split(':');
            return parts.Length == 4 && parts.All(p => p.Length is > 0 and <= 4 && p.All(Uri.IsHexDigit));
        }

        private void NextHops(List<RouteNextHop> hops)
        {
            while (_i < words.Count && words[_i] == "nexthop")
            {
                _i++;
                var hop = new RouteNextHop();
                while (_i < words.Count)
                {
                    var str = words[_i];
                    switch (str)
                    {
                        case "via":
                            {
                                var text = Next();
                                var f = AddressFamily.Unspecified;
                                if (text is "inet" or "inet6")
                                {
                                    f = text == "inet" ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
                                    text = Next();
                                }
                                if (f != AddressFamily.Unspecified && !SameFamily(f))
                                {
                                    cx.Error("IPv4/6 mismatch for nexthop");
                                    return;
                                }
                                if (!cx.TryParseAddress(text, false, out var a, out _))
                                {
                                    cx.Error($"invalid nexthop address {text}");
                                    return;
                                }
                                if (!SameFamily(a.AddressFamily))
                                {
                                    cx.Error("Address family mismatch for next hop");
                                    return;
                                }
                                hop = hop with { Via = a };
                                break;
                            }
                        case "dev":
                            {
                                var name = Next();
                                if (!cx.InterfaceExists(name))
                                {
                                    cx.Error($"WARNING - interface {name} for VROUTE nexthop doesn't exist");
                                    return;
                                }
                                hop = hop with { Device = name };
                                break;
                            }
                        case "weight":
                            {
                                if (!cx.GetUnsigned(Next(), 256, "Invalid weight {0} specified for route", out var w))
                                    return;
                                if (w == 0)
                                {
                                    cx.Error("Invalid weight 0 specified for route");
                                    return;
                                }
                                hop = hop with { Weight = (int)w };
                                break;
                            }
                        case "onlink":
                            hop = hop with { OnLink = true };
                            break;
                        case "encap":
                            {
                                var encap = Encap();
                                if (encap is not null)
                                    hop = hop with { Encap = encap };
                                break;
                            }
                        case "realms":
                            {
                                var text = Next();
                                if (!cx.Names.TryRealms(text, out var realms))
                                {
                                    cx.Error($"Invalid realms {text} for route");
                                    return;
                                }
                                if (!SameFamily(AddressFamily.InterNetwork))
                                {
                                    cx.Error("realms are only supported for IPv4");
                                    return;
                                }
                                hop = hop with { Realms = realms };
                                break;
                            }
                        case "as":
                            if (Next() == "to")
                                _i++;
                            cx.Error("'as [to]' (nat) not supported");
                            return;
                        default:
                            goto endOfHop;
                    }
                    _i++;
                }
            endOfHop:
                hops.Add(hop);
            }
            if (_i < words.Count)
                cx.Error($"Route has trailing nonsense after nexthops - {words[_i]}");
        }
    }
}
