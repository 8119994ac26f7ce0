using Lb.TestSupport;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>Starting the test's own build of <c>lb</c> in a <see cref="NetnsLab"/> host (TestSupport does not reference src/Lb).</summary>
internal static class LbLab
{
    /// <summary>The <c>lb</c> binary built next to the tests.</summary>
    public static readonly string LbPath = Path.Combine(AppContext.BaseDirectory, "lb");

    /// <summary>Starts lb inside a host namespace, capturing its output; killed when the lab is disposed.</summary>
    public static RunningProcess StartLb(this NetnsLab lab, string ns, string label, params string[] args) =>
        lab.Start(ns, label, [LbPath, .. args]);
}
