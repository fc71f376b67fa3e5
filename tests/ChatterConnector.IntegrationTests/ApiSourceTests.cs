using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ChatterConnector.Engine;
using ChatterConnector.Engine.Conversion;
using ChatterConnector.Engine.Import;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources;
using ChatterConnector.Engine.Sources.Salesforce;
using ChatterConnector.Engine.Sources.Sample;
using ChatterConnector.Engine.State;
using ChatterConnector.Fakes;

namespace ChatterConnector.IntegrationTests;

/// <summary>A temporary folder removed when the test ends.</summary>
public sealed class Scratch : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cc-it-" + Guid.NewGuid().ToString("N")[..10]);
    public Scratch() => Directory.CreateDirectory(Path);
    public string Sub(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
}

/// <summary>The REST API source against the fake org: sign-in flows, incremental reads, limits, faults.</summary>
public class ApiSourceTests
{
    internal static readonly SalesforceClientOptions Fast = new() { MaxRetries = 4, BaseDelay = TimeSpan.FromMilliseconds(10) };

    internal static SalesforceSettings ClientCredentials(FakeSalesforce fake, SecretProtector secrets) => new()
    {
        AuthFlow = SalesforceAuthFlow.ClientCredentials, LoginUrl = fake.Url, ClientId = fake.Options.ClientId,
        ClientSecret = secrets.Protect(fake.Options.ClientSecret),
    };

    internal static ChatterConnectorInfo ApiConnector(FakeSalesforce fake, Scratch t, SecretProtector secrets, string name = "Api") => new()
    {
        Name = name, Salesforce = ClientCredentials(fake, secrets), MaildirPath = t.Sub("maildir"), AutomaticMapping = true,
        Created = DateTimeOffset.UtcNow, Modified = DateTimeOffset.UtcNow, StorePath = t.Sub("store"),
    };

    internal static Dictionary<string, string> Messages(IChatterSource source)
    {
        var converter = new MessageConverter();
        var dir = source.ReadDirectory();
        return ItemReader.ReadWithParticipants(source, dir).Where(r => r.Item != null)
            .ToDictionary(r => r.Key, r => converter.Convert(r.Item!).Sha256);
    }

    [Fact]
    public void AnOrgReadThroughTheApiGivesTheSameBytesAsItsExport()
    {
        using var t = new Scratch();
        var org = SampleOrgGenerator.Generate(new SampleOrgOptions { Users = 30, Posts = 120, Seed = 3 });
        org.WriteExport(t.Sub("export"));
        using var fake = FakeSalesforce.Start(org, new FakeSalesforceOptions { PageSize = 50 });
        var secrets = SecretProtector.ForStore(t.Sub("store"));
        using var api = new SalesforceApiSource(ClientCredentials(fake, secrets), secrets, t.Sub("spool"), null, Fast);
        var fromApi = Messages(api);
        var fromExport = Messages(new ExportFolderSource(t.Sub("export"), fake.Url));
        Assert.True(fromExport.Count > 300);
        Assert.Equal(fromExport.Keys.OrderBy(k => k), fromApi.Keys.OrderBy(k => k));
        foreach (var (key, sha) in fromExport) Assert.True(sha == fromApi[key], "different bytes for " + key);
    }

    public static IEnumerable<object[]> Flows() => new[]
    {
        new object[] { "JwtFile" }, new object[] { "JwtThumbprint" }, new object[] { "ClientCredentials" },
        new object[] { "RefreshToken" }, new object[] { "Password" }, new object[] { "AccessToken" },
    };

    [Theory]
    [MemberData(nameof(Flows))]
    public void EverySignInFlowWorks(string flow)
    {
        using var t = new Scratch();
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=ChatterConnector test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var options = new FakeSalesforceOptions { JwtCertificate = X509CertificateLoader.LoadCertificate(cert.Export(X509ContentType.Cert)) };
        using var fake = FakeSalesforce.Start(SampleOrgGenerator.Generate(new SampleOrgOptions { Users = 5, Posts = 5 }), options);
        var secrets = SecretProtector.ForStore(t.Sub("store"));
        var s = new SalesforceSettings { LoginUrl = fake.Url, ClientId = fake.Options.ClientId, Username = fake.Options.Username };
        X509Store? store = null;
        switch (flow)
        {
            case "JwtFile":
                File.WriteAllBytes(t.Sub("c.pfx"), cert.Export(X509ContentType.Pfx, "pw"));
                s.AuthFlow = SalesforceAuthFlow.JwtBearer; s.CertificatePath = t.Sub("c.pfx"); s.CertificatePassword = secrets.Protect("pw");
                break;
            case "JwtThumbprint":
                store = new X509Store(StoreName.My, System.Security.Cryptography.X509Certificates.StoreLocation.CurrentUser);
                store.Open(OpenFlags.ReadWrite);
                store.Add(X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx, ""), "", X509KeyStorageFlags.PersistKeySet | X509KeyStorageFlags.Exportable));
                s.AuthFlow = SalesforceAuthFlow.JwtBearer; s.CertificateThumbprint = cert.Thumbprint;
                break;
            case "ClientCredentials":
                s = ClientCredentials(fake, secrets);
                break;
            case "RefreshToken":
                s.AuthFlow = SalesforceAuthFlow.RefreshToken; s.RefreshToken = secrets.Protect(fake.Options.ValidRefreshTokens[0]);
                break;
            case "Password":
                s.AuthFlow = SalesforceAuthFlow.Password; s.ClientSecret = secrets.Protect(fake.Options.ClientSecret);
                s.Password = secrets.Protect(fake.Options.Password); s.SecurityToken = secrets.Protect(fake.Options.SecurityToken);
                break;
            case "AccessToken":
                using (var http = new HttpClient())
                {
                    var token = new SalesforceAuthenticator(ClientCredentials(fake, secrets), secrets, http).GetToken(CancellationToken.None);
                    s.AuthFlow = SalesforceAuthFlow.AccessToken; s.AccessToken = secrets.Protect(token.AccessToken); s.InstanceUrl = token.InstanceUrl;
                }
                break;
        }
        try
        {
            using var api = new SalesforceApiSource(s, secrets, t.Sub("spool"), null, Fast);
            var checks = api.CheckAccess().ToList();
            Assert.All(checks, c => Assert.True(c.Succeeded, c.Check + ": " + c.Message));
            Assert.Equal(5, api.ReadDirectory().Users.Count);
        }
        finally
        {
            if (store != null)
            {
                store.Remove(cert);
                store.Dispose();
            }
        }
    }

    [Fact]
    public void AWrongLoginUrlARevokedRefreshTokenAndAKeylessCertificateAreNamedErrors()
    {
        using var t = new Scratch();
        using var fake = FakeSalesforce.Start(SampleOrgGenerator.Generate(new SampleOrgOptions { Users = 3, Posts = 1 }));
        var secrets = SecretProtector.ForStore(t.Sub("store"));

        var wrong = ClientCredentials(fake, secrets);
        wrong.LoginUrl = "http://127.0.0.1:1";
        using (var api = new SalesforceApiSource(wrong, secrets, t.Sub("spool"), null, Fast))
            Assert.Equal("ChatterSource.LoginUrlInvalid", Assert.Throws<ChatterException>(() => api.ReadDirectory()).ErrorId);

        var refresh = new SalesforceSettings { AuthFlow = SalesforceAuthFlow.RefreshToken, LoginUrl = fake.Url, ClientId = fake.Options.ClientId, RefreshToken = secrets.Protect("revoked") };
        using (var api = new SalesforceApiSource(refresh, secrets, t.Sub("spool"), null, Fast))
            Assert.Equal("ChatterSource.RefreshTokenRevoked", Assert.Throws<ChatterException>(() => api.ReadDirectory()).ErrorId);

        using var rsa = RSA.Create(2048);
        using var cert = new CertificateRequest("CN=x", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllBytes(t.Sub("public-only.cer"), cert.Export(X509ContentType.Cert));
        var jwt = new SalesforceSettings { AuthFlow = SalesforceAuthFlow.JwtBearer, LoginUrl = fake.Url, ClientId = "x", Username = "y", CertificatePath = t.Sub("public-only.cer") };
        using (var api = new SalesforceApiSource(jwt, secrets, t.Sub("spool"), null, Fast))
            Assert.Equal("ChatterSource.CertificateHasNoPrivateKey", Assert.Throws<ChatterException>(() => api.ReadDirectory()).ErrorId);
    }

    [Fact]
    public void RowsSharingTheWatermarksModstampAreNeitherSkippedNorReadTwice()
    {
        using var t = new Scratch();
        var org = SampleOrgGenerator.Generate(new SampleOrgOptions { Users = 10, Posts = 20, Seed = 9 });
        using var fake = FakeSalesforce.Start(org, new FakeSalesforceOptions { PageSize = 1 });
        var secrets = SecretProtector.ForStore(t.Sub("store"));
        var when = org.LatestTimestamp().AddHours(1);
        var post = org.FeedItems[0].Id;
        var first = new[] { org.AddComment(post, org.Users[1].Id, "one", when), org.AddComment(post, org.Users[2].Id, "two", when) };

        using var api = new SalesforceApiSource(ClientCredentials(fake, secrets), secrets, t.Sub("spool"), null, Fast);
        var dir = api.ReadDirectory();
        var all = api.ReadItems(dir, new SourceWatermarks()).Where(r => r.Object == "FeedComment").ToList();
        var last = all.Where(r => r.Modstamp == when).OrderBy(r => r.RowId, StringComparer.Ordinal).Last();
        Assert.Equal(first.OrderBy(x => x, StringComparer.Ordinal), all.Where(r => r.Modstamp == when).Select(r => r.RowId).OrderBy(x => x, StringComparer.Ordinal));

        // A later comment at the very same instant: read, and the two before it are not read again.
        var third = org.AddComment(post, org.Users[3].Id, "three", when);
        var w = new SourceWatermarks();
        w.ByObject["FeedComment"] = when;
        w.LastIdByObject["FeedComment"] = last.RowId;
        using var again = new SalesforceApiSource(ClientCredentials(fake, secrets), secrets, t.Sub("spool2"), null, Fast);
        var next = again.ReadItems(again.ReadDirectory(), w).Where(r => r.Object == "FeedComment").Select(r => r.RowId).ToList();
        Assert.Equal(new[] { third }, next);
    }

    [Fact]
    public void PrivateMessagesTheUserMayNotReadAreSkippedWithAWarning()
    {
        using var t = new Scratch();
        using var fake = FakeSalesforce.Start(SampleOrgGenerator.Generate(new SampleOrgOptions { Users = 10, Posts = 20 }), new FakeSalesforceOptions { PrivateMessagesAllowed = false });
        var secrets = SecretProtector.ForStore(t.Sub("store"));
        var warnings = new List<string>();
        using var api = new SalesforceApiSource(ClientCredentials(fake, secrets), secrets, t.Sub("spool"), null, Fast, warnings.Add);
        var items = api.ReadItems(api.ReadDirectory(), new SourceWatermarks()).ToList();
        Assert.NotEmpty(items);
        Assert.DoesNotContain(items, r => r.ItemType == ChatterItemType.PrivateMessage);
        Assert.Contains(warnings, w => w.Contains("Manage Chatter Messages"));
        Assert.Contains(api.CheckAccess(), c => !c.Succeeded && c.Check.Contains("ChatterMessage"));
    }

    [Fact]
    public void TransientFaultsAreRetried_AnExpiredSessionSignsInAgainOnce()
    {
        using var t = new Scratch();
        using var fake = FakeSalesforce.Start(SampleOrgGenerator.Generate(new SampleOrgOptions { Users = 10, Posts = 30 }), new FakeSalesforceOptions { PageSize = 20 });
        var secrets = SecretProtector.ForStore(t.Sub("store"));
        fake.Faults.Fail503 = 2;
        fake.Faults.DropConnections = 1;
        fake.Faults.Unauthorized401Once = 1;
        using var api = new SalesforceApiSource(ClientCredentials(fake, secrets), secrets, t.Sub("spool"), null, Fast);
        Assert.True(api.ReadItems(api.ReadDirectory(), new SourceWatermarks()).Count() > 30);
        Assert.Contains(fake.Requests, r => r.Status == 503);
        Assert.Contains(fake.Requests, r => r.Status == 401);
    }
}
