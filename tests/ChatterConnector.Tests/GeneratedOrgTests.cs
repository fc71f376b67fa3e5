namespace ChatterConnector.Tests;

/// <summary>A generated org archived end to end: every expected (item, mailbox) pair exactly once.</summary>
public class GeneratedOrgTests
{
    [Fact]
    public void EveryItemReachesEveryMappedParticipantExactlyOnce()
    {
        using var t = new TempDir();
        using var ps = new PSSession();
        var vars = new Dictionary<string, object?> { ["src"] = t.Sub("export"), ["mail"] = t.Sub("maildir"), ["store"] = t.Sub("store") };
        var r = ps.Run("New-ChatterSampleExport -Path $src -Users 40 -Posts 300 -Seed 11 | Out-Null; " +
                       "New-ChatterConnector -Name Gen -SourcePath $src -MaildirPath $mail -StorePath $store | Set-ChatterUserMapping -Automatic -PassThru | Start-ChatterImport", vars);
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        var run = (dynamic)Assert.Single(r.Output);

        // The expectation comes from another path through the engine: Get-ChatterItem works out
        // each thread's participants in memory, the import from its ledger.
        var expected = SmallOrg.ExpectedPairs(ps, "Gen", vars);

        var archive = SmallOrg.ReadArchive(t.Sub("maildir"));
        var actual = archive.SelectMany(kv => kv.Value.Select(k => (k, kv.Key))).ToList();
        Assert.Equal(actual.Count, actual.Distinct().Count());
        Assert.Equal(expected.OrderBy(x => x), actual.OrderBy(x => x));
        Assert.Equal(expected.Count, (int)run.Imported + (int)run.PartiallyImported);
        Assert.True((int)run.PartiallyImported > 0, "the generated org lists a file whose bytes are missing");

        var again = ps.Run("Start-ChatterImport -Name Gen -StorePath $store -Force", vars);
        var second = (dynamic)Assert.Single(again.Output);
        Assert.Equal(0, (int)second.ItemsAvailable);
        Assert.Equal(0, (int)second.MessagesAfterFanout);
        Assert.Equal(actual.Count, SmallOrg.ReadArchive(t.Sub("maildir")).Values.Sum(v => v.Count));
    }
}
