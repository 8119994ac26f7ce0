using Lb.TestSupport;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Lb.Netlink.Ipvs;

namespace Lb.Netlink.Tests.Ipvs;

/// <summary>
/// The real <c>ipvsadm</c> as an independent oracle: its <c>-Sn</c> rules are parsed token by token
/// into canonical lines, and Lb's own dump is rendered into the same canonical lines, so the two can
/// be compared without trusting Lb's formatter.
/// </summary>
internal static class IpvsadmOracle
{
    public static string Ipvsadm(params string[] args) => ProcessRunner.Check("ipvsadm", args);

    /// <summary>Canonical lines of <c>ipvsadm -Sn</c>, sorted.</summary>
    public static List<string> Rules()
    {
        // ipvsadm -S does not print thresholds: they come from "ipvsadm -Ln --thresholds".
        var thresholds = Thresholds(Ipvsadm("-Ln", "--thresholds"));
        var lines = new List<string>();
        foreach (var raw in Ipvsadm("-Sn").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var line = ParseRule(raw);
            var arrow = line.IndexOf(" -> ", StringComparison.Ordinal);
            if (arrow > 0)
            {
                var dest = line[(arrow + 4)..].Split(' ')[0];
                var id = line[..arrow] + " -> " + dest;
                if (!thresholds.TryGetValue(id, out var t))
                    throw new FormatException($"ipvsadm --thresholds does not list {id}");
                line = line.Replace(" x=0 y=0", $" x={t.Upper} y={t.Lower}", StringComparison.Ordinal);
            }
            lines.Add(line);
        }
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    /// <summary>Parses "ipvsadm -Ln --thresholds": service lines, then "  -> ADDR:PORT UTHRESH LTHRESH ACTIVE INACT".</summary>
    internal static Dictionary<string, (string Upper, string Lower)> Thresholds(string text)
    {
        var map = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        string? service = null;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var t = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (line.StartsWith("  -> ", StringComparison.Ordinal))
            {
                if (service is null || t[1] == "RemoteAddress:Port")
                    continue;
                map[$"{service} -> {Endpoint(t[1])}"] = (t[2], t[3]);
            }
            else if (t[0] is "TCP" or "UDP" or "SCTP")
            {
                service = $"{t[0]} {Endpoint(t[1])}";
            }
            else if (t[0] == "FWM")
            {
                service = $"FWM {t[1]}{(t.Length > 2 && t[2] == "IPv6" ? " v6" : "")}";
            }
        }
        return map;
    }

    internal static string ParseRule(string line)
    {
        var t = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var i = 1;
        string Next() => t[i++];
        bool v6 = t.Contains("-6");
        string service = Next() switch
        {
            "-t" => "TCP " + Endpoint(Next()),
            "-u" => "UDP " + Endpoint(Next()),
            "--sctp-service" => "SCTP " + Endpoint(Next()),
            "-f" => $"FWM {Next()}{(v6 ? " v6" : "")}",
            var other => throw new FormatException($"unexpected ipvsadm token {other} in '{line}'"),
        };
        if (t[0] == "-A")
        {
            string sched = "", persist = "-", mask = "-", pe = "-", flags = "-";
            var ops = false;
            while (i < t.Length)
            {
                switch (Next())
                {
                    case "-s": sched = Next(); break;
                    case "-p": persist = Next(); break;
                    case "-M": mask = Next(); break;
                    case "--pe": pe = Next(); break;
                    case "-b": flags = Next(); break;
                    case "-o": ops = true; break;
                    case "-6": break;
                    case var other: throw new FormatException($"unexpected ipvsadm service option {other} in '{line}'");
                }
            }
            return $"{service} s={sched} p={persist} M={NormalizeMask(mask, service)} pe={pe} b={flags} o={ops}";
        }
        if (t[0] == "-a")
        {
            string dest = "", fwd = "", weight = "", upper = "0", lower = "0", tun = "";
            string tunType = "ipip", tunPort = "0", tunCsum = "nocsum";
            while (i < t.Length)
            {
                switch (Next())
                {
                    case "-r": dest = Endpoint(Next()); break;
                    case "-g": fwd = "Route"; break;
                    case "-m": fwd = "Masq"; break;
                    case "-i": fwd = "Tunnel"; break;
                    case "-w": weight = Next(); break;
                    case "-x": upper = Next(); break;
                    case "-y": lower = Next(); break;
                    case "--tun-type": tunType = Next(); break;
                    case "--tun-port": tunPort = Next(); break;
                    case "--tun-nocsum": tunCsum = "nocsum"; break;
                    case "--tun-csum": tunCsum = "csum"; break;
                    case "--tun-remcsum": tunCsum = "remcsum"; break;
                    case "-6": break;
                    case var other: throw new FormatException($"unexpected ipvsadm destination option {other} in '{line}'");
                }
            }
            if (fwd == "Tunnel")
                tun = tunType == "ipip" ? " tun=ipip" : $" tun={tunType}:{tunPort}:{tunCsum}";
            return $"{service} -> {dest} {fwd} w={weight} x={upper} y={lower}{tun}";
        }
        throw new FormatException($"unexpected ipvsadm rule '{line}'");
    }

    /// <summary>The same canonical lines from Lb's own dump.</summary>
    public static List<string> Canonical(IpvsTableSnapshot table)
    {
        var lines = new List<string>();
        foreach (var e in table.Services)
        {
            var s = e.Service;
            var service = s.Key.IsFirewallMark
                ? $"FWM {s.Key.FirewallMark}{(s.Key.Family == AddressFamily.InterNetworkV6 ? " v6" : "")}"
                : $"{s.Key.ToString().Split(' ')[0]} {Endpoint(s.Key.Address!, s.Key.Port)}";
            var persistent = (s.Flags & IpvsServiceFlags.Persistent) != 0;
            var full = s.Key.Family == AddressFamily.InterNetworkV6 ? 128 : 32;
            var flags = IpvsTableFormatter.SchedulerFlagsText(s);
            lines.Add($"{service} s={s.Scheduler} p={(persistent ? s.PersistenceTimeout.ToString(CultureInfo.InvariantCulture) : "-")} " +
                      $"M={(persistent && s.EffectiveNetmask != full ? s.EffectiveNetmask.ToString(CultureInfo.InvariantCulture) : "-")} " +
                      $"pe={s.PersistenceEngine ?? "-"} b={(flags.Length > 0 ? flags : "-")} o={(s.Flags & IpvsServiceFlags.OnePacket) != 0}");
            foreach (var ds in e.Destinations)
            {
                var d = ds.Destination;
                var fwd = d.Forwarding switch
                {
                    IpvsForwardingMethod.Route => "Route",
                    IpvsForwardingMethod.Masquerade or IpvsForwardingMethod.Local => "Masq",
                    IpvsForwardingMethod.Tunnel => "Tunnel",
                    _ => d.Forwarding.ToString(),
                };
                var tun = d.Forwarding != IpvsForwardingMethod.Tunnel ? ""
                    : d.TunnelType == IpvsTunnelType.Ipip ? " tun=ipip"
                    : $" tun={d.TunnelType.ToString().ToLowerInvariant()}:{d.TunnelPort}:{CsumName(d.TunnelFlags)}";
                lines.Add($"{service} -> {Endpoint(d.Address, d.Port)} {fwd} w={d.Weight} x={d.UpperThreshold} y={d.LowerThreshold}{tun}");
            }
        }
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static string CsumName(IpvsTunnelFlags f) =>
        (f & IpvsTunnelFlags.RemoteChecksum) != 0 ? "remcsum" : (f & IpvsTunnelFlags.Checksum) != 0 ? "csum" : "nocsum";

    private static string NormalizeMask(string mask, string service)
    {
        if (mask == "-")
            return "-";
        if (mask.Contains('.', StringComparison.Ordinal) && IPAddress.TryParse(mask, out var m) && m.AddressFamily == AddressFamily.InterNetwork)
        {
            var bits = 0;
            foreach (var b in m.GetAddressBytes())
                bits += System.Numerics.BitOperations.PopCount(b);
            return bits.ToString(CultureInfo.InvariantCulture);
        }
        _ = service;
        return mask;
    }

    private static string Endpoint(string text)
    {
        // "10.0.0.1:80" or "[2001:db8::1]:80" → canonical via IPAddress.
        var colon = text.LastIndexOf(':');
        var host = text[..colon].Trim('[', ']');
        return Endpoint(IPAddress.Parse(host), ushort.Parse(text[(colon + 1)..], CultureInfo.InvariantCulture));
    }

    private static string Endpoint(IPAddress a, ushort port) =>
        a.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{a}]:{port}" : $"{a}:{port}";
}
