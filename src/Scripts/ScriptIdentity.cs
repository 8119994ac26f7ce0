using System.Globalization;

namespace Lb.Scripts;

/// <summary>The uid and gid a script runs as, and the names it was resolved from (for messages).</summary>
/// <param name="Uid">User id.</param>
/// <param name="Gid">Group id (also the only supplementary group, as keepalived sets it).</param>
/// <param name="User">User name as configured (or the default's).</param>
public sealed record ScriptIdentity(uint Uid, uint Gid, string User)
{
    /// <summary>The user keepalived runs scripts as when neither the script nor <c>script_user</c> names one, if it exists.</summary>
    public const string DefaultUser = "keepalived_script";

    /// <summary>Whether the script runs as root (user or group 0): then <c>enable_script_security</c> protects it.</summary>
    public bool IsPrivileged => Uid == 0 || Gid == 0;

    /// <summary>Lb's own identity.</summary>
    public static ScriptIdentity Current { get; } = new(CurrentIds().Uid, CurrentIds().Gid, Environment.UserName);

    /// <summary>
    /// keepalived's rule (lib/notify.c): a script's own <c>username [groupname]</c> wins, the group defaulting to the
    /// user's primary group; without it <c>script_user username [groupname]</c> (same default for the group); without
    /// that the user <c>keepalived_script</c> when it exists, else Lb's own uid and gid. A script's group is never taken
    /// from <c>script_user</c> when the script names its own user.
    /// </summary>
    /// <returns>null with <paramref name="error"/> when a named user or group does not exist.</returns>
    public static ScriptIdentity? Resolve(string? user, string? group, string? scriptUser, string? scriptGroup, out string? error)
    {
        if (user is not null)
            return Lookup(user, group, out error);
        if (scriptUser is not null)
            return Lookup(scriptUser, scriptGroup, out error);
        error = null;
        return Lookup(DefaultUser, null, out _) ?? Current;
    }

    /// <summary><paramref name="user"/> (name or number) with <paramref name="group"/> or the user's primary group.</summary>
    public static ScriptIdentity? Lookup(string user, string? group, out string? error)
    {
        ArgumentNullException.ThrowIfNull(user);
        var u = UserDatabase.User(user);
        if (u is null)
        {
            error = $"Script user '{user}' does not exist";
            return null;
        }
        var gid = u.Value.Gid;
        if (group is not null)
        {
            if (UserDatabase.Group(group) is not { } g)
            {
                error = $"Script group '{group}' does not exist";
                return null;
            }
            gid = g;
        }
        error = null;
        return new ScriptIdentity(u.Value.Uid, gid, user);
    }

    private static (uint Uid, uint Gid) CurrentIds()
    {
        // /proc/self/status: "Uid:\treal\teffective\tsaved\tfs" — the effective ids, without a libc call.
        uint uid = 0, gid = 0;
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("Uid:", StringComparison.Ordinal))
                    uid = Effective(line);
                else if (line.StartsWith("Gid:", StringComparison.Ordinal))
                    gid = Effective(line);
            }
        }
        catch (IOException)
        {
        }
        return (uid, gid);

        static uint Effective(string line)
        {
            var f = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            return f.Length > 2 && uint.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0;
        }
    }
}

/// <summary>Users and groups from /etc/passwd and /etc/group; a number stands for itself (keepalived uses getpwnam, which NSS usually serves from these files).</summary>
public static class UserDatabase
{
    /// <summary>The name of <paramref name="uid"/> in /etc/passwd, or the number as text.</summary>
    public static string UserName(uint uid)
    {
        var text = uid.ToString(CultureInfo.InvariantCulture);
        foreach (var line in ReadLines("/etc/passwd"))
        {
            var f = line.Split(':');
            if (f.Length >= 3 && f[2] == text)
                return f[0];
        }
        return text;
    }

    /// <summary>The uid and primary gid of <paramref name="user"/> (a name, or a number), or null.</summary>
    public static (uint Uid, uint Gid)? User(string user)
    {
        foreach (var line in ReadLines("/etc/passwd"))
        {
            var f = line.Split(':');
            if (f.Length >= 4 && f[0] == user && uint.TryParse(f[2], CultureInfo.InvariantCulture, out var uid) && uint.TryParse(f[3], CultureInfo.InvariantCulture, out var gid))
                return (uid, gid);
        }
        if (uint.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out var numeric))
        {
            foreach (var line in ReadLines("/etc/passwd"))
            {
                var f = line.Split(':');
                if (f.Length >= 4 && f[2] == user && uint.TryParse(f[3], CultureInfo.InvariantCulture, out var gid))
                    return (numeric, gid);
            }
            return (numeric, numeric);
        }
        return null;
    }

    /// <summary>The gid of <paramref name="group"/> (a name, or a number), or null.</summary>
    public static uint? Group(string group)
    {
        foreach (var line in ReadLines("/etc/group"))
        {
            var f = line.Split(':');
            if (f.Length >= 3 && f[0] == group && uint.TryParse(f[2], CultureInfo.InvariantCulture, out var gid))
                return gid;
        }
        return uint.TryParse(group, NumberStyles.None, CultureInfo.InvariantCulture, out var numeric) ? numeric : null;
    }

    private static IEnumerable<string> ReadLines(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllLines(path) : [];
        }
        catch (IOException)
        {
            return [];
        }
    }
}
