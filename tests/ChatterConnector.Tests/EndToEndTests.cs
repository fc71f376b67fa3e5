using System.Management.Automation;

namespace ChatterConnector.Tests;

public class EndToEndTests
{
    private static Dictionary<string, object?> Vars(TempDir t) => new()
    {
        ["src"] = t.Sub("export"), ["mail"] = t.Sub("maildir"), ["store"] = t.Sub("store"),
    };

    [Fact]
    public void ArchivesEveryItemToEveryParticipantExactlyOnce_AndARerunAddsNothing()
    {
        using var t = new TempDir();
        SmallOrg.Write(t.Sub("export"));
        using var ps = new PSSession();
        var r = ps.Run("New-ChatterConnector -Name Contoso -SourcePath $src -MaildirPath $mail -StorePath $store | " +
                       "Set-ChatterUserMapping -Automatic -PassThru | Start-ChatterImport", Vars(t));
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        var run = (dynamic)Assert.Single(r.Output);
        Assert.Equal("Succeeded", run.Status.ToString());
        Assert.Equal(10, (int)run.ItemsAvailable);
        Assert.Equal(SmallOrg.ExpectedDeliveries - 1, (int)run.Imported);
        Assert.Equal(1, (int)run.PartiallyImported);
        Assert.Equal(2, (int)run.Unmapped);
        Assert.Contains(r.Warnings, w => w.Message.Contains("unmapped"));

        var archive = SmallOrg.ReadArchive(t.Sub("maildir"));
        Assert.Equal(SmallOrg.ExpectedByMailbox.Keys.OrderBy(k => k), archive.Keys.OrderBy(k => k));
        foreach (var (mailbox, keys) in SmallOrg.ExpectedByMailbox)
            Assert.Equal(keys.OrderBy(k => k), archive[mailbox].OrderBy(k => k));

        var again = ps.Run("Start-ChatterImport -Name Contoso -StorePath $store -Force", Vars(t));
        Assert.Empty(again.Errors);
        var second = (dynamic)Assert.Single(again.Output);
        Assert.Equal(0, (int)second.ItemsAvailable);
        Assert.Equal(0, (int)second.Imported + (int)second.PartiallyImported + (int)second.SkippedDuplicates);
        Assert.Equal(SmallOrg.ExpectedDeliveries, SmallOrg.ReadArchive(t.Sub("maildir")).Values.Sum(v => v.Count));
    }

    [Fact]
    public void ANewParticipantGetsTheThreadsEarlierItems()
    {
        using var t = new TempDir();
        SmallOrg.Write(t.Sub("export"));
        using var ps = new PSSession();
        ps.Run("New-ChatterConnector -Name C -SourcePath $src -MaildirPath $mail -StorePath $store | Set-ChatterUserMapping -Automatic -PassThru | Start-ChatterImport", Vars(t));
        SmallOrg.AddBobCommentOnP2(t.Sub("export"));
        var r = ps.Run("Start-ChatterImport -Name C -StorePath $store -Force", Vars(t));
        Assert.Empty(r.Errors);
        var run = (dynamic)Assert.Single(r.Output);
        Assert.Equal(1, (int)run.ItemsAvailable);
        var archive = SmallOrg.ReadArchive(t.Sub("maildir"));
        Assert.Contains(SmallOrg.P2, archive["bob@contoso.com"]);
        Assert.Contains(SmallOrg.C3, archive["bob@contoso.com"]);
        Assert.Contains(SmallOrg.C3, archive["zoe@fabrikam.com"]);
        Assert.Equal(SmallOrg.ExpectedDeliveries + 3, archive.Values.Sum(v => v.Count));
        Assert.All(archive.Values, keys => Assert.Equal(keys.Count, keys.Distinct().Count()));
    }

    [Fact]
    public void UnmappedDeliveriesAreDeliveredOnceTheMappingChanges()
    {
        using var t = new TempDir();
        SmallOrg.Write(t.Sub("export"));
        File.WriteAllText(t.Sub("map.csv"), $"SalesforceUser,Mailbox\r\ndan@contoso.sf,dan.archive@contoso.com\r\n");
        using var ps = new PSSession();
        ps.Run("New-ChatterConnector -Name C -SourcePath $src -MaildirPath $mail -StorePath $store | Set-ChatterUserMapping -Automatic -PassThru | Start-ChatterImport", Vars(t));
        var vars = Vars(t);
        vars["map"] = t.Sub("map.csv");
        var r = ps.Run("Set-ChatterUserMapping -Name C -StorePath $store -MappingFile $map -PassThru | Start-ChatterImport -Force", vars);
        Assert.Empty(r.Errors);
        var run = (dynamic)Assert.Single(r.Output);
        Assert.Equal(2, (int)run.Imported);
        Assert.Equal(new[] { SmallOrg.P3, SmallOrg.C2 }, SmallOrg.ReadArchive(t.Sub("maildir"))["dan.archive@contoso.com"].OrderBy(k => k));
    }

    [Fact]
    public void TheLogHasAnEntryPerDelivery_AndOutFileWritesItAsCsv()
    {
        using var t = new TempDir();
        SmallOrg.Write(t.Sub("export"));
        using var ps = new PSSession();
        var vars = Vars(t);
        vars["csv"] = t.Sub("log.csv");
        var r = ps.Run("New-ChatterConnector -Name C -SourcePath $src -MaildirPath $mail -StorePath $store | Set-ChatterUserMapping -Automatic -PassThru | " +
                       "Start-ChatterImport | Get-ChatterConnectorLog", vars);
        Assert.Empty(r.Errors);
        var entries = r.Output.Select(o => (dynamic)o.BaseObject).ToList();
        Assert.Equal(SmallOrg.ExpectedDeliveries + 2, entries.Count);
        var partial = Assert.Single(entries, e => e.Status.ToString() == "PartiallyImported");
        Assert.Equal(SmallOrg.P2, (string)partial.ItemId);
        Assert.Contains("missing", (string)partial.Reason);
        Assert.Equal(64, ((string)partial.Sha256).Length);
        Assert.Equal(2, entries.Count(e => e.Status.ToString() == "Unmapped"));

        ps.Run("Get-ChatterConnectorLog -Name C -StorePath $store -Status Unmapped -OutFile $csv", vars);
        var lines = File.ReadAllLines(t.Sub("log.csv"));
        Assert.StartsWith("Time,ConnectorName,RunId,ItemId", lines[0].TrimStart('\uFEFF'));
        Assert.Equal(3, lines.Length);
    }
}
