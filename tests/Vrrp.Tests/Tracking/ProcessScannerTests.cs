using Lb.TestSupport;
using Lb.Vrrp.Options;
using Lb.Vrrp.Tracking;
using Xunit;

namespace Lb.Vrrp.Tests.Tracking;

public class ProcessScannerTests
{
    [Fact]
    public void Process_scanner_counts_matching_processes_by_name_and_by_parameters()
    {
        using var p = RunningProcess.Start("sleep", "123.456");
        try
        {
            var counts = ProcessScanner.Count(
            [
                new VrrpTrackProcessOptions { Name = "byname", Process = "sleep" },
                new VrrpTrackProcessOptions { Name = "exact", Process = "sleep", Parameters = ["123.456"], ParamMatch = ProcessParamMatch.Exact },
                new VrrpTrackProcessOptions { Name = "initial", Process = "sleep", Parameters = ["123."], ParamMatch = ProcessParamMatch.Initial },
                new VrrpTrackProcessOptions { Name = "other", Process = "sleep", Parameters = ["999"], ParamMatch = ProcessParamMatch.Exact },
            ]);
            Assert.True(counts["byname"] >= 1);
            Assert.Equal(1, counts["exact"]);
            Assert.Equal(1, counts["initial"]);
            Assert.Equal(0, counts["other"]);
        }
        finally
        {
            p.Kill();
        }
    }
}
