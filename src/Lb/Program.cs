using Lb.Hosting;

namespace Lb;

public static class Program
{
    public static int Main(string[] args)
    {
        // First thing: until SIGHUP is caught, its default action kills the process, and start-up takes seconds under
        // emulation (see SignalRouter). Only the daemon catches signals; the subcommands and the flags that print and
        // exit (lb -t, -d, -v, -h) keep the default actions, as keepalived -t does, and start no signal thread.
        using var signals = !Cli.IsOneShot(args) && Cli.IsDaemon(args) ? SignalRouter.Install() : null;
        // Before any socket exists: socket completions run on the epoll thread instead of being handed to the thread
        // pool. A health check is a few socket events with little work each (keepalived's single event loop); the
        // hand-off (a queued work item and a worker woken per event) cost more than the check's own work, most of all
        // under emulation (bench/checkscale). Nothing in the daemon waits synchronously inside a socket continuation.
        // An explicit DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS (e.g. 0) wins.
        if (signals is not null && Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
            Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        return Cli.Run(args, Console.Out, Console.Error, signals);
    }
}
