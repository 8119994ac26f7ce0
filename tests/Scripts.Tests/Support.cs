using System.Diagnostics;
using Lb.TestSupport;

namespace Lb.Scripts.Tests;

/// <summary>Files and processes for the script tests: a root-owned temporary directory, chown through the chown command.</summary>
internal sealed class ScratchDirectory : IDisposable
{
    public ScratchDirectory()
    {
        Path = Directory.CreateTempSubdirectory("lb-scripts-").FullName;
        File.SetUnixFileMode(Path, (UnixFileMode)0b111_101_101);
    }

    public string Path { get; }

    /// <summary>A shell script that touches <paramref name="marker"/> (proof that it ran).</summary>
    public string Script(string relative, string body, UnixFileMode mode = (UnixFileMode)0b111_101_101)
    {
        var path = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, mode);
        return path;
    }

    public string Dir(string relative, UnixFileMode mode = (UnixFileMode)0b111_101_101)
    {
        var path = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    public static void Chown(string owner, string path) => ProcessRunner.Check("chown", "-h", owner, path);

    /// <summary>Kills a background child a test script left behind (its pid in <paramref name="pidFile"/>).</summary>
    public static void KillPidFile(string pidFile)
    {
        if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
        {
            try
            {
                using var p = Process.GetProcessById(pid);
                p.Kill();
            }
            catch (ArgumentException)
            {
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    public static bool IsGone(int pid) => !Directory.Exists($"/proc/{pid}") || File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2] == "Z";


    public void Dispose() => Directory.Delete(Path, recursive: true);
}
