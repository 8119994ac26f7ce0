namespace Lb;

/// <summary>Command-line entry: keepalived's flags plus Lb's own subcommands.</summary>
public static class Cli
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        _ = args;
        _ = stderr;
        stdout.WriteLine("lb");
        return 0;
    }
}
