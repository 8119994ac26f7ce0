using System.Net;
using System.Numerics;

namespace Lb.Checkers.Engine;

/// <summary>Expands <c>virtual_server_group</c> address ranges.</summary>
internal static class AddressRange
{
    public static IEnumerable<IPAddress> Expand(IPAddress first, IPAddress last, int max)
    {
        if (first.AddressFamily != last.AddressFamily)
            throw new ArgumentException($"address range {first}-{last} mixes families");
        var a = new BigInteger(first.GetAddressBytes(), isUnsigned: true, isBigEndian: true);
        var b = new BigInteger(last.GetAddressBytes(), isUnsigned: true, isBigEndian: true);
        var size = first.GetAddressBytes().Length;
        var n = 0;
        for (var i = a; i <= b && n < max; i++, n++)
        {
            var bytes = i.ToByteArray(isUnsigned: true, isBigEndian: true);
            var full = new byte[size];
            Array.Copy(bytes, 0, full, size - bytes.Length, bytes.Length);
            yield return new IPAddress(full);
        }
    }
}
