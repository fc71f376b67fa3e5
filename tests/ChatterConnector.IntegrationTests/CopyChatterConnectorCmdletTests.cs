using Azure.Storage.Blobs;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.State;

namespace ChatterConnector.IntegrationTests;

/// <summary>Copy-ChatterConnector in an admin's shell (a child process): local store to Azure (Azurite) and back.</summary>
public class CopyChatterConnectorCmdletTests : IClassFixture<AzuriteFixture>, IDisposable
{
    private readonly AzuriteFixture _azurite;
    private readonly Scratch _t = new();
    private readonly string _name = "p" + Guid.NewGuid().ToString("N")[..12];

    public CopyChatterConnectorCmdletTests(AzuriteFixture azurite) => _azurite = azurite;

    public void Dispose() => _t.Dispose();

    private string ConnectionString => AzureStoreBehaviourTests.ConnectionString(_azurite, _name);

    private static readonly string StoreKey = Convert.ToBase64String(Enumerable.Range(7, 32).Select(i => (byte)i).ToArray());

    private Dictionary<string, string> Shell(string key) => new()
    {
        ["CHATTERCONNECTOR_HOME"] = _t.Sub("home"),
        ["CHATTERCONNECTOR_STORE"] = "",
        [SecretProtector.SharedKeyVariable] = key,
    };

    private static List<string> Lines(string stdout, string prefix) =>
        stdout.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith(prefix, StringComparison.Ordinal)).ToList();

    private static string Errors(string variable) =>
        $"${variable} | ForEach-Object {{ 'ERR {{0}} {{1}} {{2}}' -f $_.FullyQualifiedErrorId.Split(',')[0], $_.CategoryInfo.Category, $_.TargetObject }}; ";

    [Fact]
    public void AConnectorMovesToAzureAndBack_WhatIfWritesNothing_AndNamesDoNotClash()
    {
        var local = _t.Sub("local");
        var back = _t.Sub("back");
        var untouched = _t.Sub("untouched");
        var otherContainer = "w" + Guid.NewGuid().ToString("N")[..12];
        var script = CmdletApiTests.Secure("cs", ConnectionString) + CmdletApiTests.Secure("other", _azurite.ConnectionString + $"Container={otherContainer};TablePrefix={otherContainer};") +
            $"New-ChatterSampleExport -Path '{_t.Sub("export")}' -Users 12 -Posts 40 -Seed 3 | Out-Null; " +
            $"New-ChatterConnector -Name Contoso -SourcePath '{_t.Sub("export")}' -MaildirPath '{_t.Sub("mail")}' -StorePath '{local}' | " +
            "Set-ChatterUserMapping -Automatic -PassThru | Start-ChatterImport | ForEach-Object { 'RUN {0} {1}' -f $_.Status, $_.Imported }; " +
            // -WhatIf: neither a local folder nor an Azure container comes to be.
            $"Copy-ChatterConnector -Name Cont* -StorePath '{local}' -DestinationStorePath '{untouched}' -WhatIf; " +
            $"Copy-ChatterConnector -Name Contoso -StorePath '{local}' -DestinationStoreConnectionString $other -WhatIf; " +
            // Local to Azure, with a warning about local staging; then a second copy clashes.
            $"Copy-ChatterConnector -Name Contoso -StorePath '{local}' -DestinationStoreConnectionString $cs -PassThru -WarningVariable warned 3>$null | " +
            "ForEach-Object { 'COPIED {0} {1} {2}' -f $_.Name, $_.StorePath.StartsWith('http'), $_.LastRunStatus }; 'WARNED ' + $warned.Count; " +
            $"Copy-ChatterConnector -Name Contoso -StorePath '{local}' -DestinationStoreConnectionString $cs -ErrorVariable clash -ErrorAction SilentlyContinue 3>$null; " + Errors("clash") +
            // Azure back to a local store under a new name, piped; the copy imports nothing again.
            "Get-ChatterConnector -Name Contoso -StoreConnectionString $cs | " +
            $"Copy-ChatterConnector -DestinationStorePath '{back}' -NewName Fabrikam -PassThru 3>$null | Start-ChatterImport -Force | " +
            "ForEach-Object { 'AGAIN {0} {1} {2} {3}' -f $_.ConnectorName, $_.Status, $_.ItemsAvailable, $_.Imported }; " +
            $"Get-ChatterImportRun -Name Fabrikam -StorePath '{back}' | ForEach-Object {{ 'HIST ' + $_.Status }}; " +
            // -Force replaces; -NewName with several connectors and no destination are errors.
            $"Copy-ChatterConnector -Name Contoso -StorePath '{local}' -DestinationStoreConnectionString $cs -Force -PassThru 3>$null | ForEach-Object {{ 'FORCED ' + $_.Name }}; " +
            $"try {{ Copy-ChatterConnector -Name C* -StorePath '{local}' -DestinationStorePath '{back}' -NewName X -ErrorAction Stop }} catch {{ 'ERR ' + $_.FullyQualifiedErrorId.Split(',')[0] }}; " +
            $"try {{ Copy-ChatterConnector -Name Contoso -StorePath '{local}' -ErrorAction Stop }} catch {{ 'ERR ' + $_.FullyQualifiedErrorId.Split(',')[0] }}; " +
            $"try {{ Copy-ChatterConnector -Name Contoso -StorePath '{local}' -DestinationStorePath '{back}' -DestinationStoreConnectionString $cs -ErrorAction Stop }} catch {{ 'ERR ' + $_.FullyQualifiedErrorId.Split(',')[0] }}";
        var (exit, stdout, stderr) = ModuleShell.Run(script, Shell(StoreKey));
        Assert.True(exit == 0, stderr + stdout);

        var run = Assert.Single(Lines(stdout, "RUN ")).Split(' ');
        Assert.Equal("Succeeded", run[1]);
        Assert.False(Directory.Exists(untouched));
        Assert.False(new BlobContainerClient(_azurite.ConnectionString, otherContainer).Exists().Value);

        Assert.Equal("COPIED Contoso True Succeeded", Assert.Single(Lines(stdout, "COPIED ")));
        Assert.Equal("WARNED 1", Assert.Single(Lines(stdout, "WARNED ")));   // the sample org's unmapped users leave deliveries open
        Assert.Equal("ERR ChatterConnector.NameExists ResourceExists Contoso", Assert.Single(Lines(stdout, "ERR ChatterConnector.NameExists")));
        Assert.Equal("AGAIN Fabrikam Succeeded 0 0", Assert.Single(Lines(stdout, "AGAIN ")));
        Assert.Equal(2, Lines(stdout, "HIST Succeeded").Count);
        Assert.Equal("FORCED Contoso", Assert.Single(Lines(stdout, "FORCED ")));
        Assert.Contains("ERR ChatterConnector.NewNameNeedsOneConnector", stdout);
        Assert.Contains("ERR ChatterStore.DestinationMissing", stdout);
        Assert.Contains("ERR ChatterStore.AmbiguousDestination", stdout);

        using var azure = AzureConnectorStore.Open(ConnectionString, new AzureStoreOptions { WorkPath = _t.Sub("work") });
        using var source = ConnectorStore.Open(local);
        Assert.Equal(ConnectorState.Of(source, "Contoso"), ConnectorState.Of(azure, "Contoso"));
    }

    [Fact]
    public void WithoutTheStoreKey_ACopyToAzure_CreatesNotEvenTheStore()
    {
        var local = _t.Sub("local");
        using (var store = ConnectorStore.Open(local)) ConnectorCopyTests.WithSecret(store, "Keyed");
        var script = CmdletApiTests.Secure("cs", ConnectionString) +
            $"Copy-ChatterConnector -Name Keyed -StorePath '{local}' -DestinationStoreConnectionString $cs -ErrorVariable failed -ErrorAction SilentlyContinue; " + Errors("failed");
        var (exit, stdout, stderr) = ModuleShell.Run(script, Shell(""));
        Assert.True(exit == 0, stderr + stdout);
        Assert.Equal("ERR ChatterStore.KeyMissing ObjectNotFound " + SecretProtector.SharedKeyVariable, Assert.Single(Lines(stdout, "ERR ")));
        Assert.False(new BlobContainerClient(_azurite.ConnectionString, _name).Exists().Value);
    }

    [Fact]
    public void ABusyConnector_AndAMissingStoreKey_AreErrors_AndTheNextConnectorIsStillCopied()
    {
        var local = _t.Sub("local");
        using (var store = ConnectorStore.Open(local))
        {
            store.AddConnector(new ChatterConnectorInfo { Name = "Busy", SourcePath = "/x", MaildirPath = "/m" });
            ConnectorCopyTests.WithSecret(store, "Keyed");
            store.AddConnector(new ChatterConnectorInfo { Name = "Plain", SourcePath = "/x", MaildirPath = "/m" });
        }
        using var worker = ConnectorStore.Open(local);
        using var held = worker.AcquireRunLock("Busy");   // a worker is importing Busy
        var script = CmdletApiTests.Secure("cs", ConnectionString) +
            $"Copy-ChatterConnector -Name * -StorePath '{local}' -DestinationStoreConnectionString $cs -PassThru -ErrorVariable failed -ErrorAction SilentlyContinue | " +
            "ForEach-Object { 'COPIED ' + $_.Name }; " + Errors("failed");
        var (exit, stdout, stderr) = ModuleShell.Run(script, Shell(""));
        Assert.True(exit == 0, stderr + stdout);
        Assert.Equal(new[] { "ERR ChatterImport.ConnectorBusy ResourceBusy Busy", "ERR ChatterStore.KeyMissing ObjectNotFound " + SecretProtector.SharedKeyVariable },
            Lines(stdout, "ERR "));
        Assert.Equal("COPIED Plain", Assert.Single(Lines(stdout, "COPIED ")));
        using var azure = AzureConnectorStore.Open(ConnectionString, new AzureStoreOptions { WorkPath = _t.Sub("work") });
        Assert.Equal(new[] { "Plain" }, azure.ListConnectors().Select(c => c.Name));
    }
}
