// IPVS programming benchmark for Lb's batched client (src/Netlink). Run inside the tests/kernel VM
// by bench/ipvs/run.sh. Prints "RESULT <name> <min ms> <median ms> <note>" lines; bench/ipvs/run.sh turns
// them into the table in docs/benchmarks.md.
//
// Table: S services (TCP, wrr) x D destinations (direct routing), the same table that
// bench/ipvs/gen.sh writes for ipvsadm -R and keepalived. Every timed step is verified afterwards
// against a dump of the kernel's table.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Lb.Bench.Ipvs;
using Lb.Netlink.Ipvs;

var services = IntArg(args, "--services", 500);
var dests = IntArg(args, "--dests", 20);
var rounds = IntArg(args, "--rounds", 3);
var process = Stopwatch.StartNew();

using var client = await IpvsClient.OpenAsync();
Report("lb_open", [process.Elapsed.TotalMilliseconds], "process start to IPVS family resolved (includes JIT)");

var desired = BenchTable.Build(services, dests);
var entries = services + services * dests;
await client.FlushAsync();

// (1) From an empty table: the first reconcile in the process (cold: JIT included), then warm ones.
var sw = Stopwatch.StartNew();
var result = await client.ReconcileAsync(desired, IpvsOwnership.Everything);
sw.Stop();
Ensure(result, entries);
await VerifyAsync(client, desired);
Report("lb_reconcile_empty_cold", [sw.Elapsed.TotalMilliseconds], $"{result.Operations.Count} operations, first call in the process");

var samples = new List<double>();
for (var i = 0; i < rounds; i++)
{
    await client.FlushAsync();
    sw.Restart();
    result = await client.ReconcileAsync(desired, IpvsOwnership.Everything);
    sw.Stop();
    Ensure(result, entries);
    await VerifyAsync(client, desired);
    samples.Add(sw.Elapsed.TotalMilliseconds);
}
Report("lb_reconcile_empty", samples, $"dump + diff + batched apply of {entries} operations, {rounds} rounds");

samples.Clear();
var empty = new IpvsTableSnapshot([]);
for (var i = 0; i < rounds; i++)
{
    await client.FlushAsync();
    var ops = IpvsDiff.Compute(empty, desired, IpvsOwnership.Everything);
    sw.Restart();
    result = await client.ApplyAsync(ops);
    sw.Stop();
    Ensure(result, entries);
    await VerifyAsync(client, desired);
    samples.Add(sw.Elapsed.TotalMilliseconds);
}
Report("lb_apply_empty", samples, $"batched apply only of {entries} operations, {rounds} rounds");

// Reading the table back and a reconcile that has nothing to do.
samples.Clear();
for (var i = 0; i < rounds; i++)
{
    sw.Restart();
    var snapshot = await client.DumpAsync();
    sw.Stop();
    if (snapshot.Services.Count != services)
        throw new InvalidOperationException($"dump: {snapshot.Services.Count} services");
    samples.Add(sw.Elapsed.TotalMilliseconds);
}
Report("lb_dump", samples, $"dump of {entries} entries, {rounds} rounds");

samples.Clear();
for (var i = 0; i < rounds; i++)
{
    sw.Restart();
    result = await client.ReconcileAsync(desired, IpvsOwnership.Everything);
    sw.Stop();
    Ensure(result, 0);
    samples.Add(sw.Elapsed.TotalMilliseconds);
}
Report("lb_reconcile_noop", samples, $"dump + diff, 0 operations, {rounds} rounds");

// (4) 1% changes, reconciled both ways (base -> changed -> base), each direction timed.
var weighted = BenchTable.WithChangedWeights(desired, changes: Math.Max(1, services * dests / 100));
await TimeChangeAsync("lb_reconcile_1pct_weights", desired, weighted, "destination weights changed (edits)");
var replaced = BenchTable.WithReplacedServices(desired, count: Math.Max(1, services / 100));
await TimeChangeAsync("lb_reconcile_1pct_services", desired, replaced, "services with every destination replaced");

// Leave the base table programmed: the caller checks it with ipvsadm -Sn.
await client.ReconcileAsync(desired, IpvsOwnership.Everything);
await VerifyAsync(client, desired);
Report("lb_process", [process.Elapsed.TotalMilliseconds], "whole benchmark process");
return 0;

async Task TimeChangeAsync(string name, IReadOnlyList<IpvsVirtualServer> from, IReadOnlyList<IpvsVirtualServer> to, string what)
{
    var times = new List<double>();
    var operations = 0;
    for (var i = 0; i < rounds; i++)
    {
        foreach (var (a, b) in new[] { (from, to), (to, from) })
        {
            await client.ReconcileAsync(a, IpvsOwnership.Everything);
            sw.Restart();
            var r = await client.ReconcileAsync(b, IpvsOwnership.Everything);
            sw.Stop();
            Ensure(r, -1);
            await VerifyAsync(client, b);
            operations = r.Operations.Count;
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
    }
    Report(name, times, $"{what}: {operations} operations, dump + diff + apply, {times.Count} rounds");
}

static void Ensure(IpvsApplyResult result, int expectedOperations)
{
    if (!result.Succeeded)
        throw new InvalidOperationException($"{result.Failures.Count} operations failed, first: {result.Failures[0]}");
    if (expectedOperations >= 0 && result.Operations.Count != expectedOperations)
        throw new InvalidOperationException($"expected {expectedOperations} operations, got {result.Operations.Count}");
}

static async Task VerifyAsync(IpvsClient client, IReadOnlyList<IpvsVirtualServer> desired)
{
    var snapshot = await client.DumpAsync();
    var left = IpvsDiff.Compute(snapshot, desired, IpvsOwnership.Everything);
    if (left.Count != 0)
        throw new InvalidOperationException($"the kernel's table differs from the desired one by {left.Count} operations, first: {left[0]}");
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}

static void Report(string name, List<double> milliseconds, string note) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT {name} {milliseconds.Min():F1} {Median(milliseconds):F1} {note}"));

static int IntArg(string[] args, string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

namespace Lb.Bench.Ipvs
{
    /// <summary>The benchmark's table; bench/ipvs/gen.sh writes the same one for ipvsadm and keepalived.</summary>
    internal static class BenchTable
    {
        // Service i: 10.1.(i/200).(i%200+1):80, wrr. Destination k of service i: 10.2.(i/10).((i%10)*20+k+1):80,
        // direct routing, weight 1 + k%5. Replacement destinations use 10.3.x.y.
        public static IPAddress ServiceAddress(int i) => new([10, 1, (byte)(i / 200), (byte)((i % 200) + 1)]);

        public static IPAddress DestinationAddress(int i, int k, byte net = 2) => new([10, net, (byte)(i / 10), (byte)(((i % 10) * 20) + k + 1)]);

        public static IReadOnlyList<IpvsVirtualServer> Build(int services, int dests)
        {
            var table = new List<IpvsVirtualServer>(services);
            for (var i = 0; i < services; i++)
            {
                var svc = new IpvsService(IpvsServiceKey.Tcp(ServiceAddress(i), 80), "wrr");
                var list = new List<IpvsDestination>(dests);
                for (var k = 0; k < dests; k++)
                    list.Add(new IpvsDestination(DestinationAddress(i, k), 80, IpvsForwardingMethod.Route, 1 + (k % 5)));
                table.Add(new IpvsVirtualServer(svc, list));
            }
            return table;
        }

        /// <summary>Changes the weight of <paramref name="changes"/> destinations spread over the services.</summary>
        public static IReadOnlyList<IpvsVirtualServer> WithChangedWeights(IReadOnlyList<IpvsVirtualServer> table, int changes)
        {
            var copy = table.Select(v => v with { Destinations = v.Destinations.ToList() }).ToList();
            var step = Math.Max(1, copy.Count * copy[0].Destinations.Count / changes);
            for (var n = 0; n < changes; n++)
            {
                var flat = n * step;
                var v = copy[flat / copy[0].Destinations.Count % copy.Count];
                var list = (List<IpvsDestination>)v.Destinations;
                var k = (flat % list.Count + n) % list.Count;
                list[k] = list[k] with { Weight = list[k].Weight + 10 };
            }
            return copy;
        }

        /// <summary>Replaces every destination of <paramref name="count"/> services spread over the table.</summary>
        public static IReadOnlyList<IpvsVirtualServer> WithReplacedServices(IReadOnlyList<IpvsVirtualServer> table, int count)
        {
            var copy = table.ToList();
            var step = Math.Max(1, copy.Count / count);
            for (var n = 0; n < count; n++)
            {
                var i = (n * step) + (step / 2);
                var v = copy[i];
                copy[i] = v with { Destinations = v.Destinations.Select((d, k) => d with { Address = DestinationAddress(i, k, net: 3) }).ToList() };
            }
            return copy;
        }
    }
}
