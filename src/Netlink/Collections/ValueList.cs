using System.Collections;
using System.Runtime.CompilerServices;

namespace Lb.Netlink.Collections;

/// <summary>
/// An immutable list compared by value (element by element, order matters), so records holding one compare equal when
/// re-built from the same configuration.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
[CollectionBuilder(typeof(ValueList), nameof(ValueList.Create))]
public sealed class ValueList<T> : IReadOnlyList<T>, IEquatable<ValueList<T>>
{
    private readonly T[] _items;

    /// <summary>The empty list.</summary>
    public static ValueList<T> Empty { get; } = new([]);

    private ValueList(T[] items) => _items = items;

    /// <summary>Wraps a copy of <paramref name="items"/>.</summary>
    public ValueList(IEnumerable<T> items) => _items = items.ToArray();

    /// <inheritdoc/>
    public T this[int index] => _items[index];

    /// <inheritdoc/>
    public int Count => _items.Length;

    /// <summary>The elements as a span.</summary>
    public ReadOnlySpan<T> AsSpan() => _items;

    /// <summary>A copy of the elements as an array.</summary>
    public T[] ToArray() => (T[])_items.Clone();

    /// <inheritdoc/>
    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

    /// <inheritdoc/>
    public bool Equals(ValueList<T>? other)
    {
        if (ReferenceEquals(this, other))
            return true;
        if (other is null || other._items.Length != _items.Length)
            return false;
        var cmp = EqualityComparer<T>.Default;
        for (var i = 0; i < _items.Length; i++)
        {
            if (!cmp.Equals(_items[i], other._items[i]))
                return false;
        }
        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ValueList<T>);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(_items.Length);
        foreach (var item in _items)
            h.Add(item);
        return h.ToHashCode();
    }

    /// <inheritdoc/>
    public override string ToString() => "[" + string.Join(", ", _items) + "]";

    /// <summary>Value equality.</summary>
    public static bool operator ==(ValueList<T>? a, ValueList<T>? b) => a is null ? b is null : a.Equals(b);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(ValueList<T>? a, ValueList<T>? b) => !(a == b);

    /// <summary>Copies a list.</summary>
    public static implicit operator ValueList<T>(List<T> items) => new(items.ToArray());

    /// <summary>Copies an array.</summary>
    public static implicit operator ValueList<T>(T[] items) => new((T[])items.Clone());

    internal static ValueList<T> Wrap(T[] items) => items.Length == 0 ? Empty : new(items);
}

/// <summary>Builds <see cref="ValueList{T}"/> (collection expressions).</summary>
public static class ValueList
{
    /// <summary>A list holding a copy of <paramref name="items"/>.</summary>
    public static ValueList<T> Create<T>(ReadOnlySpan<T> items) => ValueList<T>.Wrap(items.ToArray());

    /// <summary>A list holding <paramref name="items"/>.</summary>
    public static ValueList<T> ToValueList<T>(this IEnumerable<T> items) => ValueList<T>.Wrap(items.ToArray());
}
