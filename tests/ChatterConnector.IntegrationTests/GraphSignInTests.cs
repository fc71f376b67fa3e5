using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ChatterConnector.Engine;
using ChatterConnector.Engine.Import;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources.Sample;
using ChatterConnector.Engine.State;
using ChatterConnector.Engine.Targets.Graph;
using ChatterConnector.Fakes;
using Xunit.Abstractions;

namespace ChatterConnector.IntegrationTests;

/// <summary>
/// A small import into the fake Graph, signed in through Azure.Identity against the fake Microsoft Entra ID token
/// service: a client secret, a certificate (PFX with a password, PEM, thumbprint in CurrentUser\My) and a refused
/// secret or certificate. No caller-supplied token is involved: the fake Graph accepts only tokens the fake token
/// service issued for it.
/// </summary>
public class GraphSignInTests(ITestOutputHelper output)
{
    internal const string Tenant = "contoso.com";
    internal const string ClientId = "6f1c2a4e-0d55-4b8a-9c1e-3a7b5d9e2f10";
    internal const string Secret = "s3cr3t~value.of-the_app";

    /// <summary>An app certificate with its private key (RSA 2048, self-signed), as an admin would upload to the app registration.</summary>
    internal static X509Certificate2 AppCertificate(string subject = "CN=ChatterConnector archive app")
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var now = DateTimeOffset.UtcNow;
        using var cert = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(2));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null, X509KeyStorageFlags.Exportable);
    }

    [Fact]
    public void AClientSecretSignsIn()
    {
        using var rig = new SignInRig();
        rig.Entra.AddApp(Tenant, ClientId, Secret, null);
        var run = rig.Run(s => s.ClientSecret = rig.Secrets.Protect(Secret));
        rig.AssertImported(run);
        var token = Assert.Single(rig.Entra.Requests, r => r.Status == 200);
        Assert.Equal("client_secret", token.Credential);
        Assert.Equal(Tenant, token.Tenant);
        Assert.Equal(rig.Graph.Url + "/.default", token.Scope);
    }

    [Fact]
    public void ACertificateFromAPfxFileWithAPasswordSignsIn()
    {
        using var rig = new SignInRig();
        using var cert = AppCertificate();
        rig.Entra.AddApp(Tenant, ClientId, null, cert);
        var path = rig.Scratch.Sub("app.pfx");
        File.WriteAllBytes(path, cert.Export(X509ContentType.Pfx, "pfx-pass"));
        var run = rig.Run(s => { s.CertificatePath = path; s.CertificatePassword = rig.Secrets.Protect("pfx-pass"); });
        rig.AssertImported(run);
        AssertSignedWithAssertion(rig);
    }

    [Fact]
    public void ACertificateFromAPemFileSignsIn()
    {
        using var rig = new SignInRig();
        using var cert = AppCertificate();
        rig.Entra.AddApp(Tenant, ClientId, null, cert);
        var path = rig.Scratch.Sub("app.pem");
        using (var key = cert.GetRSAPrivateKey()!)
            File.WriteAllText(path, cert.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem() + "\n");
        var run = rig.Run(s => s.CertificatePath = path);
        rig.AssertImported(run);
        AssertSignedWithAssertion(rig);
    }

    [Fact]
    public void ACertificateByThumbprintFromCurrentUserMySignsIn()
    {
        using var rig = new SignInRig();
        using var cert = AppCertificate("CN=ChatterConnector thumbprint test " + Guid.NewGuid().ToString("N")[..8]);
        rig.Entra.AddApp(Tenant, ClientId, null, cert);
        using var stored = X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null, X509KeyStorageFlags.Exportable | X509KeyStorageFlags.PersistKeySet);
        using (var store = new X509Store(StoreName.My, System.Security.Cryptography.X509Certificates.StoreLocation.CurrentUser))
        {
            store.Open(OpenFlags.ReadWrite);
            store.Add(stored);
        }
        try
        {
            var run = rig.Run(s => s.CertificateThumbprint = cert.Thumbprint.ToLowerInvariant());
            rig.AssertImported(run);
            AssertSignedWithAssertion(rig);
        }
        finally
        {
            using var store = new X509Store(StoreName.My, System.Security.Cryptography.X509Certificates.StoreLocation.CurrentUser);
            store.Open(OpenFlags.ReadWrite);
            foreach (var c in store.Certificates.Find(X509FindType.FindByThumbprint, cert.Thumbprint, false))
                store.Remove(c);
        }
    }

    [Fact]
    public void AWrongSecretFailsTheRunWithAuthFailedNamingTheAadstsCode()
    {
        using var rig = new SignInRig();
        rig.Entra.AddApp(Tenant, ClientId, Secret, null);
        var ex = Assert.Throws<ChatterException>(() => rig.Run(s => s.ClientSecret = rig.Secrets.Protect("not-the-secret")));
        output.WriteLine(ex.ErrorId + ": " + ex.Message);
        Assert.Equal("ChatterTarget.AuthFailed", ex.ErrorId);
        Assert.Equal(ChatterErrorKind.AuthenticationError, ex.Kind);
        Assert.Contains("AADSTS7000215", ex.Message);
        Assert.DoesNotContain("not-the-secret", ex.Message);
        Assert.Empty(rig.Graph.Users.SelectMany(u => rig.Graph.Messages(u.Mail)));
        Assert.DoesNotContain(rig.Graph.Requests, r => r.Status is >= 200 and < 300 && r.Method == "POST");
    }

    [Fact]
    public void ACertificateTheAppDoesNotKnowFailsTheRunWithAuthFailed()
    {
        using var rig = new SignInRig();
        using var registered = AppCertificate();
        using var other = AppCertificate("CN=Someone else's certificate");
        rig.Entra.AddApp(Tenant, ClientId, null, registered);
        var path = rig.Scratch.Sub("other.pfx");
        File.WriteAllBytes(path, other.Export(X509ContentType.Pfx, "pw"));
        var ex = Assert.Throws<ChatterException>(() => rig.Run(s => { s.CertificatePath = path; s.CertificatePassword = rig.Secrets.Protect("pw"); }));
        output.WriteLine(ex.ErrorId + ": " + ex.Message);
        Assert.Equal("ChatterTarget.AuthFailed", ex.ErrorId);
        Assert.Contains("AADSTS700027", ex.Message);
        Assert.Empty(rig.Graph.Users.SelectMany(u => rig.Graph.Messages(u.Mail)));
    }

    [Fact]
    public void AnUnknownTenantOrClientIsAuthFailed()
    {
        using var rig = new SignInRig();
        rig.Entra.AddApp(Tenant, ClientId, Secret, null);
        var ex = Assert.Throws<ChatterException>(() => rig.Run(s => { s.ClientSecret = rig.Secrets.Protect(Secret); s.ClientId = Guid.NewGuid().ToString(); }));
        output.WriteLine(ex.ErrorId + ": " + ex.Message);
        Assert.Equal("ChatterTarget.AuthFailed", ex.ErrorId);
        Assert.Contains("AADSTS700016", ex.Message);
    }

    [Fact]
    public void WithoutTheTestHandlerTheFakesSelfSignedCertificateIsNotTrusted()
    {
        // The default transport keeps the system's certificate checks: the self-signed fake is refused.
        using var rig = new SignInRig(trustFake: false);
        rig.Entra.AddApp(Tenant, ClientId, Secret, null);
        var ex = Assert.Throws<ChatterException>(() => rig.Run(s => s.ClientSecret = rig.Secrets.Protect(Secret)));
        output.WriteLine(ex.ErrorId + ": " + ex.Message);
        Assert.Equal("ChatterTarget.AuthFailed", ex.ErrorId);
        Assert.DoesNotContain(rig.Entra.Requests, r => r.Status == 200);
    }

    private void AssertSignedWithAssertion(SignInRig rig)
    {
        var token = Assert.Single(rig.Entra.Requests, r => r.Status == 200);
        output.WriteLine($"client assertion: alg {token.AssertionAlgorithm}, aud {token.AssertionAudience}");
        Assert.Equal("client_assertion", token.Credential);
        Assert.Contains(token.AssertionAlgorithm, new[] { "RS256", "PS256" });
    }
}

/// <summary>
/// Managed identity through the App Service / Azure Automation endpoint (IDENTITY_ENDPOINT + IDENTITY_HEADER). The variables
/// are process-wide, so these tests run alone.
/// </summary>
[Collection("Environment")]
public class GraphSignInManagedIdentityTests
{
    [Fact]
    public void ASystemAssignedManagedIdentitySignsIn()
    {
        using var rig = new SignInRig();
        using (rig.Entra.UseManagedIdentityEnvironment())
        {
            var run = rig.Run(s => { s.ManagedIdentity = true; s.TenantId = null; s.ClientId = null; });
            rig.AssertImported(run);
        }
        var token = Assert.Single(rig.Entra.Requests, r => r.Status == 200);
        Assert.Equal("managed_identity", token.Credential);
        Assert.Null(token.ClientId);
        Assert.Equal(rig.Entra.SystemAssignedClientId, Assert.Single(rig.Entra.Issued).ClientId);
        Assert.Null(Environment.GetEnvironmentVariable("IDENTITY_ENDPOINT"));
    }

    [Fact]
    public void AUserAssignedManagedIdentitySignsInWithItsClientId()
    {
        using var rig = new SignInRig();
        var id = Guid.NewGuid().ToString();
        rig.Entra.AddUserAssignedIdentity(id);
        using (rig.Entra.UseManagedIdentityEnvironment())
        {
            var run = rig.Run(s => { s.ManagedIdentity = true; s.ManagedIdentityClientId = id; s.TenantId = null; s.ClientId = null; });
            rig.AssertImported(run);
        }
        var token = Assert.Single(rig.Entra.Requests, r => r.Status == 200);
        Assert.Equal(id, token.ClientId);
        Assert.Equal(id, Assert.Single(rig.Entra.Issued).ClientId);
    }

    [Fact]
    public void AUserAssignedIdentityTheHostDoesNotHaveIsAuthFailed()
    {
        using var rig = new SignInRig();
        using (rig.Entra.UseManagedIdentityEnvironment())
        {
            var ex = Assert.Throws<ChatterException>(() =>
                rig.Run(s => { s.ManagedIdentity = true; s.ManagedIdentityClientId = Guid.NewGuid().ToString(); s.TenantId = null; s.ClientId = null; }));
            Assert.Equal("ChatterTarget.AuthFailed", ex.ErrorId);
        }
        Assert.Empty(rig.Entra.Issued);
    }
}

[CollectionDefinition("Environment", DisableParallelization = true)]
public class EnvironmentCollection { }

/// <summary>A fake token service, a fake Graph accepting only its tokens, a store and a small export; one run per call.</summary>
internal sealed class SignInRig : IDisposable
{
    private readonly HttpMessageHandler? _handler;

    public SignInRig(bool trustFake = true)
    {
        Scratch = new Scratch();
        Entra = FakeEntraId.Start();
        Graph = FakeGraph.Start(new FakeGraphOptions { AcceptedToken = "never-" + Guid.NewGuid().ToString("N") });
        Graph.Options.AcceptToken = Entra.TokensFor(Graph.Url);
        Store = ConnectorStore.Open(Scratch.Sub("store"));
        Secrets = SecretProtector.ForStore(Store.StorePath);
        _handler = trustFake ? Entra.CreateTrustingHandler() : null;
        Org = SampleOrgGenerator.Generate(new SampleOrgOptions { Users = 4, Posts = 6, Seed = 5 });
        Org.WriteExport(Scratch.Sub("export"));
        foreach (var u in Org.Users.Where(u => u.Email.Length > 0)) Graph.AddUser(u.Email);
    }

    public Scratch Scratch { get; }
    public FakeEntraId Entra { get; }
    public FakeGraph Graph { get; }
    public ConnectorStore Store { get; }
    public SecretProtector Secrets { get; }
    public SampleOrg Org { get; }

    /// <summary>Adds the connector (tenant, client id, the fake Graph and authority host set; <paramref name="signIn"/> adds the rest) and runs one import.</summary>
    public ChatterImportRun Run(Action<GraphSettings> signIn)
    {
        var settings = new GraphSettings
        {
            Endpoint = Graph.Url, AuthorityHost = Entra.Url, TenantId = GraphSignInTests.Tenant, ClientId = GraphSignInTests.ClientId, ThrottleLimit = 4,
        };
        signIn(settings);
        var c = new ChatterConnectorInfo
        {
            Name = "Graph", SourcePath = Scratch.Sub("export"), AutomaticMapping = true, Created = DateTimeOffset.UtcNow, Modified = DateTimeOffset.UtcNow,
            StorePath = Store.StorePath, Graph = settings,
        };
        Store.AddConnector(c);
        var options = new GraphTargetOptions
        {
            BaseDelay = TimeSpan.FromMilliseconds(20), MaxRetries = 3, UploadBytesPerWindow = long.MaxValue / 2,
            TokenHttpHandler = _handler, DisableInstanceDiscovery = true,
        };
        return new ImportPipeline(Store, c, graphOptions: options).Run();
    }

    public void AssertImported(ChatterImportRun run)
    {
        Assert.Equal(ImportRunStatus.Succeeded, run.Status);
        Assert.True(run.Imported > 0);
        var created = Graph.Users.Sum(u => Graph.Messages(u.Mail).Count);
        Assert.Equal(run.Imported + run.PartiallyImported, created);
        Assert.DoesNotContain(Graph.Requests, r => r.Status == 401);
    }

    public void Dispose()
    {
        Store.Dispose();
        Graph.Dispose();
        Entra.Dispose();
        _handler?.Dispose();
        Scratch.Dispose();
    }
}

/// <summary>The fake token service's own checks of a client assertion, with hand-made JWTs (MSAL itself sends PS256).</summary>
public class GraphSignInTokenServiceTests
{
    private static string B64(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Assertion(X509Certificate2 cert, string alg, string aud, string iss, DateTimeOffset exp)
    {
        var header = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object> { ["alg"] = alg, ["typ"] = "JWT", ["x5t"] = B64(cert.GetCertHash()) });
        var payload = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["aud"] = aud, ["iss"] = iss, ["sub"] = iss, ["jti"] = Guid.NewGuid().ToString(),
            ["nbf"] = exp.AddMinutes(-10).ToUnixTimeSeconds(), ["exp"] = exp.ToUnixTimeSeconds(),
        });
        var signed = B64(System.Text.Encoding.UTF8.GetBytes(header)) + "." + B64(System.Text.Encoding.UTF8.GetBytes(payload));
        using var key = cert.GetRSAPrivateKey()!;
        var sig = key.SignData(System.Text.Encoding.ASCII.GetBytes(signed), HashAlgorithmName.SHA256, alg == "PS256" ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1);
        return signed + "." + B64(sig);
    }

    [Fact]
    public async Task AssertionsAreCheckedForSignatureAudienceIssuerAndExpiry()
    {
        using var entra = FakeEntraId.Start();
        using var cert = GraphSignInTests.AppCertificate();
        using var other = GraphSignInTests.AppCertificate("CN=other");
        const string client = GraphSignInTests.ClientId;
        entra.AddApp("contoso.com", client, null, cert);
        using var http = new HttpClient(entra.CreateTrustingHandler());
        var tokenUrl = entra.Url + "/contoso.com/oauth2/v2.0/token";

        async Task<(int Status, string Body)> Ask(string assertion)
        {
            using var response = await http.PostAsync(tokenUrl, new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials", ["client_id"] = client, ["scope"] = "https://graph.microsoft.com/.default",
                ["client_assertion_type"] = FakeEntraId.ClientAssertionType, ["client_assertion"] = assertion,
            }));
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        var soon = DateTimeOffset.UtcNow.AddMinutes(10);
        var ok = await Ask(Assertion(cert, "RS256", tokenUrl, client, soon));
        Assert.Equal(200, ok.Status);
        using (var json = System.Text.Json.JsonDocument.Parse(ok.Body))
        {
            Assert.Equal("Bearer", json.RootElement.GetProperty("token_type").GetString());
            Assert.Equal(3599, json.RootElement.GetProperty("expires_in").GetInt32());
            var token = json.RootElement.GetProperty("access_token").GetString()!;
            Assert.True(entra.IsIssued(token, "https://graph.microsoft.com"));
            Assert.False(entra.IsIssued(token, "https://outlook.office365.com"));
        }
        Assert.Equal(200, (await Ask(Assertion(cert, "PS256", tokenUrl, client, soon))).Status);

        var wrongKey = await Ask(Assertion(other, "RS256", tokenUrl, client, soon));
        Assert.Equal(401, wrongKey.Status);
        Assert.Contains("AADSTS700027", wrongKey.Body);
        Assert.Contains("invalid_client", wrongKey.Body);
        Assert.Contains("AADSTS700024", (await Ask(Assertion(cert, "RS256", tokenUrl, client, DateTimeOffset.UtcNow.AddMinutes(-30)))).Body);
        Assert.Contains("AADSTS700016", (await Ask(Assertion(cert, "RS256", entra.Url + "/fabrikam.com/oauth2/v2.0/token", client, soon))).Body);
        Assert.Contains("AADSTS700021", (await Ask(Assertion(cert, "RS256", tokenUrl, "someone-else", soon))).Body);
        var tampered = Assertion(cert, "RS256", tokenUrl, client, soon);
        tampered = tampered[..^6] + (tampered[^6] == 'A' ? "B" : "A") + tampered[^5..];
        Assert.Contains("AADSTS700027", (await Ask(tampered)).Body);

        // The metadata MSAL may ask for.
        using var oidc = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(entra.Url + "/contoso.com/v2.0/.well-known/openid-configuration"));
        Assert.Equal(tokenUrl, oidc.RootElement.GetProperty("token_endpoint").GetString());
        Assert.Contains("tenant_discovery_endpoint", await http.GetStringAsync(entra.Url + "/common/discovery/instance?api-version=1.1"));
    }

    [Fact]
    public async Task TheManagedIdentityEndpointWantsItsHeaderAndApiVersion()
    {
        using var entra = FakeEntraId.Start();
        Assert.StartsWith("http://127.0.0.1:", entra.IdentityEndpoint);
        using var http = new HttpClient();
        var url = entra.IdentityEndpoint + "?resource=" + Uri.EscapeDataString("https://graph.microsoft.com") + "&api-version=2019-08-01";
        Assert.Equal(401, (int)(await http.GetAsync(url)).StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("X-IDENTITY-HEADER", entra.IdentityHeader);
        using var response = await http.SendAsync(request);
        Assert.Equal(200, (int)response.StatusCode);
        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(entra.IsIssued(json.RootElement.GetProperty("access_token").GetString()!, "https://graph.microsoft.com"));
        Assert.Equal("Bearer", json.RootElement.GetProperty("token_type").GetString());
        Assert.True(long.Parse(json.RootElement.GetProperty("expires_on").GetString()!) > DateTimeOffset.UtcNow.ToUnixTimeSeconds());
    }
}
