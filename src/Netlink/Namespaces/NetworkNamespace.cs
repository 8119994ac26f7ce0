using Lb.Netlink.Interop;
using Microsoft.Win32.SafeHandles;

namespace Lb.Netlink.Namespaces;

/// <summary>
/// Runs code on a dedicated thread that has entered a network namespace and/or dropped its
/// capabilities. A netlink socket belongs to the namespace (and carries the credentials) of the
/// thread that creates it, so opening a client through here gives a client for that namespace while
/// every other thread of the process stays where it was. The thread ends when the code returns.
/// </summary>
public static class NetworkNamespace
{
    /// <summary>The path of a named namespace (<c>ip netns add NAME</c>): /var/run/netns/NAME.</summary>
    public static string PathOf(string name) => name.Contains('/', StringComparison.Ordinal) ? name : Path.Combine("/var/run/netns", name);

    /// <summary>Runs <paramref name="func"/> inside the network namespace <paramref name="nameOrPath"/>.</summary>
    public static T Run<T>(string nameOrPath, Func<T> func) => RunOnThread(nameOrPath, dropCapabilities: false, func);

    /// <summary>
    /// Runs <paramref name="func"/> on a thread without any effective capability (so, without CAP_NET_ADMIN),
    /// optionally inside a namespace. Used to check what an unprivileged caller is told.
    /// </summary>
    public static T RunWithoutCapabilities<T>(string? nameOrPath, Func<T> func) => RunOnThread(nameOrPath, dropCapabilities: true, func);

    private static T RunOnThread<T>(string? nameOrPath, bool dropCapabilities, Func<T> func)
    {
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                if (nameOrPath is not null)
                    Enter(PathOf(nameOrPath));
                if (dropCapabilities)
                    DropEffectiveCapabilities();
                result = func();
            }
            catch (Exception e)
            {
                error = e;
            }
        })
        {
            IsBackground = true,
            Name = nameOrPath is null ? "lb-nocaps" : $"lb-netns {nameOrPath}",
        };
        thread.Start();
        thread.Join();
        if (error is not null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
        return result;
    }

    private static void Enter(string path)
    {
        using SafeFileHandle fd = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        if (Libc.Setns(fd, Libc.CLONE_NEWNET) != 0)
            throw ErrnoException.FromLastError($"enter network namespace {path}");
    }

    private static unsafe void DropEffectiveCapabilities()
    {
        uint* header = stackalloc uint[2];
        uint* data = stackalloc uint[6];
        header[0] = Libc.LINUX_CAPABILITY_VERSION_3;
        header[1] = 0;
        if (Libc.Capget(header, data) != 0)
            throw ErrnoException.FromLastError("read thread capabilities");
        // data[0..2] = low 32 bits {effective, permitted, inheritable}; data[3..5] = high 32 bits.
        data[0] = 0;
        data[3] = 0;
        if (Libc.Capset(header, data) != 0)
            throw ErrnoException.FromLastError("drop thread capabilities");
    }
}
