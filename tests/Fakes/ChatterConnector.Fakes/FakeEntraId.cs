using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ChatterConnector.Fakes;

/// <summary>
/// A local Microsoft Entra ID token service (Kestrel on 127.0.0.1, free ports), as MSAL and Azure.Identity call it:
/// <list type="bullet">
/// <item>HTTPS (<see cref="Url"/>, the authority host) with a self-signed certificate made at start
/// (<see cref="ServerCertificate"/>, SAN 127.0.0.1 and localhost): <c>POST /{tenant}/oauth2/v2.0/token</c> with
/// grant_type=client_credentials and a client secret or an RS256/PS256 client assertion signed by the app's
/// certificate; <c>/{tenant}/v2.0/.well-known/openid-configuration</c>; <c>/common/discovery/instance</c>.</item>
/// <item>plain HTTP on loopback (<see cref="IdentityEndpoint"/>, as App Service / Azure Automation have it): the
/// managed identity endpoint, <c>GET ?resource=…&amp;api-version=2019-08-01</c> with <c>X-IDENTITY-HEADER</c>.</item>
/// </list>
/// Errors are AADSTS JSON. Tokens are opaque; <see cref="TokensFor"/> tells a fake resource (FakeGraph) which it issued for it.
/// </summary>
public sealed class FakeEntraId : IAsyncDisposable, IDisposable
{
    public const string ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    public const string ManagedIdentityApiVersion = "2019-08-01";
    private const string ManagedIdentityPath = "/msi/token";
    private static readonly TimeSpan Skew = TimeSpan.FromMinutes(5);

    private readonly WebApplication _app;
    private readonly object _gate = new();
    private readonly Dictionary<string, Dictionary<string, App>> _tenants = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _userAssigned = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, FakeEntraIdToken> _issued = new(StringComparer.Ordinal);
    private readonly List<FakeEntraIdRequest> _requests = new();
    private int _disposed;

    private sealed class App(string tenant, string clientId, string? secret, X509Certificate2? cert)
    {
        public readonly string Tenant = tenant;
        public readonly string ClientId = clientId;
        public readonly string? Secret = secret;
        public readonly X509Certificate2? Certificate = cert;
    }

    private FakeEntraId()
    {
        ServerCertificate = CreateServerCertificate();
        IdentityHeader = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        SystemAssignedClientId = Guid.NewGuid().ToString();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0, l => { l.Protocols = HttpProtocols.Http1AndHttp2; l.UseHttps(ServerCertificate); });
            k.Listen(IPAddress.Loopback, 0);
            k.Limits.MaxRequestBodySize = 1024 * 1024;
        });
        _app = builder.Build();
        _app.Run(HandleAsync);
    }

    /// <summary>Starts a token service with no apps; add them with <see cref="AddApp"/>.</summary>
    public static FakeEntraId Start()
    {
        var fake = new FakeEntraId();
        fake._app.StartAsync().GetAwaiter().GetResult();
        var urls = fake._app.Urls.Select(u => u.TrimEnd('/')).ToList();
        fake.Url = urls.Single(u => u.StartsWith("https://", StringComparison.OrdinalIgnoreCase));
        fake.IdentityEndpoint = urls.Single(u => u.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) + ManagedIdentityPath;
        return fake;
    }

    /// <summary>The authority host, e.g. https://127.0.0.1:41234 (GraphSettings.AuthorityHost).</summary>
    public string Url { get; private set; } = "";

    /// <summary>The self-signed certificate the HTTPS listener presents (with its private key).</summary>
    public X509Certificate2 ServerCertificate { get; }

    /// <summary>The managed identity endpoint (IDENTITY_ENDPOINT), plain http on loopback.</summary>
    public string IdentityEndpoint { get; private set; } = "";

    /// <summary>The secret the managed identity endpoint expects in X-IDENTITY-HEADER (IDENTITY_HEADER).</summary>
    public string IdentityHeader { get; }

    /// <summary>The client id of the system-assigned identity (reported in its tokens).</summary>
    public string SystemAssignedClientId { get; }

    /// <summary>Registers an app in <paramref name="tenant"/> (a name or id) with a client secret and/or a certificate
    /// (only its public key is used) to verify client assertions with.</summary>
    public void AddApp(string tenant, string clientId, string? secret, X509Certificate2? publicCert)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tenant);
        ArgumentException.ThrowIfNullOrWhiteSpace(clientId);
        var cert = publicCert == null ? null : X509CertificateLoader.LoadCertificate(publicCert.RawData);
        lock (_gate)
        {
            if (!_tenants.TryGetValue(tenant, out var apps)) _tenants[tenant] = apps = new(StringComparer.OrdinalIgnoreCase);
            apps[clientId] = new App(tenant, clientId, secret, cert);
        }
    }

    /// <summary>Assigns a user-assigned managed identity (by client id) to the "host".</summary>
    public void AddUserAssignedIdentity(string clientId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(clientId);
        lock (_gate) _userAssigned.Add(clientId);
    }

    /// <summary>Every token and managed identity request answered so far, oldest first (a snapshot).</summary>
    public IReadOnlyList<FakeEntraIdRequest> Requests
    {
        get { lock (_requests) return _requests.ToArray(); }
    }

    /// <summary>The tokens issued so far.</summary>
    public IReadOnlyCollection<FakeEntraIdToken> Issued => _issued.Values.ToArray();

    /// <summary>Whether <paramref name="token"/> was issued here for <paramref name="resource"/> (e.g. the fake Graph's URL) and has not expired.</summary>
    public bool IsIssued(string token, string resource) =>
        _issued.TryGetValue(token, out var t) && SameResource(t.Resource, resource) && t.ExpiresOn > DateTimeOffset.UtcNow;

    /// <summary>A check for FakeGraphOptions.AcceptToken: tokens issued here for <paramref name="resource"/>.</summary>
    public Func<string, bool> TokensFor(string resource) => token => IsIssued(token, resource);

    /// <summary>
    /// A handler for GraphTargetOptions.TokenHttpHandler that trusts <see cref="ServerCertificate"/> (and only it,
    /// besides what the system trusts) and checks the host name as usual.
    /// </summary>
    public HttpMessageHandler CreateTrustingHandler()
    {
        var trusted = X509CertificateLoader.LoadCertificate(ServerCertificate.RawData);
        return new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, cert, _, errors) =>
                {
                    if (errors == SslPolicyErrors.None) return true;
                    if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0 || cert == null) return false;
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(trusted);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    using var presented = X509CertificateLoader.LoadCertificate(cert.GetRawCertData());
                    return chain.Build(presented);
                },
            },
        };
    }

    /// <summary>
    /// Points IDENTITY_ENDPOINT / IDENTITY_HEADER at this service (the App Service managed identity source) and clears
    /// the variables that would make MSAL pick another source; disposing restores every variable. Process-wide:
    /// use from tests that do not run in parallel with others.
    /// </summary>
    public IDisposable UseManagedIdentityEnvironment() => new EnvironmentScope(new Dictionary<string, string?>
    {
        ["IDENTITY_ENDPOINT"] = IdentityEndpoint,
        ["IDENTITY_HEADER"] = IdentityHeader,
        ["IDENTITY_SERVER_THUMBPRINT"] = null,   // Service Fabric
        ["IMDS_ENDPOINT"] = null,                // Azure Arc
        ["MSI_ENDPOINT"] = null,                 // Cloud Shell, older App Service, Machine Learning
        ["MSI_SECRET"] = null,
        ["MSI_CLIENT_ID"] = null,
        ["DEFAULT_IDENTITY_CLIENT_ID"] = null,
        ["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = null,
    });

    // ---- HTTP ---------------------------------------------------------------------------------------------

    private async Task HandleAsync(HttpContext ctx)
    {
        var path = ctx.Request.Path.Value ?? "/";
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        Reply reply;
        if (!ctx.Request.IsHttps)
            reply = path == ManagedIdentityPath && ctx.Request.Method == "GET"
                ? ManagedIdentity(ctx)
                : new Reply(404, new JsonObject { ["error"] = "not_found" });
        else if (ctx.Request.Method == "POST" && segments.Length == 4 && segments[1] == "oauth2" && segments[2] == "v2.0" && segments[3] == "token")
            reply = await TokenAsync(ctx, Uri.UnescapeDataString(segments[0]));
        else if (ctx.Request.Method == "GET" && segments.Length == 4 && segments[1] == "v2.0" && segments[2] == ".well-known" && segments[3] == "openid-configuration")
            reply = new Reply(200, OpenIdConfiguration(Uri.UnescapeDataString(segments[0])));
        else if (ctx.Request.Method == "GET" && path.Equals("/common/discovery/instance", StringComparison.OrdinalIgnoreCase))
            reply = new Reply(200, InstanceDiscovery());
        else
            reply = Aadsts(404, "invalid_request", "AADSTS90002", $"The request path '{path}' is not served by this token service.");

        var bytes = Encoding.UTF8.GetBytes(reply.Json.ToJsonString());
        ctx.Response.StatusCode = reply.Status;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        ctx.Response.Headers.CacheControl = "no-store, no-cache";
        ctx.Response.ContentLength = bytes.Length;
        await ctx.Response.Body.WriteAsync(bytes, ctx.RequestAborted);
    }

    private sealed record Reply(int Status, JsonObject Json);

    private void Log(FakeEntraIdRequest r)
    {
        lock (_requests) _requests.Add(r);
    }

    private async Task<Reply> TokenAsync(HttpContext ctx, string tenant)
    {
        var form = ctx.Request.HasFormContentType ? await ctx.Request.ReadFormAsync(ctx.RequestAborted) : null;
        string? F(string name) => form != null && form.TryGetValue(name, out var v) ? v.ToString() : null;
        var clientId = F("client_id");
        var scope = F("scope");
        var log = new FakeEntraIdRequest { Kind = "client_credentials", Tenant = tenant, ClientId = clientId, Scope = scope };
        var reply = Token();
        log.Status = reply.Status;
        log.Error = reply.Json["error_description"]?.GetValue<string>();
        Log(log);
        return reply;

        Reply Token()
        {
            if (form == null)
                return Aadsts(400, "invalid_request", "AADSTS900144", "The request body must contain the following parameter: 'grant_type'.");
            var grant = F("grant_type");
            if (string.IsNullOrEmpty(grant))
                return Aadsts(400, "invalid_request", "AADSTS900144", "The request body must contain the following parameter: 'grant_type'.");
            if (grant != "client_credentials")
                return Aadsts(400, "unsupported_grant_type", "AADSTS70003", $"The app requested an unsupported grant type '{grant}'.");
            if (string.IsNullOrEmpty(clientId))
                return Aadsts(400, "invalid_request", "AADSTS900144", "The request body must contain the following parameter: 'client_id'.");
            App? app;
            lock (_gate)
            {
                if (!_tenants.TryGetValue(tenant, out var apps))
                    return Aadsts(400, "invalid_request", "AADSTS90002", $"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.");
                apps.TryGetValue(clientId, out app);
            }
            if (app == null)
                return Aadsts(400, "unauthorized_client", "AADSTS700016", $"Application with identifier '{clientId}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.");
            if (string.IsNullOrEmpty(scope))
                return Aadsts(400, "invalid_request", "AADSTS900144", "The request body must contain the following parameter: 'scope'.");
            var scopes = scope.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (scopes.Length != 1 || !scopes[0].EndsWith("/.default", StringComparison.Ordinal))
                return Aadsts(400, "invalid_scope", "AADSTS1002012", $"The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).");
            var resource = scopes[0][..^"/.default".Length];

            var secret = F("client_secret");
            var assertionType = F("client_assertion_type");
            var assertion = F("client_assertion");
            if (secret != null && assertion != null)
                return Aadsts(400, "invalid_request", "AADSTS90014", "Only one of 'client_secret' and 'client_assertion' may be sent.");
            if (secret != null)
            {
                log.Credential = "client_secret";
                if (app.Secret == null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(app.Secret)))
                    return Aadsts(401, "invalid_client", "AADSTS7000215", $"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{clientId}'.");
            }
            else if (assertion != null)
            {
                log.Credential = "client_assertion";
                if (assertionType != ClientAssertionType)
                    return Aadsts(400, "invalid_request", "AADSTS50027", $"Invalid client_assertion_type '{assertionType}'; expected '{ClientAssertionType}'.");
                var tokenUrl = $"{ctx.Request.Scheme}://{ctx.Request.Host}{ctx.Request.Path}";
                var failure = VerifyAssertion(assertion, app, tokenUrl, log);
                if (failure != null) return failure;
            }
            else
                return Aadsts(401, "invalid_client", "AADSTS7000218", "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");

            var token = Issue(tenant, app.ClientId, resource, "app");
            return new Reply(200, new JsonObject
            {
                ["token_type"] = "Bearer",
                ["expires_in"] = 3599,
                ["ext_expires_in"] = 3599,
                ["access_token"] = token,
            });
        }
    }

    /// <summary>Checks a client assertion: a JWT signed (RS256 or PS256) by the app's certificate, aud = the token endpoint,
    /// iss = sub = client id, within exp/nbf. null when it is good.</summary>
    private static Reply? VerifyAssertion(string jwt, App app, string tokenUrl, FakeEntraIdRequest log)
    {
        var parts = jwt.Split('.');
        if (parts.Length != 3)
            return Aadsts(400, "invalid_request", "AADSTS50027", "JWT token is invalid or malformed.");
        JsonObject header, payload;
        byte[] signature;
        try
        {
            header = JsonNode.Parse(Base64Url(parts[0]))!.AsObject();
            payload = JsonNode.Parse(Base64Url(parts[1]))!.AsObject();
            signature = Base64Url(parts[2]);
        }
        catch (Exception e) when (e is FormatException or JsonException or InvalidOperationException)
        {
            return Aadsts(400, "invalid_request", "AADSTS50027", "JWT token is invalid or malformed.");
        }
        var alg = Str(header, "alg");
        log.AssertionAlgorithm = alg;
        log.AssertionAudience = payload["aud"] is JsonArray arr ? string.Join(" ", arr.Select(a => a?.ToString())) : Str(payload, "aud");
        RSASignaturePadding padding;
        if (alg == "RS256") padding = RSASignaturePadding.Pkcs1;
        else if (alg == "PS256") padding = RSASignaturePadding.Pss;
        else return Aadsts(401, "invalid_client", "AADSTS5002730", $"Invalid JWT token: the signing algorithm '{alg}' is not supported.");

        if (app.Certificate == null)
            return Aadsts(401, "invalid_client", "AADSTS700027", $"The certificate with identifier used to sign the client assertion is not registered on application {app.ClientId}.");
        var x5t = Str(header, "x5t");
        var x5tS256 = Str(header, "x5t#S256");
        var key = Unpadded(app.Certificate.GetCertHash(HashAlgorithmName.SHA1));
        var keyS256 = Unpadded(app.Certificate.GetCertHash(HashAlgorithmName.SHA256));
        bool known = (x5t == null && x5tS256 == null) || x5t == key || x5tS256 == keyS256;
        using var rsa = app.Certificate.GetRSAPublicKey();
        bool valid = known && rsa != null &&
                     rsa.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), signature, HashAlgorithmName.SHA256, padding);
        if (!valid)
            return Aadsts(401, "invalid_client", "AADSTS700027",
                $"Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '{x5t ?? x5tS256}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{app.ClientId}'.]");

        var iss = Str(payload, "iss");
        var sub = Str(payload, "sub");
        if (iss != app.ClientId || sub != app.ClientId)
            return Aadsts(401, "invalid_client", "AADSTS700021", $"Client assertion application identifier doesn't match 'client_id' parameter (iss '{iss}', sub '{sub}').");
        var audiences = payload["aud"] is JsonArray list ? list.Select(a => a?.ToString() ?? "").ToList() : new List<string> { Str(payload, "aud") ?? "" };
        if (!audiences.Any(a => SameResource(a, tokenUrl)))
            return Aadsts(401, "invalid_client", "AADSTS700016", $"Client assertion audience '{string.Join(" ", audiences)}' is not the token endpoint '{tokenUrl}'.");
        var now = DateTimeOffset.UtcNow;
        var exp = Seconds(payload["exp"]);
        if (exp == null)
            return Aadsts(401, "invalid_client", "AADSTS700023", $"Client assertion has no expiry (exp): {payload.ToJsonString()}");
        if (DateTimeOffset.FromUnixTimeSeconds(exp.Value) < now - Skew)
            return Aadsts(401, "invalid_client", "AADSTS700024", "Client assertion is not within its valid time range.");
        if (Seconds(payload["nbf"]) is long nbf && DateTimeOffset.FromUnixTimeSeconds(nbf) > now + Skew)
            return Aadsts(401, "invalid_client", "AADSTS700024", "Client assertion is not within its valid time range.");
        return null;
    }

    private Reply ManagedIdentity(HttpContext ctx)
    {
        var q = ctx.Request.Query;
        string? Q(string name) => q.TryGetValue(name, out var v) ? v.ToString() : null;
        var clientId = Q("client_id") ?? Q("clientid");
        var resource = Q("resource");
        var log = new FakeEntraIdRequest { Kind = "managed_identity", ClientId = clientId, Scope = resource, Credential = "managed_identity" };
        var reply = Answer();
        log.Status = reply.Status;
        log.Error = reply.Json["message"]?.GetValue<string>();
        Log(log);
        return reply;

        Reply Answer()
        {
            var header = ctx.Request.Headers["X-IDENTITY-HEADER"].ToString();
            if (header.Length == 0 || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header), Encoding.UTF8.GetBytes(IdentityHeader)))
                return MiError(401, "The X-IDENTITY-HEADER header is missing or wrong.");
            if (Q("api-version") != ManagedIdentityApiVersion)
                return MiError(400, $"api-version '{Q("api-version")}' is not supported; use {ManagedIdentityApiVersion}.");
            if (string.IsNullOrEmpty(resource))
                return MiError(400, "The 'resource' query parameter is required.");
            if (Q("mi_res_id") != null || Q("principal_id") != null || Q("object_id") != null)
                return MiError(400, "No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId.");
            string id;
            if (clientId == null) id = SystemAssignedClientId;
            else
            {
                lock (_gate)
                    if (!_userAssigned.Contains(clientId))
                        return MiError(400, "No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId.");
                id = clientId;
            }
            var res = resource.EndsWith("/.default", StringComparison.Ordinal) ? resource[..^"/.default".Length] : resource;
            var token = Issue("managed-identity", id, res, clientId == null ? "system-assigned" : "user-assigned");
            var expires = _issued[token].ExpiresOn;
            return new Reply(200, new JsonObject
            {
                ["access_token"] = token,
                ["expires_on"] = expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                ["resource"] = resource,
                ["token_type"] = "Bearer",
                ["client_id"] = id,
            });
        }
    }

    private static Reply MiError(int status, string message) =>
        new(status, new JsonObject { ["statusCode"] = status, ["message"] = message, ["correlationId"] = Guid.NewGuid().ToString() });

    private JsonObject OpenIdConfiguration(string tenant) => new()
    {
        ["token_endpoint"] = $"{Url}/{tenant}/oauth2/v2.0/token",
        ["token_endpoint_auth_methods_supported"] = new JsonArray("client_secret_post", "private_key_jwt", "client_secret_basic"),
        ["jwks_uri"] = $"{Url}/{tenant}/discovery/v2.0/keys",
        ["response_modes_supported"] = new JsonArray("query", "fragment", "form_post"),
        ["subject_types_supported"] = new JsonArray("pairwise"),
        ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
        ["response_types_supported"] = new JsonArray("code", "id_token", "code id_token", "id_token token"),
        ["scopes_supported"] = new JsonArray("openid", "profile", "email", "offline_access"),
        ["issuer"] = $"{Url}/{tenant}/v2.0",
        ["authorization_endpoint"] = $"{Url}/{tenant}/oauth2/v2.0/authorize",
        ["device_authorization_endpoint"] = $"{Url}/{tenant}/oauth2/v2.0/devicecode",
        ["end_session_endpoint"] = $"{Url}/{tenant}/oauth2/v2.0/logout",
        ["tenant_region_scope"] = "WW",
    };

    private JsonObject InstanceDiscovery()
    {
        var host = new Uri(Url).Authority;
        return new JsonObject
        {
            ["tenant_discovery_endpoint"] = $"{Url}/common/v2.0/.well-known/openid-configuration",
            ["api-version"] = "1.1",
            ["metadata"] = new JsonArray(new JsonObject
            {
                ["preferred_network"] = host,
                ["preferred_cache"] = host,
                ["aliases"] = new JsonArray(host),
            }),
        };
    }

    private string Issue(string tenant, string clientId, string resource, string kind)
    {
        var token = "fake-entra." + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        _issued[token] = new FakeEntraIdToken(token, tenant, clientId, resource.TrimEnd('/'), kind, DateTimeOffset.UtcNow.AddSeconds(3599));
        return token;
    }

    private static Reply Aadsts(int status, string error, string code, string description)
    {
        var now = DateTimeOffset.UtcNow;
        return new Reply(status, new JsonObject
        {
            ["error"] = error,
            ["error_description"] = $"{code}: {description} Trace ID: {Guid.NewGuid()} Correlation ID: {Guid.NewGuid()} Timestamp: {now:yyyy-MM-dd HH:mm:ssZ}",
            ["error_codes"] = new JsonArray(int.Parse(code[6..], CultureInfo.InvariantCulture)),
            ["timestamp"] = now.ToString("yyyy-MM-dd HH:mm:ssZ", CultureInfo.InvariantCulture),
            ["trace_id"] = Guid.NewGuid().ToString(),
            ["correlation_id"] = Guid.NewGuid().ToString(),
            ["error_uri"] = "https://login.microsoftonline.com/error?code=" + code[6..],
        });
    }

    private static bool SameResource(string a, string b) =>
        string.Equals(a.TrimEnd('/'), b.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);

    /// <summary>A NumericDate claim: a JSON number (possibly with a fraction), or a string of one.</summary>
    private static long? Seconds(JsonNode? node)
    {
        if (node is not JsonValue v) return null;
        var text = v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString();
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? (long)d : null;
    }

    private static string? Str(JsonObject o, string name) =>
        o[name] is JsonValue v && v.TryGetValue(out string? s) ? s : null;

    private static byte[] Base64Url(string s)
    {
        s = s.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
    }

    private static string Unpadded(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>A self-signed TLS server certificate for 127.0.0.1 and localhost, valid for a day.</summary>
    private static X509Certificate2 CreateServerCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=FakeEntraId", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") }, false));
        var now = DateTimeOffset.UtcNow;
        using var cert = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
    }

    /// <summary>Sets environment variables and puts the old values back on dispose.</summary>
    private sealed class EnvironmentScope : IDisposable
    {
        private readonly Dictionary<string, string?> _old = new();

        public EnvironmentScope(Dictionary<string, string?> values)
        {
            foreach (var (name, value) in values)
            {
                _old[name] = Environment.GetEnvironmentVariable(name);
                Environment.SetEnvironmentVariable(name, value);
            }
        }

        public void Dispose()
        {
            foreach (var (name, value) in _old) Environment.SetEnvironmentVariable(name, value);
        }
    }

    // ---- lifetime -------------------------------------------------------------------------------------------

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try { await _app.StopAsync(timeout.Token); }
        catch (OperationCanceledException) { }
        await _app.DisposeAsync();
        ServerCertificate.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}

/// <summary>A token issued by <see cref="FakeEntraId"/>: for an app (<see cref="Kind"/> "app") or a managed identity.</summary>
public sealed record FakeEntraIdToken(string AccessToken, string Tenant, string ClientId, string Resource, string Kind, DateTimeOffset ExpiresOn);

/// <summary>One request to <see cref="FakeEntraId"/>'s token or managed identity endpoint.</summary>
public sealed class FakeEntraIdRequest
{
    /// <summary>"client_credentials" (the token endpoint) or "managed_identity".</summary>
    public required string Kind { get; init; }
    public string? Tenant { get; init; }
    public string? ClientId { get; init; }
    /// <summary>The scope (token endpoint) or resource (managed identity) asked for.</summary>
    public string? Scope { get; init; }
    /// <summary>"client_secret", "client_assertion" or "managed_identity".</summary>
    public string? Credential { get; set; }
    public string? AssertionAlgorithm { get; set; }
    public string? AssertionAudience { get; set; }
    public int Status { get; set; }
    /// <summary>The error_description (AADSTS…) or managed identity error message; null on success.</summary>
    public string? Error { get; set; }
}
