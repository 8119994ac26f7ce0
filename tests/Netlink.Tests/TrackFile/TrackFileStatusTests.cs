using Lb.Netlink.TrackFile;
using Xunit;

namespace Lb.Netlink.Tests.TrackFile;

/// <summary>
/// The one rule both subsystems apply to a track_file value (keepalived 2.2.7 track_file.c update_track_file_status):
/// VRRP's priority range and the real servers' weight range.
/// </summary>
public class TrackFileStatusTests
{
    [Theory]
    [InlineData(0L, 0, false, false, 0L)]
    [InlineData(5L, 0, false, true, 0L)]     // weight 0: non-zero is FAULT
    [InlineData(0L, 0, true, true, 0L)]      // … reverse: zero is FAULT
    [InlineData(5L, 0, true, false, 0L)]
    [InlineData(3L, 10, false, false, 30L)]
    [InlineData(3L, 10, true, false, -30L)]
    [InlineData(100L, 10, false, false, 253L)]   // clamped
    [InlineData(-25L, 10, false, false, -250L)]
    [InlineData(-26L, 10, false, true, 0L)]      // -260 < -253: FAULT
    [InlineData(-254L, 1, false, true, 0L)]
    [InlineData(-253L, 1, false, false, -253L)]
    public void Vrrp(long value, int weight, bool reverse, bool fault, long adjustment)
        => Assert.Equal(new TrackFileStatus(fault, adjustment), TrackFileStatus.ForVrrp(value, weight, reverse));

    [Theory]
    [InlineData(5L, 0, false, true, 0L)]
    [InlineData(-254L, 1, false, false, -254L)]                      // no VRRP limit for real servers
    [InlineData(2147483647L, 2, false, false, 2147483647L)]          // clamped to INT_MAX
    [InlineData(-2147483648L, 1, false, true, 0L)]                   // INT_MIN = IPVS_WEIGHT_FAULT
    [InlineData(2147483648L, 1, true, true, 0L)]
    [InlineData(-2147483647L, 1, false, false, -2147483647L)]
    [InlineData(-1073741824L, 3, false, true, 0L)]                   // below INT_MIN: clamped to it, FAULT
    public void Real_server(long value, int weight, bool reverse, bool fault, long adjustment)
        => Assert.Equal(new TrackFileStatus(fault, adjustment), TrackFileStatus.ForRealServer(value, weight, reverse));
}
