namespace Lb.TestSupport;

/// <summary>
/// The user-space Ethernet switch of a <see cref="NetnsLab"/> built with <see cref="LabWire.PaddingSwitch"/>: a hub
/// between the switch namespace's ports that forwards every frame to every other port, padding a frame shorter than
/// 60 bytes with zeros as a NIC does (veth never pads; a bridge forwards what it got). It prints one line per padded
/// frame, which <see cref="Padded"/> counts, so a test can prove the wire really padded what it carried (a variant that
/// silently stopped padding fails).
/// </summary>
public sealed class PaddingSwitch
{
    /// <summary>Reads "add PORT HOST" lines on stdin (binds PORT, answers "port PORT"), forwards frames between the ports.</summary>
    public const string Script = """
        import socket, sys, select, os
        ports = {}
        print("switch up", flush=True)
        stdin = sys.stdin.fileno()
        while True:
            ready, _, _ = select.select([stdin] + list(ports), [], [])
            for s in ready:
                if s == stdin:
                    line = os.read(stdin, 4096).decode()
                    if not line:
                        sys.exit(0)
                    for cmd in line.splitlines():
                        _, port, host = cmd.split()
                        p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
                        p.bind((port, 0))
                        ports[p] = host
                        print("port %s" % port, flush=True)
                    continue
                try:
                    data, addr = s.recvfrom(65535)
                except OSError:
                    continue
                if addr[2] == socket.PACKET_OUTGOING:
                    continue
                if len(data) < 60:
                    et = data[12:14].hex()
                    proto = data[23] if et == "0800" and len(data) > 23 else (data[20] if et == "86dd" and len(data) > 20 else -1)
                    print("padded %d->60 ethertype %s proto %d from %s" % (len(data), et, proto, ports[s]), flush=True)
                    data += bytes(60 - len(data))
                for o in ports:
                    if o is not s:
                        try:
                            o.send(data)
                        except OSError:
                            pass  # a port taken down (an unplugged cable)
        """;

    public PaddingSwitch(RunningProcess process) => Process = process;

    /// <summary>The switch process (its output: "port …" and "padded …" lines).</summary>
    public RunningProcess Process { get; }

    /// <summary>Frames of IP protocol <paramref name="proto"/> (112: VRRP) shorter than 60 bytes that the switch padded, coming from host <paramref name="from"/> (any host when null).</summary>
    public int Padded(int proto, string? from = null) =>
        Process.Output.Split('\n')
            .Select(l => l.TrimEnd('\r'))
            .Count(l => l.StartsWith("padded ", StringComparison.Ordinal)
                && l.Contains($" proto {proto} from ", StringComparison.Ordinal)
                && (from is null || l.EndsWith($" from {from}", StringComparison.Ordinal)));

    /// <summary>Binds the switch to <paramref name="port"/>, frames from it counted as from <paramref name="host"/>; waits until it listens.</summary>
    internal void Add(string port, string host)
    {
        Process.WriteLine($"add {port} {host}");
        if (!Process.WaitForOutput($"port {port}\n"))
            throw new InvalidOperationException($"the padding switch did not take port {port}: " + Process.Output);
    }
}
