using System.Diagnostics;

namespace Lb.TestSupport;

/// <summary>
/// The one bounded wait of the test projects: polls until a condition holds or the bound passes. The bound is a liveness
/// bound (it only keeps a broken build from hanging), never a timing claim.
/// </summary>
public static class Wait
{
    /// <summary>The default bound: 20 s, for in-process effects (work queues, a script's file).</summary>
    public static readonly TimeSpan DefaultBound = TimeSpan.FromSeconds(20);

    /// <summary>Polls <paramref name="condition"/> every <paramref name="pollMilliseconds"/> until it holds (true) or <paramref name="bound"/> passes (its last value).</summary>
    public static bool Until(Func<bool> condition, TimeSpan? bound = null, int pollMilliseconds = 10)
    {
        var limit = bound ?? DefaultBound;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < limit)
        {
            if (condition())
                return true;
            Thread.Sleep(pollMilliseconds);
        }
        return condition();
    }
}
