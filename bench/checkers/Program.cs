using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Lb.Checkers;
using Lb.Checkers.Engine;
using Lb.Checkers.Http;
using Lb.Netlink;
using Lb.Netlink.Ipvs;
using Lb.Checkers.Journal;
using Lb.Checkers.Options;
using Lb.Scripts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

// Checker benchmark: N real servers checked by HTTP_GET, then N by TCP_CHECK, delay_loop 1 s, against a local
// server process (a child of this one, so its CPU is not counted). Reports CPU seconds per 10,000 checks and peak RSS.
// Arguments: [servers=10000] [seconds=30] [kinds=http,tcp]. BENCH_HTTPCLIENT=1: HTTP_GET through the IHttpClientFactory
// client (the probe before the lean one), to compare both on the same run.

if (args.Length > 0 && args[0] == "--server")
{
    await Server.RunAsync(int.Parse(args[1], CultureInfo.InvariantCulture));
    return 0;
}

var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;
var seconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 30;
var kinds = args.Length > 2 ? args[2].Split(',') : ["http", "tcp"];
var port = FreePort();
using var server = Process.Start(new ProcessStartInfo(Environment.ProcessPath!) { ArgumentList = { Path.Combine(AppContext.BaseDirectory, "checkers-bench.dll"), "--server", port.ToString(CultureInfo.InvariantCulture) } }
    .WithDotnetHost())!;
await Task.Delay(1000);
try
{
    Console.WriteLine($"checkers benchmark: {count} real servers per kind, delay_loop 1 s, {seconds} s per phase, {Environment.ProcessorCount} CPUs, load {File.ReadAllText("/proc/loadavg").Trim()}");
    if (kinds.Contains("http"))
        await PhaseAsync("HTTP_GET", count, seconds, port, () => new HttpCheckOptions { Urls = [new UrlOptions { Path = "/health" }] });
    if (kinds.Contains("tcp"))
        await PhaseAsync("TCP_CHECK", count, seconds, port, () => new TcpCheckOptions());
    Console.WriteLine($"load at the end: {File.ReadAllText("/proc/loadavg").Trim()}");
}
finally
{
    server.Kill(entireProcessTree: true);
}
return 0;

static async Task PhaseAsync(string kind, int count, int seconds, int port, Func<CheckerOptions> checker)
{
    // Distinct loopback addresses (127.1.x.y) so each real server is its own 4-tuple space.
    var rs = Enumerable.Range(0, count).Select(i => new RealServerOptions
    {
        Address = new IPAddress([127, (byte)(1 + i / 62500), (byte)(i / 250 % 250), (byte)(i % 250 + 1)]),
        Port = (ushort)port,
        Checkers = [checker()],
    }).ToList();
    var vs = new VirtualServerOptions
    {
        Address = IPAddress.Parse("10.0.0.100"),
        Port = 80,
        DelayLoop = TimeSpan.FromSeconds(1),
        Warmup = TimeSpan.FromSeconds(1),
        ConnectTimeout = TimeSpan.FromSeconds(5),
        Quorum = 1,
        RealServers = rs,
    };
    var options = new CheckerSubsystemOptions { VirtualServers = [vs] };
    var services = new ServiceCollection().AddLbCheckers();
    await using var provider = services.BuildServiceProvider();
    var factory = provider.GetRequiredService<IHttpClientFactory>();
    long ok = 0, failed = 0;
    var reasons = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
    ICheckFactory probes = new DefaultCheckFactory(options, TimeProvider.System, factory, new ScriptRunner());
    if (Environment.GetEnvironmentVariable("BENCH_HTTPCLIENT") == "1")
        probes = new HttpClientChecks(probes, factory);
    var sub = new CheckerSubsystem(options, new NullIpvs(), NullJournal.Instance, NullLoggerFactory.Instance, TimeProvider.System,
        probes, new ScriptRunner());
    sub.CheckCompleted += (_, e) =>
    {
        if (e.Success)
            Interlocked.Increment(ref ok);
        else
        {
            Interlocked.Increment(ref failed);
            reasons.AddOrUpdate(System.Text.RegularExpressions.Regex.Replace(e.Reason, "[0-9]+", "N"), 1, (_, n) => n + 1);
        }
    };
    await sub.StartAsync(CancellationToken.None);
    await Task.Delay(3000); // warm-up spread and JIT
    var me = Process.GetCurrentProcess();
    me.Refresh();
    var cpu0 = me.TotalProcessorTime;
    var user0 = me.UserProcessorTime;
    var alloc0 = GC.GetTotalAllocatedBytes(precise: false);
    var n0 = Interlocked.Read(ref ok) + Interlocked.Read(ref failed);
    var f0 = Interlocked.Read(ref failed);
    var sw = Stopwatch.StartNew();
    await Task.Delay(TimeSpan.FromSeconds(seconds));
    me.Refresh();
    var cpu = (me.TotalProcessorTime - cpu0).TotalSeconds;
    var user = (me.UserProcessorTime - user0).TotalSeconds;
    var allocated = GC.GetTotalAllocatedBytes(precise: false) - alloc0;
    var checks = Interlocked.Read(ref ok) + Interlocked.Read(ref failed) - n0;
    var fails = Interlocked.Read(ref failed) - f0;
    var elapsed = sw.Elapsed.TotalSeconds;
    // With the pacer wired into the subsystem (CheckerSubsystem.Pacing), say how it paced the checks.
    var pacing = sub.GetType().GetProperty("Pacing")?.GetValue(sub);
    await sub.StopAsync(CancellationToken.None);
    me.Refresh();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{kind,-9}: {checks} checks in {elapsed:0.0} s ({checks / elapsed:0} /s, {fails} failed), CPU {cpu:0.00} s (user {user:0.00}, system {cpu - user:0.00}) => {cpu / checks * 10_000:0.000} CPU s per 10,000 checks, {allocated / Math.Max(1, checks):0} bytes allocated per check; peak RSS {me.PeakWorkingSet64 / 1048576.0:0} MiB"));
    if (pacing is not null)
        Console.WriteLine($"           pacing: {pacing}");
    PrintReasons(reasons);
}

static void PrintReasons(System.Collections.Concurrent.ConcurrentDictionary<string, int> reasons)
{
    foreach (var (reason, n) in reasons.OrderByDescending(r => r.Value).Take(5))
        Console.WriteLine($"           failure: {n} x {reason}");
}

static int FreePort()
{
    using var l = new TcpListener(IPAddress.Loopback, 0);
    l.Start();
    return ((IPEndPoint)l.LocalEndpoint).Port;
}

/// <summary>HTTP_GET through the IHttpClientFactory client (as before the lean probe); everything else as the default factory.</summary>
internal sealed class HttpClientChecks(ICheckFactory inner, IHttpClientFactory http) : ICheckFactory
{
    public ICheck Create(CheckTarget target) => target.Checker is HttpCheckOptions h
        ? new HttpCheck(h, target.VirtualServer, target.RealServer, target.Settings, TimeProvider.System, http)
        : inner.Create(target);
}

/// <summary>An IPVS table that accepts everything and holds nothing (the benchmark measures the checkers, not the kernel).</summary>
internal sealed class NullIpvs : IpvsTableBase
{
    protected override Task<IReadOnlyList<NetlinkException?>> ExecuteAsync(IReadOnlyList<IpvsOperation> operations, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<NetlinkException?>>(new NetlinkException?[operations.Count]);

    public override Task<IpvsTableSnapshot> DumpAsync(CancellationToken cancellationToken = default) => Task.FromResult(new IpvsTableSnapshot([]));

    public override Task FlushAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
}

internal static class Server
{
    private static readonly byte[] Response = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"u8.ToArray();

    public static async Task RunAsync(int port)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Any, port));
        listener.Listen(65535);
        var loops = new List<Task>();
        for (var i = 0; i < 8; i++)
            loops.Add(AcceptLoopAsync(listener));
        await Task.WhenAll(loops);
    }

    private static async Task AcceptLoopAsync(Socket listener)
    {
        while (true)
        {
            var s = await listener.AcceptAsync();
            _ = ServeAsync(s);
        }
    }

    private static async Task ServeAsync(Socket s)
    {
        try
        {
            var buf = new byte[4096];
            var n = await s.ReceiveAsync(buf, SocketFlags.None);
            if (n > 0)
                await s.SendAsync(Response, SocketFlags.None);
            s.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        finally
        {
            s.Dispose();
        }
    }
}

internal static class ProcessStartInfoExtensions
{
    public static ProcessStartInfo WithDotnetHost(this ProcessStartInfo psi)
    {
        // Environment.ProcessPath is the dotnet host (or the apphost); with the apphost, drop the dll argument.
        if (!Path.GetFileNameWithoutExtension(psi.FileName).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            psi.ArgumentList.RemoveAt(0);
        return psi;
    }
}
