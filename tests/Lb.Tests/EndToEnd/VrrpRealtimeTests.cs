using System.Globalization;
using Lb.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Lb.Lb.Tests.EndToEnd;

/// <summary>
/// <c>vrrp_rt_priority</c>, <c>max_auto_priority</c> and <c>vrrp_no_swap</c> through the binary, with the kernel's view of the
/// process as the oracle: the scheduling policy and realtime priority of each thread (<c>/proc/&lt;pid&gt;/task/*/stat</c>,
/// fields 40 and 41) and the locked memory (<c>VmLck</c> in <c>/proc/&lt;pid&gt;/status</c>). keepalived applies them to its
/// whole single-threaded VRRP process; Lb applies them to the threads VRRP timing depends on (the timer thread and the
/// receive threads), never to checker or pool threads.
/// </summary>
public sealed class VrrpRealtimeTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(Prerequisites.InKernelVm ? 240 : 90);
    private const int SchedRr = 2;

    private sealed record TaskSched(int Tid, string Comm, int RtPriority, int Policy);

    /// <summary>Every thread of <paramref name="pid"/> with its name, realtime priority and policy, as the kernel reports them.</summary>
    private static List<TaskSched> Tasks(int pid)
    {
        var list = new List<TaskSched>();
        foreach (var dir in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var open = stat.IndexOf('(', StringComparison.Ordinal);
                var close = stat.LastIndexOf(')');
                var rest = stat[(close + 2)..].Split(' ');
                // rest[0] is field 3 (state): field n is rest[n - 3]
                list.Add(new TaskSched(int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture), stat[(open + 1)..close],
                    int.Parse(rest[40 - 3], CultureInfo.InvariantCulture), int.Parse(rest[41 - 3], CultureInfo.InvariantCulture)));
            }
            catch (IOException)
            {
                // the thread ended meanwhile
            }
        }
        return list;
    }

    private static long VmLckKb(int pid)
    {
        var line = File.ReadAllLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmLck:", StringComparison.Ordinal));
        return long.Parse(line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    private RunningProcess Start(NetnsLab lab, string ns, string globals)
        => lab.StartLb(ns, "lb-a", "-n", "-l", "-P", "-f", lab.WriteFile("a.conf", VrrpFailoverTests.Config("a", 150, globalExtra: globals, advert: "0.1", version: 3)),
            "--journal", Path.Combine(lab.Directory, "a.jsonl"));

    [RootFact("ip")]
    public void Vrrp_rt_priority_puts_the_vrrp_threads_in_SCHED_RR_only_them_and_vrrp_no_swap_locks_memory()
    {
        using var lab = new NetnsLab();
        var a = lab.AddHost("a", "10.0.0.2/24");
        var lb = Start(lab, a, "vrrp_rt_priority 20\n vrrp_no_swap");
        try
        {
            Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(a, "10.0.0.100/24"), Bound), "the VIP never appeared");
            var tasks = Tasks(lb.Pid);
            output.WriteLine(string.Join('\n', tasks));
            var timer = Assert.Single(tasks, t => t.Comm == "lb-vrrp-timer");
            var rx = Assert.Single(tasks, t => t.Comm == "lb-vrrp-rx");
            Assert.Equal((20, SchedRr), (timer.RtPriority, timer.Policy));
            Assert.Equal((20, SchedRr), (rx.RtPriority, rx.Policy));
            Assert.All(tasks.Where(t => t.Comm is not ("lb-vrrp-timer" or "lb-vrrp-rx")), t => Assert.Equal(0, t.Policy));
            Assert.True(VmLckKb(lb.Pid) > 0, "VmLck is 0 with vrrp_no_swap");
        }
        finally
        {
            output.WriteLine(lb.Output);
        }
    }

    [RootFact("ip")]
    public void Without_the_keywords_every_thread_keeps_normal_scheduling_and_nothing_is_locked()
    {
        using var lab = new NetnsLab();
        var a = lab.AddHost("a", "10.0.0.2/24");
        var lb = Start(lab, a, "");
        try
        {
            Assert.True(NetnsLab.WaitFor(() => lab.HasAddress(a, "10.0.0.100/24"), Bound), "the VIP never appeared");
            var tasks = Tasks(lb.Pid);
            Assert.Single(tasks, t => t.Comm == "lb-vrrp-timer");
            Assert.All(tasks, t => Assert.Equal((0, 0), (t.RtPriority, t.Policy)));
            Assert.Equal(0, VmLckKb(lb.Pid));
        }
        finally
        {
            output.WriteLine(lb.Output);
        }
    }

    [RootFact("ip")]
    public void Max_auto_priority_raises_the_timer_thread_one_step_per_late_expiry_up_to_the_maximum()
    {
        // min_auto_priority_delay 1 us: every expiry runs later than that (wake-up latency), so each one is "late"
        using var lab = new NetnsLab();
        var a = lab.AddHost("a", "10.0.0.2/24");
        var lb = Start(lab, a, "max_auto_priority 3\n min_auto_priority_delay 1");
        try
        {
            Assert.True(NetnsLab.WaitFor(() => Tasks(lb.Pid).Any(t => t.Comm == "lb-vrrp-timer" && t.Policy == SchedRr && t.RtPriority == 3), Bound),
                string.Join('\n', Tasks(lb.Pid)));
            Assert.True(NetnsLab.WaitFor(() => lb.Output.Contains("Set realtime priority 3", StringComparison.Ordinal), Bound));
            Assert.Contains("Set realtime priority 1", lb.Output, StringComparison.Ordinal);
            Assert.Contains("Set realtime priority 2", lb.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("Set realtime priority 4", lb.Output, StringComparison.Ordinal);
            Assert.Contains("A thread timer expired 0.", lb.Output, StringComparison.Ordinal);
        }
        finally
        {
            output.WriteLine(lb.Output);
        }
    }
}
