using System.Net;
using System.Reflection;
using Lb.Checkers.Engine;
using Lb.Checkers.Options;
using Lb.Checkers.Tests.Support;
using Lb.Netlink.Ipvs;
using Lb.TestSupport;
using Xunit;
using static Lb.Checkers.Tests.Support.Rig;

namespace Lb.Checkers.Tests.Engine;

/// <summary>
/// <see cref="CheckerEngine.Fork"/>, the copy a reload's dry run decides on (<c>lb reload --plan</c>): it must share no
/// mutable object with the running state, or the dry run would change what runs. Every field of the state classes is
/// checked by reflection, so a field added later (an object the reload mutates) fails here until the fork copies it.
/// </summary>
public class EngineForkTests
{
    /// <summary>Types a copy may share with the original: immutable (strings, options records, IPVS model records, statuses).</summary>
    private static readonly HashSet<Type> Immutable =
    [
        typeof(string), typeof(VirtualServerOptions), typeof(RealServerOptions), typeof(CheckerOptions), typeof(SorryServerOptions),
        typeof(EffectiveSettings), typeof(IReadOnlyList<IpvsService>), typeof(IpvsDestination), typeof(CheckerStatus),
    ];

    private static IEnumerable<FieldInfo> Fields(Type t) => t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);

    /// <summary>Asserts <paramref name="copy"/> shares no mutable object with <paramref name="original"/>; links to <paramref name="parents"/> must point to the copies.</summary>
    private static void AssertIndependent(object original, object copy, IReadOnlyDictionary<object, object> parents)
    {
        Assert.NotSame(original, copy);
        foreach (var f in Fields(original.GetType()))
        {
            if (f.FieldType.IsValueType)
                continue;
            var a = f.GetValue(original);
            var b = f.GetValue(copy);
            if (a is null)
                continue;
            if (parents.TryGetValue(a, out var parentCopy))
            {
                Assert.True(ReferenceEquals(parentCopy, b), $"{original.GetType().Name}.{f.Name} points to the original's parent");
                continue;
            }
            if (Immutable.Contains(f.FieldType) || f.FieldType == typeof(CancellationTokenSource) && b is null)
                continue;
            Assert.False(ReferenceEquals(a, b), $"{original.GetType().Name}.{f.Name} ({f.FieldType.Name}) is shared by the fork: a dry run would change it");
        }
    }

    [Fact]
    public void A_fork_shares_no_mutable_object_with_the_running_state()
    {
        var vs = Vs(Rs("10.0.0.2"), Rs("10.0.0.3")) with
        {
            SorryServer = new SorryServerOptions { Address = IPAddress.Parse("10.0.0.9"), Port = 80 },
            SorryServerInhibit = true,
        };
        var engine = new CheckerEngine(Options1(vs), new ListLogger(), new ManualTimeProvider(), new RecordingScriptRunner());
        engine.Init();
        var fork = engine.Fork();

        Assert.NotSame(engine.VirtualServers, fork.VirtualServers);
        Assert.Equal(engine.VirtualServers.Count, fork.VirtualServers.Count);
        for (var i = 0; i < engine.VirtualServers.Count; i++)
        {
            var (v, vc) = (engine.VirtualServers[i], fork.VirtualServers[i]);
            AssertIndependent(v, vc, new Dictionary<object, object>());
            Assert.NotNull(v.Sorry);
            AssertIndependent(v.Sorry!, vc.Sorry!, new Dictionary<object, object>());
            for (var j = 0; j < v.RealServers.Count; j++)
            {
                var (rs, rc) = (v.RealServers[j], vc.RealServers[j]);
                AssertIndependent(rs, rc, new Dictionary<object, object> { [v] = vc });
                Assert.NotEmpty(rs.Checkers);
                for (var k = 0; k < rs.Checkers.Count; k++)
                    AssertIndependent(rs.Checkers[k], rc.Checkers[k], new Dictionary<object, object> { [rs] = rc });
            }
        }

        // Deciding on the fork leaves the running state as it was.
        var before = engine.DesiredTable().Select(s => $"{s.Service.Key} {string.Join(",", s.Destinations.Select(d => $"{d.Key}={d.Weight}"))}").ToList();
        var alive = engine.VirtualServers.SelectMany(v => v.RealServers).Select(r => $"{r.Name} {r.Alive} {r.Set} {r.Checkers.Count(c => c.Retired)}").ToList();
        fork.Reload(Options1(Vs(Rs("10.0.0.4"))));
        Assert.Equal(before, engine.DesiredTable().Select(s => $"{s.Service.Key} {string.Join(",", s.Destinations.Select(d => $"{d.Key}={d.Weight}"))}"));
        Assert.Equal(alive, engine.VirtualServers.SelectMany(v => v.RealServers).Select(r => $"{r.Name} {r.Alive} {r.Set} {r.Checkers.Count(c => c.Retired)}"));
    }
}
