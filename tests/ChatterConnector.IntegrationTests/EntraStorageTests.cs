using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using ChatterConnector.Engine;
using ChatterConnector.Engine.Conversion;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Staging;
using ChatterConnector.Engine.State;
using ChatterConnector.Fakes;

namespace ChatterConnector.IntegrationTests;

/// <summary>
/// The store and blob staging signed in with a Microsoft Entra ID token, as a managed identity
/// signs in from Azure Automation: against an Azurite that serves HTTPS and checks bearer tokens
/// (issuer, audience, lifetime; its "basic" OAuth does not check signatures, so the token here is unsigned).
/// </summary>
public class EntraStorageTests : IAsyncLifetime
{
    private Azurite _azurite = null!;
    private readonly Scratch _t = new();

    public async Task InitializeAsync() => _azurite = await Azurite.StartAsync(oauth: true);

    public Task DisposeAsync()
    {
        _azurite.Dispose();
        _t.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>What a managed identity's token for Azure Storage carries, unsigned.</summary>
    private sealed class StorageToken(string audience) : TokenCredential
    {
        public int Requests;

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Requests);
            Assert.Contains("https://storage.azure.com/.default", requestContext.Scopes);
            var now = DateTimeOffset.UtcNow;
            static string B64(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            var payload = $"{{\"aud\":\"{audience}\",\"iss\":\"https://sts.windows.net/{Guid.NewGuid()}/\",\"iat\":{now.AddMinutes(-1).ToUnixTimeSeconds()}," +
                          $"\"nbf\":{now.AddMinutes(-1).ToUnixTimeSeconds()},\"exp\":{now.AddHours(1).ToUnixTimeSeconds()},\"oid\":\"{Guid.NewGuid()}\"}}";
            return new AccessToken(B64("{\"alg\":\"RS256\",\"typ\":\"JWT\"}") + "." + B64(payload) + ".c2ln", now.AddHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new(GetToken(requestContext, cancellationToken));
    }

    private HttpClientTransport Transport() => new(_azurite.TrustingHandler());

    private AzureConnectorStore OpenStore(TokenCredential credential) =>
        AzureConnectorStore.Open(new Uri(_azurite.BlobEndpoint + "/entrastore"), _azurite.TableEndpoint, credential,
            new AzureStoreOptions { WorkPath = _t.Sub("work"), TablePrefix = "Entra" }, Transport());

    [Fact]
    public void TheStoreSignsInWithAnEntraToken_OverHttps()
    {
        var token = new StorageToken("https://storage.azure.com");
        using (var store = OpenStore(token))
        {
            store.AddConnector(new ChatterConnectorInfo { Name = "Managed", SourcePath = _t.Sub("export"), MaildirPath = _t.Sub("mail"), Created = DateTimeOffset.UtcNow, Modified = DateTimeOffset.UtcNow });
            store.SetCheckpoint("Managed", "watermark", "42");
            using (var lease = store.AcquireRunLock("Managed"))
                Assert.False(lease.Lost.IsCancellationRequested);
        }
        using (var again = OpenStore(token))
        {
            Assert.Equal(_t.Sub("mail"), again.GetConnector("Managed").MaildirPath);
            Assert.Equal("42", again.GetCheckpoint("Managed", "watermark"));
        }
        Assert.True(token.Requests > 0, "the store asked the credential for a token");
    }

    [Fact]
    public void ATokenForAnotherAudience_IsAClearError()
    {
        var ex = Assert.Throws<ChatterException>(() => OpenStore(new StorageToken("https://graph.microsoft.com")).Dispose());
        Assert.Equal("ChatterStore.AccessDenied", ex.ErrorId); // Storage answers 403 to a token it will not take
        Assert.Contains("entrastore", ex.Target?.ToString());
    }

    [Fact]
    public async Task StagingByContainerUri_SignsInWithAnEntraToken_AndRoundTrips()
    {
        var token = new StorageToken("https://storage.azure.com");
        var uri = _azurite.BlobEndpoint + "/entra-staging";
        await new BlobContainerClient(new Uri(uri), token, new BlobClientOptions { Transport = Transport() }).CreateAsync();
        var container = StagingFactory.Connect(new BlobStagingSettings { ContainerUri = uri, Location = uri }, SecretProtector.ForSharedStore(uri), () => token,
            new BlobClientOptions { Transport = Transport() });
        using var staging = new BlobStaging(container, "Managed", _t.Sub("spool"));
        staging.Prepare(default);

        var ann = new ChatterUser { Id = "005000000000001AAA", Name = "Ann Lee", Email = "ann@contoso.com" };
        var item = new ChatterItem
        {
            Key = "0D5000000000001AAA", Id = "0D5000000000001AAA", ThreadId = "0D5000000000001AAA", ItemType = ChatterItemType.Post, AuthorId = ann.Id, Author = ann,
            CreatedDate = new DateTimeOffset(2024, 3, 1, 10, 0, 0, TimeSpan.Zero), Body = "signed in as a managed identity", Participants = new() { ann },
        };
        var staged = staging.Stage(new MessageConverter().Convert(item), item, default);
        using var copy = await staging.FetchAsync(staged.Path, staged.Sha256, default);
        Assert.Contains("signed in as a managed identity", File.ReadAllText(copy.Path));
        Assert.True(token.Requests > 0);
    }
}
