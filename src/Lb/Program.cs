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
        return Cli.Run(args, Console.Out, Console.Error, signals);
    }
}
