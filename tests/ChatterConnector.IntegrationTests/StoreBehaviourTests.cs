using ChatterConnector.Engine;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.State;

namespace ChatterConnector.IntegrationTests;

/// <summary>
/// What every connector store does, whatever it is made of. One suite, run against the local SQLite
/// store and against the Azure store on Azurite.
/// </summary>
public abstract class StoreBehaviourTests : IDisposable
{
    private readonly List<IConnectorStore> _opened = new();

    /// <summary>Opens the test's store; a second call opens another instance on the same data (another worker).</summary>
    protected abstract IConnectorStore OpenStore();

    protected IConnectorStore Open()
    {
        var s = OpenStore();
        _opened.Add(s);
        return s;
    }

    public virtual void Dispose()
    {
        foreach (var s in _opened) s.Dispose();
    }

    private static StagedItem Item(string key, string thread) => new()
    {
        ItemKey = key, ItemId = key, ThreadId = thread, ItemType = ChatterItemType.Comment, AuthorId = "005A", MessageId = key + "@x",
        StagedPath = "/staged/" + key + ".eml", Sha256 = "ab", Size = 42, PartialReason = key == "k2" ? "files missing" : null,
    };

    private static DeliveryRecord Delivery(string item, string mailbox, DeliveryStatus status = DeliveryStatus.Pending) =>
        new() { ItemKey = item, Recipient = mailbox, UserId = "u-" + mailbox, Mailbox = mailbox, Status = status };

    [Fact]
    public void Definitions_AreAddedFoundListedChangedAndRemoved()
    {
        var store = Open();
        store.AddConnector(new ChatterConnectorInfo { Name = "Beta", SourcePath = "/b", Schedule = TimeSpan.FromHours(2) });
        store.AddConnector(new ChatterConnectorInfo { Name = "Alpha", SourcePath = "/a", MappingRules = { new UserMappingRule { SalesforceUser = "u", Mailbox = "m@x" } } });
        Assert.Equal(new[] { "Alpha", "Beta" }, store.ListConnectors().Select(c => c.Name));
        var alpha = store.GetConnector("ALPHA");
        Assert.Equal("/a", alpha.SourcePath);
        Assert.Equal(store.StorePath, alpha.StorePath);
        Assert.Equal("m@x", Assert.Single(alpha.MappingRules).Mailbox);
        Assert.Equal("ChatterConnector.NameExists", Assert.Throws<ChatterException>(() => store.AddConnector(new ChatterConnectorInfo { Name = "alpha" })).ErrorId);

        alpha.SourcePath = "/a2";
        store.UpdateConnector(alpha);
        Assert.Equal("/a2", Open().GetConnector("Alpha").SourcePath);

        store.SetCheckpoint("Alpha", "watermark.FeedItem", "x");
        store.AddDelivery("Alpha", Delivery("k1", "a@x"));
        Assert.True(store.RemoveConnector("alpha"));
        Assert.Null(store.FindConnector("Alpha"));
        Assert.Null(store.GetCheckpoint("Alpha", "watermark.FeedItem"));
        Assert.Empty(store.GetDeliveries("Alpha", new[] { DeliveryStatus.Pending }));
        Assert.False(store.RemoveConnector("Alpha"));
        Assert.Equal("ChatterConnector.NotFound", Assert.Throws<ChatterException>(() => store.GetConnector("Alpha")).ErrorId);
    }

    [Fact]
    public void AStaleUpdate_IsAConflict_NotASilentOverwrite()
    {
        var one = Open();
        var two = Open();
        one.AddConnector(new ChatterConnectorInfo { Name = "C", SourcePath = "/c" });
        var readByOne = one.GetConnector("C");
        var readByTwo = two.GetConnector("C");
        readByOne.FolderName = "One";
        one.UpdateConnector(readByOne);
        readByTwo.FolderName = "Two";
        var ex = Assert.Throws<ChatterException>(() => two.UpdateConnector(readByTwo));
        Assert.Equal("ChatterStore.Conflict", ex.ErrorId);
        Assert.Equal("One", one.GetConnector("C").FolderName);

        // Read again, change again: it goes through, and the object carries the new version.
        var fresh = two.GetConnector("C");
        fresh.FolderName = "Two";
        two.UpdateConnector(fresh);
        fresh.Schedule = TimeSpan.FromHours(1);
        two.UpdateConnector(fresh);
        Assert.Equal("Two", one.GetConnector("C").FolderName);
    }

    [Fact]
    public void Checkpoints_AreSetAndOverwritten()
    {
        var store = Open();
        Assert.Null(store.GetCheckpoint("C", "watermark.FeedItem"));
        store.SetCheckpoint("C", "watermark.FeedItem", "2024-01-01");
        store.SetCheckpoint("C", "watermark.FeedItem", "2024-02-01");
        store.SetCheckpoint("C", "watermark/odd #name?", "v");
        Assert.Equal("2024-02-01", Open().GetCheckpoint("c", "watermark.FeedItem"));
        Assert.Equal("v", store.GetCheckpoint("C", "watermark/odd #name?"));
        Assert.Null(store.GetCheckpoint("Other", "watermark.FeedItem"));
    }

    [Fact]
    public void Runs_AreKeptOldestFirst_AndTheLastOnesShowOnTheConnector()
    {
        var store = Open();
        store.AddConnector(new ChatterConnectorInfo { Name = "C", SourcePath = "/c" });
        var t0 = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var first = new ChatterImportRun { ConnectorName = "C", RunId = "r1", StartTime = t0, Status = ImportRunStatus.Running };
        store.SaveRun(first);
        first.Status = ImportRunStatus.Succeeded;
        first.Imported = 5;
        store.SaveRun(first);
        store.SaveRun(new ChatterImportRun { ConnectorName = "C", RunId = "r2", StartTime = t0.AddHours(1), Status = ImportRunStatus.Failed, Worker = "w" });
        store.SaveRun(new ChatterImportRun { ConnectorName = "D", RunId = "r3", StartTime = t0.AddHours(2), Status = ImportRunStatus.Succeeded });

        Assert.Equal(new[] { "r1", "r2" }, store.GetRuns("C").Select(r => r.RunId));
        Assert.Equal(5, store.GetRuns(runId: "r1").Single().Imported);
        Assert.Equal(3, store.GetRuns().Count());
        Assert.Equal("w", store.LastRun("C")!.Worker);
        var c = Open().GetConnector("C");
        Assert.Equal(t0.AddHours(1), c.LastRunTime);
        Assert.Equal("Failed", c.LastRunStatus);
        Assert.Equal(t0, c.LastCompletedRunTime);
    }

    [Fact]
    public void ItemsAndParticipants_AreFoundByKeyAndByThread()
    {
        var store = Open();
        store.AddItem("C", Item("k1", "t1"));
        store.AddItem("C", Item("k2", "t1"));
        store.AddItem("C", Item("k3/odd#", "t2"));
        Assert.True(store.HasItem("C", "k1"));
        Assert.False(store.HasItem("C", "k9"));
        var k2 = Open().GetItem("C", "k2")!;
        Assert.Equal(("t1", ChatterItemType.Comment, 42L, "files missing", "/staged/k2.eml"), (k2.ThreadId, k2.ItemType, k2.Size, k2.PartialReason, k2.StagedPath));
        Assert.Equal(new[] { "k1", "k2" }, store.ItemsInThread("C", "t1").Select(i => i.ItemKey));
        Assert.Equal("k3/odd#", Assert.Single(store.ItemsInThread("C", "t2")).ItemKey);

        Assert.True(store.AddParticipant("C", "t1", "005B"));
        Assert.True(store.AddParticipant("C", "t1", "005A"));
        Assert.False(store.AddParticipant("C", "t1", "005B"));
        Assert.Equal(new[] { "005A", "005B" }, Open().GetParticipants("C", "t1"));
        Assert.Empty(store.GetParticipants("C", "t2"));
    }

    [Fact]
    public void AConnectorsCheckpointsItemsAndParticipants_AreListedWhole_ForACopy()
    {
        var store = Open();
        store.SetCheckpoint("C", "watermark.FeedItem", "1");
        store.SetCheckpoint("C", "watermark/odd #name?%41", "2");
        store.SetCheckpoint("D", "watermark.FeedItem", "3");
        store.AddItem("C", Item("k2", "t1"));
        store.AddItem("C", Item("k3/odd#", "t2"));
        store.AddItem("D", Item("k9", "t1"));
        store.AddParticipant("C", "t2", "005B");
        store.AddParticipant("C", "t1", "005B");
        store.AddParticipant("C", "t1", "005A");
        store.AddParticipant("D", "t1", "005Z");

        var other = Open();
        Assert.Equal(new[] { ("watermark.FeedItem", "1"), ("watermark/odd #name?%41", "2") },
            other.GetCheckpoints("c").OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value)));
        var items = other.GetItems("C").OrderBy(i => i.ItemKey, StringComparer.Ordinal).ToList();
        Assert.Equal(new[] { "k2", "k3/odd#" }, items.Select(i => i.ItemKey));
        Assert.Equal(("t1", "files missing", "/staged/k2.eml", 42L), (items[0].ThreadId, items[0].PartialReason, items[0].StagedPath, items[0].Size));
        Assert.Equal(new[] { ("t1", "005A"), ("t1", "005B"), ("t2", "005B") }, other.GetAllParticipants("C"));
        Assert.Empty(other.GetItems("None"));
        Assert.Empty(other.GetAllParticipants("None"));
        Assert.Empty(other.GetCheckpoints("None"));

        using (store.Begin())
        {
            store.SetCheckpoint("C", "watermark.FeedItem", "4");
            Assert.Equal("4", store.GetCheckpoints("C")["watermark.FeedItem"]);
        }
    }

    [Fact]
    public void TheLedger_HoldsOneRowPerItemAndRecipient_InRowOrder()
    {
        var store = Open();
        Assert.True(store.AddDelivery("C", Delivery("k1", "a@x")));
        Assert.False(store.AddDelivery("C", Delivery("k1", "a@x")));
        Assert.True(store.AddDelivery("C", Delivery("k1", "b@x")));
        Assert.True(store.AddDelivery("C", Delivery("k2", "a@x")));
        Assert.True(store.AddDelivery("C", new DeliveryRecord { ItemKey = "k2", Recipient = "user:005Z", UserId = "005Z", Status = DeliveryStatus.Unmapped, Reason = "no mailbox" }));

        var other = Open();
        Assert.False(other.AddDelivery("C", Delivery("k1", "b@x")));
        var open = other.GetDeliveries("C", new[] { DeliveryStatus.Pending });
        Assert.Equal(new[] { ("k1", "a@x"), ("k1", "b@x"), ("k2", "a@x") }, open.Select(d => (d.ItemKey, d.Recipient)));
        Assert.True(open[0].Row < open[1].Row && open[1].Row < open[2].Row);

        // Paging: after a row, at most a limit.
        var page = other.GetDeliveries("C", new[] { DeliveryStatus.Pending }, open[0].Row, 1);
        Assert.Equal(("k1", "b@x"), (Assert.Single(page).ItemKey, page[0].Recipient));

        open[0].Status = DeliveryStatus.InFlight;
        open[0].Attempts = 1;
        other.UpdateDelivery("C", open[0]);
        open[1].Status = DeliveryStatus.Imported;
        other.UpdateDelivery("C", open[1]);
        Assert.Equal(new[] { "a@x" }, store.MailboxesInFlight("C"));
        Assert.Equal(1, store.CountDeliveries("C", DeliveryStatus.Imported));
        Assert.Equal(1, store.CountDeliveries("C", DeliveryStatus.Pending));
        var inFlight = Assert.Single(store.GetDeliveries("C", new[] { DeliveryStatus.InFlight, DeliveryStatus.Failed }));
        Assert.Equal((1, "u-a@x"), (inFlight.Attempts, inFlight.UserId));

        var unmapped = Assert.Single(store.GetDeliveries("C", new[] { DeliveryStatus.Unmapped }));
        Assert.Equal("no mailbox", unmapped.Reason);
        store.RemoveDelivery("C", unmapped);
        Assert.Equal(0, store.CountDeliveries("C", DeliveryStatus.Unmapped));
        Assert.True(store.AddDelivery("C", new DeliveryRecord { ItemKey = "k2", Recipient = "user:005Z", UserId = "005Z", Status = DeliveryStatus.Unmapped }));
        Assert.True(Assert.Single(store.GetDeliveries("C", new[] { DeliveryStatus.Unmapped })).Row > open[2].Row);
    }

    [Fact]
    public void TheLog_IsQueriedByRunStatusAndTime_OldestFirst()
    {
        var store = Open();
        var t0 = new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < 5; i++)
            store.AppendLog(new ChatterLogEntry
            {
                ConnectorName = i == 4 ? "D" : "C", Time = t0.AddMinutes(i), RunId = i < 2 ? "r1" : "r2", ItemKey = "k" + i, ItemId = "k" + i,
                ItemType = i == 0 ? null : ChatterItemType.Post, Mailbox = "a@x", Status = i % 2 == 0 ? DeliveryStatus.Imported : DeliveryStatus.Failed,
                Reason = i % 2 == 0 ? null : "boom", Size = i, InternetMessageId = "<k" + i + "@x>",
            });
        var reader = Open();
        Assert.Equal(new[] { "k0", "k1", "k2", "k3" }, reader.QueryLog("C", null, null, null).Select(e => e.ItemKey));
        Assert.Equal(new[] { "k0", "k1" }, reader.QueryLog("C", "r1", null, null).Select(e => e.ItemKey));
        Assert.Equal(new[] { "k1", "k3" }, reader.QueryLog("C", null, new[] { DeliveryStatus.Failed }, null).Select(e => e.ItemKey));
        Assert.Equal(new[] { "k2", "k3" }, reader.QueryLog("C", null, null, t0.AddMinutes(2)).Select(e => e.ItemKey));
        Assert.Equal(5, reader.QueryLog(null, null, null, null).Count());
        var first = reader.QueryLog("C", null, null, null).First();
        Assert.Equal((t0, (ChatterItemType?)null, "<k0@x>", 0L), (first.Time, first.ItemType, first.InternetMessageId, first.Size));
    }

    [Fact]
    public void ATransaction_SeesItsOwnWrites_AndLeavesNothingUnlessCommitted()
    {
        var store = Open();
        using (store.Begin())
        {
            store.AddItem("C", Item("k1", "t1"));
            store.SetCheckpoint("C", "w", "1");
            Assert.True(store.HasItem("C", "k1"));
            Assert.Equal("1", store.GetCheckpoint("C", "w"));
            Assert.True(store.AddDelivery("C", Delivery("k1", "a@x")));
            Assert.False(store.AddDelivery("C", Delivery("k1", "a@x")));
            Assert.True(store.AddParticipant("C", "t1", "005A"));
            Assert.False(store.AddParticipant("C", "t1", "005A"));
        }
        foreach (var s in new[] { store, Open() })
        {
            Assert.False(s.HasItem("C", "k1"));
            Assert.Null(s.GetCheckpoint("C", "w"));
            Assert.Empty(s.GetDeliveries("C", new[] { DeliveryStatus.Pending }));
            Assert.Empty(s.GetParticipants("C", "t1"));
        }

        using (var tx = store.Begin())
        {
            Assert.True(store.AddDelivery("C", Delivery("k1", "a@x")));
            store.AddItem("C", Item("k1", "t1"));
            Assert.True(store.AddParticipant("C", "t1", "005A"));
            tx.Commit();
        }
        var other = Open();
        Assert.True(other.HasItem("C", "k1"));
        Assert.Single(other.GetDeliveries("C", new[] { DeliveryStatus.Pending }));
        Assert.Equal(new[] { "005A" }, other.GetParticipants("C", "t1"));
    }

    [Fact]
    public void ALargeTransaction_IsCommittedWhole()
    {
        var store = Open();
        using (var tx = store.Begin())
        {
            for (var i = 0; i < 250; i++) Assert.True(store.AddDelivery("C", Delivery("k" + i, "a@x")));
            tx.Commit();
        }
        var all = Open().GetDeliveries("C", new[] { DeliveryStatus.Pending });
        Assert.Equal(250, all.Count);
        Assert.Equal(all.Select(d => d.Row).OrderBy(r => r), all.Select(d => d.Row));
        Assert.Equal(100, Open().GetDeliveries("C", new[] { DeliveryStatus.Pending }, all[49].Row, 100).Count);
    }

    [Fact]
    public void ARunLock_IsHeldByOneWorker_AndFreeAgainWhenReleased()
    {
        var one = Open();
        var two = Open();
        using (var held = one.AcquireRunLock("C"))
        {
            Assert.Equal("C", held.Connector);
            Assert.False(held.Lost.IsCancellationRequested);
            var ex = Assert.Throws<ChatterException>(() => two.AcquireRunLock("c"));
            Assert.Equal("ChatterImport.ConnectorBusy", ex.ErrorId);
            Assert.Equal(ChatterErrorKind.ResourceBusy, ex.Kind);
            using var otherConnector = two.AcquireRunLock("D");
        }
        using var again = two.AcquireRunLock("C");
    }
}

public sealed class SqliteStoreBehaviourTests : StoreBehaviourTests
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "cc-store-" + Guid.NewGuid().ToString("N")[..10]);

    protected override IConnectorStore OpenStore() => ConnectorStore.Open(_folder);

    public override void Dispose()
    {
        base.Dispose();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }
}

public sealed class AzureStoreBehaviourTests : StoreBehaviourTests, IClassFixture<AzuriteFixture>
{
    private readonly AzuriteFixture _azurite;
    private readonly string _name = "t" + Guid.NewGuid().ToString("N")[..12];

    public AzureStoreBehaviourTests(AzuriteFixture azurite) => _azurite = azurite;

    /// <summary>Each test its own container and tables, so tests do not see each other's connectors.</summary>
    internal static string ConnectionString(AzuriteFixture azurite, string name) => azurite.ConnectionString + $"Container={name};TablePrefix={name};";

    protected override IConnectorStore OpenStore() => AzureConnectorStore.Open(ConnectionString(_azurite, _name), new AzureStoreOptions { LeaseDuration = TimeSpan.FromSeconds(15) });

    [Fact]
    public void ARunLockIsRenewed_WhileItsWorkerLives()
    {
        var store = Open();
        using var held = store.AcquireRunLock("C");
        Thread.Sleep(TimeSpan.FromSeconds(18));   // longer than the 15 s lease: only renewal keeps it
        Assert.False(held.Lost.IsCancellationRequested);
        Assert.Equal("ChatterImport.ConnectorBusy", Assert.Throws<ChatterException>(() => Open().AcquireRunLock("C")).ErrorId);
        var (holder, leased) = ((AzureConnectorStore)store).ReadRunLock("C");
        Assert.True(leased);
        Assert.Equal(StoreWorker.Id, holder);
    }

    [Fact]
    public void ARunLockOfADeadWorker_LapsesWithinAMinute_AndAnotherWorkerTakesIt()
    {
        // A worker that dies stops renewing: simulated by a store that never renews.
        using var dead = AzureConnectorStore.Open(ConnectionString(_azurite, _name),
            new AzureStoreOptions { LeaseDuration = TimeSpan.FromSeconds(15), RenewInterval = Timeout.InfiniteTimeSpan });
        var lease = dead.AcquireRunLock("C");   // never disposed: the worker "died"
        var next = Open();
        Assert.Equal("ChatterImport.ConnectorBusy", Assert.Throws<ChatterException>(() => next.AcquireRunLock("C")).ErrorId);
        var started = DateTime.UtcNow;
        IConnectorLease? taken = null;
        while (taken == null && DateTime.UtcNow - started < TimeSpan.FromMinutes(1))
        {
            try { taken = next.AcquireRunLock("C"); }
            catch (ChatterException ex) when (ex.ErrorId == "ChatterImport.ConnectorBusy") { Thread.Sleep(1000); }
        }
        Assert.NotNull(taken);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(30));
        taken!.Dispose();
        GC.KeepAlive(lease);
    }

    [Fact]
    public void ARunLockTakenOverWhileItsHolderCouldNotRenew_IsLost_SoTheRunStops()
    {
        // The holder renews only after its 15 s lease has lapsed (a worker stalled that long): by then another has it.
        using var slow = AzureConnectorStore.Open(ConnectionString(_azurite, _name),
            new AzureStoreOptions { LeaseDuration = TimeSpan.FromSeconds(15), RenewInterval = TimeSpan.FromSeconds(22) });
        using var stalled = slow.AcquireRunLock("C");
        var next = Open();
        IConnectorLease? taken = null;
        var until = DateTime.UtcNow.AddSeconds(40);
        while (taken == null && DateTime.UtcNow < until)
        {
            try { taken = next.AcquireRunLock("C"); }
            catch (ChatterException ex) when (ex.ErrorId == "ChatterImport.ConnectorBusy") { Thread.Sleep(500); }
        }
        Assert.NotNull(taken);
        Assert.True(stalled.Lost.WaitHandle.WaitOne(TimeSpan.FromSeconds(20)), "the stalled holder learns it lost the lock");
        Assert.False(taken!.Lost.IsCancellationRequested);
        taken.Dispose();
        stalled.Dispose();
        var history = ((AzureConnectorStore)next).GetRunLockHistory("C");
        Assert.Equal(2, history.Count);
        Assert.True(history[0].Lost, "the stalled holder's lease is marked lost");
        Assert.False(history[1].Lost);
    }

    [Fact]
    public void EveryLeaseTaken_IsARowOfTheLockHistory_UntilTheConnectorIsRemoved()
    {
        var store = (AzureConnectorStore)Open();
        var before = DateTimeOffset.UtcNow;
        using (store.AcquireRunLock("C"))
        {
            Assert.Throws<ChatterException>(() => Open().AcquireRunLock("C"));   // a busy worker leaves no row
            var open = Assert.Single(store.GetRunLockHistory("C"));
            Assert.Null(open.Released);
        }
        using (store.AcquireRunLock("D")) { }
        using (store.AcquireRunLock("C")) { }
        var c = store.GetRunLockHistory("C");
        Assert.Equal(2, c.Count);
        Assert.All(c, l => Assert.Equal(StoreWorker.Id, l.Holder));
        Assert.True(before <= c[0].Acquired && c[0].Acquired <= c[0].Released && c[0].Released <= c[1].Acquired && c[1].Acquired <= c[1].Released);
        Assert.NotEqual(c[0].LeaseId, c[1].LeaseId);
        Assert.Equal(3, store.GetRunLockHistory().Count);
        store.RemoveConnector("C");
        Assert.Empty(store.GetRunLockHistory("C"));
        Assert.Equal("D", Assert.Single(store.GetRunLockHistory()).Connector);
    }

    [Fact]
    public void AnImport_SendsFewStoreRequestsPerMessage()
    {
        using var t = new Scratch();
        var org = Engine.Sources.Sample.SampleOrgGenerator.Generate(new Engine.Sources.Sample.SampleOrgOptions { Users = 20, Posts = 150, Seed = 4 });
        org.WriteExport(t.Sub("export"), CancellationToken.None);
        using var store = AzureConnectorStore.Open(ConnectionString(_azurite, _name), new AzureStoreOptions { WorkPath = t.Sub("work") });
        store.AddConnector(new ChatterConnectorInfo { Name = "Bench", SourcePath = t.Sub("export"), MaildirPath = t.Sub("mail"), AutomaticMapping = true });
        var before = store.RequestCount;
        var run = new Engine.Import.ImportPipeline(store, store.GetConnector("Bench")).Run();
        Assert.Equal(ImportRunStatus.Succeeded, run.Status);
        var perMessage = (double)(store.RequestCount - before) / run.MessagesAfterFanout;
        Assert.True(run.MessagesAfterFanout > 300, run.MessagesAfterFanout.ToString());
        Assert.True(perMessage < 0.2, $"{store.RequestCount - before} store requests for {run.MessagesAfterFanout} messages ({perMessage:0.00} per message)");
    }

    [Fact]
    public void ABadAccountKey_IsAnAccessDeniedError_ThatSaysWhatToCheck()
    {
        var bad = ConnectionString(_azurite, _name).Replace(Fakes.Azurite.AccountKey, Convert.ToBase64String(new byte[64]));
        var ex = Assert.Throws<ChatterException>(() => AzureConnectorStore.Open(bad));
        Assert.Equal("ChatterStore.AccessDenied", ex.ErrorId);
        Assert.Contains("account key", ex.Message);
    }

    [Fact]
    public void AConnectionStringThatIsNone_IsAnInvalidConnectionStringError()
    {
        var ex = Assert.Throws<ChatterException>(() => AzureConnectorStore.Open("this is not one"));
        Assert.Equal("ChatterStore.InvalidConnectionString", ex.ErrorId);
    }
}
