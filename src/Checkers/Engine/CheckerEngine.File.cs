using Lb.Checkers.Files;
using Lb.Checkers.Logging;
using Lb.Checkers.Options;

namespace Lb.Checkers.Engine;

/// <summary>FILE_CHECK: a file's value sets the real server down or adjusts its weight (keepalived's track_file.c for checkers).</summary>
internal sealed partial class CheckerEngine
{
    /// <summary>
    /// Start-up, before <see cref="Init"/>: the file's first value decides whether the real server starts down (keepalived
    /// reads the files before programming IPVS: <c>set_track_file_checkers_down</c>) and adds its adjustment to the
    /// effective weight (<c>set_track_file_weights</c>, <c>set_effective_weights</c>). The checker counts as having run.
    /// </summary>
    public void SetInitialFileValue(CheckerState c, long value)
    {
        var o = (FileCheckOptions)c.Options;
        var outcome = FileCheck.Outcome(o, value);
        c.HasRun = true;
        c.LastReason = outcome.Reason;
        if (!outcome.Success)
        {
            SetCheckerState(c, false);
            c.Rs.LastReason = $"FILE_CHECK: {outcome.Reason}";
            return;
        }
        c.CurWeight = outcome.DynamicWeight ?? 0;
        c.Rs.EffectiveWeight = AddWeight(c.Rs.EffectiveWeight, c.CurWeight);
    }

    /// <summary>
    /// A poll of a FILE_CHECK (<c>process_update_checker_track_file_status</c>): entering FAULT takes the server down and
    /// its adjustment off the weight; leaving FAULT puts the adjustment on, then the server up (added with that weight);
    /// otherwise a changed adjustment changes the weight in IPVS (<c>update_svr_wgt</c>, quorum re-evaluated).
    /// </summary>
    private void OnFileValue(CheckerState c, CheckOutcome outcome)
    {
        var rs = c.Rs;
        var status = outcome.DynamicWeight ?? 0;
        if (!outcome.Success)
        {
            if (!c.IsUp)
                return;
            _logger.FileCheckFault(rs.Name, ((FileCheckOptions)c.Options).TrackFile, "now");
            UpdateCheckerState(c, false, outcome.Reason);
            rs.EffectiveWeight = AddWeight(rs.EffectiveWeight, -c.CurWeight);
            c.CurWeight = 0;
        }
        else if (!c.IsUp)
        {
            _logger.FileCheckFault(rs.Name, ((FileCheckOptions)c.Options).TrackFile, "leaving");
            c.CurWeight = status;
            rs.EffectiveWeight = AddWeight(rs.EffectiveWeight, status);
            UpdateCheckerState(c, true, outcome.Reason);
        }
        else if (status != c.CurWeight)
        {
            UpdateWeight(rs.Vs, rs, AddWeight(rs.EffectiveWeight, status - (long)c.CurWeight), $"FILE_CHECK: {outcome.Reason}", updateQuorum: true);
            c.CurWeight = status;
        }
    }

    private static int AddWeight(int weight, long delta) => (int)Math.Clamp(weight + delta, int.MinValue, int.MaxValue);
}
