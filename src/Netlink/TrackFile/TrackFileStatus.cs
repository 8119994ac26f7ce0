namespace Lb.Netlink.TrackFile;

/// <summary>
/// What a <c>track_file</c> value means to the object watching it, as keepalived 2.2.7 computes it
/// (trackers/track_file.c <c>update_track_file_status</c>) for a VRRP instance and for a real server alike:
/// with weight 0 a non-zero value is a fault (<c>reverse</c>: a zero value is); otherwise the value times the
/// weight (negated with <c>reverse</c>) is an adjustment — of the priority for VRRP, of the IPVS weight for a real
/// server — and a result at or below the watcher's fault level is a fault.
/// </summary>
/// <param name="Fault">The watcher is in FAULT (VRRP) / down (real server).</param>
/// <param name="Adjustment">Added to the priority or weight while not in fault (0 when in fault).</param>
public readonly record struct TrackFileStatus(bool Fault, long Adjustment)
{
    /// <summary>The VRRP range: a result below -253 is FAULT, adjustments are clamped to [-253, 253].</summary>
    public static TrackFileStatus ForVrrp(long value, int weight, bool reverse) => Of(value, weight, reverse, -254, 253);

    /// <summary>
    /// The real-server range (FILE_CHECK): the result is clamped to a 32-bit int and INT_MIN
    /// (keepalived's <c>IPVS_WEIGHT_FAULT</c>) is down; anything else is added to the real server's weight.
    /// </summary>
    public static TrackFileStatus ForRealServer(long value, int weight, bool reverse) => Of(value, weight, reverse, int.MinValue, int.MaxValue);

    /// <summary><paramref name="value"/> weighted; at or below <paramref name="faultAtOrBelow"/> a fault, above it clamped to <paramref name="max"/>.</summary>
    public static TrackFileStatus Of(long value, int weight, bool reverse, long faultAtOrBelow, long max)
    {
        if (weight == 0)
            return (value != 0) != reverse ? new TrackFileStatus(true, 0) : new TrackFileStatus(false, 0);
        // |value| <= 2^31 and |weight| < 2^31: the product fits in a long
        var r = value * weight * (reverse ? -1 : 1);
        if (r <= faultAtOrBelow)
            return new TrackFileStatus(true, 0);
        return new TrackFileStatus(false, Math.Min(r, max));
    }
}
