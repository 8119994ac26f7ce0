using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Lb.Config.Schema;

/// <summary>
/// Checks for argument shapes the schema's type language cannot express. Each returns the (possibly normalised) arguments,
/// or a default array to drop the statement, and reports in keepalived's words.
/// </summary>
public static class ArgumentChecks
{
    public static ImmutableArray<string> Run(string check, ImmutableArray<string> args, SourceLocation location, DiagnosticBag diagnostics) => check switch
    {
        "vsaddr" => VirtualServerAddress(args, location, diagnostics),
        "rsaddr" => RealServerAddress(args, location, diagnostics),
        "status_code" => StatusCodes(args, location, diagnostics),
        "auth_pass" => AuthPass(args, location, diagnostics),
        "vsg_entry" => VirtualServerGroupEntry(args, location, diagnostics),
        "iptables" => BuildOptionChecks.Iptables(args, location, diagnostics),
        "sched" => Scheduler(args, location, diagnostics),
        "fwd_virtual" => ForwardingMethod(args, "virtual", location, diagnostics),
        "fwd_real" => ForwardingMethod(args, "real", location, diagnostics),
        "fwd_sorry" => ForwardingMethod(args, "sorry", location, diagnostics),
        "seconds_or_off" => SecondsOrOff(args, location, diagnostics),
        _ => args,
    };

    /// <summary>Lb's <c>split_brain_probe SECONDS|off</c>: decimal seconds in [0.1, 3600], or <c>off</c>.</summary>
    private static ImmutableArray<string> SecondsOrOff(ImmutableArray<string> args, SourceLocation location, DiagnosticBag diagnostics)
    {
        if (args.Length == 1 && (args[0] == "off"
            || (double.TryParse(args[0], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds) && seconds is >= 0.1 and <= 3600)))
        {
            return args;
        }
        diagnostics.Error(location, $"split_brain_probe '{string.Join(' ', args)}' must be a number of seconds in [0.1, 3600] or 'off'");
        return default;
    }

    public static bool TryParsePrefix(string value, out IPAddress? address, out int prefix, SourceLocation location, DiagnosticBag? diagnostics)
    {
        prefix = -1;
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash >= 0 ? value[..slash] : value;
        if (!IPAddress.TryParse(addressText, out address) || addressText.Count(c => c == '.') is not (0 or 3))
        {
            diagnostics?.Error(location, $"VRRP parsed invalid IP {value}. skipping IP...");
            address = null;
            return false;
        }
        var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        prefix = max;
        if (slash >= 0)
        {
            if (!int.TryParse(value[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > max)
            {
                diagnostics?.Error(location, $"Invalid address prefix len {value[(slash + 1)..]} for address {value} - using {max}");
                prefix = max;
            }
        }
        return true;
    }

    // virtual_server IP PORT | fwmark N | group NAME
    private static ImmutableArray<string> VirtualServerAddress(ImmutableArray<string> args, SourceLocation location, DiagnosticBag diagnostics)
    {
        if (args.Length == 0)
        {
            diagnostics.Error(location, "virtual_server needs 'IP PORT', 'fwmark N' or 'group NAME'");
            return default;
        }
        if (args[0] == "fwmark")
        {
            if (args.Length < 2 || !uint.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out var mark) || mark == 0)
            {
                diagnostics.Error(location, $"virtual server fwmark '{(args.Length > 1 ? args[1] : string.Empty)}' invalid - must be between 1 & 4294967295");
                return default;
            }
            return args;
        }
        if (args[0] == "group")
        {
            if (args.Length < 2)
            {
                diagnostics.Error(location, "virtual_server group needs a name");
                return default;
            }
            return args;
        }
        if (!IPAddress.TryParse(args[0], out _))
        {
            diagnostics.Error(location, $"Invalid virtual server IP address '{args[0]}'");
            return default;
        }
        if (args.Length < 2)
        {
            diagnostics.Error(location, $"virtual server {args[0]} is missing its port");
            return default;
        }
        if (!ushort.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            diagnostics.Error(location, $"Invalid port '{args[1]}' for virtual server {args[0]}");
            return default;
        }
        return args;
    }

    // real_server IP [PORT]
    private static ImmutableArray<string> RealServerAddress(ImmutableArray<string> args, SourceLocation location, DiagnosticBag diagnostics)
    {
        if (args.Length == 0 || !IPAddress.TryParse(args[0], out _))
        {
            diagnostics.Error(location, $"Invalid real server ip address/port {(args.Length > 0 ? args[0] : string.Empty)} - skipping");
            return default;
        }
        if (args.Length > 1 && !ushort.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            diagnostics.Error(location, $"Invalid real server ip address/port {args[0]}/{args[1]} - skipping");
            return default;
        }
        return args;
    }

    // status_code 200 201-299 ...
    private static ImmutableArray<string> StatusCodes(ImmutableArray<string> args, SourceLocation location, DiagnosticBag diagnostics)
    {
        var kept = ImmutableArray.CreateBuilder<string>();
        foreach (var a in args)
        {
            var dash = a.IndexOf('-', StringComparison.Ordinal);
            var lo = dash >= 0 ? a[..dash] : a;
            var hi = dash >= 0 ? a[(dash + 1)..] : a;
            if (int.TryParse(lo, NumberStyles.None, CultureInfo.InvariantCulture, out var l) && int.TryParse(hi, NumberStyles.None, CultureInfo.InvariantCulture, out var h)
                && l is >= 100 and <= 599 && h is >= 100 and <= 599 && l <= h)
                kept.Add(a);
            else
                diagnostics.Error(location, $"Invalid HTTP_GET status code '{a}'");
        }
        return kept.Count == 0 ? default : kept.ToImmutable();
    }

    private static ImmutableArray<string> AuthPass(ImmutableArray<string> args, SourceLocation location, DiagnosticBag diagnostics)
    {
        if (args[0].Length > 8)
        {
            diagnostics.Error(location, "Truncating auth_pass to 8 characters");
            return args.SetItem(0, args[0][..8]);
        }
        return args;
    }

    // IP[-LAST_OCTET] PORT | fwmark N
    private static ImmutableArray<string> VirtualServerGroupEntry(ImmutableArray<string> args, SourceLocation location, DiagnosticBag diagnostics)
    {
        if (args[0] == "fwmark")
            return VirtualServerAddress(args, location, diagnostics);
        var range = args[0];
        var dash = range.LastIndexOf('-');
        var baseAddress = dash > 0 ? range[..dash] : range;
        if (!IPAddress.TryParse(baseAddress, out _))
        {
            diagnostics.Error(location, $"Invalid virtual_server_group IP address '{range}'");
            return default;
        }
        if (args.Length < 2 || !ushort.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            diagnostics.Error(location, $"virtual_server_group entry {range} needs a port");
            return default;
        }
        return args;
    }

    /// <summary>keepalived 2.2.7's schedulers (check_parser.c lvs_schedulers), compared case-sensitively as keepalived does.</summary>
    public static readonly ImmutableArray<string> Schedulers = ["rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos"];

    // lb_algo / lvs_sched NAME: an unknown name is ignored (the earlier one, or the default wlc, stays), never handed to the kernel.
    private static ImmutableArray<string> Scheduler(ImmutableArray<string> args, SourceLocation location, DiagnosticBag diagnostics)
    {
        if (Schedulers.Contains(args[0], StringComparer.Ordinal))
            return args;
        diagnostics.Error(location, $"Invalid lvs_scheduler '{args[0]}' - ignoring");
        return default;
    }

    // lb_kind / lvs_method NAT|DR|TUN [...] (case-sensitive): another method (FNAT, nat) is ignored with keepalived's message.
    private static ImmutableArray<string> ForwardingMethod(ImmutableArray<string> args, string server, SourceLocation location, DiagnosticBag diagnostics)
    {
        if (args[0] is "NAT" or "DR" or "TUN")
            return args;
        diagnostics.Error(location, $"PARSER : unknown [{args[0]}] routing method for {server} server.");
        return default;
    }
}
