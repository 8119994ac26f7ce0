using System.Net;
using Lb.Checkers.Options;
using Lb.Checkers.Tests.Support;
using Lb.Netlink;
using Lb.Netlink.Ipvs;
using Xunit;
using static Lb.Checkers.Tests.Support.Rig;

namespace Lb.Checkers.Tests.Engine;

/// <summary>
/// A reload is diffed against the table Lb last applied, not against a dump of the kernel: it sends only what the new
/// configuration changes, and — as keepalived's reload, which works from its own state (clear_diff_services,
/// init_service_rs: "Do not re-add failed RS instantly on reload") — it does not repair an entry someone else removed
/// behind its back unless the configuration changes that entry. The IPVS is the in-memory table (the host kernel has no
/// IPVS; the kernel tier's ReloadIpvsTrafficKernelTests runs the same through the lb binary): its
/// <see cref="Lb.TestSupport.InMemoryIpvsTable.Execute"/> stands for ipvsadm changing the kernel.
/// </summary>
public class ReloadAgainstAppliedTableTests
{
    private static RealServerOptions Real(string address, int weight) => new()
    {
        Address = IPAddress.Parse(address),
        Port = 80,
        Weight = weight,
    };

    private static CheckerSubsystemOptions Config(int w2, int w3, int w4) =>
        Options1(Vs(Real("10.0.0.2", w2), Real("10.0.0.3", w3), Real("10.0.0.4", w4)));

    private static IpvsServiceKey Service => IpvsServiceKey.Tcp(IPAddress.Parse("10.0.0.100"), 80);

    [Fact]
    public async Task A_reload_after_an_out_of_band_removal_sends_only_the_changes_and_does_not_re_add_an_unchanged_server()
    {
        await using var rig = new Rig(Config(1, 1, 1));
        await rig.StartAsync();
        Assert.Equal(["10.0.0.2:80=1", "10.0.0.3:80=1", "10.0.0.4:80=1"], rig.Ipvs.Weights(VsName));

        // ipvsadm -d, twice: 10.0.0.2 stays as configured, 10.0.0.3 gets a new weight in the reload.
        Assert.Null(rig.Ipvs.Execute(IpvsOperation.DeleteDestination(Service, new IpvsDestinationKey(IPAddress.Parse("10.0.0.2"), 80))));
        Assert.Null(rig.Ipvs.Execute(IpvsOperation.DeleteDestination(Service, new IpvsDestinationKey(IPAddress.Parse("10.0.0.3"), 80))));
        rig.Ipvs.TakeOperations();

        await rig.Subsystem.ReloadAsync(Config(1, 7, 9), CancellationToken.None);

        // Two edits, the first re-sent as an add (the kernel answered ENOENT); nothing for the unchanged 10.0.0.2.
        Assert.Equal(["edit 10.0.0.3:80 w7", "edit 10.0.0.4:80 w9", "add 10.0.0.3:80 w7"], rig.Ipvs.TakeOperations());
        Assert.Equal(["10.0.0.3:80=7", "10.0.0.4:80=9"], rig.Ipvs.Weights(VsName));

        // The next reload changing 10.0.0.2 puts it back (its edit meets ENOENT and is re-sent as an add).
        await rig.Subsystem.ReloadAsync(Config(5, 7, 9), CancellationToken.None);
        Assert.Equal(["edit 10.0.0.2:80 w5", "add 10.0.0.2:80 w5"], rig.Ipvs.TakeOperations());
        Assert.Equal(["10.0.0.2:80=5", "10.0.0.3:80=7", "10.0.0.4:80=9"], rig.Ipvs.Weights(VsName));
        rig.AssertDesiredTableMatchesIpvs();
    }

    [Fact]
    public async Task After_a_request_fails_without_an_answer_the_next_reload_reads_the_kernel_again_and_converges()
    {
        await using var rig = new Rig(Config(1, 1, 1));
        await rig.StartAsync();
        // The reload's batch is lost (a socket error: no per-request answer) after the kernel executed nothing.
        rig.Ipvs.BeforeOperation = _ => throw new NetlinkException("batch", Errno.ENOBUFS);
        await rig.Subsystem.ReloadAsync(Config(2, 1, 1), CancellationToken.None);
        rig.Ipvs.BeforeOperation = null;
        Assert.Equal(["10.0.0.2:80=1", "10.0.0.3:80=1", "10.0.0.4:80=1"], rig.Ipvs.Weights(VsName));
        // Meanwhile someone removes 10.0.0.4: the next reload dumps the kernel (what Lb last applied is no longer known)
        // and makes the table exact again.
        Assert.Null(rig.Ipvs.Execute(IpvsOperation.DeleteDestination(Service, new IpvsDestinationKey(IPAddress.Parse("10.0.0.4"), 80))));
        rig.Ipvs.TakeOperations();

        await rig.Subsystem.ReloadAsync(Config(2, 3, 1), CancellationToken.None);

        Assert.Equal(["add 10.0.0.4:80 w1", "edit 10.0.0.2:80 w2", "edit 10.0.0.3:80 w3"], rig.Ipvs.TakeOperations().Order(StringComparer.Ordinal));
        Assert.Equal(["10.0.0.2:80=2", "10.0.0.3:80=3", "10.0.0.4:80=1"], rig.Ipvs.Weights(VsName));
        rig.AssertDesiredTableMatchesIpvs();
    }
}
