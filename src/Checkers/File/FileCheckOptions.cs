namespace Lb.Checkers.Options;

/// <summary>
/// <c>FILE_CHECK { track_file NAME [weight N [reverse]] }</c> (keepalived 2.2: check_file.c), with the top-level
/// <c>track_file NAME { file PATH weight N [reverse] init_file … }</c> it names folded in. The file's value sets the
/// real server down (a fault) or adds value × weight to its IPVS weight (see <c>Lb.Netlink.TrackFile.TrackFileStatus</c>).
/// FILE_CHECK has none of the common checker options: it is polled every <see cref="PollInterval"/> (keepalived reacts
/// to inotify events), never retried, never alpha, and its first value is read before the real server is added.
/// </summary>
public sealed record FileCheckOptions : CheckerOptions
{
    /// <summary>How often the file is read (Lb polls; the VRRP track_file poller uses the same period).</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    /// <summary>Creates the options with the fixed timing of a file checker.</summary>
    public FileCheckOptions()
    {
        DelayLoop = PollInterval;
        ConnectTimeout = PollInterval; // how long a read that has not returned is waited for (then: unreadable, 0)
        Warmup = TimeSpan.Zero;
        Retry = 0;
        Alpha = false;
    }

    /// <inheritdoc/>
    public override string Keyword => "FILE_CHECK";

    /// <inheritdoc/>
    public override int DefaultRetry => 0;

    /// <summary><c>track_file NAME</c>: the top-level track_file block.</summary>
    public required string TrackFile { get; init; }

    /// <summary>That block's <c>file PATH</c>.</summary>
    public required string Path { get; init; }

    /// <summary>The FILE_CHECK's <c>weight</c>, else the track_file's (default 1).</summary>
    public int Weight { get; init; } = 1;

    /// <summary><c>weight … reverse</c> (the FILE_CHECK's when it has a weight, else the track_file's).</summary>
    public bool WeightReverse { get; init; }

    /// <summary>The track_file's <c>init_file [VALUE]</c> (null: none).</summary>
    public long? InitFileValue { get; init; }

    /// <summary>The track_file's <c>init_file … overwrite</c>.</summary>
    public bool InitFileOverwrite { get; init; }
}
