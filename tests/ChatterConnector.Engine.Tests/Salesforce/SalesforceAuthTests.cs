using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources.Salesforce;
using ChatterConnector.Engine.State;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ChatterConnector.Engine.Tests.Salesforce;

public class CheckUrlTests
{
    [Theory]
    [InlineData("https://login.salesforce.com")]
    [InlineData("https://acme.my.salesforce.com/")]
    [InlineData("http://127.0.0.1:8080")]
    [InlineData("http://127.8.9.10/x")]
    [InlineData("http://[::1]:5000")]
    [InlineData("http://localhost:1234")]
    [InlineData("http://LOCALHOST")]
    public void SecureOrLoopbackUrlsPass(string url) => SalesforceAuthenticator.CheckUrl(url, "test URL");

    [Theory]
    [InlineData("http://login.salesforce.com")]
    [InlineData("http://10.0.0.1")]
    [InlineData("http://localhost.evil.example")]
    [InlineData("http://128.0.0.1")]
    [InlineData("ftp://login.salesforce.com")]
    [InlineData("login.salesforce.com")]
    [InlineData("")]
    public void OtherUrlsAreRefused(string url)
    {
        var e = Assert.Throws<ChatterException>(() => SalesforceAuthenticator.CheckUrl(url, "test URL"));
        Assert.Equal("ChatterSource.InsecureUrl", e.ErrorId);
        Assert.Equal(ChatterErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("test URL", e.Message);
    }
}

public class JwtAssertionTests
{
    private static X509Certificate2 NewCertificate()
    {
        using var rsa = RSA.Create(2048);
        var req = new CertificateRequest("CN=ChatterConnector test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    private static SalesforceSettings Settings(string path, StoredSecret? password = null) => new()
    {
        AuthFlow = SalesforceAuthFlow.JwtBearer,
        ClientId = "3MVG9-consumer-key",
        Username = "integration@acme.example",
        LoginUrl = "https://test.salesforce.com/",
        CertificatePath = path,
        CertificatePassword = password,
    };

    private static async Task<JsonWebToken> Validate(string assertion, X509Certificate2 cert)
    {
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(assertion, new TokenValidationParameters
        {
            ValidIssuer = "3MVG9-consumer-key",
            ValidAudience = "https://test.salesforce.com",
            IssuerSigningKey = new RsaSecurityKey(cert.GetRSAPublicKey()!),
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ClockSkew = TimeSpan.Zero,
        });
        Assert.True(result.IsValid, result.Exception?.ToString());
        var jwt = (JsonWebToken)result.SecurityToken;
        Assert.Equal("RS256", jwt.Alg);
        Assert.Equal("integration@acme.example", jwt.Subject);
        Assert.Equal("3MVG9-consumer-key", jwt.Issuer);
        Assert.Equal(new[] { "https://test.salesforce.com" }, jwt.Audiences);
        var lifetime = jwt.ValidTo - DateTime.UtcNow;
        Assert.InRange(lifetime, TimeSpan.FromMinutes(2.5), TimeSpan.FromMinutes(3.1));
        return jwt;
    }

    [Fact]
    public async Task APfxWithAPasswordSignsAnAssertionSalesforceCanCheck()
    {
        using var t = new Temp();
        using var cert = NewCertificate();
        var path = t.Sub("jwt.pfx");
        File.WriteAllBytes(path, cert.Export(X509ContentType.Pfx, "pfx-pass"));
        var secrets = SecretProtector.ForStoreWithKeyFile(t.Path);
        var assertion = SalesforceAuthenticator.CreateJwtAssertion(Settings(path, secrets.Protect("pfx-pass")), secrets, DateTime.UtcNow);
        await Validate(assertion, cert);
        // Twice in a row: nothing cached holds on to the first, disposed key.
        await Validate(SalesforceAuthenticator.CreateJwtAssertion(Settings(path, secrets.Protect("pfx-pass")), secrets, DateTime.UtcNow), cert);
    }

    [Theory]
    [InlineData("pkcs8")]
    [InlineData("pkcs1")]
    [InlineData("encrypted")]
    public async Task APemWithCertificateAndKeySignsToo(string keyFormat)
    {
        using var t = new Temp();
        using var cert = NewCertificate();
        using var rsa = cert.GetRSAPrivateKey()!;
        var key = keyFormat switch
        {
            "pkcs8" => rsa.ExportPkcs8PrivateKeyPem(),
            "pkcs1" => rsa.ExportRSAPrivateKeyPem(),
            _ => rsa.ExportEncryptedPkcs8PrivateKeyPem("pem-pass", new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 10000)),
        };
        var path = t.Sub("jwt.pem");
        File.WriteAllText(path, cert.ExportCertificatePem() + "\n" + key + "\n");
        var secrets = SecretProtector.ForStoreWithKeyFile(t.Path);
        var settings = Settings(path, keyFormat == "encrypted" ? secrets.Protect("pem-pass") : null);
        await Validate(SalesforceAuthenticator.CreateJwtAssertion(settings, secrets, DateTime.UtcNow), cert);
    }

    [Fact]
    public void ACertificateWithoutItsPrivateKeyIsRefused()
    {
        using var t = new Temp();
        using var cert = NewCertificate();
        using var publicOnly = X509CertificateLoader.LoadCertificate(cert.Export(X509ContentType.Cert));
        var pfx = t.Sub("public.pfx");
        File.WriteAllBytes(pfx, publicOnly.Export(X509ContentType.Pfx));
        var pem = t.Sub("public.pem");
        File.WriteAllText(pem, cert.ExportCertificatePem());
        var secrets = SecretProtector.ForStoreWithKeyFile(t.Path);
        foreach (var path in new[] { pfx, pem })
        {
            var e = Assert.Throws<ChatterException>(() => SalesforceAuthenticator.CreateJwtAssertion(Settings(path), secrets, DateTime.UtcNow));
            Assert.Equal("ChatterSource.CertificateHasNoPrivateKey", e.ErrorId);
        }
    }

    [Fact]
    public void AMissingOrWrongCertificateFileIsNamed()
    {
        using var t = new Temp();
        var secrets = SecretProtector.ForStoreWithKeyFile(t.Path);
        var e = Assert.Throws<ChatterException>(() => SalesforceAuthenticator.CreateJwtAssertion(Settings(t.Sub("nope.pfx")), secrets, DateTime.UtcNow));
        Assert.Equal("ChatterSource.CertificateNotFound", e.ErrorId);
        Assert.Equal(ChatterErrorKind.ObjectNotFound, e.Kind);

        using var cert = NewCertificate();
        var path = t.Sub("jwt.pfx");
        File.WriteAllBytes(path, cert.Export(X509ContentType.Pfx, "right"));
        e = Assert.Throws<ChatterException>(() => SalesforceAuthenticator.CreateJwtAssertion(Settings(path, secrets.Protect("wrong")), secrets, DateTime.UtcNow));
        Assert.Equal("ChatterSource.CertificateInvalid", e.ErrorId);
        Assert.DoesNotContain("wrong", e.Message.Replace("(wrong -Salesforce", ""));
    }

    [Fact]
    public void TheTokenNeverShowsInToString()
    {
        var token = new SalesforceToken("00Dxx!AQ.secret-token", "https://acme.my.salesforce.com/");
        Assert.DoesNotContain("secret-token", token.ToString());
        Assert.Equal("https://acme.my.salesforce.com", token.InstanceUrl);
    }
}
