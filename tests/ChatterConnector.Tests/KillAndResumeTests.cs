using System.Diagnostics;

namespace ChatterConnector.Tests;

/// <summary>
/// Imports run in a child process (ChatterConnector.Shell) that is killed at several points; the
/// next run must finish the job with every (item, mailbox) exactly once and nothing half-written.
/// </summary>
public class KillAndResumeTests
{
    private static Process StartImport(string store)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.ArgumentList.Add(Shell.Dll);
        psi.ArgumentList.Add("-NonInteractive");
        psi.ArgumentList.Add("-Command");
        psi.ArgumentList.Add($"$ProgressPreference = 'SilentlyContinue'; Start-ChatterImport -Name K -StorePath '{store}' -Force | Out-Null");
        psi.Environment["CHATTERCONNECTOR_MODULE"] = Repo.ModuleManifest;
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static int CountFiles(string dir, string pattern) =>
        Directory.Exists(dir) ? Directory.EnumerateFiles(dir, pattern, SearchOption.AllDirectories).Count() : 0;

    /// <summary>Starts an import and kills it once <paramref name="ready"/> holds; true when it was killed mid-run.</summary>
    private static bool KillWhen(string store, Func<bool> ready)
    {
        using var p = StartImport(store);
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!p.HasExited && DateTime.UtcNow < deadline)
        {
            if (ready())
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit();
                return true;
            }
            Thread.Sleep(20);
        }
        if (!p.HasExited) p.Kill(entireProcessTree: true);
        p.WaitForExit();
        return false;
    }

    [Fact]
    public void ARunKilledAtAnyPointIsFinishedByTheNextWithoutDuplicates()
    {
        using var t = new TempDir();
        var vars = new Dictionary<string, object?> { ["src"] = t.Sub("export"), ["mail"] = t.Sub("maildir"), ["store"] = t.Sub("store"), ["staging"] = t.Sub("staging") };
        using (var ps = new PSSession())
        {
            var r = ps.Run("New-ChatterSampleExport -Path $src -Users 60 -Posts 1500 -Seed 5 | Out-Null; " +
                           "New-ChatterConnector -Name K -SourcePath $src -MaildirPath $mail -StagingPath $staging -StorePath $store | Set-ChatterUserMapping -Automatic", vars);
            Assert.Empty(r.Errors);
        }

        var kills = 0;
        // While converting and staging, early in delivery, and later in delivery.
        if (KillWhen(t.Sub("store"), () => CountFiles(t.Sub("staging"), "*.eml") > 300)) kills++;
        if (KillWhen(t.Sub("store"), () => CountFiles(t.Sub("maildir"), "*") > 200)) kills++;
        if (KillWhen(t.Sub("store"), () => CountFiles(t.Sub("maildir"), "*") > 3000)) kills++;
        Assert.True(kills >= 2, $"only {kills} run(s) were killed mid-run");

        using var session = new PSSession();
        var final = session.Run("Start-ChatterImport -Name K -StorePath $store -Force", vars);
        Assert.Empty(final.Errors);
        Assert.Equal("Succeeded", ((dynamic)Assert.Single(final.Output)).Status.ToString());

        var expected = SmallOrg.ExpectedPairs(session, "K", vars);

        var archive = SmallOrg.ReadArchive(t.Sub("maildir"));
        var actual = archive.SelectMany(kv => kv.Value.Select(k => (k, kv.Key))).ToList();
        Assert.Equal(actual.Count, actual.Distinct().Count());
        Assert.Equal(expected.Count, actual.Count);
        Assert.True(expected.SetEquals(actual));

        // Nothing half-written is left in any Maildir, nor in staging.
        foreach (var mailbox in Directory.GetDirectories(t.Sub("maildir")))
            Assert.Empty(Directory.GetFiles(Path.Combine(mailbox, ".Salesforce Chatter", "tmp")));
        Assert.Equal(0, CountFiles(Path.Combine(t.Sub("staging"), "tmp"), "*"));

        var statuses = session.Run("Get-ChatterImportRun -Name K -StorePath $store | ForEach-Object { $_.Status.ToString() }", vars).Output.Select(o => o.ToString()).ToList();
        Assert.Equal(kills, statuses.Count(s => s == "Interrupted"));
        Assert.Equal("Succeeded", statuses[^1]);
    }
}
