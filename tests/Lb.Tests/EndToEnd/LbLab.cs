using Lb.TestSupport;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>Starting the test's own build of <c>lb</c> in a <see cref="NetnsLab"/> host (TestSupport does not reference src/Lb).</summary>
internal static class LbLab
{
    /// <summary>
    /// The <c>lb</c> users run: the NativeAOT executable <c>dotnet publish src/Lb</c> makes, which the test build publishes and
    /// copies to <c>native/lb</c> beside the tests (target PublishNativeLb in Lb.Tests.csproj) — not the JIT apphost of the build.
    /// </summary>
    public static readonly string LbPath = Path.Combine(AppContext.BaseDirectory, "native", "lb");

    /// <summary>Starts lb inside a host namespace, capturing its output; killed when the lab is disposed.</summary>
    public static RunningProcess StartLb(this NetnsLab lab, string ns, string label, params string[] args) =>
        lab.Start(ns, label, [LbPath, .. args]);
}
