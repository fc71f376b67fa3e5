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

/// <summary>Set-ChatterConnector on a Microsoft Graph connector: a new sign-in replaces the old, and what it needs is checked before anything is stored.</summary>
public class GraphSetCmdletTests
{
    private static Dictionary<string, object?> Vars(TempDir t) => new() { ["src"] = t.Sub("export"), ["mail"] = t.Sub("maildir"), ["store"] = t.Sub("store"), ["pfx"] = t.Sub("app.pfx") };

    private const string Secret = "$s = [System.Security.SecureString]::new(); 'x'.ToCharArray() | ForEach-Object { $s.AppendChar($_) }; ";

    private static dynamic Graph(PSSession ps, TempDir t) =>
        ((dynamic)Assert.Single(ps.Run("Get-ChatterConnector -Name G -StorePath $store", Vars(t)).Output).BaseObject).Graph;

    [Fact]
    public void ANewSignInReplacesTheOld_AndTheAppRegistrationCanChangeToo()
    {
        using var t = new TempDir();
        using var ps = new PSSession();
        Assert.Empty(ps.Run(Secret + "New-ChatterConnector -Name G -SourcePath $src -StorePath $store -TenantId contoso.com -ClientId app1 -ClientSecret $s", Vars(t)).Errors);

        Assert.Empty(ps.Run("Set-ChatterConnector -Name G -StorePath $store -CertificatePath $pfx -ClientId app2", Vars(t)).Errors);
        var g = Graph(ps, t);
        Assert.Equal(t.Sub("app.pfx"), (string)g.CertificatePath);
        Assert.Null(g.ClientSecret);
        Assert.Equal("app2", (string)g.ClientId);

        // To the managed identity of an Azure Automation account, a user-assigned one…
        Assert.Empty(ps.Run("Set-ChatterConnector -Name G -StorePath $store -ManagedIdentity -ManagedIdentityClientId 11111111-2222-3333-4444-555555555555", Vars(t)).Errors);
        g = Graph(ps, t);
        Assert.True((bool)g.ManagedIdentity);
        Assert.Equal("11111111-2222-3333-4444-555555555555", (string)g.ManagedIdentityClientId);
        Assert.Null(g.CertificatePath);
        // …then the system-assigned one; and a new tenant
        Assert.Empty(ps.Run("Set-ChatterConnector -Name G -StorePath $store -ManagedIdentity -TenantId fabrikam.com", Vars(t)).Errors);
        g = Graph(ps, t);
        Assert.True((bool)g.ManagedIdentity);
        Assert.Null(g.ManagedIdentityClientId);
        Assert.Equal("fabrikam.com", (string)g.TenantId);

        // -WhatIf stores nothing
        Assert.Empty(ps.Run(Secret + "Set-ChatterConnector -Name G -StorePath $store -ClientSecret $s -WhatIf", Vars(t)).Errors);
        Assert.True((bool)Graph(ps, t).ManagedIdentity);
    }

    [Theory]
    [InlineData("-ClientSecret $s -CertificateThumbprint 0123456789ABCDEF0123456789ABCDEF01234567", "ChatterConnector.GraphSignInAmbiguous")]
    [InlineData("-ManagedIdentity -GraphAccessToken $s", "ChatterConnector.GraphSignInAmbiguous")]
    [InlineData("-ClientSecret $s", "ChatterConnector.GraphSettingMissing")]           // a token connector has no tenant or app
    [InlineData("-ClientSecret $s -TenantId contoso.com", "ChatterConnector.GraphSettingMissing")]
    [InlineData("-ManagedIdentityClientId 11111111-2222-3333-4444-555555555555", "ChatterConnector.GraphSettingMissing")]
    public void ASignInThatIsDoubledOrCannotWorkIsRefused_AndNothingChanges(string parameters, string errorId)
    {
        using var t = new TempDir();
        using var ps = new PSSession();
        Assert.Empty(ps.Run(Secret + "New-ChatterConnector -Name G -SourcePath $src -StorePath $store -GraphAccessToken $s", Vars(t)).Errors);
        var r = ps.Run(Secret + "Set-ChatterConnector -Name G -StorePath $store " + parameters, Vars(t));
        Assert.Equal(errorId + ",ChatterConnector.Commands.SetChatterConnectorCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
        var g = Graph(ps, t);
        Assert.NotNull(g.AccessToken);
        Assert.Null(g.ClientSecret);
        Assert.Null(g.TenantId);
    }

    [Fact]
    public void ATokenConnectorBecomesAnAppRegistrationWithItsTenantAndApp()
    {
        using var t = new TempDir();
        using var ps = new PSSession();
        Assert.Empty(ps.Run(Secret + "New-ChatterConnector -Name G -SourcePath $src -StorePath $store -GraphAccessToken $s", Vars(t)).Errors);
        Assert.Empty(ps.Run(Secret + "Set-ChatterConnector -Name G -StorePath $store -ClientSecret $s -TenantId contoso.com -ClientId app", Vars(t)).Errors);
        var g = Graph(ps, t);
        Assert.NotNull(g.ClientSecret);
        Assert.Null(g.AccessToken);
        Assert.Equal("contoso.com", (string)g.TenantId);

        var r = ps.Run("New-ChatterConnector -Name M -SourcePath $src -MaildirPath $mail -StorePath $store | Set-ChatterConnector -TenantId contoso.com", Vars(t));
        Assert.Equal("ChatterConnector.NotAGraphConnector,ChatterConnector.Commands.SetChatterConnectorCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
    }
}
