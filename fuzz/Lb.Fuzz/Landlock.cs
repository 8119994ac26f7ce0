using System.Runtime.InteropServices;

namespace Lb.Fuzz;

/// <summary>
/// Confines the fuzzing process's file access with Linux Landlock: after <see cref="Restrict"/>, files can be read and
/// written only beneath the given work directory, and read (for lazily loaded assemblies) beneath the .NET runtime and the
/// harness's own directory. An <c>include /etc/shadow</c>, <c>/dev/zero</c> or a FIFO elsewhere then fails with EACCES.
/// </summary>
internal static partial class Landlock
{
    private const long SysCreateRuleset = 444;
    private const long SysAddRule = 445;
    private const long SysRestrictSelf = 446;
    private const int PrSetNoNewPrivs = 38;
    private const int RulePathBeneath = 1;
    private const int OPath = 0x200000;
    private const int OCloexec = 0x80000;

    private const ulong WriteFile = 1 << 1, ReadFile = 1 << 2, ReadDir = 1 << 3, RemoveDir = 1 << 4, RemoveFile = 1 << 5,
        MakeChar = 1 << 6, MakeDir = 1 << 7, MakeReg = 1 << 8, MakeSock = 1 << 9, MakeFifo = 1 << 10, MakeBlock = 1 << 11,
        MakeSym = 1 << 12;

    private const ulong Read = ReadFile | ReadDir;
    private const ulong All = WriteFile | Read | RemoveDir | RemoveFile | MakeChar | MakeDir | MakeReg | MakeSock | MakeFifo | MakeBlock | MakeSym;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, nint a1, nint a2, nint a3, nint a4);

    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    private static partial int Prctl(int option, nint a2, nint a3, nint a4, nint a5);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    /// <summary>Restricts this process (and its future children) for good. Throws when the kernel lacks Landlock.</summary>
    public static unsafe void Restrict(string workDirectory, IEnumerable<string> readOnlyDirectories)
    {
        ulong handled = All;
        var ruleset = (int)Syscall(SysCreateRuleset, (nint)(&handled), sizeof(ulong), 0, 0);
        if (ruleset < 0)
            throw new InvalidOperationException($"landlock_create_ruleset failed: errno {Marshal.GetLastPInvokeError()} (Landlock is needed to keep include-fuzzing inside {workDirectory})");
        try
        {
            AddRule(ruleset, workDirectory, All);
            foreach (var dir in readOnlyDirectories.Distinct(StringComparer.Ordinal))
                AddRule(ruleset, dir, Read);
            if (Prctl(PrSetNoNewPrivs, 1, 0, 0, 0) != 0)
                throw new InvalidOperationException($"prctl(PR_SET_NO_NEW_PRIVS) failed: errno {Marshal.GetLastPInvokeError()}");
            if (Syscall(SysRestrictSelf, ruleset, 0, 0, 0) != 0)
                throw new InvalidOperationException($"landlock_restrict_self failed: errno {Marshal.GetLastPInvokeError()}");
        }
        finally
        {
            Close(ruleset);
        }
    }

    private static unsafe void AddRule(int ruleset, string directory, ulong access)
    {
        var fd = Open(directory, OPath | OCloexec);
        if (fd < 0)
            throw new InvalidOperationException($"open({directory}, O_PATH) failed: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            // struct landlock_path_beneath_attr { __u64 allowed_access; __s32 parent_fd; } __attribute__((packed))
            var attr = stackalloc byte[12];
            *(ulong*)attr = access;
            *(int*)(attr + 8) = fd;
            if (Syscall(SysAddRule, ruleset, RulePathBeneath, (nint)attr, 0) != 0)
                throw new InvalidOperationException($"landlock_add_rule({directory}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
        finally
        {
            Close(fd);
        }
    }
}
