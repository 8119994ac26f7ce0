using Lb.Checkers.Journal;

namespace Lb.Commands;

/// <summary>
/// <c>lb journal [--since T] [--vs X] [--rs Y] [--follow] [--json] [--file PATH]</c>. Logic in <see cref="JournalCli"/>; a file
/// that cannot be read is one line on stderr and exit 1, never a stack trace.
/// </summary>
public static class JournalCommand
{
    /// <summary>Runs the command with the arguments after <c>journal</c>; Ctrl-C ends <c>--follow</c>.</summary>
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
            return JournalCli.RunAsync(args, stdout, stderr, TimeProvider.System, null, cts.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"lb journal: {JournalCli.Escape(e.Message)}");
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
