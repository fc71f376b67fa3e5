using System.Diagnostics;

namespace ChatterConnector.Tests;

/// <summary>Runs ChatterConnector.Shell as a child process, as the README's quickstart does.</summary>
public static class Shell
{
    public static string Dll
    {
        get
        {
            var config = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
            var dll = Path.Combine(Repo.Root, "src", "ChatterConnector.Shell", "bin", config, "net10.0", "ChatterConnector.Shell.dll");
            Assert.True(File.Exists(dll), "build the solution first: " + dll);
            return dll;
        }
    }

    public static (int Exit, string Out, string Err) Run(string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["CHATTERCONNECTOR_MODULE"] = Repo.ModuleManifest;
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) p.Kill(entireProcessTree: true);
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}

public class ShellTests
{
    [Fact]
    public void TheQuickstartArchivesASampleOrgAndPrintsTheRunAndTheLog()
    {
        using var t = new TempDir();
        var (exit, stdout, stderr) = Shell.Run(t.Path, "-File", Path.Combine(Repo.Root, "examples", "Quickstart.ps1"), "-Path", t.Sub("qs"));
        Assert.True(exit == 0, stderr);
        Assert.Contains("ConnectorName", stdout);          // the run, as a table
        Assert.Contains("Succeeded", stdout);
        Assert.Contains("Unmapped", stdout);               // the log's entries that need attention
        Assert.True(Directory.GetDirectories(t.Sub(Path.Combine("qs", "maildir"))).Length > 5);

        (exit, stdout, _) = Shell.Run(t.Path, "-File", Path.Combine(Repo.Root, "examples", "Quickstart.ps1"), "-Path", t.Sub("qs"));
        Assert.Equal(0, exit);
        Assert.Matches(@"Quickstart\s+Succeeded\s+0\s+0\s+0", stdout);   // nothing new, nothing delivered
    }

    [Fact]
    public void WhatIfPrintsThePlanAndChangesNothing()
    {
        using var t = new TempDir();
        SmallOrg.Write(t.Sub("export"));
        var setup = $"New-ChatterConnector -Name C -SourcePath '{t.Sub("export")}' -MaildirPath '{t.Sub("mail")}' -StorePath '{t.Sub("store")}' | Set-ChatterUserMapping -Automatic";
        Assert.Equal(0, Shell.Run(t.Path, "-Command", setup).Exit);
        var (exit, stdout, _) = Shell.Run(t.Path, "-Command", $"Start-ChatterImport -Name C -StorePath '{t.Sub("store")}' -WhatIf");
        Assert.Equal(0, exit);
        Assert.Contains("What if", stdout);
        Assert.Contains("10 new item(s)", stdout);
        Assert.False(Directory.Exists(t.Sub("mail")));
    }

    [Fact]
    public void AFailingScriptExitsNonZeroWithItsErrorIdOnStderr()
    {
        using var t = new TempDir();
        var (exit, _, stderr) = Shell.Run(t.Path, "-Command", $"Get-ChatterConnector -Name nope -StorePath '{t.Sub("store")}'");
        Assert.Equal(1, exit);
        Assert.Contains("ChatterConnector.NotFound", stderr);
    }
}
