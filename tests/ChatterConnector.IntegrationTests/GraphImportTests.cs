using ChatterConnector.Engine.Import;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources.Sample;
using ChatterConnector.Engine.State;
using ChatterConnector.Engine.Targets.Graph;
using ChatterConnector.Fakes;

namespace ChatterConnector.IntegrationTests;

/// <summary>Whole import runs into the fake Microsoft Graph through the real SDK.</summary>
public class GraphImportTests
{
    /// <summary>Short retry delays; the 150 MB per 5 minutes upload window is tested on its own, not waited out here.</summary>
    internal static readonly GraphTargetOptions Fast = new() { BaseDelay = TimeSpan.FromMilliseconds(20), MaxRetries = 10, UploadBytesPerWindow = long.MaxValue / 2 };

    /// <summary>An export-folder connector that delivers into the fake Graph, with every generated user given a mailbox.</summary>
    internal static (ChatterConnectorInfo Connector, SampleOrg Org) Setup(Scratch t, FakeGraph graph, ConnectorStore store, int users = 12, int posts = 30, int seed = 21)
    {
        var org = SampleOrgGenerator.Generate(new SampleOrgOptions { Users = users, Posts = posts, Seed = seed });
        org.WriteExport(t.Sub("export"));
        foreach (var u in org.Users.Where(u => u.Email.Length > 0)) graph.AddUser(u.Email);
        var secrets = SecretProtector.ForStore(store.StorePath);
        var c = new ChatterConnectorInfo
        {
            Name = "Graph", SourcePath = t.Sub("export"), AutomaticMapping = true, Created = DateTimeOffset.UtcNow, Modified = DateTimeOffset.UtcNow,
            StorePath = store.StorePath,
            Graph = new GraphSettings { AccessToken = secrets.Protect(graph.Options.AcceptedToken), Endpoint = graph.Url, TenantId = "contoso.com", ThrottleLimit = 8 },
        };
        store.AddConnector(c);
        return (c, org);
    }

    internal static ChatterImportRun Run(ConnectorStore store, ChatterConnectorInfo c) =>
        new ImportPipeline(store, c, graphOptions: Fast).Run();

    /// <summary>Every (item key, mailbox) pair created in the fake, from each message's internetMessageId.</summary>
    internal static List<(string Key, string Mailbox)> Created(FakeGraph graph) =>
        graph.Users.SelectMany(u => graph.Messages(u.Mail).Select(m => (Key(m.InternetMessageId!), u.Mail.ToLowerInvariant()))).ToList();

    private static string Key(string internetMessageId)
    {
        var v = internetMessageId.Trim('<', '>');
        return v[..v.LastIndexOf('@')];
    }

    [Fact]
    public void MessagesLandAsReceivedItemsWithTheirDatesClassHeadersAndThreading()
    {
        using var t = new Scratch();
        using var graph = FakeGraph.Start();
        using var store = ConnectorStore.Open(t.Sub("store"));
        var (c, _) = Setup(t, graph, store);
        var run = Run(store, c);
        Assert.Equal(ImportRunStatus.Succeeded, run.Status);
        var created = Created(graph);
        Assert.Equal(run.Imported + run.PartiallyImported, created.Count);
        Assert.Equal(created.Count, created.Distinct().Count());

        var all = graph.Users.SelectMany(u => graph.Messages(u.Mail)).ToList();
        Assert.All(all, m => Assert.False(m.IsDraft));
        Assert.All(all, m => Assert.Equal("Salesforce Chatter", m.FolderName));
        Assert.Contains(all, m => m.ExtendedProperties.TryGetValue("String 0x001A", out var v) && v == "IPM.ExternalData.Chatter.Post");
        Assert.Contains(all, m => m.ExtendedProperties.TryGetValue("String 0x001A", out var v) && v == "IPM.ExternalData.Chatter.Comment");
        Assert.All(all, m => Assert.True(m.ExtendedProperties.ContainsKey("SystemTime 0x0E06")));
        Assert.All(all, m => Assert.Contains("x-chatter-id", m.InternetMessageHeaders.Keys, StringComparer.OrdinalIgnoreCase));
        Assert.Contains(all, m => m.ExtendedProperties.ContainsKey("String 0x1042"));   // comments thread under their post
        Assert.True(graph.HighestConcurrencyAnyMailbox <= 4);

        // A second run delivers nothing.
        var again = Run(store, c);
        Assert.Equal(0, again.MessagesAfterFanout);
        Assert.Equal(created.Count, Created(graph).Count);
    }

    [Fact]
    public void WithInjectedThrottlingAndFailuresEveryMessageArrivesExactlyOnce_AndNoMailboxSeesAFifthRequest()
    {
        using var t = new Scratch();
        using var graph = FakeGraph.Start();
        using var store = ConnectorStore.Open(t.Sub("store"));
        var (c, _) = Setup(t, graph, store, users: 10, posts: 60);
        graph.Faults.Throttle429Rate = 0.1;
        graph.Faults.Fail503Rate = 0.05;
        graph.Faults.DropRate = 0.05;
        graph.Faults.RetryAfterSeconds = 0;
        graph.Faults.Latency = TimeSpan.FromMilliseconds(5);
        var run = Run(store, c);
        for (var i = 0; i < 5 && run.Failed > 0; i++)
            run = Run(store, c);    // what still failed is retried by the next run
        var created = Created(graph);
        Assert.Equal(created.Count, created.Distinct().Count());
        Assert.Equal(0, store.CountDeliveries("Graph", DeliveryStatus.Failed) + store.CountDeliveries("Graph", DeliveryStatus.Pending) + store.CountDeliveries("Graph", DeliveryStatus.InFlight));
        Assert.Equal(store.CountDeliveries("Graph", DeliveryStatus.Imported) + store.CountDeliveries("Graph", DeliveryStatus.PartiallyImported), created.Count);
        Assert.True(graph.HighestConcurrencyAnyMailbox <= 4, $"a mailbox saw {graph.HighestConcurrencyAnyMailbox} requests at once");
        if (Fast.BatchSize > 1) Assert.Contains(graph.Requests, r => r.InBatch); // the creates went through $batch (faults inside batches included)
    }

    [Fact]
    public void AnUnknownADisabledAndAMailboxlessUserAreClearAndTheRunGoesOn()
    {
        using var t = new Scratch();
        using var graph = FakeGraph.Start();
        using var store = ConnectorStore.Open(t.Sub("store"));
        var (c, org) = Setup(t, graph, store);
        var emails = org.Users.Where(u => u.Email.Length > 0).Select(u => u.Email).ToList();
        graph.Users.Single(u => u.Mail == emails[0]).HasMailbox = false;
        graph.Users.Single(u => u.Mail == emails[1]).Disabled = true;
        var run = Run(store, c);
        Assert.NotEqual(ImportRunStatus.Failed, run.Status);
        Assert.True(run.Imported > 0);
        var log = store.QueryLog("Graph", run.RunId, null, null).ToList();
        Assert.Contains(log, e => e.Status == DeliveryStatus.Unmapped && e.Reason!.Contains("no Exchange Online mailbox"));
        Assert.Contains(log, e => e.Status == DeliveryStatus.Failed && e.Mailbox == emails[1].ToLowerInvariant());
    }

    [Fact]
    public void AMissingPermissionFailsTheRunSayingWhatToGrant()
    {
        using var t = new Scratch();
        using var graph = FakeGraph.Start(new FakeGraphOptions { GrantedRoles = new() { "Mail.ReadWrite" } });
        using var store = ConnectorStore.Open(t.Sub("store"));
        var (c, _) = Setup(t, graph, store);
        var ex = Assert.Throws<Engine.ChatterException>(() => Run(store, c));
        Assert.Contains("User.Read.All", ex.Message);
    }
}

[Collection("Memory")]
public class GraphAttachmentTests
{
    [Fact]
    public void FilesOfEverySizeArriveByteForByte_AndOneOverExchangesLimitIsLeftOutAndNamed()
    {
        using var t = new Scratch();
        using var graph = FakeGraph.Start();
        var org = SampleOrgGenerator.Generate(new SampleOrgOptions { Users = 2, Posts = 0, Seed = 31 });
        var author = org.Users.First(u => u.Email.Length > 0);
        graph.AddUser(author.Email);
        var sizes = new Dictionary<string, long>
        {
            ["tiny.txt"] = 1024, ["three.bin"] = 3L * 1024 * 1024, ["forty.bin"] = 40L * 1024 * 1024,
            ["under-limit.bin"] = 149L * 1024 * 1024, ["over-limit.bin"] = 151L * 1024 * 1024,
        };
        var when = org.LatestTimestamp();
        foreach (var (name, size) in sizes)
        {
            when = when.AddMinutes(1);
            org.AddPost(author.Id, author.Id, "a file: " + name, when, fileName: name, fileSize: size);
        }
        org.WriteExport(t.Sub("export"));
        var hashes = org.ContentVersions.ToDictionary(v => v.PathOnClient, v =>
        {
            using var s = org.OpenFileContent(v.Id);
            return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(s)).ToLowerInvariant();
        });

        using var store = ConnectorStore.Open(t.Sub("store"));
        var secrets = SecretProtector.ForStore(store.StorePath);
        var c = new ChatterConnectorInfo
        {
            Name = "Graph", SourcePath = t.Sub("export"), AutomaticMapping = true, StorePath = store.StorePath,
            Graph = new GraphSettings { AccessToken = secrets.Protect(graph.Options.AcceptedToken), Endpoint = graph.Url, TenantId = "contoso.com" },
        };
        store.AddConnector(c);
        var run = GraphImportTests.Run(store, c);
        Assert.Equal(ImportRunStatus.Succeeded, run.Status);
        Assert.Equal(1, run.PartiallyImported);

        // The posts with the files (the sample org also has a few private messages).
        var messages = graph.Messages(author.Email).Where(m => m.InternetMessageId!.StartsWith("<0D5", StringComparison.Ordinal)).ToList();
        Assert.Equal(sizes.Count, messages.Count);
        foreach (var (name, size) in sizes.Where(s => s.Key != "over-limit.bin"))
        {
            var a = messages.SelectMany(m => m.Attachments).Single(x => x.Name == name);
            Assert.Equal(size, a.Length);
            Assert.Equal(hashes[name], a.Sha256.ToLowerInvariant());
        }
        Assert.DoesNotContain(messages.SelectMany(m => m.Attachments), a => a.Name == "over-limit.bin");
        var partial = store.QueryLog("Graph", run.RunId, new[] { DeliveryStatus.PartiallyImported }, null).Single();
        Assert.Contains("over-limit.bin", partial.Reason);
    }
}

public class GraphAccessCheckTests
{
    private static GraphTarget Target(FakeGraph graph, Scratch t)
    {
        var secrets = SecretProtector.ForStore(t.Sub("store"));
        return new GraphTarget(new GraphSettings { AccessToken = secrets.Protect(graph.Options.AcceptedToken), Endpoint = graph.Url, TenantId = "contoso.com" },
            secrets, "Salesforce Chatter", GraphImportTests.Fast);
    }

    [Fact]
    public void TheChecksSayWhatToGrant()
    {
        using var t = new Scratch();
        using (var graph = FakeGraph.Start(new FakeGraphOptions { GrantedRoles = new() { "Mail.ReadWrite" } }))
        using (var target = Target(graph, t))
        {
            var check = Assert.Single(target.CheckAccess("a@contoso.com", CancellationToken.None));
            Assert.False(check.Succeeded);
            Assert.Contains("User.Read.All", check.Message);
        }
        using (var graph = FakeGraph.Start())
        using (var target = Target(graph, t))
        {
            graph.AddUser("ok@contoso.com");
            graph.AddUser("off@contoso.com").Disabled = true;
            Assert.All(target.CheckAccess("ok@contoso.com", CancellationToken.None), c => Assert.True(c.Succeeded, c.Message));
            var mailbox = target.CheckAccess("off@contoso.com", CancellationToken.None).Last();
            Assert.False(mailbox.Succeeded);
            Assert.Contains("access policy", mailbox.Message);
            Assert.Empty(graph.Messages("ok@contoso.com"));   // checking creates nothing
        }
    }
}

public class GraphRecoveryTests
{
    [Fact]
    public void AMessageAStoppedRunLeftWithoutItsFilesIsReplaced_ACompleteOneIsKept()
    {
        using var t = new Scratch();
        using var graph = FakeGraph.Start();
        graph.AddUser("ann@contoso.com");
        var secrets = SecretProtector.ForStore(t.Sub("store"));
        using var target = new GraphTarget(new GraphSettings { AccessToken = secrets.Protect(graph.Options.AcceptedToken), Endpoint = graph.Url, TenantId = "contoso.com" },
            secrets, "Salesforce Chatter", GraphImportTests.Fast);

        // A post with a file, converted and staged as an import does it.
        File.WriteAllBytes(t.Sub("report.pdf"), Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray());
        var ann = new ChatterUser { Id = "005000000000001AAA", Name = "Ann Lee", Email = "ann@contoso.com" };
        var item = new ChatterItem
        {
            Key = "0D5000000000001AAA", Id = "0D5000000000001AAA", ThreadId = "0D5000000000001AAA", ItemType = ChatterItemType.Post, AuthorId = ann.Id, Author = ann,
            CreatedDate = new DateTimeOffset(2024, 3, 1, 10, 0, 0, TimeSpan.Zero), Body = "the report", Participants = new() { ann },
            Files = new() { new ChatterFile { Id = "068000000000001AAA", PathOnClient = "report.pdf", ContentPath = t.Sub("report.pdf"), ContentSize = 5000 } },
        };
        var converted = new Engine.Conversion.MessageConverter().Convert(item);
        var staged = new Engine.Staging.LocalStaging(t.Sub("staging")).Stage(converted);
        var outgoing = new Engine.Targets.OutgoingMessage { ItemKey = item.Key, ItemType = item.ItemType, MessageId = converted.MessageId, StagedPath = staged.Path, Size = staged.Size };

        // What a stopped run left: the message created in the archive folder, its file never added.
        using (var http = new HttpClient())
        {
            http.DefaultRequestHeaders.Authorization = new("Bearer", graph.Options.AcceptedToken);
            var folder = System.Text.Json.JsonDocument.Parse(http.PostAsync($"{graph.Url}/v1.0/users/ann@contoso.com/mailFolders/inbox/childFolders",
                new StringContent("{\"displayName\":\"Salesforce Chatter\"}", System.Text.Encoding.UTF8, "application/json")).Result.Content.ReadAsStringAsync().Result).RootElement.GetProperty("id").GetString();
            var body = "{\"subject\":\"the report\",\"internetMessageId\":\"<" + converted.MessageId + ">\"," +
                       "\"singleValueExtendedProperties\":[{\"id\":\"Integer 0x0E07\",\"value\":\"1\"}]}";
            Assert.True(http.PostAsync($"{graph.Url}/v1.0/users/ann@contoso.com/mailFolders/{folder}/messages",
                new StringContent(body, System.Text.Encoding.UTF8, "application/json")).Result.IsSuccessStatusCode);
        }
        Assert.Empty(graph.Messages("ann@contoso.com").Single().Attachments);

        var resumed = target.DeliverAsync("ann@contoso.com", outgoing, checkFirst: true, CancellationToken.None).GetAwaiter().GetResult();
        Assert.Equal(Engine.Targets.DeliveryOutcome.Delivered, resumed.Outcome);
        var now = Assert.Single(graph.Messages("ann@contoso.com"));
        Assert.Equal("report.pdf", Assert.Single(now.Attachments).Name);

        var again = target.DeliverAsync("ann@contoso.com", outgoing, checkFirst: true, CancellationToken.None).GetAwaiter().GetResult();
        Assert.Equal(Engine.Targets.DeliveryOutcome.AlreadyPresent, again.Outcome);
        Assert.Single(graph.Messages("ann@contoso.com"));
    }
}
