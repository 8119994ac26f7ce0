using System.Net;
using System.Net.Sockets;
using Lb.Netlink.Ipvs;
using Lb.Netlink.Namespaces;
using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Netlink.Tests.Ipvs;

/// <summary>Kernel IPVS state is global: these tests never run in parallel with each other.</summary>
[CollectionDefinition("ipvs-kernel", DisableParallelization = true)]
public sealed class IpvsKernelCollection;

/// <summary>
/// The IPVS client against a real kernel (inside the tests/kernel VM). Each test flushes first, acts
/// through Lb's client and checks the result with Lb's own dump and with the real <c>ipvsadm -Sn</c>.
/// </summary>
[Collection("ipvs-kernel")]
public sealed class IpvsClientKernelTests : IAsyncLifetime
{
    private static readonly IPAddress Vip = IPAddress.Parse("10.250.0.1");
    private static readonly IPAddress Vip6 = IPAddress.Parse("2001:db8:250::1");
    private readonly ITestOutputHelper _output;
    private IpvsClient _client = null!;

    public IpvsClientKernelTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public async Task InitializeAsync()
    {
        // Only constructed for a test that runs: every test here is a [KernelFact], which runs in the VM only.
        _client = await IpvsClient.OpenAsync();
        await _client.FlushAsync();
    }

    public async Task DisposeAsync()
    {
        if (_client is null)
            return;
        await _client.FlushAsync();
        _client.Dispose();
    }

    private static IPAddress Rs(int i) => IPAddress.Parse($"10.251.{i / 250}.{i % 250 + 1}");

    /// <summary>Lb's dump, ipvsadm's rules, and (when given) the expected table must all agree.</summary>
    private async Task<IpvsTableSnapshot> AssertTable(IReadOnlyList<IpvsVirtualServer>? expected = null)
    {
        var dump = await _client.DumpAsync();
        var ours = IpvsadmOracle.Canonical(dump);
        var theirs = IpvsadmOracle.Rules();
        _output.WriteLine("ipvsadm -Sn (canonical):\n  " + string.Join("\n  ", theirs));
        Assert.Equal(theirs, ours);
        if (expected is not null)
        {
            var want = IpvsadmOracle.Canonical(new IpvsTableSnapshot(expected.Select(v => new IpvsTableEntry(
                new IpvsServiceStatus(v.Service, IpvsStats.Zero),
                v.Destinations.Select(d => new IpvsDestinationStatus(d, 0, 0, 0, IpvsStats.Zero)).ToList())).ToList()));
            Assert.Equal(want, ours);
        }
        return dump;
    }

    [KernelFact]
    public async Task Services_of_every_protocol_family_and_scheduler()
    {
        var schedulers = new[] { "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh" };
        var desired = new List<IpvsVirtualServer>();
        for (var i = 0; i < schedulers.Length; i++)
            desired.Add(new(new IpvsService(IpvsServiceKey.Tcp(Vip, (ushort)(1000 + i)), schedulers[i]), [new IpvsDestination(Rs(i), 80)]));
        desired.Add(new(new IpvsService(IpvsServiceKey.Udp(Vip, 53), "rr"), [new IpvsDestination(Rs(50), 53, IpvsForwardingMethod.Masquerade, 3)]));
        desired.Add(new(new IpvsService(IpvsServiceKey.Sctp(Vip, 5060), "rr"), [new IpvsDestination(Rs(51), 5060)]));
        desired.Add(new(new IpvsService(IpvsServiceKey.Fwmark(42), "wrr"), [new IpvsDestination(Rs(52), 0)]));
        desired.Add(new(new IpvsService(IpvsServiceKey.Fwmark(43, AddressFamily.InterNetworkV6), "wlc"), [new IpvsDestination(IPAddress.Parse("2001:db8:251::2"), 0)]));
        desired.Add(new(new IpvsService(IpvsServiceKey.Tcp(Vip6, 443), "lc"), [new IpvsDestination(IPAddress.Parse("2001:db8:251::1"), 443, IpvsForwardingMethod.Masquerade, 7)]));
        desired.Add(new(new IpvsService(IpvsServiceKey.Udp(Vip6, 53), "sh"), []));

        foreach (var vs in desired)
        {
            await _client.AddServiceAsync(vs.Service);
            foreach (var d in vs.Destinations)
                await _client.AddDestinationAsync(vs.Service.Key, d);
        }
        var dump = await AssertTable(desired);
        Assert.Equal(desired.Count, dump.Services.Count);

        var one = await _client.GetServiceAsync(IpvsServiceKey.Tcp(Vip6, 443));
        Assert.Equal("lc", one!.Service.Scheduler);
        Assert.Null(await _client.GetServiceAsync(IpvsServiceKey.Tcp(Vip6, 444)));
    }

    [KernelFact]
    public async Task Flags_persistence_and_netmask_round_trip()
    {
        var desired = new IpvsVirtualServer[]
        {
            new(new IpvsService(IpvsServiceKey.Tcp(Vip, 80), "wrr") { Flags = IpvsServiceFlags.Persistent, PersistenceTimeout = 360, PersistenceNetmask = 24 }, []),
            new(new IpvsService(IpvsServiceKey.Tcp(Vip6, 80), "rr") { Flags = IpvsServiceFlags.Persistent, PersistenceTimeout = 60, PersistenceNetmask = 64 }, []),
            new(new IpvsService(IpvsServiceKey.Tcp(Vip, 81), "sh") { Flags = IpvsServiceFlags.ShFallback | IpvsServiceFlags.ShPort }, []),
            new(new IpvsService(IpvsServiceKey.Tcp(Vip, 82), "mh") { Flags = IpvsServiceFlags.MhFallback | IpvsServiceFlags.MhPort }, []),
            new(new IpvsService(IpvsServiceKey.Udp(Vip, 83), "rr") { Flags = IpvsServiceFlags.OnePacket }, []),
        };
        foreach (var vs in desired)
            await _client.AddServiceAsync(vs.Service);
        var dump = await AssertTable(desired);
        var p = dump.Find(IpvsServiceKey.Tcp(Vip, 80))!.Service;
        Assert.Equal((360u, 24), (p.PersistenceTimeout, p.EffectiveNetmask));
        Assert.True((p.Flags & IpvsServiceFlags.Hashed) != 0, "the kernel marks its services hashed");
        Assert.Equal(64, dump.Find(IpvsServiceKey.Tcp(Vip6, 80))!.Service.EffectiveNetmask);

        // Edit: scheduler and persistence change, seen by ipvsadm too.
        var edited = desired[0].Service with { Scheduler = "lc", PersistenceTimeout = 30, PersistenceNetmask = 16 };
        await _client.EditServiceAsync(edited);
        await AssertTable([desired[1] with { }, desired[2], desired[3], desired[4], new(edited, [])]);
    }

    [KernelFact]
    public async Task Persistence_engine_sip()
    {
        // The VM's kit carries ip_vs_pe_sip (tests/kernel/modules.list): without it this test fails
        // rather than checking something else.
        var load = ProcessRunner.Run("modprobe", "ip_vs_pe_sip");
        Assert.True(load.ExitCode == 0, $"modprobe ip_vs_pe_sip exited {load.ExitCode}: {load.Stderr}");
        var svc = new IpvsService(IpvsServiceKey.Udp(Vip, 5060), "rr") { Flags = IpvsServiceFlags.Persistent, PersistenceTimeout = 300, PersistenceEngine = "sip" };
        await _client.AddServiceAsync(svc);
        var dump = await AssertTable([new(svc, [])]);
        Assert.Equal("sip", dump.Services[0].Service.PersistenceEngine);

        // An engine the kernel has no module for: its ENOENT names the engine, and nothing is added.
        var none = new IpvsService(IpvsServiceKey.Udp(Vip, 5061), "rr") { Flags = IpvsServiceFlags.Persistent, PersistenceTimeout = 300, PersistenceEngine = "nosuch" };
        var e = await Assert.ThrowsAsync<NetlinkException>(() => _client.AddServiceAsync(none));
        Assert.Equal("ENOENT", e.ErrnoName);
        Assert.Contains("persistence engine 'nosuch'", e.Message);
        await AssertTable([new(svc, [])]);
    }

    [KernelFact]
    public async Task Destinations_dr_nat_tun_with_thresholds_edit_and_delete()
    {
        var key = IpvsServiceKey.Tcp(Vip, 80);
        var svc = new IpvsService(key, "wlc");
        var dests = new[]
        {
            new IpvsDestination(Rs(1), 80, IpvsForwardingMethod.Route, 1),
            new IpvsDestination(Rs(2), 8080, IpvsForwardingMethod.Masquerade, 5) { UpperThreshold = 100, LowerThreshold = 10 },
            new IpvsDestination(Rs(3), 80, IpvsForwardingMethod.Tunnel, 2),
            new IpvsDestination(Rs(4), 80, IpvsForwardingMethod.Tunnel, 2) { TunnelType = IpvsTunnelType.Gue, TunnelPort = 6080, TunnelFlags = IpvsTunnelFlags.Checksum },
            new IpvsDestination(Rs(5), 80, IpvsForwardingMethod.Tunnel, 2) { TunnelType = IpvsTunnelType.Gre, TunnelFlags = IpvsTunnelFlags.RemoteChecksum },
        };
        await _client.AddServiceAsync(svc);
        foreach (var d in dests)
            await _client.AddDestinationAsync(key, d);
        var dump = await AssertTable([new(svc, dests)]);
        Assert.Equal(dests.Length, dump.Services[0].Destinations.Count);
        Assert.Equal(dests.Length, (await _client.GetDestinationsAsync(key)).Count);

        var edited = dests[0] with { Weight = 0, Forwarding = IpvsForwardingMethod.Masquerade, UpperThreshold = 50 };
        await _client.EditDestinationAsync(key, edited);
        await _client.DeleteDestinationAsync(key, dests[4].Key);
        await AssertTable([new(svc, [edited, dests[1], dests[2], dests[3]])]);

        // Deleting again: ENOENT, named.
        var e = await Assert.ThrowsAsync<NetlinkException>(() => _client.DeleteDestinationAsync(key, dests[4].Key));
        Assert.Equal("ENOENT", e.ErrnoName);
        Assert.Contains(dests[4].Key.ToString(), e.Message);
        await _client.DeleteServiceAsync(key);
        Assert.Empty(IpvsadmOracle.Rules());
        var gone = await Assert.ThrowsAsync<NetlinkException>(() => _client.DeleteServiceAsync(key));
        Assert.Equal("ESRCH", gone.ErrnoName);
        Assert.Contains("TCP 10.250.0.1:80", gone.Message);
    }

    [KernelFact]
    public async Task Batch_of_1000_operations_gets_every_ack()
    {
        var ops = new List<IpvsOperation>();
        var desired = new List<IpvsVirtualServer>();
        for (var s = 0; s < 10; s++)
        {
            var svc = new IpvsService(IpvsServiceKey.Tcp(Vip, (ushort)(2000 + s)), "rr");
            ops.Add(IpvsOperation.AddService(svc));
            var dests = new List<IpvsDestination>();
            for (var d = 0; d < 99; d++)
            {
                var dest = new IpvsDestination(Rs(s * 100 + d), 80, IpvsForwardingMethod.Route, d % 5);
                dests.Add(dest);
                ops.Add(IpvsOperation.AddDestination(svc.Key, dest));
            }
            desired.Add(new(svc, dests));
        }
        Assert.Equal(1000, ops.Count);
        var result = await _client.ApplyAsync(ops);
        Assert.True(result.Succeeded, string.Join("\n", result.Failures.Take(5)));
        Assert.Equal(1000, result.Operations.Count(o => o.Outcome == IpvsOperationOutcome.Applied));
        await AssertTable(desired);

        // The same batch again: every add meets EEXIST and is turned into an edit (a state, not a failure).
        var again = await _client.ApplyAsync(ops);
        Assert.True(again.Succeeded, string.Join("\n", again.Failures.Take(5)));
        Assert.All(again.Operations, o => Assert.Equal(IpvsOperationOutcome.AlreadyInState, o.Outcome));
    }

    [KernelFact]
    public async Task Reconcile_is_minimal_and_idempotent_and_leaves_foreign_services_alone()
    {
        IpvsadmOracle.Ipvsadm("-A", "-t", "10.99.0.1:22", "-s", "rr");                  // someone else's service
        IpvsadmOracle.Ipvsadm("-a", "-t", "10.99.0.1:22", "-r", "10.99.0.2:22", "-g", "-w", "1");
        var web = IpvsServiceKey.Tcp(Vip, 80);
        var dns = IpvsServiceKey.Udp(Vip, 53);
        var desired = new List<IpvsVirtualServer>
        {
            new(new IpvsService(web, "wrr"), [new IpvsDestination(Rs(1), 80), new IpvsDestination(Rs(2), 80, weight: 2)]),
            new(new IpvsService(dns, "rr"), [new IpvsDestination(Rs(3), 53, IpvsForwardingMethod.Masquerade)]),
        };
        var first = await _client.ReconcileAsync(desired, IpvsOwnership.DesiredOnly);
        Assert.True(first.Succeeded);
        Assert.Equal((2, 3, 0), (first.ServicesAdded, first.DestinationsAdded, first.ServicesDeleted));
        var second = await _client.ReconcileAsync(desired, IpvsOwnership.DesiredOnly);
        Assert.Empty(second.Operations);

        var foreign = IpvsServiceKey.Tcp(IPAddress.Parse("10.99.0.1"), 22);
        Assert.NotNull((await _client.DumpAsync()).Find(foreign));

        // Change: one weight, one destination replaced, DNS no longer wanted (and owned).
        var changed = new List<IpvsVirtualServer>
        {
            new(new IpvsService(web, "wrr"), [new IpvsDestination(Rs(1), 80, weight: 0), new IpvsDestination(Rs(4), 80)]),
        };
        var third = await _client.ReconcileAsync(changed, IpvsOwnership.Of([web, dns]));
        Assert.True(third.Succeeded);
        Assert.Equal(
            [IpvsOperationKind.DeleteService, IpvsOperationKind.DeleteDestination, IpvsOperationKind.EditDestination, IpvsOperationKind.AddDestination],
            third.Operations.Select(o => o.Operation.Kind));
        var dump = await AssertTable();
        Assert.NotNull(dump.Find(foreign));
        Assert.Null(dump.Find(dns));
        Assert.Empty((await _client.ReconcileAsync(changed, IpvsOwnership.Of([web, dns]))).Operations);

        // Everything: the foreign service goes too.
        var fourth = await _client.ReconcileAsync(changed, IpvsOwnership.Everything);
        Assert.Equal(1, fourth.ServicesDeleted);
        await AssertTable(changed);
    }

    [KernelFact]
    public async Task Set_and_remove_destination_are_idempotent()
    {
        var key = IpvsServiceKey.Tcp(Vip, 80);
        var svc = new IpvsService(key, "rr");
        await _client.AddServiceAsync(svc);
        var d = new IpvsDestination(Rs(1), 80);
        await _client.SetDestinationAsync(key, d);
        await _client.SetDestinationAsync(key, d with { Weight = 0 });
        await AssertTable([new(svc, [d with { Weight = 0 }])]);
        await _client.RemoveDestinationAsync(key, d.Key);
        await _client.RemoveDestinationAsync(key, d.Key);
        await AssertTable([new(svc, [])]);
    }

    [KernelFact]
    public async Task Unknown_scheduler_fails_with_ENOENT_naming_the_scheduler()
    {
        var e = await Assert.ThrowsAsync<NetlinkException>(() => _client.AddServiceAsync(new IpvsService(IpvsServiceKey.Tcp(Vip, 80), "nosuchsched")));
        Assert.Equal("ENOENT", e.ErrnoName);
        Assert.Contains("nosuchsched", e.Message);
        Assert.Contains("TCP 10.250.0.1:80", e.Message);
        _output.WriteLine(e.Message);
        Assert.Empty(IpvsadmOracle.Rules());

        // Through a batch too.
        var result = await _client.ApplyAsync([IpvsOperation.AddService(new IpvsService(IpvsServiceKey.Tcp(Vip, 81), "nosuchsched"))]);
        var failure = Assert.Single(result.Failures);
        Assert.Contains("nosuchsched", failure.Error!.Message);
    }

    [KernelFact]
    public async Task Oversize_names_are_rejected_before_anything_is_sent()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => _client.AddServiceAsync(new IpvsService(IpvsServiceKey.Tcp(Vip, 80), "scheduler-too-long")));
        Assert.Contains("scheduler-too-long", e.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => _client.AddServiceAsync(new IpvsService(IpvsServiceKey.Tcp(Vip, 80), "rr") { PersistenceEngine = "pe-name-too-long" }));
        Assert.Empty(IpvsadmOracle.Rules());
    }

    [KernelFact]
    public async Task Destination_of_the_other_family_is_refused_unless_tunnelled()
    {
        var key = IpvsServiceKey.Tcp(Vip, 80);
        await _client.AddServiceAsync(new IpvsService(key, "rr"));
        var v6 = new IpvsDestination(IPAddress.Parse("2001:db8:251::9"), 80, IpvsForwardingMethod.Route);
        var e = await Assert.ThrowsAsync<NetlinkException>(() => _client.AddDestinationAsync(key, v6));
        Assert.Equal("EINVAL", e.ErrnoName);
        Assert.Contains("2001:db8:251::9", e.Message);
        Assert.Contains("TCP 10.250.0.1:80", e.Message);
        // The kernel allows mixed families for IPIP tunnels only.
        await _client.AddDestinationAsync(key, v6 with { Forwarding = IpvsForwardingMethod.Tunnel });
        await AssertTable();
    }

    [KernelFact]
    public async Task Timeouts_set_and_get_agree_with_ipvsadm()
    {
        var before = await _client.GetTimeoutsAsync();
        try
        {
            await _client.SetTimeoutsAsync(new IpvsTimeouts(901, 121, 301));
            Assert.Equal(new IpvsTimeouts(901, 121, 301), await _client.GetTimeoutsAsync());
            Assert.Contains("Timeout (tcp tcpfin udp): 901 121 301", IpvsadmOracle.Ipvsadm("-L", "--timeout"));
            await _client.SetTimeoutsAsync(new IpvsTimeouts(0, 0, 77)); // 0 leaves a value unchanged
            Assert.Equal(new IpvsTimeouts(901, 121, 77), await _client.GetTimeoutsAsync());
        }
        finally
        {
            await _client.SetTimeoutsAsync(before);
        }
    }

    [KernelFact]
    public async Task Sync_daemons_start_and_stop()
    {
        Assert.Empty(await _client.GetSyncDaemonsAsync());
        await _client.StartSyncDaemonAsync(new IpvsSyncDaemon(IpvsSyncDaemonState.Backup, "lo", 7) { MulticastPort = 8850, MulticastTtl = 3 });
        try
        {
            var d = Assert.Single(await _client.GetSyncDaemonsAsync());
            Assert.Equal((IpvsSyncDaemonState.Backup, "lo", (byte)7), (d.State, d.Interface, d.SyncId));
            Assert.Equal(8850, d.MulticastPort);
            var text = IpvsadmOracle.Ipvsadm("-L", "--daemon");
            _output.WriteLine(text);
            Assert.Contains("backup sync daemon (mcast=lo, syncid=7", text);
            Assert.Contains("port=8850", text);

            var dup = await Assert.ThrowsAsync<NetlinkException>(() => _client.StartSyncDaemonAsync(new IpvsSyncDaemon(IpvsSyncDaemonState.Backup, "lo", 8)));
            Assert.Equal("EEXIST", dup.ErrnoName);
            Assert.Contains("backup sync daemon on lo", dup.Message);
        }
        finally
        {
            await _client.StopSyncDaemonAsync(IpvsSyncDaemonState.Backup);
        }
        Assert.Empty(await _client.GetSyncDaemonsAsync());
        Assert.DoesNotContain("backup sync daemon", IpvsadmOracle.Ipvsadm("-L", "--daemon"));
    }

    [KernelFact]
    public async Task Traffic_is_counted_and_zero_clears_the_counters()
    {
        // A local client connecting to a VIP on lo is scheduled by IPVS (LOCAL_OUT) to a local listener.
        ProcessRunner.Run("ip", "addr", "add", $"{Vip}/32", "dev", "lo");
        try
        {
            using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = (ushort)((IPEndPoint)listener.LocalEndpoint).Port;
            var key = IpvsServiceKey.Tcp(Vip, 80);
            await _client.AddServiceAsync(new IpvsService(key, "rr"));
            await _client.AddDestinationAsync(key, new IpvsDestination(IPAddress.Loopback, port, IpvsForwardingMethod.Masquerade));
            for (var i = 0; i < 3; i++)
            {
                using var c = new TcpClient();
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await c.ConnectAsync(new IPEndPoint(Vip, 80), cts.Token);
                using var accepted = await listener.AcceptTcpClientAsync(cts.Token);
                await c.GetStream().WriteAsync(new byte[] { 1, 2, 3 }, cts.Token);
            }
            // The kernel folds its per-CPU counters into what it reports every 2 s (the estimator).
            var entry = (await _client.DumpAsync()).Find(key)!;
            for (var wait = 0; wait < 50 && entry.Status.Stats.Connections < 3; wait++)
            {
                await Task.Delay(200);
                entry = (await _client.DumpAsync()).Find(key)!;
            }
            Assert.Equal(3UL, entry.Status.Stats.Connections);
            Assert.True(entry.Status.Stats.InPackets >= 3);
            Assert.Equal(3UL, entry.Destinations[0].Stats.Connections);
            var stats = IpvsTableFormatter.FormatStats(await _client.GetInfoAsync(), await _client.DumpAsync());
            _output.WriteLine(stats);

            await _client.ZeroAsync(key);
            entry = (await _client.DumpAsync()).Find(key)!;
            Assert.Equal(0UL, entry.Status.Stats.Connections);
            Assert.Equal(0UL, entry.Destinations[0].Stats.Connections);
            await _client.ZeroAsync();
        }
        finally
        {
            ProcessRunner.Run("ip", "addr", "del", $"{Vip}/32", "dev", "lo");
        }
    }

    [KernelFact]
    public async Task Flush_empties_the_table()
    {
        await _client.AddServiceAsync(new IpvsService(IpvsServiceKey.Tcp(Vip, 80), "rr"));
        IpvsadmOracle.Ipvsadm("-A", "-u", "10.99.0.1:53", "-s", "rr");
        Assert.Equal(2, (await _client.DumpAsync()).Services.Count);
        await _client.FlushAsync();
        Assert.Empty((await _client.DumpAsync()).Services);
        Assert.Empty(IpvsadmOracle.Rules());
    }

    [KernelFact]
    public async Task Listing_prints_exactly_what_ipvsadm_Ln_prints()
    {
        var web = IpvsServiceKey.Tcp(Vip, 80);
        await _client.AddServiceAsync(new IpvsService(web, "wrr"));
        await _client.AddDestinationAsync(web, new IpvsDestination(Rs(2), 80, IpvsForwardingMethod.Route, 1));
        await _client.AddDestinationAsync(web, new IpvsDestination(Rs(1), 8080, IpvsForwardingMethod.Masquerade, 100) { UpperThreshold = 5 });
        await _client.AddDestinationAsync(web, new IpvsDestination(Rs(3), 80, IpvsForwardingMethod.Tunnel, 0));
        await _client.AddServiceAsync(new IpvsService(IpvsServiceKey.Udp(Vip, 53), "sh") { Flags = IpvsServiceFlags.ShFallback | IpvsServiceFlags.ShPort | IpvsServiceFlags.Persistent | IpvsServiceFlags.OnePacket, PersistenceTimeout = 300, PersistenceNetmask = 24 });
        await _client.AddServiceAsync(new IpvsService(IpvsServiceKey.Fwmark(3), "rr"));
        await _client.AddServiceAsync(new IpvsService(IpvsServiceKey.Fwmark(4, AddressFamily.InterNetworkV6), "lc"));
        await _client.AddServiceAsync(new IpvsService(IpvsServiceKey.Tcp(Vip6, 443), "mh") { Flags = IpvsServiceFlags.MhPort | IpvsServiceFlags.Persistent, PersistenceTimeout = 60, PersistenceNetmask = 64 });
        await _client.AddDestinationAsync(IpvsServiceKey.Tcp(Vip6, 443), new IpvsDestination(IPAddress.Parse("2001:db8:251::10"), 443, IpvsForwardingMethod.Route, 2));

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.Equal(0, await IpvsListing.RunAsync([], stdout, stderr));
        var expected = IpvsadmOracle.Ipvsadm("-Ln");
        _output.WriteLine(expected);
        Assert.Equal(expected, stdout.ToString());

        stdout = new StringWriter();
        Assert.Equal(0, await IpvsListing.RunAsync(["--stats"], stdout, stderr));
        Assert.Equal(IpvsadmOracle.Ipvsadm("-Ln", "--stats"), stdout.ToString());

        stdout = new StringWriter();
        Assert.Equal(0, await IpvsListing.RunAsync(["--json"], stdout, stderr));
        using var doc = System.Text.Json.JsonDocument.Parse(stdout.ToString());
        Assert.Equal(5, doc.RootElement.GetProperty("services").GetArrayLength());
        Assert.Equal("", stderr.ToString());
    }

    [KernelFact]
    public async Task Without_cap_net_admin_requests_fail_with_EPERM_saying_so()
    {
        using var client = await NetworkNamespace.RunWithoutCapabilities(null, () => IpvsClient.OpenAsync());
        var e = await Assert.ThrowsAsync<NetlinkException>(() => client.AddServiceAsync(new IpvsService(IpvsServiceKey.Tcp(Vip, 80), "rr")));
        Assert.Equal("EPERM", e.ErrnoName);
        Assert.Contains("needs CAP_NET_ADMIN", e.Message);
        Assert.Contains("TCP 10.250.0.1:80", e.Message);
        var dump = await Assert.ThrowsAsync<NetlinkException>(() => client.DumpAsync());
        Assert.Equal("EPERM", dump.ErrnoName);
        Assert.Empty(IpvsadmOracle.Rules());
    }
}
