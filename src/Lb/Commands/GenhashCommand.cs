using Lb.Checkers.Genhash;

namespace Lb.Commands;

/// <summary><c>lb genhash</c>: keepalived's genhash (fetch a URL, print <c>MD5SUM = …</c>). Logic in <see cref="GenhashCli"/>.</summary>
public static class GenhashCommand
{
    /// <summary>Runs the command with the arguments after <c>genhash</c>.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return GenhashCli.RunAsync(args, stdout, stderr, cts.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            return 130;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
