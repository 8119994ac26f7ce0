namespace Lb.Netlink;

/// <summary>
/// A system call or kernel request failed with an errno. <see cref="ErrnoName"/> is the symbolic name
/// (EPERM, ENOENT, …); the message says what was being done and why it failed.
/// </summary>
public class ErrnoException : Exception
{
    public ErrnoException(string operation, int errno, string? hint = null)
        : base(FormatMessage(operation, errno, null, hint))
    {
        Operation = operation;
        Errno = Math.Abs(errno);
    }

    protected ErrnoException(string operation, int errno, string? detail, string? hint)
        : this(FormatMessage(operation, errno, detail, hint), operation, errno)
    {
    }

    /// <summary>For subclasses that phrase the whole message themselves.</summary>
    protected ErrnoException(string message, string operation, int errno)
        : base(message)
    {
        Operation = operation;
        Errno = Math.Abs(errno);
    }

    /// <summary>What was being done, naming the object (e.g. "add IPVS service TCP 10.0.0.1:80").</summary>
    public string Operation { get; }

    /// <summary>The positive errno value.</summary>
    public int Errno { get; }

    /// <summary>The symbolic errno name, e.g. <c>EPERM</c>.</summary>
    public string ErrnoName => Lb.Netlink.Errno.GetName(Errno);

    internal static string FormatMessage(string operation, int errno, string? detail, string? hint)
    {
        errno = Math.Abs(errno);
        var text = $"{operation} failed: {Lb.Netlink.Errno.GetName(errno)} ({Lb.Netlink.Errno.Describe(errno)})";
        if (!string.IsNullOrEmpty(detail))
            text += $": {detail}";
        hint ??= DefaultHint(errno);
        if (!string.IsNullOrEmpty(hint))
            text += $" — {hint}";
        return text;
    }

    private static string? DefaultHint(int errno) => errno switch
    {
        Lb.Netlink.Errno.EPERM or Lb.Netlink.Errno.EACCES => "this needs CAP_NET_ADMIN (run as root)",
        _ => null,
    };

    /// <summary>Throws for the calling thread's last P/Invoke error.</summary>
    internal static ErrnoException FromLastError(string operation) =>
        new(operation, System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
}

/// <summary>
/// The kernel rejected a netlink request (NLMSG_ERROR with a negative error), or a netlink socket
/// operation failed. Carries the kernel's extended-ACK message and attribute offset when it sent them.
/// </summary>
public class NetlinkException : ErrnoException
{
    protected NetlinkException(string message, string request, int errno)
        : base(message, request, errno)
    {
    }

    public NetlinkException(string request, int errno, string? kernelMessage = null, int? attributeOffset = null, string? hint = null)
        : base(request, errno, Detail(kernelMessage, attributeOffset), hint)
    {
        KernelMessage = kernelMessage;
        AttributeOffset = attributeOffset;
    }

    /// <summary>The extended-ACK text the kernel attached (NLMSGERR_ATTR_MSG), if any.</summary>
    public string? KernelMessage { get; }

    /// <summary>The byte offset of the offending attribute in the request (NLMSGERR_ATTR_OFFS), if any.</summary>
    public int? AttributeOffset { get; }

    private static string? Detail(string? message, int? offset)
    {
        if (string.IsNullOrEmpty(message) && offset is null)
            return null;
        var text = string.IsNullOrEmpty(message) ? "kernel says: (no message)" : $"kernel says: {message}";
        if (offset is int o)
            text += $" (at attribute offset {o})";
        return text;
    }
}

/// <summary>A generic netlink family is not registered in the running kernel (its module is not loaded or not built).</summary>
public class GenericNetlinkFamilyNotFoundException : NetlinkException
{
    public GenericNetlinkFamilyNotFoundException(string family, string? kernelMessage = null)
        : base($"resolve generic netlink family {family}", Lb.Netlink.Errno.ENOENT, kernelMessage)
    {
        Family = family;
    }

    protected GenericNetlinkFamilyNotFoundException(string family, string message, bool customMessage)
        : base(message, $"resolve generic netlink family {family}", Lb.Netlink.Errno.ENOENT)
    {
        Family = family;
        _ = customMessage;
    }

    public string Family { get; }
}

/// <summary>A netlink message or attribute is malformed (truncated, a length that lies, a payload of the wrong size).</summary>
public sealed class NetlinkFormatException : FormatException
{
    public NetlinkFormatException(string message)
        : base(message)
    {
    }
}
