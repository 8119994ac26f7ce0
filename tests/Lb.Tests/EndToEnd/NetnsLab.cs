using System.Diagnostics;
using System.Text;
using Lb.TestSupport;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>
/// Hosts on one machine: a namespace holding a bridge ("the switch") and one namespace per host, each with an eth0 veth
/// into the bridge. Everything is deleted on Dispose, including processes started in the hosts.
/// </summary>
internal sealed class NetnsLab : IDisposable
{
    private readonly string _prefix = $"lb{Guid.NewGuid().ToString("N")[..6]}";
    private readonly List<string> _namespaces = new();
    private readonly List<LabProcess> _processes = new();

    public NetnsLab()
    {
        Prerequisites.Require(Prerequisites.IsRoot, "network-namespace tests need root");
        Switch = $"{_prefix}-sw";
        Run("ip", "netns", "add", Switch);
        _namespaces.Add(Switch);
        Run("ip", "-n", Switch, "link", "add", "br0", "type", "bridge");
        Run("ip", "-n", Switch, "link", "set", "br0", "up");
        Directory = System.IO.Directory.CreateTempSubdirectory(_prefix + "-").FullName;
    }

    public string Switch { get; }

    /// <summary>A scratch directory for configs, journals and pid files.</summary>
    public string Directory { get; }

    /// <summary>Adds a host namespace with eth0 carrying <paramref name="cidr"/> (e.g. 10.0.0.2/24). Returns the namespace name.</summary>
    public string AddHost(string name, string cidr)
    {
        var ns = $"{_prefix}-{name}";
        Run("ip", "netns", "add", ns);
        _namespaces.Add(ns);
        var peer = $"{name}-{_namespaces.Count}";
        Run("ip", "-n", Switch, "link", "add", peer, "type", "veth", "peer", "name", "eth0", "netns", ns);
        Run("ip", "-n", Switch, "link", "set", peer, "master", "br0", "up");
        Run("ip", "-n", ns, "link", "set", "lo", "up");
        Run("ip", "-n", ns, "addr", "add", cidr, "dev", "eth0");
        Run("ip", "-n", ns, "link", "set", "eth0", "up");
        return ns;
    }

    public string Exec(string ns, params string[] command) => Run(["ip", "netns", "exec", ns, .. command]);

    /// <summary>The IPv4/IPv6 addresses on eth0 of a host, as `ip -o addr` shows them (the independent oracle).</summary>
    public IReadOnlyList<string> Addresses(string ns, string dev = "eth0")
    {
        var text = Run("ip", "-n", ns, "-o", "addr", "show", "dev", dev);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(p => p[Array.IndexOf(p, p.First(x => x is "inet" or "inet6")) + 1])
            .ToList();
    }

    public bool HasAddress(string ns, string cidr) => Addresses(ns).Contains(cidr);

    /// <summary>Polls until <paramref name="condition"/> holds or <paramref name="timeout"/> passes (a liveness bound, not a timing claim).</summary>
    public static bool WaitFor(Func<bool> condition, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            if (condition())
                return true;
            Thread.Sleep(100);
        }
        return condition();
    }

    public string WriteFile(string name, string text)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Starts a long-running program inside a host namespace, capturing its output.</summary>
    public LabProcess Start(string ns, string label, params string[] command)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "netns", "exec", ns }.Concat(command))
            psi.ArgumentList.Add(a);
        var p = new LabProcess(label, Process.Start(psi)!);
        _processes.Add(p);
        return p;
    }

    /// <summary>Starts Lb (the test's own build of it) inside a host namespace.</summary>
    public LabProcess StartLb(string ns, string label, params string[] args)
    {
        var lb = Path.Combine(AppContext.BaseDirectory, "lb");
        return Start(ns, label, [lb, .. args]);
    }

    /// <summary>Starts the real keepalived 2.2.7 (VRRP only) inside a host namespace.</summary>
    public LabProcess StartKeepalived(string ns, string label, string config)
    {
        var pid = Path.Combine(Directory, label);
        return Start(ns, label, "keepalived", "-n", "-l", "-D", "-f", config, "--vrrp", "-p", pid + ".pid", "-r", pid + ".vrrp.pid", "-c", pid + ".chk.pid");
    }

    public static string Run(params string[] command)
    {
        var psi = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in command.Skip(1))
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(30_000))
        {
            p.Kill(true);
            throw new TimeoutException($"{string.Join(' ', command)} did not finish in 30 s");
        }
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{string.Join(' ', command)} exited {p.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }

    public void Dispose()
    {
        foreach (var p in _processes)
            p.Dispose();
        foreach (var ns in Enumerable.Reverse(_namespaces))
        {
            try
            {
                Run("ip", "netns", "del", ns);
            }
            catch (InvalidOperationException)
            {
            }
        }
        try
        {
            System.IO.Directory.Delete(Directory, true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A program running in a lab host, with its output kept for assertions and failure messages.</summary>
internal sealed class LabProcess : IDisposable
{
    private readonly StringBuilder _output = new();
    private readonly Process _process;

    public LabProcess(string label, Process process)
    {
        Label = label;
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Label { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }

    public bool OutputContains(string text) => Output.Contains(text, StringComparison.Ordinal);

    public void Signal(string signal) => NetnsLab.Run("kill", "-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the process to exit and its stdout/stderr to be drained
    /// (WaitForExit(TimeSpan) returns at exit, before the async readers have delivered the last lines).
    /// </summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            _process.WaitForExitAsync(cts.Token).GetAwaiter().GetResult();
            return true;
        }
        catch (OperationCanceledException)
        {
            return _process.HasExited;
        }
    }

    public int ExitCode => _process.ExitCode;

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            try
            {
                _process.Kill(true);
                _process.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
            }
        }
        _process.Dispose();
    }
}
