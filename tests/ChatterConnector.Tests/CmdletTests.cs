using System.Management.Automation;

namespace ChatterConnector.Tests;

/// <summary>The cmdlets' contract: -WhatIf, error ids and targets, pipeline binding, output types.</summary>
public class CmdletTests
{
    private static Dictionary<string, object?> Vars(TempDir t) => new()
    {
        ["src"] = t.Sub("export"), ["mail"] = t.Sub("maildir"), ["store"] = t.Sub("store"),
    };

    private const string NewC = "New-ChatterConnector -Name C -SourcePath $src -MaildirPath $mail -StorePath $store";

    [Fact]
    public void WhatIfChangesNothing()
    {
        using var t = new TempDir();
        SmallOrg.Write(t.Sub("export"));
        using var ps = new PSSession();
        var r = ps.Run(NewC + " -WhatIf", Vars(t));
        Assert.Empty(r.Errors);
        Assert.False(Directory.Exists(t.Sub("store")), "-WhatIf creates no store");
        r = ps.Run("Get-ChatterConnector -StorePath $store", Vars(t));
        Assert.Empty(r.Output);
        Assert.Empty(r.Errors);

        ps.Run(NewC + " | Set-ChatterUserMapping -Automatic", Vars(t));
        r = ps.Run("Start-ChatterImport -Name C -StorePath $store -WhatIf; Get-ChatterImportRun -Name C -StorePath $store", Vars(t));
        Assert.Empty(r.Errors);
        Assert.Empty(r.Output);
        Assert.False(Directory.Exists(t.Sub("maildir")));

        r = ps.Run("Set-ChatterConnector -Name C -StorePath $store -Schedule 01:00:00 -WhatIf; (Get-ChatterConnector -Name C -StorePath $store).Schedule", Vars(t));
        Assert.Equal(TimeSpan.FromHours(24), r.Single<TimeSpan>());

        r = ps.Run("Remove-ChatterConnector -Name C -StorePath $store -WhatIf; Get-ChatterConnector -StorePath $store", Vars(t));
        Assert.Single(r.Output);
        r = ps.Run("Remove-ChatterConnector -Name C -StorePath $store -Confirm:$false; Get-ChatterConnector -StorePath $store", Vars(t));
        Assert.Empty(r.Output);
        Assert.Empty(r.Errors);
    }

    [Fact]
    public void ADuplicateNameIsAnErrorNamingTheConnector()
    {
        using var t = new TempDir();
        SmallOrg.Write(t.Sub("export"));
        using var ps = new PSSession();
        ps.Run(NewC, Vars(t));
        var r = ps.Run(NewC, Vars(t));
        var e = Assert.Single(r.Errors);
        Assert.Equal("ChatterConnector.NameExists,ChatterConnector.Commands.NewChatterConnectorCommand", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ResourceExists, e.CategoryInfo.Category);
        Assert.Equal("C", e.TargetObject);
    }

    [Fact]
    public void AMissingConnectorIsNotFound_AWildcardThatMatchesNothingIsNot()
    {
        using var t = new TempDir();
        using var ps = new PSSession();
        var r = ps.Run("Get-ChatterConnector -Name nope -StorePath $store", Vars(t));
        Assert.Equal("ChatterConnector.NotFound,ChatterConnector.Commands.GetChatterConnectorCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
        r = ps.Run("Get-ChatterConnector -Name no* -StorePath $store", Vars(t));
        Assert.Empty(r.Errors);
        r = ps.Run("Start-ChatterImport -Name nope -StorePath $store", Vars(t));
        Assert.Equal("ChatterConnector.NotFound,ChatterConnector.Commands.StartChatterImportCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void AMissingExportFolderFailsTheRunWithASpecificError()
    {
        using var t = new TempDir();
        using var ps = new PSSession();
        var r = ps.Run(NewC + " | Start-ChatterImport", Vars(t));
        Assert.Contains(r.Warnings, w => w.Message.Contains("does not exist"));
        var e = Assert.Single(r.Errors);
        Assert.Equal("ChatterSource.FolderNotFound,ChatterConnector.Commands.StartChatterImportCommand", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, e.CategoryInfo.Category);
        Assert.Equal(t.Sub("export"), e.TargetObject);
        Assert.Equal("Failed", ((dynamic)Assert.Single(r.Output)).Status.ToString());
        var run = (dynamic)Assert.Single(ps.Run("Get-ChatterImportRun -Name C -StorePath $store", Vars(t)).Output);
        Assert.Equal("Failed", run.Status.ToString());

        // A failed run leaves the connector due: the next scheduled start retries it, no -Force needed.
        SmallOrg.Write(t.Sub("export"));
        r = ps.Run("Get-ChatterConnector -StorePath $store | Start-ChatterImport", Vars(t));
        Assert.Empty(r.Errors);
        Assert.Equal("Succeeded", ((dynamic)Assert.Single(r.Output)).Status.ToString());
    }

    [Fact]
    public void AMalformedRowIsOneFailedItem_TheRestIsImported_AndTheNextRunRetriesIt()
    {
        using var t = new TempDir();
        SmallOrg.Write(t.Sub("export"));
        var feed = Path.Combine(t.Sub("export"), "FeedItem.csv");
        var good = File.ReadAllText(feed);
        File.WriteAllText(feed, good.Replace("2024-03-01T12:00:00.000+0000,,,1", "yesterday,,,1"));
        using var ps = new PSSession();
        var r = ps.Run(NewC + " | Set-ChatterUserMapping -Automatic -PassThru | Start-ChatterImport", Vars(t));
        var e = Assert.Single(r.Errors);
        Assert.Equal("ChatterSource.BadRow,ChatterConnector.Commands.StartChatterImportCommand", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidData, e.CategoryInfo.Category);
        Assert.Equal(SmallOrg.P3, (string)((dynamic)e.TargetObject).ItemId);
        Assert.Contains("CreatedDate 'yesterday'", e.Exception.Message);
        var run = (dynamic)Assert.Single(r.Output);
        Assert.Equal("CompletedWithErrors", run.Status.ToString());
        Assert.Equal(1, (int)run.Failed);
        Assert.DoesNotContain(SmallOrg.P3, SmallOrg.ReadArchive(t.Sub("maildir"))["ann.lee@contoso.com"]);

        File.WriteAllText(feed, good);
        r = ps.Run("Start-ChatterImport -Name C -StorePath $store -Force", Vars(t));
        Assert.Empty(r.Errors);
        Assert.Contains(SmallOrg.P3, SmallOrg.ReadArchive(t.Sub("maildir"))["ann.lee@contoso.com"]);
        Assert.Equal(SmallOrg.ExpectedDeliveries, SmallOrg.ReadArchive(t.Sub("maildir")).Values.Sum(v => v.Count));
    }

    [Fact]
    public void AMappingFileWithUnknownUsersAndBadAddressesReportsEachLine_AndKeepsTheGoodRules()
    {
        using var t = new TempDir();
        SmallOrg.Write(t.Sub("export"));
        File.WriteAllText(t.Sub("map.csv"), $"SalesforceUser,Mailbox\r\n{SmallOrg.Dan},dan@contoso.com\r\nghost@nowhere.sf,ghost@contoso.com\r\nbob@contoso.sf,not-an-address\r\n");
        using var ps = new PSSession();
        var vars = Vars(t);
        vars["map"] = t.Sub("map.csv");
        var r = ps.Run(NewC + " | Set-ChatterUserMapping -MappingFile $map -PassThru | Get-ChatterUserMapping", vars);
        Assert.Equal(new[] { "ChatterMapping.InvalidMailbox", "ChatterMapping.UnknownUser" },
            r.Errors.Select(e => e.FullyQualifiedErrorId.Split(',')[0]).OrderBy(x => x));
        Assert.Contains(r.Errors, e => (string)e.TargetObject == "map.csv:4");
        var entries = r.Output.Select(o => (dynamic)o.BaseObject).ToList();
        var dan = Assert.Single(entries, e => e.SalesforceUserId == SmallOrg.Dan);
        Assert.Equal("dan@contoso.com", (string)dan.Mailbox);
        Assert.Equal("File", dan.Source.ToString());
        var ann = Assert.Single(entries, e => e.SalesforceUserId == SmallOrg.Ann);
        Assert.Equal("Unmapped", ann.Source.ToString());

        r = ps.Run("Set-ChatterUserMapping -Name C -StorePath $store -Automatic -DefaultMailbox archive@contoso.com -PassThru | Get-ChatterUserMapping", vars);
        entries = r.Output.Select(o => (dynamic)o.BaseObject).ToList();
        Assert.Equal("Automatic", Assert.Single(entries, e => e.SalesforceUserId == SmallOrg.Ann).Source.ToString());
        Assert.Equal("File", Assert.Single(entries, e => e.SalesforceUserId == SmallOrg.Dan).Source.ToString());
    }

    [Fact]
    public void AcceptedDomainsSendOtherDomainsToTheDefaultMailbox()
    {
        using var t = new TempDir();
        SmallOrg.Write(t.Sub("export"));
        using var ps = new PSSession();
        var r = ps.Run(NewC + " -AcceptedDomain contoso.com | Set-ChatterUserMapping -Automatic -DefaultMailbox journal@contoso.com -PassThru | Start-ChatterImport", Vars(t));
        Assert.Empty(r.Errors);
        var archive = SmallOrg.ReadArchive(t.Sub("maildir"));
        Assert.False(archive.ContainsKey("zoe@fabrikam.com"));
        Assert.Contains(SmallOrg.P2, archive["journal@contoso.com"]);
        Assert.Contains(SmallOrg.P3, archive["journal@contoso.com"]);
    }

    [Fact]
    public void AStoreOnAPathThatCannotBeWrittenIsAClearError()
    {
        using var t = new TempDir();
        File.WriteAllText(t.Sub("afile"), "x");
        using var ps = new PSSession();
        var vars = Vars(t);
        vars["store"] = Path.Combine(t.Sub("afile"), "store");
        var r = ps.Run(NewC, vars);
        var e = Assert.Single(r.Errors);
        Assert.Equal("ChatterStore.NotWritable,ChatterConnector.Commands.NewChatterConnectorCommand", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.PermissionDenied, e.CategoryInfo.Category);
    }

    [Fact]
    public void ParametersBindFromPipelineProperties_LikeImportCsvRows()
    {
        using var t = new TempDir();
        SmallOrg.Write(t.Sub("export"));
        using var ps = new PSSession();
        var r = ps.Run(@"
            @([pscustomobject]@{ Name = 'contoso-eu'; SourcePath = $src; MaildirPath = $mail; Schedule = '01:00:00'; AcceptedDomain = 'contoso.com' },
              [pscustomobject]@{ Name = 'contoso-us'; SourcePath = $src; MaildirPath = $mail; Schedule = '02:00:00'; AcceptedDomain = 'contoso.com' }) |
                New-ChatterConnector -StorePath $store | Out-Null
            Get-ChatterConnector -Name contoso-* -StorePath $store | Set-ChatterConnector -Schedule 03:00:00 -PassThru", Vars(t));
        Assert.Empty(r.Errors);
        var all = r.Output.Select(o => (dynamic)o.BaseObject).ToList();
        Assert.Equal(2, all.Count);
        Assert.All(all, c => Assert.Equal(TimeSpan.FromHours(3), (TimeSpan)c.Schedule));
        Assert.All(all, c => Assert.Equal(new[] { "contoso.com" }, (string[])c.AcceptedDomain));
    }

    [Fact]
    public void ANotDueConnectorIsSkipped_ASuspendedOneWarns_ForceRunsBoth()
    {
        using var t = new TempDir();
        SmallOrg.Write(t.Sub("export"));
        using var ps = new PSSession();
        ps.Run(NewC + " | Set-ChatterUserMapping -Automatic -PassThru | Start-ChatterImport", Vars(t));
        var r = ps.Run("Get-ChatterConnector -StorePath $store | Start-ChatterImport", Vars(t));
        Assert.Empty(r.Output);
        r = ps.Run("Suspend-ChatterConnector -Name C -StorePath $store -PassThru | Start-ChatterImport -Force", Vars(t));
        Assert.Single(r.Output);
        r = ps.Run("Start-ChatterImport -Name C -StorePath $store", Vars(t));
        Assert.Contains(r.Warnings, w => w.Message.Contains("suspended"));
        Assert.Empty(r.Output);
        r = ps.Run("Resume-ChatterConnector -Name C -StorePath $store -PassThru", Vars(t));
        Assert.False((bool)((dynamic)r.Output[0].BaseObject).Suspended);
    }

    [Fact]
    public void ABusyConnectorIsANonTerminatingErrorAndThePipelineGoesOn()
    {
        using var t = new TempDir();
        SmallOrg.Write(t.Sub("export"));
        using var ps = new PSSession();
        ps.Run(NewC + "; New-ChatterConnector -Name D -SourcePath $src -MaildirPath $mail -StorePath $store", Vars(t));
        Directory.CreateDirectory(Path.Combine(t.Sub("store"), "locks"));
        using var held = new FileStream(Path.Combine(t.Sub("store"), "locks", "c.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        var r = ps.Run("Get-ChatterConnector -StorePath $store | Start-ChatterImport -Force", Vars(t));
        var e = Assert.Single(r.Errors);
        Assert.Equal("ChatterImport.ConnectorBusy,ChatterConnector.Commands.StartChatterImportCommand", e.FullyQualifiedErrorId);
        Assert.Equal("C", e.TargetObject);
        Assert.Equal("D", (string)((dynamic)Assert.Single(r.Output).BaseObject).ConnectorName);
    }

    [Fact]
    public void ItemsConvertAndExportAsEmlFiles()
    {
        using var t = new TempDir();
        SmallOrg.Write(t.Sub("export"));
        using var ps = new PSSession();
        var vars = Vars(t);
        vars["out"] = t.Sub("eml");
        var r = ps.Run("Get-ChatterItem -SourcePath $src -ItemType Post, Comment | ConvertTo-ChatterMessage | Export-ChatterMessage -Path $out", vars);
        Assert.Empty(r.Errors);
        var files = r.All<FileInfo>();
        Assert.Equal(6, files.Count);
        Assert.Contains(files, f => f.Name == SmallOrg.P1 + ".eml");
        var p1 = File.ReadAllText(Path.Combine(t.Sub("eml"), SmallOrg.P1 + ".eml"));
        Assert.Contains("X-Chatter-Id: " + SmallOrg.P1, p1);
        Assert.Contains("bob@contoso.com", p1);
        Assert.Contains("zoe@fabrikam.com", p1);

        r = ps.Run("Get-ChatterItem -SourcePath $src -Id " + SmallOrg.P1 + " | Export-ChatterMessage -Path $out", vars);
        Assert.Equal("ChatterExport.FileExists,ChatterConnector.Commands.ExportChatterMessageCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
    }

    [Theory]
    [InlineData("New-ChatterConnector", "ChatterConnectorInfo")]
    [InlineData("Get-ChatterConnector", "ChatterConnectorInfo")]
    [InlineData("Start-ChatterImport", "ChatterImportRun")]
    [InlineData("Get-ChatterImportRun", "ChatterImportRun")]
    [InlineData("Get-ChatterConnectorLog", "ChatterLogEntry")]
    [InlineData("Get-ChatterUserMapping", "ChatterUserMappingEntry")]
    [InlineData("Get-ChatterItem", "ChatterItem")]
    [InlineData("ConvertTo-ChatterMessage", "ChatterMessage")]
    [InlineData("Export-ChatterMessage", "FileInfo")]
    [InlineData("Test-ChatterConnector", "ChatterConnectorTestResult")]
    public void EveryCmdletDeclaresItsOutputType(string command, string type)
    {
        using var ps = new PSSession();
        var r = ps.Run($"(Get-Command {command}).OutputType | ForEach-Object {{ $_.Name }}");
        Assert.Contains(r.Output, o => o.ToString().EndsWith("." + type));
    }

    [Fact]
    public void TheActualOutputsAreTheDeclaredTypes()
    {
        using var t = new TempDir();
        SmallOrg.Write(t.Sub("export"));
        using var ps = new PSSession();
        var r = ps.Run(NewC + " | Set-ChatterUserMapping -Automatic -PassThru | Start-ChatterImport | ForEach-Object { $_.GetType().FullName }", Vars(t));
        Assert.Equal("ChatterConnector.Engine.Model.ChatterImportRun", Assert.Single(r.Output).ToString());
        r = ps.Run("Get-ChatterConnectorLog -Name C -StorePath $store | ForEach-Object { $_.GetType().FullName }", Vars(t));
        Assert.All(r.Output, o => Assert.Equal("ChatterConnector.Engine.Model.ChatterLogEntry", o.ToString()));
        r = ps.Run("Test-ChatterConnector -Name C -StorePath $store", Vars(t));
        Assert.Equal(3, r.Output.Count);
        Assert.All(r.Output, o => Assert.True((bool)((dynamic)o.BaseObject).Succeeded));
    }
}
