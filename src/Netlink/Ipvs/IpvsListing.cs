namespace Lb.Netlink.Ipvs;

/// <summary>
/// <c>lb ipvs list [--json] [--stats]</c>: reads the kernel's table and prints it like
/// <c>ipvsadm -Ln</c> (or <c>--stats</c>, or JSON). Returns the process exit code.
/// </summary>
public static class IpvsListing
{
    public const string Usage = "usage: lb ipvs list [--json] [--stats]";

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        bool json = false, stats = false;
        foreach (var a in args)
        {
            switch (a)
            {
                case "--json": json = true; break;
                case "--stats": stats = true; break;
                case "-h" or "--help":
                    await stdout.WriteLineAsync(Usage).ConfigureAwait(false);
                    return 0;
                default:
                    await stderr.WriteLineAsync($"lb ipvs list: unknown argument '{a}'").ConfigureAwait(false);
                    await stderr.WriteLineAsync(Usage).ConfigureAwait(false);
                    return 2;
            }
        }
        try
        {
            using var client = await IpvsClient.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            var info = await client.GetInfoAsync(cancellationToken).ConfigureAwait(false);
            var table = await client.DumpAsync(cancellationToken).ConfigureAwait(false);
            var text = json ? IpvsTableFormatter.FormatJson(info, table, stats)
                : stats ? IpvsTableFormatter.FormatStats(info, table)
                : IpvsTableFormatter.FormatList(info, table);
            await stdout.WriteAsync(text).ConfigureAwait(false);
            return 0;
        }
        catch (IpvsNotAvailableException e)
        {
            await stderr.WriteLineAsync($"lb ipvs list: {e.Message}").ConfigureAwait(false);
            return 3;
        }
        catch (Exception e) when (e is ErrnoException or NetlinkFormatException or TimeoutException)
        {
            await stderr.WriteLineAsync($"lb ipvs list: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }
}
