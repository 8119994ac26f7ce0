using System.Globalization;
using Lb.Checkers.Engine;
using Lb.Checkers.Options;
using Lb.Netlink.TrackFile;

namespace Lb.Checkers.Files;

/// <summary>
/// FILE_CHECK's probe: one poll of the tracked file through the shared reader (<see cref="TrackFileReader"/>, the one
/// the VRRP track_file uses: keepalived's parsing, at most one read in flight). The outcome is a success unless the
/// value puts the real server in fault; its <see cref="CheckOutcome.DynamicWeight"/> carries the weight adjustment
/// (value × weight, reversed) that the engine adds to the real server's weight, as keepalived's
/// <c>process_update_checker_track_file_status</c> does. A read that has not returned counts as an unreadable file
/// (0, as keepalived counts a file it cannot open); an out-of-range number keeps the previous value.
/// </summary>
internal sealed class FileCheck : ICheck
{
    private readonly FileCheckOptions _options;
    private readonly TrackFileReader _reader;
    private long _value;

    public FileCheck(FileCheckOptions options, long initialValue = 0)
    {
        _options = options;
        _value = initialValue;
        _reader = new TrackFileReader(options.Path, static (_, _) => { });
    }

    /// <summary>The value the outcome of <paramref name="value"/> is judged by (also used for the first read, before start-up).</summary>
    public static CheckOutcome Outcome(FileCheckOptions o, long value, string? note = null)
    {
        var status = TrackFileStatus.ForRealServer(value, o.Weight, o.WeightReverse);
        var reason = string.Create(CultureInfo.InvariantCulture, $"track_file {o.TrackFile} = {value}{note}");
        return status.Fault
            ? new CheckOutcome(false, reason + ": FAULT")
            : new CheckOutcome(true, reason, (int)Math.Clamp(status.Adjustment, int.MinValue + 1, int.MaxValue));
    }

    /// <inheritdoc/>
    public async ValueTask<CheckOutcome> ExecuteAsync(CancellationToken cancellationToken)
    {
        if (_reader.Poll() != TrackFilePoll.Started)
            return Outcome(_options, 0, $" (read of {_options.Path} has not returned: unreadable)");
        TrackFileRead read;
        try
        {
            read = await _reader.Current.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _reader.MarkStuck();
            return Outcome(_options, 0, $" (read of {_options.Path} has not returned: unreadable)");
        }
        if (read.Value is { } v)
        {
            _value = v;
            return Outcome(_options, v);
        }
        return Outcome(_options, _value, $" (invalid number {read.Invalid} read from {_options.Path} - ignoring)");
    }

    /// <inheritdoc/>
    public string TimeoutReason(TimeSpan timeout) => $"read of {_options.Path} has not returned";
}
