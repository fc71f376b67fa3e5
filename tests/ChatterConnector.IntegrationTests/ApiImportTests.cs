using ChatterConnector.Engine.Import;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources;
using ChatterConnector.Engine.Sources.Sample;
using ChatterConnector.Engine.State;
using ChatterConnector.Fakes;

namespace ChatterConnector.IntegrationTests;

/// <summary>Whole import runs reading the fake org through the REST API.</summary>
public class ApiImportTests
{
    /// <summary>The (item, mailbox) pairs in a Maildir archive, from each file's Message-ID.</summary>
    internal static List<(string Key, string Mailbox)> Archive(string maildir)
    {
        var pairs = new List<(string, string)>();
        if (!Directory.Exists(maildir)) return pairs;
        foreach (var mailbox in Directory.GetDirectories(maildir))
            foreach (var file in Directory.GetFiles(Path.Combine(mailbox, ".Salesforce Chatter", "cur")))
            {
                var id = File.ReadLines(file).First(l => l.StartsWith("Message-ID:", StringComparison.OrdinalIgnoreCase));
                var v = id[(id.IndexOf(':') + 1)..].Trim().Trim('<', '>');
                pairs.Add((v[..v.LastIndexOf('@')], Path.GetFileName(mailbox)));
            }
        return pairs;
    }

    private static ChatterImportRun Run(ConnectorStore store, ChatterConnectorInfo c) =>
        new ImportPipeline(store, c, clientOptions: ApiSourceTests.Fast).Run();

    [Fact]
    public void ANoChangeRunMakesAFewCallsWhateverTheOrgsSize_AndAnIncrementalRunReadsOnlyTheNewRow()
    {
        var calls = new List<int>();
        foreach (var posts in new[] { 40, 400 })
        {
            using var t = new Scratch();
            var org = SampleOrgGenerator.Generate(new SampleOrgOptions { Users = 20, Posts = posts, Seed = 4 });
            using var fake = FakeSalesforce.Start(org, new FakeSalesforceOptions { PageSize = 200 });
            using var store = ConnectorStore.Open(t.Sub("store"));
            var c = ApiSourceTests.ApiConnector(fake, t, SecretProtector.ForStore(store.StorePath));
            store.AddConnector(c);
            var first = Run(store, c);
            Assert.Equal(ImportRunStatus.Succeeded, first.Status);
            Assert.Equal(fake.ApiCalls, first.ApiCalls);

            var before = fake.ApiCalls;
            var unchanged = Run(store, c);
            Assert.Equal(0, unchanged.ItemsAvailable);
            Assert.Equal(fake.ApiCalls - before, unchanged.ApiCalls);
            calls.Add(unchanged.ApiCalls);

            org.AddComment(org.FeedItems[1].Id, org.Users[2].Id, "a new comment", org.LatestTimestamp().AddMinutes(5));
            var incremental = Run(store, c);
            Assert.Equal(1, incremental.ItemsAvailable);
            Assert.True(incremental.ApiCalls <= unchanged.ApiCalls + 3, $"{incremental.ApiCalls} calls for one new comment");
        }
        Assert.Equal(calls[0], calls[1]);
    }

    [Fact]
    public void ARunStoppedByTheDailyLimitIsResumedLaterAndDeliversEverythingExactlyOnce()
    {
        using var t = new Scratch();
        var org = SampleOrgGenerator.Generate(new SampleOrgOptions { Users = 20, Posts = 80, Seed = 6 });
        org.WriteExport(t.Sub("export"));
        using var fake = FakeSalesforce.Start(org, new FakeSalesforceOptions { PageSize = 50 });
        using var store = ConnectorStore.Open(t.Sub("store"));
        var c = ApiSourceTests.ApiConnector(fake, t, SecretProtector.ForStore(store.StorePath));
        store.AddConnector(c);

        fake.Faults.RequestLimitAfterCalls = fake.ApiCalls + 12;
        var stopped = Run(store, c);
        Assert.Equal(ImportRunStatus.Stopped, stopped.Status);
        Assert.Contains("limit", stopped.Message, StringComparison.OrdinalIgnoreCase);

        fake.Faults.RequestLimitAfterCalls = -1;
        var resumed = Run(store, c);
        Assert.Equal(ImportRunStatus.Succeeded, resumed.Status);

        // What the same org's export would archive, through the export source.
        using var exportStore = ConnectorStore.Open(t.Sub("store-export"));
        var e = new ChatterConnectorInfo { Name = "Export", SourcePath = t.Sub("export"), InstanceUrl = fake.Url, MaildirPath = t.Sub("maildir-export"), AutomaticMapping = true };
        exportStore.AddConnector(e);
        new ImportPipeline(exportStore, e).Run();

        var api = Archive(t.Sub("maildir"));
        Assert.Equal(api.Count, api.Distinct().Count());
        Assert.Equal(Archive(t.Sub("maildir-export")).OrderBy(x => x), api.OrderBy(x => x));
    }

    [Fact]
    public void ARunStopsCleanlyOnceTheOrgsDailyUsagePassesTheConfiguredShare()
    {
        using var t = new Scratch();
        using var fake = FakeSalesforce.Start(SampleOrgGenerator.Generate(new SampleOrgOptions { Users = 10, Posts = 10 }),
            new FakeSalesforceOptions { DailyApiLimit = 1000, ApiUsageAtStart = 850 });
        using var store = ConnectorStore.Open(t.Sub("store"));
        var c = ApiSourceTests.ApiConnector(fake, t, SecretProtector.ForStore(store.StorePath));
        store.AddConnector(c);
        var run = Run(store, c);
        Assert.Equal(ImportRunStatus.Stopped, run.Status);
        Assert.True(run.ApiCalls <= 2);
        Assert.Null(store.GetCheckpoint("Api", "watermark.FeedItem"));
    }
}

/// <summary>Measures allocations, so it runs alone.</summary>
[CollectionDefinition("Memory", DisableParallelization = true)]
public class MemoryCollection { }

[Collection("Memory")]
public class LargeFileTests
{
    [Fact]
    public void A200MegabyteFileReachesStagingAndTheMailboxWithFlatMemory()
    {
        using var t = new Scratch();
        var org = SampleOrgGenerator.Generate(new SampleOrgOptions { Users = 3, Posts = 2, Seed = 8 });
        org.AddPost(org.Users[0].Id, org.Users[0].Id, "the big one", org.LatestTimestamp().AddMinutes(1), fileName: "big.bin", fileSize: 200L * 1024 * 1024);
        using var fake = FakeSalesforce.Start(org);
        using var store = ConnectorStore.Open(t.Sub("store"));
        var c = ApiSourceTests.ApiConnector(fake, t, SecretProtector.ForStore(store.StorePath));
        store.AddConnector(c);

        GC.Collect();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var run = new ImportPipeline(store, c, clientOptions: ApiSourceTests.Fast).Run();
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;

        Assert.Equal(ImportRunStatus.Succeeded, run.Status);
        var staged = Directory.GetFiles(Path.Combine(t.Sub("store"), "staging"), "*.eml", SearchOption.AllDirectories).Max(f => new FileInfo(f).Length);
        Assert.True(staged > 200L * 1024 * 1024 * 4 / 3, $"the largest staged message has {staged} bytes");
        // The server's side of the copy runs in this process too; both stream in small buffers.
        Assert.True(allocated < 150L * 1024 * 1024, $"{allocated / 1048576} MB allocated for a 200 MB file");
    }
}

public class ApiPlanTests
{
    [Fact]
    public void WhatIfCountsTheNewItemsWithoutDownloadingFilesOrChangingAnything()
    {
        using var t = new Scratch();
        var org = SampleOrgGenerator.Generate(new SampleOrgOptions { Users = 10, Posts = 60, Seed = 2 });
        using var fake = FakeSalesforce.Start(org);
        using var store = ConnectorStore.Open(t.Sub("store"));
        var c = ApiSourceTests.ApiConnector(fake, t, SecretProtector.ForStore(store.StorePath));
        store.AddConnector(c);
        var plan = new ImportPipeline(store, c, clientOptions: ApiSourceTests.Fast).Plan();
        Assert.True(plan.NewItems > 60);
        Assert.DoesNotContain(fake.Requests, r => r.Path.EndsWith("/VersionData"));
        Assert.Empty(store.GetRuns("Api"));
        Assert.False(Directory.Exists(t.Sub("maildir")));
    }
}
