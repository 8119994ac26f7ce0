using System.Net;
using Lb.Vrrp.Engine;
using Lb.Vrrp.Host;
using Lb.Vrrp.Options;
using Xunit;

namespace Lb.Vrrp.Tests.Engine;

/// <summary>
/// The actions a machine emits carry what their executor needs (the instance's options, its effective priority, the
/// VIP list taken at emission), so the executor looks nothing up in the subsystem.
/// </summary>
public class ActionPayloadTests
{
    private static readonly IPAddress Evip = IPAddress.Parse("10.0.1.100");

    [Fact]
    public void Becoming_master_emits_the_vips_and_evips_and_a_notify_with_the_effective_priority()
    {
        var inst = Harness.Instance(priority: 120, with: o => o with
        {
            VirtualIpAddressesExcluded = [new VirtualAddress { Address = Evip, PrefixLength = 32, Device = "eth9" }],
        });
        var h = new Harness(inst);
        h.Start();
        h.TakeActions();
        h.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(VrrpState.Master, h["VI_1"].State);

        var actions = h.TakeActions();
        var add = actions.Single(a => a.Kind == VrrpActionKind.AddVips);
        Assert.Equal([Harness.Vip, Evip], add.Vips.Select(v => v.Address));
        Assert.Equal("eth9", add.Vips[1].Device);
        Assert.Equal([Harness.Vip, Evip], actions.Single(a => a.Kind == VrrpActionKind.SendGarps).Vips.Select(v => v.Address));
        var notify = actions.Single(a => a.Kind == VrrpActionKind.Notify);
        Assert.Same(h["VI_1"].Settings.Options, notify.Instance);
        Assert.Equal(120, notify.EffectivePriority);
        Assert.Empty(actions.Single(a => a.Kind == VrrpActionKind.SendAdvert).Vips);

        // leaving MASTER: the removal carries the same list
        h["VI_1"].Stop();
        Assert.Equal([Harness.Vip, Evip], h.TakeActions().Single(a => a.Kind == VrrpActionKind.RemoveVips).Vips.Select(v => v.Address));
    }
}
