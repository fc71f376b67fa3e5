using System.Diagnostics;

namespace ChatterConnector.IntegrationTests;

/// <summary>The module's shell (ChatterConnector.Shell, importing out/ChatterConnector) as a child process: an admin's prompt or a worker.</summary>
internal static class ModuleShell
{
    /// <summary>
    /// Starts a shell running <paramref name="command"/> with progress off and the given environment;
    /// with <paramref name="noModule"/> the command imports the module itself ($env:CHATTERCONNECTOR_MODULE).
    /// </summary>
    public static Process Start(string command, IDictionary<string, string>? environment = null, bool interactive = false, bool noModule = false)
    {
        var root = CmdletApiTests.RepoRoot();
        var config = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = interactive, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(root, "src", "ChatterConnector.Shell", "bin", config, "net10.0", "ChatterConnector.Shell.dll"));
        if (!interactive) psi.ArgumentList.Add("-NonInteractive");
        if (noModule) psi.ArgumentList.Add("-NoModule");
        psi.ArgumentList.Add("-Command");
        psi.ArgumentList.Add("$ProgressPreference = 'SilentlyContinue'; " + command);
        psi.Environment["CHATTERCONNECTOR_MODULE"] = Path.Combine(root, "out", "ChatterConnector", "ChatterConnector.psd1");
        if (environment != null)
            foreach (var kv in environment) psi.Environment[kv.Key] = kv.Value;
        return Process.Start(psi)!;
    }

    /// <summary>Runs <paramref name="command"/> to its end (at most two minutes).</summary>
    public static (int Exit, string Out, string Err) Run(string command, IDictionary<string, string>? environment = null, bool noModule = false)
    {
        using var p = Start(command, environment, noModule: noModule);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) p.Kill(entireProcessTree: true);
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs <paramref name="command"/> and kills it (the whole tree) once <paramref name="ready"/> holds; true when it was killed before it ended.</summary>
    public static bool KillWhen(string command, Func<bool> ready, IDictionary<string, string>? environment = null)
    {
        using var p = Start(command, environment);
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var killed = false;
        var until = DateTime.UtcNow.AddMinutes(2);
        while (!p.HasExited && DateTime.UtcNow < until)
        {
            if (ready()) { p.Kill(entireProcessTree: true); killed = true; break; }
            Thread.Sleep(10);
        }
        if (!p.HasExited) p.Kill(entireProcessTree: true);
        p.WaitForExit();
        return killed;
    }
}
