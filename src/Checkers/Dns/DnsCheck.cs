using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Lb.Checkers.Engine;
using Lb.Checkers.Net;
using Lb.Checkers.Options;

namespace Lb.Checkers.Dns;

/// <summary>DNS_CHECK: a UDP query (type/name); passes on a reply with the query's id, QR set and RCODE NOERROR.</summary>
public sealed class DnsCheck : ICheck
{
    private static readonly Dictionary<string, ushort> Types = new(StringComparer.OrdinalIgnoreCase)
    {
        ["A"] = 1, ["NS"] = 2, ["CNAME"] = 5, ["SOA"] = 6, ["MX"] = 15, ["TXT"] = 16, ["AAAA"] = 28,
    };

    private readonly DnsCheckOptions _options;
    private readonly IPEndPoint _remote;
    private readonly ushort _type;

    /// <summary>Creates the probe.</summary>
    public DnsCheck(DnsCheckOptions options, EffectiveSettings settings)
    {
        _options = options;
        _remote = new IPEndPoint(settings.ConnectAddress, settings.ConnectPort == 0 ? (ushort)53 : settings.ConnectPort);
        if (!Types.TryGetValue(options.Type, out _type))
            throw new ArgumentException($"DNS_CHECK type {options.Type} is not one of A, NS, CNAME, SOA, MX, TXT, AAAA");
    }

    /// <summary>Builds the query packet.</summary>
    public static byte[] BuildQuery(ushort id, string name, ushort type)
    {
        var ms = new MemoryStream();
        Span<byte> h = stackalloc byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(h, id);
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], 0x0100); // RD
        BinaryPrimitives.WriteUInt16BigEndian(h[4..], 1);
        ms.Write(h);
        foreach (var label in name.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            var b = Encoding.ASCII.GetBytes(label);
            if (b.Length > 63)
                throw new ArgumentException($"DNS label '{label}' longer than 63 bytes");
            ms.WriteByte((byte)b.Length);
            ms.Write(b);
        }
        ms.WriteByte(0);
        Span<byte> q = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(q, type);
        BinaryPrimitives.WriteUInt16BigEndian(q[2..], 1); // IN
        ms.Write(q);
        return ms.ToArray();
    }

    /// <inheritdoc/>
    public async ValueTask<CheckOutcome> ExecuteAsync(CancellationToken cancellationToken)
    {
        var id = (ushort)Random.Shared.Next(0, 65536);
        var query = BuildQuery(id, _options.Name, _type);
        try
        {
            using var s = SocketConnector.Create(_remote.AddressFamily, SocketType.Dgram, ProtocolType.Udp, _options.BindTo, _options.BindPort, _options.BindInterface, _options.FirewallMark);
            await s.ConnectAsync(_remote, cancellationToken).ConfigureAwait(false);
            await s.SendAsync(query, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            var buffer = new byte[4096];
            while (true)
            {
                var n = await s.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                if (n < 12 || BinaryPrimitives.ReadUInt16BigEndian(buffer) != id)
                    continue;
                var flags = BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(2));
                if ((flags & 0x8000) == 0)
                    continue;
                var rcode = flags & 0xF;
                return rcode == 0
                    ? CheckOutcome.Ok($"DNS {_options.Type} {_options.Name} answered")
                    : CheckOutcome.Fail($"DNS {_options.Type} {_options.Name} rcode {rcode}");
            }
        }
        catch (SocketException ex)
        {
            return CheckOutcome.Fail($"DNS query: {SocketConnector.Describe(ex)}");
        }
    }

    /// <inheritdoc/>
    public string TimeoutReason(TimeSpan timeout) => $"no DNS answer within {SocketConnector.Seconds(timeout)} s";
}
