namespace Lb.Vrrp.Tests.Protocol;

/// <summary>An independent RFC 1071 checksum written out plainly for the tests (not the production code).</summary>
internal static class ChecksumByHand
{
    public static ushort Compute(params byte[][] parts)
    {
        var all = parts.SelectMany(p => p).ToList();
        if (all.Count % 2 == 1)
            all.Add(0);
        long sum = 0;
        for (var i = 0; i < all.Count; i += 2)
            sum += (all[i] << 8) + all[i + 1];
        while (sum > 0xffff)
            sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)(~sum & 0xffff);
    }
}
