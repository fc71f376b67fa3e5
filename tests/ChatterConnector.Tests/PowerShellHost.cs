using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace ChatterConnector.Tests;

/// <summary>Finds the repository and the built module in out/ChatterConnector.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string ModuleManifest => Path.Combine(Root, "out", "ChatterConnector", "ChatterConnector.psd1");

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "ChatterConnector.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("ChatterConnector.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A temporary folder removed when the test ends.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cc-test-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>
/// A real PowerShell runspace with the built module imported from out/ChatterConnector by path,
/// as pwsh would: this project does not reference the module's assemblies.
/// </summary>
public sealed class PSSession : IDisposable
{
    private readonly Runspace _runspace;

    public PSSession(string? location = null)
    {
        var iss = InitialSessionState.CreateDefault2();
        _runspace = RunspaceFactory.CreateRunspace(iss);
        _runspace.Open();
        var r = Run($"Import-Module '{Repo.ModuleManifest}' -ErrorAction Stop; $ProgressPreference = 'SilentlyContinue'" +
                    (location != null ? $"; Set-Location -LiteralPath '{location}'" : ""));
        if (r.Errors.Count > 0) throw new InvalidOperationException("Import-Module failed: " + r.Errors[0]);
    }

    public sealed class Result
    {
        public Collection<PSObject> Output { get; init; } = new();
        public List<ErrorRecord> Errors { get; init; } = new();
        public List<WarningRecord> Warnings { get; init; } = new();
        public List<ProgressRecord> Progress { get; init; } = new();
        public Exception? Terminating { get; init; }

        public T Single<T>() => (T)Assert.Single(Output).BaseObject;
        public List<T> All<T>() => Output.Select(o => (T)o.BaseObject).ToList();
    }

    /// <summary>Runs a script; terminating errors are caught and returned, not thrown.</summary>
    public Result Run(string script, IDictionary<string, object?>? variables = null)
    {
        using var ps = PowerShell.Create();
        ps.Runspace = _runspace;
        if (variables != null)
            foreach (var kv in variables) _runspace.SessionStateProxy.SetVariable(kv.Key, kv.Value);
        ps.AddScript(script);
        Collection<PSObject> output = new();
        Exception? terminating = null;
        try { output = ps.Invoke(); }
        catch (RuntimeException ex) { terminating = ex; }
        return new Result
        {
            Output = output,
            Errors = ps.Streams.Error.ToList(),
            Warnings = ps.Streams.Warning.ToList(),
            Progress = ps.Streams.Progress.ToList(),
            Terminating = terminating,
        };
    }

    public void Dispose() => _runspace.Dispose();
}
