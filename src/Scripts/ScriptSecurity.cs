using Lb.Netlink.Platform;

namespace Lb.Scripts;

/// <summary>What <see cref="ScriptSecurity.Check"/> found (keepalived's SC_* flags).</summary>
[Flags]
public enum ScriptCheckFlags
{
    /// <summary>Nothing known.</summary>
    None = 0,

    /// <summary>A script file was found (counts for keepalived's SECURITY VIOLATION without <c>enable_script_security</c>).</summary>
    IsScript = 1,

    /// <summary>The file is executable by the script's uid/gid.</summary>
    Executable = 2,

    /// <summary>A <c>&lt;/path</c> file-openable test, not a program.</summary>
    System = 4,

    /// <summary>The file or a directory on its path is not root's or is writable by others.</summary>
    Insecure = 8,

    /// <summary>Must not run (insecure under <c>enable_script_security</c>, or a path component of the wrong type).</summary>
    Inhibit = 16,

    /// <summary>The program or a path component could not be found or accessed.</summary>
    NotFound = 32,
}

/// <summary>The verdict on one script, and the program path it runs (a bare name resolved through PATH, symlinks resolved).</summary>
/// <param name="Flags">What was found.</param>
/// <param name="Program">The path to execute (argv[0] after resolution); the configured name when not found.</param>
/// <param name="Messages">What keepalived logs about it, in order.</param>
public sealed record ScriptCheck(ScriptCheckFlags Flags, string Program, IReadOnlyList<string> Messages)
{
    /// <summary>keepalived disables the script (inhibited, not found, or not executable by its user).</summary>
    public bool Disabled => (Flags & (ScriptCheckFlags.Inhibit | ScriptCheckFlags.NotFound)) != 0
        || (Flags & (ScriptCheckFlags.Executable | ScriptCheckFlags.System)) == 0;
}

/// <summary>
/// keepalived's <c>check_script_secure</c> (lib/notify.c), one check for every script of both subsystems. A bare name is
/// looked up in PATH (default <see cref="DefaultPath"/>), the path's symbolic links are resolved, the file must be
/// executable by the script's uid/gid. When the script runs as root (uid or gid 0, or the file is setuid/setgid root),
/// every component of the path as given and of the resolved path is examined without following links: each must be owned
/// by root, and a regular file or a directory without the sticky bit must not be writable by others or by a non-root
/// group. A violation marks the script insecure, and under <c>enable_script_security</c> disables it.
/// </summary>
public static class ScriptSecurity
{
    /// <summary>keepalived's search path when PATH is unset (glibc's <c>_CS_PATH</c>).</summary>
    public const string DefaultPath = "/bin:/usr/bin";

    /// <summary>The PATH scripts are searched in.</summary>
    public static string SearchPath => Environment.GetEnvironmentVariable("PATH") is { Length: > 0 } p ? p : DefaultPath;

    /// <summary>Checks <paramref name="program"/> (argv[0]) as it would run for <paramref name="identity"/>.</summary>
    public static ScriptCheck Check(string program, ScriptIdentity identity, bool scriptSecurity)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(identity);
        var messages = new List<string>();
        if (program.Length > 1 && program[0] == '<' && program.AsSpan(1).TrimStart(" \t").StartsWith("/"))
            return new ScriptCheck(ScriptCheckFlags.System, program, messages);

        var path = program;
        if (!program.Contains('/', StringComparison.Ordinal))
        {
            var found = Search(program, identity, out var denied);
            if (found is null)
            {
                messages.Add(denied ? $"Permissions failure for script {program} in path - disabling" : $"Cannot find script {program} in path - disabling");
                return new ScriptCheck(ScriptCheckFlags.NotFound, program, messages);
            }
            messages.Add($"WARNING - script `{program}` resolved by path search to `{found}`. Please specify full path.");
            path = found;
        }

        var real = FileStatus.RealPath(path, out var why);
        if (real is null)
        {
            messages.Add($"Script {path} cannot be accessed - {why}");
            return new ScriptCheck(ScriptCheckFlags.NotFound, path, messages);
        }

        // Keep the configured file name when it is a link in the same directory as its target (programs may look at argv[0]).
        string? realFile = null;
        var run = real;
        if (path != real && Path.GetFileName(path) != Path.GetFileName(real))
        {
            var sameName = Path.Join(Path.GetDirectoryName(real), Path.GetFileName(path));
            var realOk = FileStatus.TryGet(real, true, out var rs, out _);
            var sameOk = FileStatus.TryGet(sameName, true, out var ss, out _);
            if (realOk && (!sameOk || rs.Device != ss.Device || rs.Inode != ss.Inode))
                run = real;
            else
            {
                run = sameName;
                realFile = real;
            }
        }

        if (!FileStatus.TryGet(realFile ?? run, true, out var file, out _))
        {
            messages.Add($"Unable to access script `{run}` - disabling");
            return new ScriptCheck(ScriptCheckFlags.NotFound, run, messages);
        }
        var flags = ScriptCheckFlags.IsScript;
        var needProtection = false;
        if (IsExecutable(file, identity.Uid, identity.Gid))
        {
            flags |= ScriptCheckFlags.Executable;
            var p = file.Permissions;
            needProtection = identity.IsPrivileged
                || (file.Uid == 0 && (p & UnixFileMode.UserExecute) != 0 && (p & UnixFileMode.SetUser) != 0)
                || (file.Gid == 0 && (p & UnixFileMode.GroupExecute) != 0 && (p & UnixFileMode.SetGroup) != 0);
        }
        else
            messages.Add($"WARNING - script '{run}' is not executable for uid:gid {identity.Uid}:{identity.Gid} - disabling.");

        if (needProtection)
        {
            flags |= PathComponents(run, scriptSecurity, messages);
            if (realFile is not null)
                flags |= PathComponents(realFile, scriptSecurity, messages);
        }
        return new ScriptCheck(flags, run, messages);
    }

    /// <summary>keepalived's <c>is_executable</c>: root needs any x bit; the owner the user bit; the group the group bit; others the other bit.</summary>
    public static bool IsExecutable(FileStatus file, uint uid, uint gid)
    {
        var p = file.Permissions;
        const UnixFileMode anyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        return (uid == 0 && (p & anyExecute) != 0)
            || (uid == file.Uid && (p & UnixFileMode.UserExecute) != 0)
            || (uid != file.Uid && ((gid == file.Gid && (p & UnixFileMode.GroupExecute) != 0) || (gid != file.Gid && (p & UnixFileMode.OtherExecute) != 0)));
    }

    /// <summary>keepalived's <c>check_security</c>: "/", then each prefix of <paramref name="path"/>, then the path, each with lstat.</summary>
    private static ScriptCheckFlags PathComponents(string path, bool scriptSecurity, List<string> messages)
    {
        var prefixes = new List<string>();
        for (var i = path.IndexOf('/', StringComparison.Ordinal); i >= 0; i = path.IndexOf('/', i + 1))
            prefixes.Add(i == 0 ? "/" : path[..i]);
        prefixes.Add(path);
        for (var n = 0; n < prefixes.Count; n++)
        {
            var last = n == prefixes.Count - 1;
            if (!FileStatus.TryGet(prefixes[n], false, out var st, out _))
            {
                messages.Add($"check_script_secure could not find script '{path}' - disabling");
                return ScriptCheckFlags.NotFound;
            }
            if ((!last && !st.IsDirectory) || (last && !st.IsRegularFile && !st.IsSymbolicLink))
            {
                messages.Add($"Wrong file type found in script path '{path}'.");
                return ScriptCheckFlags.Inhibit;
            }
            var p = st.Permissions;
            var writableMatters = (st.IsDirectory && (p & UnixFileMode.StickyBit) == 0) || st.IsRegularFile;
            var writable = (st.Gid != 0 && (p & UnixFileMode.GroupWrite) != 0) || (p & UnixFileMode.OtherWrite) != 0;
            if (st.Uid != 0 || (writableMatters && writable))
            {
                messages.Add($"Unsafe permissions found for script '{path}'{(scriptSecurity ? " - disabling" : "")}.");
                return ScriptCheckFlags.Insecure | (scriptSecurity ? ScriptCheckFlags.Inhibit : ScriptCheckFlags.None);
            }
        }
        return ScriptCheckFlags.None;
    }

    /// <summary>PATH search as execvp does it: the first regular file executable by the script's user.</summary>
    private static string? Search(string name, ScriptIdentity identity, out bool denied)
    {
        denied = false;
        foreach (var dir in SearchPath.Split(':'))
        {
            var candidate = dir.Length == 0 ? name : $"{dir.TrimEnd('/')}/{name}";
            if (!FileStatus.TryGet(candidate, true, out var st, out _))
                continue;
            if (st.IsRegularFile && IsExecutable(st, identity.Uid, identity.Gid))
                return candidate;
            denied = true;
        }
        return null;
    }
}
