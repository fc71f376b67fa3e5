using System.Reflection;

namespace ChatterConnector.IntegrationTests;

/// <summary>
/// The module beside other modules in one session: its libraries live in a load context of its own,
/// so another module's version of one of them, loaded first, changes nothing (DESIGN, section 9).
/// </summary>
public class ModuleIsolationTests
{
    private static string OldCsvHelper()
    {
        var root = typeof(ModuleIsolationTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "NuGetPackageRoot").Value!;
        var path = Path.Combine(root, "csvhelper", "27.1.1", "lib", "netstandard2.0", "CsvHelper.dll");
        Assert.True(File.Exists(path), path);
        return path;
    }

    [Fact]
    public void AnotherVersionOfALibraryLoadedFirst_DoesNotBreakTheModule()
    {
        using var t = new Scratch();
        var old = OldCsvHelper();
        // Another module's CsvHelper 27 in the session's own context, then ours: the import reads the export's CSV files with CsvHelper 33.
        var (exit, output, errors) = ModuleShell.Run(
            $"$old = [System.Reflection.Assembly]::LoadFrom('{old}'); " +
            "Import-Module $env:CHATTERCONNECTOR_MODULE -ErrorAction Stop; " +
            $"New-ChatterSampleExport -Path '{t.Sub("export")}' -Users 6 -Posts 10 -Seed 3 | Out-Null; " +
            $"$run = New-ChatterConnector -Name Beside -SourcePath '{t.Sub("export")}' -MaildirPath '{t.Sub("maildir")}' -StorePath '{t.Sub("store")}' | " +
            "Set-ChatterUserMapping -Automatic -PassThru | Start-ChatterImport -WarningAction SilentlyContinue; " +
            "$csv = [System.AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'CsvHelper' } | ForEach-Object { $_.GetName().Version.Major }; " +
            "'status=' + $run.Status; 'imported=' + $run.Imported; $v = [int[]]@($csv); [array]::Sort($v); 'versions=' + ($v -join ','); " +
            // the engine lives in the module's own load context, and its types still resolve by name
            "$engine = $run.GetType().Assembly; 'context=' + [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($engine).GetType().Name; " +
            "'type=' + ('ChatterConnector.Engine.Model.ChatterImportRun' -as [type]).FullName; 'modules=' + ((Get-Module).Name -join ',')",
            noModule: true);
        Assert.True(exit == 0, output + errors);
        Assert.Contains("status=Succeeded", output);
        Assert.DoesNotContain("imported=0", output);
        Assert.Contains("versions=27,33", output); // both, side by side
        Assert.Contains("context=DependencyLoadContext", output);
        Assert.Contains("type=ChatterConnector.Engine.Model.ChatterImportRun", output);
        Assert.Contains("modules=ChatterConnector" + Environment.NewLine, output); // one module, whatever it loads inside
    }

    [Fact]
    public void ImportedAgain_WithForceOrAfterRemoval_TheModuleKeepsEveryCommand()
    {
        using var t = new Scratch();
        // Pester files each import the module with -Force into one session; an admin may remove and import it again.
        var (exit, output, errors) = ModuleShell.Run(
            "Import-Module $env:CHATTERCONNECTOR_MODULE -ErrorAction Stop; 'first=' + @(Get-Command -Module ChatterConnector).Count; " +
            "Import-Module $env:CHATTERCONNECTOR_MODULE -Force -ErrorAction Stop; 'force=' + @(Get-Command -Module ChatterConnector).Count; " +
            "Remove-Module ChatterConnector; Import-Module $env:CHATTERCONNECTOR_MODULE -ErrorAction Stop; 'again=' + @(Get-Command -Module ChatterConnector).Count; " +
            $"'summary=' + (New-ChatterSampleExport -Path '{t.Sub("export")}' -Users 4 -Posts 4 -Seed 2).GetType().Name",
            noModule: true);
        Assert.True(exit == 0, output + errors);
        Assert.Contains("first=17", output);
        Assert.Contains("force=17", output);
        Assert.Contains("again=17", output);
        Assert.Contains("summary=SampleExportSummary", output);
    }
}
