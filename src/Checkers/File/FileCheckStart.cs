using Lb.Checkers.Engine;
using Lb.Checkers.Options;
using Lb.Netlink.TrackFile;

namespace Lb.Checkers.Files;

/// <summary>
/// The first read of every FILE_CHECK's file, before start-up programs IPVS (keepalived reads its track files before
/// <c>init_services</c>): a real server whose file says FAULT is never added. init_file is written first. Each file is
/// read once, off the caller's thread; a read that has not returned within <see cref="ReadBound"/> (wall clock: it
/// bounds I/O, as the VRRP trackers' first read) counts as an unreadable file, 0, and the first poll corrects it.
/// </summary>
internal static class FileCheckStart
{
    /// <summary>How long start-up waits for the first reads.</summary>
    public static readonly TimeSpan ReadBound = TimeSpan.FromSeconds(1);

    /// <summary>The first value of each file checker of <paramref name="virtualServers"/>.</summary>
    public static async Task<IReadOnlyList<(CheckerState Checker, long Value)>> ReadFirstValuesAsync(IEnumerable<VsState> virtualServers, CancellationToken ct)
    {
        var checkers = virtualServers.SelectMany(v => v.RealServers).SelectMany(r => r.Checkers).Where(c => c.Options is FileCheckOptions).ToArray();
        if (checkers.Length == 0)
            return [];
        var reads = new Dictionary<string, Task<TrackFileRead>>(StringComparer.Ordinal);
        foreach (var o in checkers.Select(c => (FileCheckOptions)c.Options))
        {
            if (reads.ContainsKey(o.Path))
                continue;
            var init = o.InitFileValue is { } v ? new TrackFileInit(v, o.InitFileOverwrite) : (TrackFileInit?)null;
            var path = o.Path;
            reads[path] = Task.Run(() => TrackFileReader.ReadNow(path, init), CancellationToken.None);
        }
        try
        {
            await Task.WhenAll(reads.Values).WaitAsync(ReadBound, TimeProvider.System, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
        return checkers.Select(c => (c, reads[((FileCheckOptions)c.Options).Path] is { IsCompletedSuccessfully: true } t ? t.Result.Value ?? 0 : 0)).ToArray();
    }
}
