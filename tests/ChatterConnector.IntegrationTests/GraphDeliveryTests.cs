using System.Diagnostics;
using ChatterConnector.Engine.Conversion;
using ChatterConnector.Engine.Import;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Staging;
using ChatterConnector.Engine.State;
using ChatterConnector.Engine.Targets;
using ChatterConnector.Engine.Targets.Graph;
using ChatterConnector.Fakes;

namespace ChatterConnector.IntegrationTests;

/// <summary>The Graph target delivering staged messages straight into the fake: the requests it makes, and a message sent to many mailboxes.</summary>
public class GraphDeliveryTests
{
    private static readonly ChatterUser Ann = new() { Id = "005000000000001AAA", Name = "Ann Lee", Email = "ann@contoso.com" };

    private static GraphTarget Target(Scratch t, FakeGraph graph, GraphTargetOptions? options = null)
    {
        var secrets = SecretProtector.ForStore(t.Sub("store"));
        return new GraphTarget(new GraphSettings { AccessToken = secrets.Protect(graph.Options.AcceptedToken), Endpoint = graph.Url, TenantId = "contoso.com", ThrottleLimit = 8 },
            secrets, "Salesforce Chatter", options ?? GraphImportTests.Fast);
    }

    /// <summary>A post converted and staged as an import does it.</summary>
    private static OutgoingMessage Stage(Scratch t, int n, string? body = null)
    {
        var id = "0D5" + n.ToString("D15");
        var item = new ChatterItem
        {
            Key = id, Id = id, ThreadId = id, ItemType = ChatterItemType.Post, FeedType = "TextPost", AuthorId = Ann.Id, Author = Ann,
            CreatedDate = new DateTimeOffset(2024, 3, 1, 10, 0, 0, TimeSpan.Zero).AddMinutes(n), Body = body ?? "Post number " + n,
            Participants = new List<ChatterUser> { Ann },
        };
        var message = new MessageConverter().Convert(item);
        var staged = new LocalStaging(t.Sub("staging")).Stage(message);
        return new OutgoingMessage { ItemKey = id, ItemType = ChatterItemType.Post, MessageId = message.MessageId, StagedPath = staged.Path, Size = staged.Size };
    }

    private static void DeliverAll(GraphTarget target, IEnumerable<(string Mailbox, OutgoingMessage Message)> work)
    {
        var results = Task.WhenAll(work.Select(w => Task.Run(() => target.DeliverAsync(w.Mailbox, w.Message, checkFirst: false, CancellationToken.None)))).GetAwaiter().GetResult();
        Assert.All(results, r => Assert.Equal(DeliveryOutcome.Delivered, r.Outcome));
    }

    [Fact]
    public void AMailboxCostsALookupAFolderSearchAndAtMostAFolderCreate_NotAPerMessageRequest()
    {
        using var t = new Scratch();
        using var graph = FakeGraph.Start();
        graph.AddUser("fresh@contoso.com");
        var known = graph.AddUser("known@contoso.com");
        using (var http = new HttpClient())
        {
            http.DefaultRequestHeaders.Authorization = new("Bearer", graph.Options.AcceptedToken);
            Assert.True(http.PostAsync($"{graph.Url}/v1.0/users/{known.Id}/mailFolders/inbox/childFolders",
                new StringContent("{\"displayName\":\"Salesforce Chatter\"}", System.Text.Encoding.UTF8, "application/json")).Result.IsSuccessStatusCode);
        }
        graph.ResetRequests();
        using var target = Target(t, graph);
        var messages = Enumerable.Range(1, 6).Select(i => Stage(t, i)).ToList();
        DeliverAll(target, messages.SelectMany(m => new[] { ("fresh@contoso.com", m), ("known@contoso.com", m) }));

        var requests = graph.Requests;
        int Count(string method, string pathEnd) => requests.Count(r => r.Method == method && r.Path.EndsWith(pathEnd, StringComparison.OrdinalIgnoreCase));
        Assert.Equal(2, requests.Count(r => r.Method == "GET" && r.Path == "/v1.0/users"));  // one lookup per address
        Assert.Equal(2, Count("GET", "/mailFolders/inbox/childFolders"));                     // the search, which also proves the mailbox opens
        Assert.Equal(1, Count("POST", "/mailFolders/inbox/childFolders"));                    // only the fresh mailbox needed its folder made
        Assert.Equal(0, Count("GET", "/mailFolders/inbox"));                                  // no separate look at the inbox
        Assert.Equal(12, requests.Count(r => r.Method == "POST" && r.Path.EndsWith("/messages", StringComparison.Ordinal)));
        Assert.Equal(6, graph.Messages("fresh@contoso.com").Count);
        Assert.Equal(6, graph.Messages("known@contoso.com").Count);
    }

    [Fact]
    public void AMessageForManyMailboxesIsReadAndConvertedOnce_AndLandsTheSameInEach()
    {
        using var t = new Scratch();
        using var graph = FakeGraph.Start();
        var mailboxes = Enumerable.Range(1, 6).Select(i => $"member{i}@contoso.com").ToList();
        foreach (var m in mailboxes) graph.AddUser(m);
        using var target = Target(t, graph);
        var messages = Enumerable.Range(1, 5).Select(i => Stage(t, i)).ToList();

        // Item by item, each to every mailbox, all at once: the order a run hands them out.
        DeliverAll(target, messages.SelectMany(m => mailboxes.Select(a => (a, m))));

        Assert.Equal(messages.Count, target.Conversions);
        foreach (var message in messages)
        {
            var copies = mailboxes.Select(a => Assert.Single(graph.Messages(a), x => x.InternetMessageId == "<" + message.MessageId + ">")).ToList();
            Assert.All(copies, c => Assert.False(c.IsDraft));
            Assert.All(copies, c => Assert.Equal("IPM.ExternalData.Chatter.Post", c.MessageClass));
            Assert.Single(copies.Select(c => (c.Subject, c.Body, c.ReceivedDateTime, c.FromAddress)).Distinct());
        }
    }

    [Fact]
    public void AStagedFileWrittenAgainIsConvertedAgain()
    {
        using var t = new Scratch();
        using var graph = FakeGraph.Start();
        graph.AddUser("one@contoso.com");
        graph.AddUser("two@contoso.com");
        using var target = Target(t, graph);
        var first = Stage(t, 1, "the first words");
        DeliverAll(target, new[] { ("one@contoso.com", first) });

        // The same path with other content, as a re-staged message would be.
        var other = Stage(t, 2, "other words, and rather more of them than before");
        File.Copy(other.StagedPath, first.StagedPath, overwrite: true);
        File.SetLastWriteTimeUtc(first.StagedPath, DateTime.UtcNow.AddMinutes(1));
        var rewritten = new OutgoingMessage { ItemKey = first.ItemKey, ItemType = first.ItemType, MessageId = first.MessageId, StagedPath = first.StagedPath, Size = new FileInfo(first.StagedPath).Length };
        DeliverAll(target, new[] { ("two@contoso.com", rewritten) });

        Assert.Equal(2, target.Conversions);
        Assert.Contains("the first words", Assert.Single(graph.Messages("one@contoso.com")).Body);
        Assert.Contains("rather more of them", Assert.Single(graph.Messages("two@contoso.com")).Body);
    }

    [Fact]
    public void ARefusedMessageClassFallsBackToIPMNote_AlsoForTheMailboxesThatWaitedForTheConversion()
    {
        using var t = new Scratch();
        using var graph = FakeGraph.Start(new FakeGraphOptions { RefuseCustomMessageClass = true });
        var mailboxes = Enumerable.Range(1, 4).Select(i => $"member{i}@contoso.com").ToList();
        foreach (var m in mailboxes) graph.AddUser(m);
        using var target = Target(t, graph);
        var messages = Enumerable.Range(1, 3).Select(i => Stage(t, i)).ToList();

        DeliverAll(target, messages.SelectMany(m => mailboxes.Select(a => (a, m))));

        var all = mailboxes.SelectMany(a => graph.Messages(a)).ToList();
        Assert.Equal(messages.Count * mailboxes.Count, all.Count);
        Assert.All(all, m => Assert.Equal("IPM.Note", m.MessageClass));
        Assert.All(all, m => Assert.False(m.IsDraft));
    }

    [Fact]
    public void AFirstRunLooksUpItsParticipantsManyAtOnce_NotOneAfterAnother()
    {
        using var t = new Scratch();
        using var graph = FakeGraph.Start();
        graph.Faults.Latency = TimeSpan.FromMilliseconds(20);
        using var store = ConnectorStore.Open(t.Sub("store"));
        var (c, org) = GraphImportTests.Setup(t, graph, store, users: 24, posts: 40);
        var run = GraphImportTests.Run(store, c);

        Assert.Equal(ImportRunStatus.Succeeded, run.Status);
        Assert.True(graph.HighestConcurrentUserRequests > 1, $"at most {graph.HighestConcurrentUserRequests} lookup at once");
        // Still one lookup per address: the mapper asks the target about each mailbox once.
        var lookups = graph.Requests.Where(r => r.Method == "GET" && r.Path == "/v1.0/users").ToList();
        Assert.Equal(lookups.Count, lookups.Select(r => r.Query).Distinct().Count());
    }

    [Fact]
    public void TheFakesLatencyIsNeverShort_AndItSaysWhatItAdded()
    {
        using var graph = FakeGraph.Start();
        var user = graph.AddUser("slow@contoso.com");
        graph.Faults.Latency = TimeSpan.FromMilliseconds(30);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", graph.Options.AcceptedToken);
        var times = Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            var sw = Stopwatch.StartNew();
            using var response = await http.GetAsync($"{graph.Url}/v1.0/users/{user.Id}/mailFolders/inbox");
            Assert.True(response.IsSuccessStatusCode);
            return sw.Elapsed;
        })).GetAwaiter().GetResult();
        Assert.All(times, e => Assert.True(e >= TimeSpan.FromMilliseconds(30), $"{e.TotalMilliseconds} ms"));
        Assert.True(graph.AverageLatency >= TimeSpan.FromMilliseconds(30), $"{graph.AverageLatency.TotalMilliseconds} ms");
    }
}
