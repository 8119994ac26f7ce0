using System.Net;
using Lb.Netlink;
using Lb.Netlink.Ipvs;
using Lb.TestSupport;
using Xunit;

namespace Lb.Netlink.Tests.Ipvs;

/// <summary>
/// The table Lb last applied: the first reconcile reads the kernel, later ones diff against memory kept from the results
/// of Lb's own requests; a request that fails without an answer makes the next reconcile read the kernel again. The
/// kernel is the in-memory table (the host kernel has no IPVS); <see cref="InMemoryIpvsTable.Execute"/> stands for an
/// ipvsadm command run beside Lb.
/// </summary>
public class IpvsAppliedTableTests
{
    private static readonly IpvsServiceKey Key = IpvsServiceKey.Tcp(IPAddress.Parse("10.0.0.100"), 80);
    private static readonly IpvsService Service = new(Key, "wrr");

    private static IpvsDestination Dest(string address, int weight) => new(IPAddress.Parse(address), 80, IpvsForwardingMethod.Route, weight);

    private static List<IpvsVirtualServer> Desired(int w2, int w3) => [new(Service, [Dest("10.0.0.2", w2), Dest("10.0.0.3", w3)])];

    [Fact]
    public async Task Only_the_first_reconcile_reads_the_kernel_and_later_ones_send_only_the_difference()
    {
        var kernel = new InMemoryIpvsTable();
        // Left by an earlier run: adopted by the first reconcile (edited, not re-added).
        Assert.Null(kernel.Execute(IpvsOperation.AddService(Service)));
        Assert.Null(kernel.Execute(IpvsOperation.AddDestination(Key, Dest("10.0.0.2", 4))));
        kernel.TakeOperations();
        var applied = new IpvsAppliedTable(kernel);

        await applied.ReconcileAsync(Desired(1, 1), IpvsOwnership.Everything);
        Assert.Equal(1, applied.Dumps);
        Assert.Equal(["edit 10.0.0.2:80 w1", "add 10.0.0.3:80 w1"], kernel.TakeOperations());

        // Behind its back: 10.0.0.3 removed. The next reconcile works from memory: only the changed weight is sent.
        Assert.Null(kernel.Execute(IpvsOperation.DeleteDestination(Key, Dest("10.0.0.3", 1).Key)));
        kernel.TakeOperations();
        await applied.ReconcileAsync(Desired(2, 1), IpvsOwnership.Everything);
        Assert.Equal(1, applied.Dumps);
        Assert.Equal(["edit 10.0.0.2:80 w2"], kernel.TakeOperations());
        Assert.Equal(["10.0.0.2:80=2"], kernel.Weights("[10.0.0.100]:tcp:80"));

        // Same input again: nothing to send.
        await applied.ReconcileAsync(Desired(2, 1), IpvsOwnership.Everything);
        Assert.Empty(kernel.TakeOperations());
    }

    [Fact]
    public async Task A_batch_that_fails_without_an_answer_is_forgotten_and_the_next_reconcile_reads_the_kernel()
    {
        var kernel = new InMemoryIpvsTable();
        var applied = new IpvsAppliedTable(kernel);
        await applied.ReconcileAsync(Desired(1, 1), IpvsOwnership.Everything);
        kernel.TakeOperations();

        kernel.BeforeOperation = _ => throw new NetlinkException("batch", Errno.ENOBUFS);
        await Assert.ThrowsAsync<NetlinkException>(() => applied.ReconcileAsync(Desired(2, 1), IpvsOwnership.Everything));
        Assert.False(applied.Known);
        kernel.BeforeOperation = null;
        Assert.Null(kernel.Execute(IpvsOperation.DeleteDestination(Key, Dest("10.0.0.3", 1).Key)));
        kernel.TakeOperations();

        await applied.ReconcileAsync(Desired(2, 1), IpvsOwnership.Everything);

        Assert.Equal(2, applied.Dumps);
        Assert.Equal(["edit 10.0.0.2:80 w2", "add 10.0.0.3:80 w1"], kernel.TakeOperations());
        Assert.Equal(["10.0.0.2:80=2", "10.0.0.3:80=1"], kernel.Weights("[10.0.0.100]:tcp:80"));
    }

    [Fact]
    public async Task A_refused_add_is_not_recorded_so_the_next_reconcile_sends_it_again()
    {
        var kernel = new InMemoryIpvsTable();
        var applied = new IpvsAppliedTable(kernel);
        kernel.Refuse = op => op.Kind == IpvsOperationKind.AddDestination && op.Destination!.Address.Equals(IPAddress.Parse("10.0.0.3")) ? Errno.ENOMEM : 0;
        var first = await applied.ReconcileAsync(Desired(1, 1), IpvsOwnership.Everything);
        Assert.Single(first.Failures);
        kernel.Refuse = null;
        kernel.TakeOperations();

        await applied.ReconcileAsync(Desired(1, 1), IpvsOwnership.Everything);

        Assert.Equal(["add 10.0.0.3:80 w1"], kernel.TakeOperations());
        Assert.Equal(1, applied.Dumps);
    }

    [Fact]
    public async Task A_flush_leaves_a_known_empty_table_and_deletes_are_recorded()
    {
        var kernel = new InMemoryIpvsTable();
        var applied = new IpvsAppliedTable(kernel);
        await applied.ReconcileAsync(Desired(1, 1), IpvsOwnership.Everything);
        await applied.ApplyAsync([IpvsOperation.DeleteDestination(Key, Dest("10.0.0.2", 1).Key)]);
        Assert.Equal(["10.0.0.3:80"], applied.Snapshot().Services.Single().Destinations.Select(d => $"{d.Destination.Address}:{d.Destination.Port}"));
        await applied.FlushAsync();
        Assert.True(applied.Known);
        Assert.Empty(applied.Snapshot().Services);
        kernel.TakeOperations();

        await applied.ReconcileAsync(Desired(1, 1), IpvsOwnership.Everything);

        Assert.Equal(["add-service [10.0.0.100]:tcp:80", "add 10.0.0.2:80 w1", "add 10.0.0.3:80 w1"], kernel.TakeOperations());
        Assert.Equal(1, applied.Dumps);
    }
}
