using System.Reflection;
using System.Text.Json;
using Azure.Storage.Blobs;
using ChatterConnector.Engine;
using ChatterConnector.Engine.Import;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources.Sample;
using ChatterConnector.Engine.State;

namespace ChatterConnector.IntegrationTests;

/// <summary>A connector's whole state as lines, to compare two stores' copies of it (store-specific ETag, StorePath and ledger rows left out).</summary>
internal static class ConnectorState
{
    private static readonly DeliveryStatus[] All = Enum.GetValues<DeliveryStatus>();

    public static List<string> Of(IConnectorStore store, string name)
    {
        var lines = new List<string>();
        var c = store.GetConnector(name);
        (c.ETag, c.StorePath) = (null, "");
        lines.Add("DEF " + JsonSerializer.Serialize(c));
        lines.AddRange(store.GetCheckpoints(name).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"CHECKPOINT {kv.Key}={kv.Value}"));
        lines.AddRange(store.GetItems(name).OrderBy(i => i.ItemKey, StringComparer.Ordinal).Select(i => "ITEM " + JsonSerializer.Serialize(i)));
        lines.AddRange(store.GetAllParticipants(name).Select(p => $"PARTICIPANT {p.ThreadId} {p.UserId}"));
        lines.AddRange(store.GetDeliveries(name, All).Select(d => { d.Row = 0; return "LEDGER " + JsonSerializer.Serialize(d); }));
        lines.AddRange(store.GetRuns(name).Select(r => { r.StorePath = ""; return "RUN " + JsonSerializer.Serialize(r); }));
        lines.AddRange(store.QueryLog(name, null, null, null).Select(e => "LOG " + JsonSerializer.Serialize(e)));
        return lines;
    }
}

/// <summary>Copy a connector with its state from a local store to Azure (Azurite) and back: nothing lost, nothing imported twice.</summary>
public class ConnectorCopyTests : IClassFixture<AzuriteFixture>, IDisposable
{
    private readonly AzuriteFixture _azurite;
    private readonly Scratch _t = new();
    private readonly string _name = "k" + Guid.NewGuid().ToString("N")[..12];
    private readonly List<IConnectorStore> _stores = new();

    public ConnectorCopyTests(AzuriteFixture azurite) => _azurite = azurite;

    public void Dispose()
    {
        foreach (var s in _stores) s.Dispose();
        _t.Dispose();
    }

    private T Keep<T>(T store) where T : IConnectorStore { _stores.Add(store); return store; }

    private ConnectorStore Local(string folder) => Keep(ConnectorStore.Open(_t.Sub(folder)));

    private AzureConnectorStore Azure() =>
        Keep(AzureConnectorStore.Open(AzureStoreBehaviourTests.ConnectionString(_azurite, _name), new AzureStoreOptions { WorkPath = _t.Sub("work") }));

    /// <summary>A local store with connector Move that has imported a sample org into a Maildir.</summary>
    private (ConnectorStore Store, SampleOrg Org, ChatterImportRun Run) Imported()
    {
        var org = SampleOrgGenerator.Generate(new SampleOrgOptions { Users = 12, Posts = 40, Seed = 7 });
        org.WriteExport(_t.Sub("export"));
        var local = Local("local");
        local.AddConnector(new ChatterConnectorInfo { Name = "Move", SourcePath = _t.Sub("export"), MaildirPath = _t.Sub("mail"), AutomaticMapping = true });
        var run = new ImportPipeline(local, local.GetConnector("Move")).Run();
        Assert.Equal(ImportRunStatus.Succeeded, run.Status);
        return (local, org, run);
    }

    /// <summary>Adds a connector with a Graph client secret protected for <paramref name="store"/>: "graph s3cret".</summary>
    internal static ChatterConnectorInfo WithSecret(IConnectorStore store, string name)
    {
        var c = new ChatterConnectorInfo
        {
            Name = name, SourcePath = "/x", MaildirPath = "/m",
            Graph = new GraphSettings { TenantId = "t", ClientId = "c", ClientSecret = store.Secrets.Protect("graph s3cret") },
        };
        store.AddConnector(c);
        return c;
    }

    private static void WithStoreKey(string? key, Action body)
    {
        var saved = Environment.GetEnvironmentVariable(SecretProtector.SharedKeyVariable);
        Environment.SetEnvironmentVariable(SecretProtector.SharedKeyVariable, key);
        try { body(); }
        finally { Environment.SetEnvironmentVariable(SecretProtector.SharedKeyVariable, saved); }
    }

    [Fact]
    public void ARoundTripToAzureAndBack_KeepsTheState_AndNothingIsImportedTwice()
    {
        var (local, org, first) = Imported();
        Assert.True(first.Imported > 50);
        var original = ConnectorState.Of(local, "Move");
        Assert.Contains(original, l => l.StartsWith("LEDGER ") && l.Contains("\"Status\":" + (int)DeliveryStatus.Unmapped));

        var azure = Azure();
        var inAzure = ConnectorCopy.Copy(local, "Move", azure);
        Assert.Equal(azure.StorePath, inAzure.StorePath);
        Assert.Equal(original, ConnectorState.Of(Azure(), "Move"));

        var back = Local("back");
        ConnectorCopy.Copy(azure, "Move", back);
        Assert.Equal(original, ConnectorState.Of(back, "Move"));

        // Exactly-once survives the move: the copies import nothing again...
        foreach (var store in new IConnectorStore[] { azure, back })
        {
            var again = new ImportPipeline(store, store.GetConnector("Move")) { }.Run();
            Assert.Equal((ImportRunStatus.Succeeded, 0, 0, 0), (again.Status, again.ItemsAvailable, again.Imported, again.SkippedDuplicates));
        }
        // ...and a new item in the source is imported once, by the copy in Azure.
        var author = org.Users[0];
        org.AddPost(author.Id, author.Id, "after the move", org.LatestTimestamp().AddMinutes(1));
        org.WriteExport(_t.Sub("export"));
        var later = new ImportPipeline(azure, azure.GetConnector("Move")).Run();
        Assert.Equal((ImportRunStatus.Succeeded, 1), (later.Status, later.ItemsAvailable));
        Assert.True(later.Imported >= 1);
        var archive = ApiImportTests.Archive(_t.Sub("mail"));
        Assert.Equal(first.Imported + later.Imported, archive.Count);
        Assert.Equal(archive.Count, archive.Distinct().Count());
    }

    [Fact]
    public void Secrets_AreProtectedAgainForTheDestination_AndEnvironmentSecretsStayNames()
    {
        var local = Local("local");
        var secret = WithSecret(local, "Secret");
        secret.BlobStaging = new BlobStagingSettings { SasUri = SecretProtector.FromEnvironment("STAGING_SAS"), Location = "https://a.blob.core.windows.net/s" };
        local.UpdateConnector(secret);
        WithStoreKey(Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray()), () =>
        {
            var azure = Azure();
            ConnectorCopy.Copy(local, "Secret", azure, newName: "Shared");
            var shared = azure.GetConnector("Shared");
            Assert.StartsWith(SecretProtector.SharedKeyPrefix, shared.Graph!.ClientSecret!.Value);
            Assert.Equal("graph s3cret", azure.Secrets.Reveal(shared.Graph.ClientSecret));
            Assert.Equal((StoredSecret.EnvironmentKind, "STAGING_SAS"), (shared.BlobStaging!.SasUri!.Kind, shared.BlobStaging.SasUri.Value));

            var back = Local("back");
            ConnectorCopy.Copy(azure, "Shared", back);
            Assert.Equal("graph s3cret", back.Secrets.Reveal(back.GetConnector("Shared").Graph!.ClientSecret!));
        });
    }

    [Fact]
    public void WithoutTheStoreKey_ACopyToAzure_IsKeyMissing_AndWritesNothing()
    {
        var local = Local("local");
        WithSecret(local, "Secret");
        local.SetCheckpoint("Secret", "watermark.FeedItem", "1");
        WithStoreKey(null, () =>
        {
            var azure = Azure();
            Assert.Equal("ChatterStore.KeyMissing", Assert.Throws<ChatterException>(() => ConnectorCopy.Copy(local, "Secret", azure)).ErrorId);
            Assert.Null(azure.FindConnector("Secret"));
            Assert.Empty(azure.GetCheckpoints("Secret"));
        });
    }

    [Fact]
    public void ARunningConnector_IsNotCopied_ButBusy()
    {
        var local = Local("local");
        local.AddConnector(new ChatterConnectorInfo { Name = "Busy", SourcePath = "/x", MaildirPath = "/m" });
        local.SetCheckpoint("Busy", "watermark.FeedItem", "1");
        using var worker = Local("local").AcquireRunLock("Busy");
        var back = Local("back");
        Assert.Equal("ChatterImport.ConnectorBusy", Assert.Throws<ChatterException>(() => ConnectorCopy.Copy(local, "Busy", back)).ErrorId);
        Assert.Null(back.FindConnector("Busy"));
        Assert.Empty(back.GetCheckpoints("Busy"));
    }

    [Fact]
    public void ACopyThatFailsHalfway_LeavesNoConnector_AndTheNextCopySucceeds()
    {
        var (local, _, _) = Imported();
        var azure = Azure();
        var failing = FailingStore.Wrap(azure, failOnCall: nameof(IConnectorStore.AddDelivery), after: 120);
        Assert.Throws<IOException>(() => ConnectorCopy.Copy(local, "Move", failing));
        Assert.Null(azure.FindConnector("Move"));
        Assert.Empty(azure.GetCheckpoints("Move"));
        Assert.Empty(azure.GetItems("Move"));
        Assert.Empty(azure.GetDeliveries("Move", Enum.GetValues<DeliveryStatus>()));

        ConnectorCopy.Copy(local, "Move", azure);
        Assert.Equal(ConnectorState.Of(local, "Move"), ConnectorState.Of(Azure(), "Move"));
    }

    [Fact]
    public void ANameThatExists_IsNotReplacedUnlessForced_AndACopyOntoItselfIsRefused()
    {
        var local = Local("local");
        local.AddConnector(new ChatterConnectorInfo { Name = "A", SourcePath = "/new", MaildirPath = "/m" });
        local.SetCheckpoint("A", "watermark.FeedItem", "new");
        var back = Local("back");
        back.AddConnector(new ChatterConnectorInfo { Name = "A", SourcePath = "/old", MaildirPath = "/m" });
        back.SetCheckpoint("A", "stale", "old");

        Assert.Equal("ChatterConnector.NameExists", Assert.Throws<ChatterException>(() => ConnectorCopy.Copy(local, "A", back)).ErrorId);
        Assert.Equal("/old", back.GetConnector("A").SourcePath);

        ConnectorCopy.Copy(local, "A", back, replace: true);
        Assert.Equal("/new", back.GetConnector("A").SourcePath);
        Assert.Equal(new[] { "watermark.FeedItem" }, back.GetCheckpoints("A").Keys);

        Assert.Equal("ChatterConnector.CopyToItself", Assert.Throws<ChatterException>(() => ConnectorCopy.Copy(local, "a", Local("local"), replace: true)).ErrorId);
        ConnectorCopy.Copy(local, "A", Local("local"), newName: "A2");
        Assert.Equal("/new", local.GetConnector("A2").SourcePath);
        Assert.Equal("new", local.GetCheckpoint("A2", "watermark.FeedItem"));
    }
}

/// <summary>A store that fails (an I/O error) on the n-th call of one method: a connection lost in the middle of a copy.</summary>
public class FailingStore : DispatchProxy
{
    private IConnectorStore _inner = null!;
    private string _method = "";
    private int _left;

    public static IConnectorStore Wrap(IConnectorStore inner, string failOnCall, int after)
    {
        var proxy = Create<IConnectorStore, FailingStore>();
        var f = (FailingStore)(object)proxy;
        (f._inner, f._method, f._left) = (inner, failOnCall, after);
        return proxy;
    }

    protected override object? Invoke(MethodInfo? method, object?[]? args)
    {
        if (method!.Name == _method && --_left < 0) throw new IOException("The connection was lost.");
        try { return method.Invoke(_inner, args); }
        catch (TargetInvocationException e) when (e.InnerException != null) { throw e.InnerException; }
    }
}
