namespace Lb.Checkers.Journal;

/// <summary>The durable journal of state changes. <see cref="AppendAsync"/> returns once the entry is on disk.</summary>
public interface IJournal
{
    /// <summary>Appends <paramref name="entry"/>; returns when it is durable (written and fsynced).</summary>
    ValueTask AppendAsync(JournalEntry entry, CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends <paramref name="entries"/> in order; returns when all are durable. A writer that can, makes them durable
    /// with one fsync (<see cref="JournalWriter"/>); the default appends them one by one.
    /// </summary>
    async ValueTask AppendBatchAsync(IReadOnlyList<JournalEntry> entries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        foreach (var entry in entries)
            await AppendAsync(entry, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>A journal that drops everything (for <c>lb -C</c> runs without a journal, and benchmarks).</summary>
public sealed class NullJournal : IJournal
{
    /// <summary>The instance.</summary>
    public static readonly NullJournal Instance = new();

    /// <inheritdoc/>
    public ValueTask AppendAsync(JournalEntry entry, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    /// <inheritdoc/>
    public ValueTask AppendBatchAsync(IReadOnlyList<JournalEntry> entries, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
}
