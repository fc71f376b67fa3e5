using System.Diagnostics;
using System.Security.Cryptography;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Sas;
using ChatterConnector.Engine;
using ChatterConnector.Engine.Conversion;
using ChatterConnector.Engine.Import;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources.Sample;
using ChatterConnector.Engine.Staging;
using ChatterConnector.Engine.State;
using Xunit.Abstractions;

namespace ChatterConnector.IntegrationTests;

/// <summary>Tests that measure this process's memory run alone, after the others: a test running beside them would count their allocations.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "Alone (measures memory)";
}

/// <summary>Staging in an Azure Blob container (Azurite): streamed round trips, idempotent uploads, retention, and clear errors.</summary>
[Collection(AloneCollection.Name)]
public class BlobStagingTests : IClassFixture<AzuriteFixture>
{
    private readonly AzuriteFixture _azurite;
    private readonly ITestOutputHelper _output;
    public BlobStagingTests(AzuriteFixture azurite, ITestOutputHelper output) { _azurite = azurite; _output = output; }

    private BlobContainerClient NewContainer(bool create = true)
    {
        var container = new BlobContainerClient(_azurite.ConnectionString, "staging-" + Guid.NewGuid().ToString("N")[..12]);
        if (create) container.Create();
        return container;
    }

    private ChatterConnectorInfo Connector(Scratch t, ConnectorStore store, BlobContainerClient container, string name = "Blob") => new()
    {
        Name = name, SourcePath = t.Sub("export"), MaildirPath = t.Sub("maildir"), AutomaticMapping = true, StorePath = store.StorePath,
        Created = DateTimeOffset.UtcNow, Modified = DateTimeOffset.UtcNow,
        BlobStaging = new BlobStagingSettings
        {
            ConnectionString = SecretProtector.ForStore(store.StorePath).Protect(_azurite.ConnectionString), ContainerName = container.Name,
            Location = container.Uri.ToString(),
        },
    };

    private static List<BlobItem> Messages(BlobContainerClient container) =>
        container.GetBlobs(new GetBlobsOptions { Traits = BlobTraits.Metadata }).Where(b => b.Name.EndsWith(".eml", StringComparison.Ordinal)).ToList();

    [Fact]
    public async Task A200MbMessageRoundTripsThroughTheContainerInFlatMemory()
    {
        using var t = new Scratch();
        using var store = ConnectorStore.Open(t.Sub("store"));
        var container = NewContainer();
        const long fileSize = 200L * 1024 * 1024;
        WritePseudoRandomFile(t.Sub("big.bin"), fileSize);
        var ann = new ChatterUser { Id = "005000000000001AAA", Name = "Ann Lee", Email = "ann@contoso.com" };
        var item = new ChatterItem
        {
            Key = "0D5000000000001AAA", Id = "0D5000000000001AAA", ThreadId = "0D5000000000001AAA", ItemType = ChatterItemType.Post, AuthorId = ann.Id, Author = ann,
            CreatedDate = new DateTimeOffset(2024, 3, 1, 10, 0, 0, TimeSpan.Zero), Body = "the big one", Participants = new() { ann },
            Files = new() { new ChatterFile { Id = "068000000000001AAA", PathOnClient = "big.bin", ContentPath = t.Sub("big.bin"), ContentSize = fileSize } },
        };
        using var staging = StagingFactory.Create(Connector(t, store, container), store);
        staging.Prepare(default);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        var baseline = GC.GetTotalMemory(true);
        long peak = 0;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(false));
                await Task.Delay(20);
            }
        });

        var staged = staging.Stage(new MessageConverter().Convert(item), item, default);
        string downloaded;
        using (var copy = await staging.FetchAsync(staged.Path, staged.Sha256, default))
        {
            downloaded = Sha256Of(copy.Path);
            Assert.Equal(staged.Size, new FileInfo(copy.Path).Length);
        }
        stop.Cancel();
        await sampler;

        Assert.True(staged.Size > fileSize, "the message holds the whole file");
        Assert.Equal(staged.Sha256, downloaded);
        var growth = peak - baseline;
        _output.WriteLine($"managed heap: baseline {baseline / 1024 / 1024} MB, peak {peak / 1024 / 1024} MB, message {staged.Size / 1024 / 1024} MB");
        Assert.True(growth < 64L * 1024 * 1024, $"managed memory grew by {growth / (1024 * 1024)} MB while a {staged.Size / (1024 * 1024)} MB message was staged and read back");

        // The blob's name tells connector, date and item; its metadata the Salesforce ids and the hash.
        var blob = Assert.Single(Messages(container));
        Assert.Equal("Blob/2024-03-01/0D5000000000001AAA.eml", blob.Name);
        Assert.Equal(staged.Path, blob.Name);
        Assert.Equal(staged.Sha256, blob.Metadata["sha256"]);
        Assert.Equal(item.Id, blob.Metadata["itemid"]);
        Assert.Equal(item.ThreadId, blob.Metadata["threadid"]);
        Assert.Equal("Blob", blob.Metadata["connector"]);
    }

    [Fact]
    public void StagingTheSameMessageAgainIsRecognisedNotUploadedTwice()
    {
        using var t = new Scratch();
        using var store = ConnectorStore.Open(t.Sub("store"));
        var container = NewContainer();
        var item = SmallItem("hello");
        using var staging = StagingFactory.Create(Connector(t, store, container), store);

        var first = staging.Stage(new MessageConverter().Convert(item), item, default);
        var etag = container.GetBlobClient(first.Path).GetProperties().Value.ETag;
        var again = staging.Stage(new MessageConverter().Convert(item), item, default);

        Assert.Equal(first.Path, again.Path);
        Assert.Equal(first.Sha256, again.Sha256);
        Assert.Equal(etag, container.GetBlobClient(first.Path).GetProperties().Value.ETag);   // not written again
        Assert.Single(Messages(container));

        // Another message under the same name (left by a run stopped before the ledger recorded it) is replaced.
        var changed = SmallItem("hello, edited before the ledger saw it");
        var replaced = staging.Stage(new MessageConverter().Convert(changed), changed, default);
        Assert.NotEqual(first.Sha256, replaced.Sha256);
        Assert.Equal(replaced.Sha256, Assert.Single(Messages(container)).Metadata["sha256"]);
    }

    [Fact]
    public async Task DeliveriesOfOneMessageShareOneCheckedDownloadRemovedWithTheStagingArea()
    {
        using var t = new Scratch();
        using var store = ConnectorStore.Open(t.Sub("store"));
        var container = NewContainer();
        var item = SmallItem("for everyone in the thread");
        string path;
        using (var staging = StagingFactory.Create(Connector(t, store, container), store))
        {
            var staged = staging.Stage(new MessageConverter().Convert(item), item, default);
            using (var first = await staging.FetchAsync(staged.Path, staged.Sha256, default))
            using (var second = await staging.FetchAsync(staged.Path, staged.Sha256, default))
            {
                path = first.Path;
                Assert.Equal(first.Path, second.Path);
            }
            using (var later = await staging.FetchAsync(staged.Path, staged.Sha256, default)) Assert.Equal(path, later.Path);   // kept while idle
            Assert.Equal(staged.Sha256, Sha256Of(path));

            // A blob changed behind the ledger's back is refused, not delivered.
            await container.GetBlobClient("Blob/2024-03-02/0D5000000000003AAA.eml").UploadAsync(BinaryData.FromString("not the staged message"));
            var ex = await Assert.ThrowsAsync<ChatterException>(() => staging.FetchAsync("Blob/2024-03-02/0D5000000000003AAA.eml", staged.Sha256, default));
            Assert.Equal("ChatterStaging.HashMismatch", ex.ErrorId);
            ex = await Assert.ThrowsAsync<ChatterException>(() => staging.FetchAsync("Blob/2024-03-02/gone.eml", staged.Sha256, default));
            Assert.Equal("ChatterImport.StagedMessageMissing", ex.ErrorId);
        }
        Assert.False(File.Exists(path), "downloads are removed with the staging area");
    }

    [Fact]
    public void ARunStagesInTheContainerDeliversFromItAndRemovesBlobsPastTheRetention()
    {
        using var t = new Scratch();
        using var store = ConnectorStore.Open(t.Sub("store"));
        var container = NewContainer();
        var org = SampleOrgGenerator.Generate(new SampleOrgOptions { Users = 10, Posts = 25, Seed = 4 });
        org.WriteExport(t.Sub("export"));
        var c = Connector(t, store, container);
        store.AddConnector(c);

        var run = new ImportPipeline(store, c).Run();
        Assert.Equal(ImportRunStatus.Succeeded, run.Status);
        var staged = Messages(container);
        Assert.Equal(run.ItemsAvailable, staged.Count);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(store.StorePath, "spool"), "*", SearchOption.AllDirectories));   // downloads are removed after each delivery
        var archived = ApiImportTests.Archive(t.Sub("maildir"));
        Assert.Equal(run.Imported, archived.Count);
        Assert.True(run.Imported > 50);

        // Within the retention nothing goes; past it, every blob whose deliveries are all done goes, and the unmapped stay.
        Assert.Equal(ImportRunStatus.Succeeded, new ImportPipeline(store, c, clock: () => DateTimeOffset.UtcNow.AddDays(6)).Run().Status);
        Assert.Equal(staged.Count, Messages(container).Count);
        Assert.Equal(ImportRunStatus.Succeeded, new ImportPipeline(store, c, clock: () => DateTimeOffset.UtcNow.AddDays(8)).Run().Status);
        var left = Messages(container);
        Assert.True(left.Count < staged.Count, "blobs past the retention were removed");
        Assert.True(run.Unmapped > 0, "the sample has users without a mailbox");
        Assert.NotEmpty(left);   // the items with an unmapped delivery: a later mapping still needs them
        Assert.All(left, b => Assert.True(store.HasOpenDeliveries(c.Name, b.Metadata["itemkey"]), b.Name + " is kept only while a delivery needs it"));
    }

    [Fact]
    public void ARunWhoseContainerIsMissingFailsWithItsIdAndTheNextRunStagesEverything()
    {
        using var t = new Scratch();
        using var store = ConnectorStore.Open(t.Sub("store"));
        var container = NewContainer(create: false);
        var org = SampleOrgGenerator.Generate(new SampleOrgOptions { Users = 8, Posts = 12, Seed = 9 });
        org.WriteExport(t.Sub("export"));
        var c = Connector(t, store, container);
        store.AddConnector(c);

        var ex = Assert.Throws<ChatterException>(() => new ImportPipeline(store, c).Run());
        Assert.Equal("ChatterStaging.ContainerNotFound", ex.ErrorId);
        Assert.Equal(container.Uri.ToString(), ex.Target);
        Assert.Equal(ImportRunStatus.Failed, store.LastRun(c.Name)!.Status);
        Assert.Contains("does not exist", store.LastRun(c.Name)!.Message);

        container.Create();
        var run = new ImportPipeline(store, c).Run();
        Assert.Equal(ImportRunStatus.Succeeded, run.Status);
        Assert.True(run.ItemsAvailable > 0);
        Assert.Equal(run.ItemsAvailable, Messages(container).Count);
    }

    // ---- through the cmdlets ----

    private string ReadOnlySas(BlobContainerClient container)
    {
        var key = new Azure.Storage.StorageSharedKeyCredential(Fakes.Azurite.AccountName, Fakes.Azurite.AccountKey);
        var sas = new BlobSasBuilder(BlobContainerSasPermissions.Read | BlobContainerSasPermissions.List, DateTimeOffset.UtcNow.AddHours(1))
        {
            BlobContainerName = container.Name, Resource = "c",
        }.ToSasQueryParameters(key);
        return container.Uri + "?" + sas;
    }

    private static string Errors(string variable) =>
        $"${variable} | ForEach-Object {{ 'ERR {{0}} | {{1}}' -f $_.FullyQualifiedErrorId, $_.TargetObject }}; ";

    [Fact]
    public void BadConnectionStringMissingContainerAndReadOnlySasAreClearErrorRecords()
    {
        using var t = new Scratch();
        var missing = NewContainer(create: false);
        var readOnly = NewContainer();
        var store = t.Sub("store");
        Directory.CreateDirectory(t.Sub("export"));
        var common = $"-SourcePath '{t.Sub("export")}' -MaildirPath '{t.Sub("maildir")}' -StorePath '{store}'";
        var script =
            CmdletApiTests.Secure("bad", "this is not a connection string") +
            CmdletApiTests.Secure("good", _azurite.ConnectionString) +
            CmdletApiTests.Secure("sas", ReadOnlySas(readOnly)) +
            $"New-ChatterConnector -Name Bad {common} -StagingConnectionString $bad -ErrorVariable e1 -ErrorAction SilentlyContinue | Out-Null; " + Errors("e1") +
            $"New-ChatterConnector -Name Missing {common} -StagingConnectionString $good -StagingContainerName {missing.Name} | Out-Null; " +
            $"New-ChatterConnector -Name ReadOnly {common} -StagingSasUri $sas | Out-Null; " +
            $"Test-ChatterConnector -Name Missing -StorePath '{store}' -ErrorVariable e2 -ErrorAction SilentlyContinue | Where-Object Check -eq Staging | ForEach-Object {{ 'CHECK Missing ' + $_.Succeeded }}; " + Errors("e2") +
            $"Test-ChatterConnector -Name ReadOnly -StorePath '{store}' -ErrorVariable e3 -ErrorAction SilentlyContinue | Where-Object Check -eq Staging | ForEach-Object {{ 'CHECK ReadOnly ' + $_.Succeeded }}; " + Errors("e3") +
            $"Start-ChatterImport -Name ReadOnly -StorePath '{store}' -ErrorVariable e4 -ErrorAction SilentlyContinue | ForEach-Object {{ 'RUN ' + $_.Status }}; " + Errors("e4") +
            $"Get-ChatterConnector -Name Bad -StorePath '{store}' -ErrorAction SilentlyContinue | ForEach-Object {{ 'CREATED Bad' }}";
        var (exit, stdout, stderr) = CmdletApiTests.Shell(script);
        Assert.True(exit == 0, stderr + stdout);

        Assert.Contains("ERR ChatterStaging.BadConnectionString,ChatterConnector.Commands.NewChatterConnectorCommand | StagingConnectionString", stdout);
        Assert.DoesNotContain("CREATED Bad", stdout);
        Assert.DoesNotContain("this is not a connection string", stdout);
        Assert.Contains("CHECK Missing False", stdout);
        Assert.Contains($"ERR ChatterStaging.ContainerNotFound,ChatterConnector.Commands.TestChatterConnectorCommand | {missing.Uri}", stdout);
        Assert.Contains("CHECK ReadOnly False", stdout);
        Assert.Contains("ERR ChatterStaging.PermissionDenied,ChatterConnector.Commands.TestChatterConnectorCommand | " + readOnly.Uri, stdout);
        Assert.Contains("RUN Failed", stdout);
        Assert.Contains("ERR ChatterStaging.PermissionDenied,ChatterConnector.Commands.StartChatterImportCommand | " + readOnly.Uri, stdout);
        Assert.DoesNotContain("sig=", stdout);
        var db = File.ReadAllText(Path.Combine(store, ConnectorStore.DatabaseFileName));
        Assert.DoesNotContain(Fakes.Azurite.AccountKey, db);
        Assert.DoesNotContain("sig=", db);
    }

    [Fact]
    public void AConnectorCreatedWithAConnectionStringImportsThroughTheCmdletsAndReportsItsContainer()
    {
        using var t = new Scratch();
        var container = NewContainer();
        var store = t.Sub("store");
        var script =
            CmdletApiTests.Secure("cs", _azurite.ConnectionString) +
            $"New-ChatterSampleExport -Path '{t.Sub("export")}' -Users 6 -Posts 10 -Seed 3 | Out-Null; " +
            $"New-ChatterConnector -Name Cloud -SourcePath '{t.Sub("export")}' -MaildirPath '{t.Sub("maildir")}' -StorePath '{store}' -StagingConnectionString $cs -StagingContainerName {container.Name} -StagingRetention 2.00:00:00 -OutVariable c | " +
            "Set-ChatterUserMapping -Automatic -PassThru | Start-ChatterImport -Force | ForEach-Object { 'RUN ' + $_.Status }; 'STAGING ' + $c[0].Staging + ' ' + $c[0].StagingRetention.TotalDays; " +
            $"Test-ChatterConnector -Name Cloud -StorePath '{store}' | Where-Object Check -eq Staging | ForEach-Object {{ 'CHECK ' + $_.Succeeded + ' ' + $_.Message }}";
        var (exit, stdout, stderr) = CmdletApiTests.Shell(script);
        Assert.True(exit == 0, stderr + stdout);
        Assert.Contains($"STAGING {container.Uri} 2", stdout);
        Assert.Contains("RUN Succeeded", stdout);
        Assert.Contains("CHECK True", stdout);
        Assert.NotEmpty(Messages(container));
        Assert.NotEmpty(ApiImportTests.Archive(t.Sub("maildir")));
    }

    private static ChatterItem SmallItem(string body)
    {
        var ann = new ChatterUser { Id = "005000000000001AAA", Name = "Ann Lee", Email = "ann@contoso.com" };
        return new ChatterItem
        {
            Key = "0D5000000000002AAA", Id = "0D5000000000002AAA", ThreadId = "0D5000000000002AAA", ItemType = ChatterItemType.Post, AuthorId = ann.Id, Author = ann,
            CreatedDate = new DateTimeOffset(2024, 3, 2, 10, 0, 0, TimeSpan.Zero), Body = body, Participants = new() { ann },
        };
    }

    private static void WritePseudoRandomFile(string path, long size)
    {
        var buffer = new byte[1024 * 1024];
        new Random(7).NextBytes(buffer);
        using var f = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        for (long written = 0; written < size; written += buffer.Length)
        {
            buffer[0]++;   // no two megabytes alike
            f.Write(buffer, 0, (int)Math.Min(buffer.Length, size - written));
        }
    }

    private static string Sha256Of(string path)
    {
        using var f = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(f)).ToLowerInvariant();
    }
}
