namespace Lb.Vrrp.Scripts;

/// <summary>
/// <c>enable_script_security</c>: a script that would run as root is refused when the program or
/// any directory above it is writable by group or others. (keepalived also refuses paths owned by
/// a non-root user; .NET exposes no file owner without libc, so only the mode bits are checked.)
/// </summary>
public static class ScriptSecurity
{
    /// <summary>True when <paramref name="program"/> must not run as root; <paramref name="reason"/> says which path is writable.</summary>
    public static bool IsInsecure(string program, out string reason)
    {
        var path = Resolve(program);
        if (path is null)
        {
            reason = $"{program} not found";
            return true;
        }
        for (var p = path; !string.IsNullOrEmpty(p); p = Path.GetDirectoryName(p))
        {
            UnixFileMode mode;
            try
            {
                mode = File.GetUnixFileMode(p);
            }
            catch (IOException)
            {
                reason = $"{p} not accessible";
                return true;
            }
            catch (UnauthorizedAccessException)
            {
                reason = $"{p} not accessible";
                return true;
            }
            if ((mode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
            {
                reason = $"{p} is writable by non-root users";
                return true;
            }
            if (p == "/")
                break;
        }
        reason = "";
        return false;
    }

    /// <summary>True when a script for <paramref name="user"/> runs as root (no user given and Lb runs as root, or user root).</summary>
    public static bool RunsAsRoot(string? user) => user is null ? Environment.UserName == "root" : user == "root";

    private static string? Resolve(string program)
    {
        if (program.Contains('/', StringComparison.Ordinal))
            return File.Exists(program) ? Path.GetFullPath(program) : null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':'))
        {
            if (dir.Length == 0)
                continue;
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }
}
