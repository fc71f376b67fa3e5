using System.Management.Automation;

namespace ChatterConnector.Tests;

/// <summary>The Salesforce REST API parameters of New- and Set-ChatterConnector (no org needed).</summary>
public class SalesforceCmdletTests
{
    private static Dictionary<string, object?> Vars(TempDir t) => new() { ["mail"] = t.Sub("maildir"), ["store"] = t.Sub("store") };

    private const string Token = "$token = [System.Security.SecureString]::new(); 'not-a-real-token'.ToCharArray() | ForEach-Object { $token.AppendChar($_) }; ";

    [Fact]
    public void AnInstanceUrlOverHttpToAnotherHostIsRefused()
    {
        using var t = new TempDir();
        using var ps = new PSSession();
        var r = ps.Run(Token + "New-ChatterConnector -Name A -MaildirPath $mail -StorePath $store -SalesforceAccessToken $token -SalesforceInstanceUrl http://contoso.my.salesforce.com", Vars(t));
        var e = Assert.Single(r.Errors);
        Assert.Equal("ChatterSource.InsecureUrl,ChatterConnector.Commands.NewChatterConnectorCommand", e.FullyQualifiedErrorId);
        Assert.Contains("http://contoso.my.salesforce.com", e.Exception.Message);
        Assert.Empty(ps.Run("Get-ChatterConnector -StorePath $store", Vars(t)).Output);
    }

    [Fact]
    public void ALoginUrlThatIsNotAUrlIsRefused()
    {
        using var t = new TempDir();
        using var ps = new PSSession();
        var r = ps.Run(Token + "New-ChatterConnector -Name A -MaildirPath $mail -StorePath $store -SalesforceClientId id -SalesforceRefreshToken $token -SalesforceLoginUrl 'login salesforce'", Vars(t));
        Assert.Equal("ChatterConnector.InvalidSalesforceUrl,ChatterConnector.Commands.NewChatterConnectorCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void SecretsAreStoredProtected_NeverInPlainText()
    {
        using var t = new TempDir();
        using var ps = new PSSession();
        var r = ps.Run(Token + "New-ChatterConnector -Name A -MaildirPath $mail -StorePath $store -SalesforceClientId id -SalesforceRefreshToken $token", Vars(t));
        Assert.Empty(r.Errors);
        var c = (dynamic)Assert.Single(r.Output).BaseObject;
        Assert.Equal("RefreshToken", c.Salesforce.AuthFlow.ToString());
        Assert.Equal("(protected)", c.Salesforce.RefreshToken.ToString());
        foreach (var file in Directory.GetFiles(t.Sub("store"), "*", SearchOption.AllDirectories))
            Assert.DoesNotContain("not-a-real-token", File.ReadAllText(file));
    }

    [Fact]
    public void SalesforceSettingsDoNotApplyToAnExportConnector()
    {
        using var t = new TempDir();
        using var ps = new PSSession();
        var vars = Vars(t);
        vars["src"] = t.Sub("export");
        var r = ps.Run("New-ChatterConnector -Name E -SourcePath $src -MaildirPath $mail -StorePath $store | Set-ChatterConnector -MaxApiUsagePercent 50", vars);
        Assert.Equal("ChatterConnector.NotAnApiConnector,ChatterConnector.Commands.SetChatterConnectorCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
    }
}

/// <summary>The Microsoft Graph target parameters of New-ChatterConnector, checked before anything is stored.</summary>
public class GraphTargetCmdletTests
{
    private static Dictionary<string, object?> Vars(TempDir t) => new() { ["src"] = t.Sub("export"), ["mail"] = t.Sub("maildir"), ["store"] = t.Sub("store") };

    private const string Secret = "$s = [System.Security.SecureString]::new(); 'x'.ToCharArray() | ForEach-Object { $s.AppendChar($_) }; ";

    [Theory]
    [InlineData("-MaildirPath $mail -TenantId contoso.com -ClientId app -ClientSecret $s", "ChatterConnector.TwoTargets")]
    [InlineData("", "ChatterConnector.NoTarget")]
    [InlineData("-TenantId contoso.com -ClientId app -ClientSecret $s -ManagedIdentity", "ChatterConnector.GraphSignInAmbiguous")]
    [InlineData("-TenantId contoso.com -ClientSecret $s", "ChatterConnector.GraphSettingMissing")]
    [InlineData("-ClientId app -ClientSecret $s", "ChatterConnector.GraphSettingMissing")]
    [InlineData("-TenantId contoso.com -ManagedIdentity -GraphEndpoint http://graph.example.com", "ChatterConnector.InvalidGraphEndpoint")]
    public void ATargetThatIsMissingDoubledOrIncompleteIsRefused(string parameters, string errorId)
    {
        using var t = new TempDir();
        using var ps = new PSSession();
        var r = ps.Run(Secret + "New-ChatterConnector -Name G -SourcePath $src -StorePath $store " + parameters, Vars(t));
        Assert.Equal(errorId + ",ChatterConnector.Commands.NewChatterConnectorCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
        Assert.Empty(ps.Run("Get-ChatterConnector -StorePath $store", Vars(t)).Output);
    }

    [Fact]
    public void AManagedIdentityConnectorNeedsNoSecret_AndNationalCloudsHaveTheirOwnEndpoint()
    {
        using var t = new TempDir();
        using var ps = new PSSession();
        var r = ps.Run("New-ChatterConnector -Name G -SourcePath $src -StorePath $store -TenantId contoso.com -ManagedIdentity -Environment USGov", Vars(t));
        Assert.Empty(r.Errors);
        var c = (dynamic)Assert.Single(r.Output).BaseObject;
        Assert.Equal("https://graph.microsoft.us", (string)c.Graph.Endpoint);
        Assert.True((bool)c.Graph.ManagedIdentity);
        Assert.Null(c.MaildirPath);
    }
}
