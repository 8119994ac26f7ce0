using Microsoft.Extensions.Logging;

namespace Lb.TestSupport;

/// <summary>One entry a <see cref="ListLogger"/> kept: level, event id, category and the formatted message.</summary>
public sealed record LogEntry(LogLevel Level, int Id, string Category, string Text, Exception? Exception);

/// <summary>
/// The log capture of the test suites: a logger that keeps every formatted message, and a logger factory and provider
/// whose loggers all write into the same list (so one object can be passed where code wants an
/// <see cref="ILogger"/>, an <see cref="ILoggerFactory"/> or an <see cref="ILoggerProvider"/>). Thread-safe; every
/// reader returns a snapshot.
/// <code>
/// var logs = new ListLogger();                        // keeps every level
/// var logs = new ListLogger(LogLevel.Information);    // drops Debug and Trace
/// logs.Lines      // the messages, in order
/// logs.Info()     // the messages at Information and above
/// logs.Entries    // (Level, Id, Category, Text, Exception)
/// logs.Contains("Entering MASTER STATE")              // an exact line
/// </code>
/// </summary>
public sealed class ListLogger : ILogger, ILoggerFactory, ILoggerProvider
{
    private readonly List<LogEntry> _entries = new();
    private readonly LogLevel _minimum;
    private readonly string _category;
    private readonly ListLogger _owner;

    /// <summary>A capture that keeps messages at <paramref name="minimum"/> and above.</summary>
    public ListLogger(LogLevel minimum = LogLevel.Trace)
    {
        _minimum = minimum;
        _category = "";
        _owner = this;
    }

    private ListLogger(ListLogger owner, string category)
    {
        _minimum = owner._minimum;
        _category = category;
        _owner = owner;
    }

    /// <summary>Every entry kept, in order.</summary>
    public IReadOnlyList<LogEntry> Entries
    {
        get
        {
            lock (_owner._entries)
                return _owner._entries.ToList();
        }
    }

    /// <summary>Every message kept, in order.</summary>
    public IReadOnlyList<string> Lines => Entries.Select(e => e.Text).ToList();

    /// <summary>The messages at <see cref="LogLevel.Information"/> and above, in order.</summary>
    public List<string> Info() => Entries.Where(e => e.Level >= LogLevel.Information).Select(e => e.Text).ToList();

    /// <summary>Whether a message equals <paramref name="text"/>.</summary>
    public bool Contains(string text) => Entries.Any(e => e.Text == text);

    /// <summary>Forgets every entry.</summary>
    public void Clear()
    {
        lock (_owner._entries)
            _owner._entries.Clear();
    }

    public ILogger CreateLogger(string categoryName) => new ListLogger(_owner, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= _minimum;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
            return;
        var entry = new LogEntry(logLevel, eventId.Id, _category, formatter(state, exception), exception);
        lock (_owner._entries)
            _owner._entries.Add(entry);
    }
}
