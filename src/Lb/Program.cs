using Lb.Hosting;

namespace Lb;

public static class Program
{
    public static int Main(string[] args)
    {
        // First thing: until SIGHUP is caught, its default action kills the process, and start-up takes seconds under
        // emulation (see SignalRouter). Only the daemon catches signals; the subcommands keep the default actions.
        using var signals = Cli.IsDaemon(args) ? SignalRouter.Install() : null;
        return Cli.Run(args, Console.Out, Console.Error, signals);
    }
}
