using System.Net;
using System.Net.Sockets;
using Lb.Vrrp.Diagnostics;
using Lb.Vrrp.Transport;
using Microsoft.Extensions.Logging;

namespace Lb.Vrrp.Addresses;

/// <summary>One gratuitous ARP / unsolicited NA to send: the VIP and the interface it is announced on.</summary>
/// <param name="Device">Interface name (for the log).</param>
/// <param name="Vip">The address announced.</param>
internal readonly record struct GarpTarget(string Device, IPAddress Vip);

/// <summary>Per-instance burst state: at most one paced burst running and one waiting (coalesced), as the old queue did.</summary>
internal sealed class GarpBurstState
{
    internal readonly Lock Gate = new();
    internal bool Running;
    internal Func<Task>? Next;
}

/// <summary>
/// Sends GARP/NA bursts from the cached ifindex and MAC (<see cref="LinkCache"/>), concurrently with the VIP add:
/// a burst never waits for the netlink ACK of the address (keepalived sends its ARPs right after the add; Lb does
/// not wait for the kernel to answer first). Without <c>vrrp_garp_interval</c>/<c>vrrp_gna_interval</c> the whole
/// burst is sent at once by the caller's thread (the VRRP timer or receive thread); with a pacing interval the first
/// packet goes at once and the others follow on <see cref="TimeProvider"/> timers, cancelled by the burst token.
/// </summary>
internal sealed class GarpScheduler(LinkCache links, TimeProvider time, ILogger logger)
{
    /// <summary>The AF_PACKET sender; null when it could not be opened (GARP disabled, logged once at start).</summary>
    public IGarpSender? Sender { get; set; }

    /// <summary>
    /// Sends <paramref name="repeat"/> rounds over <paramref name="targets"/>. Returns at once when pacing (the rest
    /// runs on timers); a paced burst requested while another of the same instance paces runs after it (one waits, later ones coalesce).
    /// </summary>
    public void Burst(GarpBurstState state, string instance, IReadOnlyList<GarpTarget> targets, int repeat, TimeSpan garpGap, TimeSpan gnaGap, CancellationToken ct)
    {
        if (Sender is null || targets.Count == 0 || repeat <= 0 || ct.IsCancellationRequested)
            return;
        var paced = (garpGap > TimeSpan.Zero && targets.Any(t => t.Vip.AddressFamily == AddressFamily.InterNetwork))
            || (gnaGap > TimeSpan.Zero && targets.Any(t => t.Vip.AddressFamily == AddressFamily.InterNetworkV6));
        if (!paced)
        {
            var sent = new List<GarpTarget>(targets.Count * repeat);
            for (var i = 0; i < repeat; i++)
            {
                foreach (var t in targets)
                {
                    if (SendOne(instance, t))
                        sent.Add(t);
                }
            }
            foreach (var t in sent)
                LogSent(t);
            return;
        }
        Task Run() => PacedAsync(state, instance, targets, repeat, garpGap, gnaGap, ct);
        lock (state.Gate)
        {
            if (state.Running)
            {
                state.Next = Run;
                return;
            }
            state.Running = true;
        }
        _ = Run();
    }

    private async Task PacedAsync(GarpBurstState state, string instance, IReadOnlyList<GarpTarget> targets, int repeat, TimeSpan garpGap, TimeSpan gnaGap, CancellationToken ct)
    {
        try
        {
            for (var i = 0; i < repeat; i++)
            {
                foreach (var t in targets)
                {
                    if (SendOne(instance, t))
                        LogSent(t);
                    var gap = t.Vip.AddressFamily == AddressFamily.InterNetwork ? garpGap : gnaGap;
                    if (gap > TimeSpan.Zero)
                        await Task.Delay(gap, time, ct).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // left MASTER / stopping (keepalived: vrrp_remove_delayed_arp)
        }
        catch (Exception ex)
        {
            logger.ActionFailed(instance, "gratuitous ARP burst", ex.Message);
        }
        Func<Task>? next;
        lock (state.Gate)
        {
            next = state.Next;
            state.Next = null;
            state.Running = next is not null;
        }
        if (next is not null)
            _ = next();
    }

    private bool SendOne(string instance, GarpTarget t)
    {
        var sender = Sender;
        if (sender is null || links.Resolve(t.Device) is not { } link)
            return false;
        try
        {
            sender.Send(link.Index, link.Mac, t.Vip);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            logger.ActionFailed(instance, $"gratuitous ARP on {t.Device}", ex.Message);
            return false;
        }
    }

    private void LogSent(GarpTarget t)
    {
        if (t.Vip.AddressFamily == AddressFamily.InterNetwork)
            logger.SendingGarp(t.Device, t.Vip);
        else
            logger.SendingNa(t.Device, t.Vip);
    }
}
