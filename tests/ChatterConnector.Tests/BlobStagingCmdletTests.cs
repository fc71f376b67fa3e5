namespace ChatterConnector.Tests;

/// <summary>The blob staging parameters of New- and Set-ChatterConnector, checked before anything is stored (no storage account needed).</summary>
public class BlobStagingCmdletTests
{
    private static Dictionary<string, object?> Vars(TempDir t) => new() { ["src"] = t.Sub("export"), ["mail"] = t.Sub("maildir"), ["store"] = t.Sub("store") };

    private static string Secure(string name, string value) =>
        $"${name} = [System.Security.SecureString]::new(); '{value}'.ToCharArray() | ForEach-Object {{ ${name}.AppendChar($_) }}; ";

    private const string Account = "DefaultEndpointsProtocol=https;AccountName=contosoarchive;AccountKey=a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5;EndpointSuffix=core.windows.net";

    private static string Secrets => Secure("cs", Account) + Secure("bad", "not a connection string") +
        Secure("sas", "https://contosoarchive.blob.core.windows.net/staging?sv=2024-08-04&sp=racwdl&sig=c2lnbmF0dXJl") + Secure("nosig", "https://contosoarchive.blob.core.windows.net/staging?sv=2024-08-04");

    [Theory]
    [InlineData("-StagingConnectionString $bad", "ChatterStaging.BadConnectionString")]
    [InlineData("-StagingConnectionString $bad -WhatIf", "ChatterStaging.BadConnectionString")]
    [InlineData("-StagingSasUri $nosig", "ChatterStaging.BadSasUri")]
    [InlineData("-StagingContainerUri 'https://contosoarchive.blob.core.windows.net/staging?sig=x'", "ChatterStaging.BadContainerUri")]
    [InlineData("-StagingContainerUri 'http://contosoarchive.blob.core.windows.net/staging'", "ChatterStaging.BadContainerUri")]
    [InlineData("-StagingConnectionString $cs -StagingContainerName Bad_Name", "ChatterStaging.InvalidContainerName")]
    [InlineData("-StagingConnectionString $cs -StagingSasUri $sas", "ChatterStaging.CredentialAmbiguous")]
    [InlineData("-StagingSasUri $sas -StagingPath $src", "ChatterConnector.TwoStagingAreas")]
    [InlineData("-StagingSasUri $sas -StagingContainerName other", "ChatterStaging.ContainerNameNotApplicable")]
    [InlineData("-StagingContainerName other", "ChatterStaging.ContainerNameNotApplicable")]
    [InlineData("-StagingRetention -1.00:00:00", "ChatterConnector.InvalidStagingRetention")]
    public void ABlobStagingThatIsMalformedOrDoubledIsRefused(string parameters, string errorId)
    {
        using var t = new TempDir();
        using var ps = new PSSession();
        var r = ps.Run(Secrets + "New-ChatterConnector -Name B -SourcePath $src -MaildirPath $mail -StorePath $store " + parameters, Vars(t));
        var e = Assert.Single(r.Errors);
        Assert.Equal(errorId + ",ChatterConnector.Commands.NewChatterConnectorCommand", e.FullyQualifiedErrorId);
        Assert.DoesNotContain("not a connection string", e.Exception.Message);
        Assert.Empty(ps.Run("Get-ChatterConnector -StorePath $store", Vars(t)).Output);
    }

    [Fact]
    public void SecretsAreStoredProtected_ARotatedKeyKeepsTheContainer_AndStagingPathSwitchesBack()
    {
        using var t = new TempDir();
        using var ps = new PSSession();
        dynamic c = ps.Run(Secrets + "New-ChatterConnector -Name B -SourcePath $src -MaildirPath $mail -StorePath $store -StagingConnectionString $cs -StagingContainerName archive-1", Vars(t))
            .Output.Single().BaseObject;
        Assert.Equal("https://contosoarchive.blob.core.windows.net/archive-1", (string)c.Staging);
        Assert.Equal(TimeSpan.FromDays(7), (TimeSpan)c.StagingRetention);
        Assert.DoesNotContain("AccountKey", File.ReadAllText(Path.Combine(t.Sub("store"), "chatterconnector.db")));

        c = ps.Run(Secrets + "Set-ChatterConnector -Name B -StorePath $store -StagingConnectionString $cs -StagingRetention 1.00:00:00 -PassThru", Vars(t)).Output.Single().BaseObject;
        Assert.Equal("archive-1", (string)c.BlobStaging.ContainerName);
        Assert.Equal(TimeSpan.FromDays(1), (TimeSpan)c.StagingRetention);

        c = ps.Run("Set-ChatterConnector -Name B -StorePath $store -StagingContainerName archive-2 -PassThru", Vars(t)).Output.Single().BaseObject;
        Assert.Equal("https://contosoarchive.blob.core.windows.net/archive-2", (string)c.Staging);

        c = ps.Run(Secrets + "Set-ChatterConnector -Name B -StorePath $store -StagingSasUri $sas -PassThru", Vars(t)).Output.Single().BaseObject;
        Assert.Equal("https://contosoarchive.blob.core.windows.net/staging", (string)c.Staging);
        Assert.Null((object?)c.BlobStaging.ConnectionString);
        Assert.DoesNotContain("sig=", File.ReadAllText(Path.Combine(t.Sub("store"), "chatterconnector.db")));

        c = ps.Run("Set-ChatterConnector -Name B -StorePath $store -StagingPath $src -PassThru", Vars(t)).Output.Single().BaseObject;
        Assert.Null((object?)c.BlobStaging);
        Assert.Equal(t.Sub("export"), (string)c.Staging);
    }

    [Fact]
    public void AContainerUrlIsStoredWithoutASecret()
    {
        using var t = new TempDir();
        using var ps = new PSSession();
        var r = ps.Run("New-ChatterConnector -Name B -SourcePath $src -TenantId contoso.com -ManagedIdentity -StorePath $store -StagingContainerUri https://contosoarchive.blob.core.windows.net/staging/", Vars(t));
        Assert.Empty(r.Errors);
        dynamic c = r.Output.Single().BaseObject;
        Assert.Equal("https://contosoarchive.blob.core.windows.net/staging", (string)c.BlobStaging.ContainerUri);
        Assert.Null((object?)c.BlobStaging.ConnectionString);
        Assert.Null((object?)c.BlobStaging.SasUri);
    }
}
