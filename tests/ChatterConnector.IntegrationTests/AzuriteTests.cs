using Azure.Data.Tables;
using Azure.Storage.Blobs;
using ChatterConnector.Fakes;

namespace ChatterConnector.IntegrationTests;

/// <summary>One Azurite for every test of a class that asks for it (IClassFixture), stopped after them.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    public Azurite Azurite { get; private set; } = null!;
    public string ConnectionString => Azurite.ConnectionString;
    public async Task InitializeAsync() => Azurite = await Azurite.StartAsync();
    public Task DisposeAsync() { Azurite?.Dispose(); return Task.CompletedTask; }
}

/// <summary>The test setup installs and starts Azurite by itself, and the Azure SDK talks to it.</summary>
public class AzuriteTests : IClassFixture<AzuriteFixture>
{
    private readonly AzuriteFixture _fixture;
    public AzuriteTests(AzuriteFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task Blob_and_table_services_answer_the_sdk()
    {
        var container = new BlobContainerClient(_fixture.ConnectionString, "smoke-" + Guid.NewGuid().ToString("N"));
        await container.CreateAsync();
        await container.GetBlobClient("a.txt").UploadAsync(BinaryData.FromString("hello"));
        Assert.Equal("hello", (await container.GetBlobClient("a.txt").DownloadContentAsync()).Value.Content.ToString());

        var table = new TableClient(_fixture.ConnectionString, "smoke" + Guid.NewGuid().ToString("N"));
        await table.CreateAsync();
        await table.AddEntityAsync(new TableEntity("p", "r") { ["Value"] = 42 });
        Assert.Equal(42, (await table.GetEntityAsync<TableEntity>("p", "r")).Value.GetInt32("Value"));
    }
}
