using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Threading;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.State;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using X509StoreLocation = System.Security.Cryptography.X509Certificates.StoreLocation;

namespace ChatterConnector.Engine.Sources.Salesforce
{
    /// <summary>
    /// Gets an access token from {LoginUrl}/services/oauth2/token for the connector's auth flow
    /// (JWT bearer, client credentials, refresh token, password), or hands back the access token
    /// the caller supplied. Salesforce tokens carry no lifetime: callers ask again after a 401.
    /// </summary>
    public sealed class SalesforceAuthenticator
    {
        private const string JwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
        private static readonly TimeSpan AssertionLifetime = TimeSpan.FromMinutes(3);

        private readonly SalesforceSettings _settings;
        private readonly SecretProtector _secrets;
        private readonly HttpClient _http;

        public SalesforceAuthenticator(SalesforceSettings settings, SecretProtector secrets, HttpClient http)
        {
            _settings = settings ?? throw new ArgumentNullException(nameof(settings));
            _secrets = secrets ?? throw new ArgumentNullException(nameof(secrets));
            _http = http ?? throw new ArgumentNullException(nameof(http));
        }

        /// <summary>The token endpoint: {LoginUrl}/services/oauth2/token.</summary>
        public string TokenEndpoint => LoginUrl + "/services/oauth2/token";

        private string LoginUrl => (string.IsNullOrWhiteSpace(_settings.LoginUrl) ? SalesforceSettings.DefaultLoginUrl : _settings.LoginUrl.Trim()).TrimEnd('/');

        /// <summary>Signs in by the connector's flow. Throws <see cref="ChatterException"/> with a specific id on failure.</summary>
        public SalesforceToken GetToken(CancellationToken ct)
        {
            if (_settings.AuthFlow == SalesforceAuthFlow.AccessToken)
            {
                var instance = Require(_settings.InstanceUrl, "InstanceUrl", "-SalesforceInstanceUrl");
                CheckUrl(instance, "Salesforce instance URL");
                var stored = _settings.AccessToken ?? throw Missing("AccessToken", "-SalesforceAccessToken");
                return new SalesforceToken(_secrets.Reveal(stored), instance);
            }

            CheckUrl(LoginUrl, "Salesforce login URL");
            var form = BuildForm();
            return RequestToken(form, ct);
        }

        private List<KeyValuePair<string, string>> BuildForm()
        {
            var form = new List<KeyValuePair<string, string>>();
            void Add(string name, string value) => form.Add(new KeyValuePair<string, string>(name, value));
            switch (_settings.AuthFlow)
            {
                case SalesforceAuthFlow.JwtBearer:
                    Add("grant_type", JwtBearerGrant);
                    Add("assertion", CreateJwtAssertion(_settings, _secrets, DateTime.UtcNow));
                    break;
                case SalesforceAuthFlow.ClientCredentials:
                    Add("grant_type", "client_credentials");
                    Add("client_id", Require(_settings.ClientId, "ClientId", "-SalesforceClientId"));
                    Add("client_secret", _secrets.Reveal(_settings.ClientSecret ?? throw Missing("ClientSecret", "-SalesforceClientSecret")));
                    break;
                case SalesforceAuthFlow.RefreshToken:
                    Add("grant_type", "refresh_token");
                    Add("refresh_token", _secrets.Reveal(_settings.RefreshToken ?? throw Missing("RefreshToken", "-SalesforceRefreshToken")));
                    Add("client_id", Require(_settings.ClientId, "ClientId", "-SalesforceClientId"));
                    if (_settings.ClientSecret != null) Add("client_secret", _secrets.Reveal(_settings.ClientSecret));
                    break;
                case SalesforceAuthFlow.Password:
                    Add("grant_type", "password");
                    Add("client_id", Require(_settings.ClientId, "ClientId", "-SalesforceClientId"));
                    if (_settings.ClientSecret != null) Add("client_secret", _secrets.Reveal(_settings.ClientSecret));
                    Add("username", Require(_settings.Username, "Username", "-SalesforceUsername"));
                    var password = _secrets.Reveal(_settings.Password ?? throw Missing("Password", "-SalesforcePassword"));
                    if (_settings.SecurityToken != null) password += _secrets.Reveal(_settings.SecurityToken);
                    Add("password", password);
                    break;
                default:
                    throw new ChatterException("ChatterSource.SettingMissing", ChatterErrorKind.InvalidArgument,
                        $"The Salesforce auth flow '{_settings.AuthFlow}' is not supported.", _settings.AuthFlow);
            }
            return form;
        }

        private SalesforceToken RequestToken(List<KeyValuePair<string, string>> form, CancellationToken ct)
        {
            var endpoint = TokenEndpoint;
            HttpResponseMessage response;
            string body;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new FormUrlEncodedContent(form) };
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                response = _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct).GetAwaiter().GetResult();
                body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new ChatterException("ChatterSource.Unavailable", ChatterErrorKind.ResourceUnavailable,
                    $"The Salesforce token endpoint {endpoint} did not answer in time.", endpoint);
            }
            catch (HttpRequestException e)
            {
                throw LoginUrlInvalid(endpoint, "it cannot be reached (" + e.GetBaseException().Message + ")", e);
            }

            using (response)
            {
                var status = (int)response.StatusCode;
                var json = TryParseObject(body);
                if (response.IsSuccessStatusCode)
                {
                    if (json == null || !json.Value.TryGetProperty("access_token", out var at) || at.ValueKind != JsonValueKind.String
                        || !json.Value.TryGetProperty("instance_url", out var iu) || iu.ValueKind != JsonValueKind.String)
                        throw LoginUrlInvalid(endpoint, "it did not answer like a Salesforce token endpoint", null);
                    var instance = iu.GetString()!;
                    CheckUrl(instance, "Salesforce instance URL returned by the token endpoint");
                    DateTimeOffset? issued = null;
                    if (json.Value.TryGetProperty("issued_at", out var ia) && ia.ValueKind == JsonValueKind.String
                        && long.TryParse(ia.GetString(), out var ms))
                        issued = DateTimeOffset.FromUnixTimeMilliseconds(ms);
                    return new SalesforceToken(at.GetString()!, instance, GetString(json.Value, "id"), GetString(json.Value, "scope"), issued);
                }

                if (status >= 500)
                    throw new ChatterException("ChatterSource.Unavailable", ChatterErrorKind.ResourceUnavailable,
                        $"The Salesforce token endpoint {endpoint} failed with HTTP {status}; try again later.", endpoint);

                var error = json == null ? null : GetString(json.Value, "error");
                if (error == null)
                    throw LoginUrlInvalid(endpoint, $"it answered HTTP {status} without an OAuth error", null);

                var description = json == null ? null : GetString(json.Value, "error_description");
                var detail = error + (string.IsNullOrEmpty(description) ? "" : ": " + Truncate(description!, 300));
                if (error == "invalid_grant" && _settings.AuthFlow == SalesforceAuthFlow.RefreshToken)
                    throw new ChatterException("ChatterSource.RefreshTokenRevoked", ChatterErrorKind.AuthenticationError,
                        $"Salesforce no longer accepts the connector's refresh token ({detail}). It was revoked or has expired: sign in again and set a new -SalesforceRefreshToken with Set-ChatterConnector.",
                        LoginUrl);
                throw new ChatterException("ChatterSource.AuthFailed", ChatterErrorKind.AuthenticationError,
                    $"Salesforce refused to sign in the connector with the {_settings.AuthFlow} flow ({detail}). {Hint(error)}",
                    LoginUrl);
            }
        }

        private string Hint(string error)
        {
            switch (error)
            {
                case "invalid_client_id":
                    return "Check -SalesforceClientId: the connected app's consumer key.";
                case "invalid_client":
                case "invalid_client_credentials":
                    return "Check -SalesforceClientId and -SalesforceClientSecret, and that the connected app allows this flow.";
                case "inactive_user":
                    return "The Salesforce user is inactive; use an active integration user.";
                case "invalid_grant" when _settings.AuthFlow == SalesforceAuthFlow.JwtBearer:
                    return "Check -SalesforceUsername, that the certificate is the one uploaded to the connected app, that the user is pre-authorized for it, and that this computer's clock is right.";
                default:
                    return "Check the connector's Salesforce settings.";
            }
        }

        private ChatterException LoginUrlInvalid(string endpoint, string why, Exception? inner) =>
            new ChatterException("ChatterSource.LoginUrlInvalid", ChatterErrorKind.InvalidArgument,
                $"The Salesforce token endpoint {endpoint} does not work: {why}. Check -SalesforceLoginUrl: https://login.salesforce.com, https://test.salesforce.com for sandboxes, or the org's My Domain (https://<name>.my.salesforce.com).",
                LoginUrl, inner);

        // --- JWT bearer

        /// <summary>The signed RS256 assertion for the JWT bearer flow: iss = ClientId, sub = Username, aud = LoginUrl, exp = now + 3 min.</summary>
        internal static string CreateJwtAssertion(SalesforceSettings settings, SecretProtector secrets, DateTime utcNow)
        {
            var clientId = Require(settings.ClientId, "ClientId", "-SalesforceClientId");
            var username = Require(settings.Username, "Username", "-SalesforceUsername");
            var audience = (string.IsNullOrWhiteSpace(settings.LoginUrl) ? SalesforceSettings.DefaultLoginUrl : settings.LoginUrl.Trim()).TrimEnd('/');

            using var key = SigningKey.Load(settings, secrets);
            var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
            var descriptor = new SecurityTokenDescriptor
            {
                Issuer = clientId,
                Audience = audience,
                Subject = new ClaimsIdentity(new[] { new Claim(JwtRegisteredClaimNames.Sub, username) }),
                Expires = utcNow + AssertionLifetime,
                SigningCredentials = key.Credentials,
            };
            return handler.CreateToken(descriptor);
        }

        /// <summary>The certificate (or PEM key) that signs the assertion; disposes what it loaded.</summary>
        private sealed class SigningKey : IDisposable
        {
            private readonly IDisposable? _owned;

            private SigningKey(SigningCredentials credentials, IDisposable? owned)
            {
                // No cache: a cached signature provider would outlive the key disposed below.
                credentials.CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false };
                Credentials = credentials;
                _owned = owned;
            }

            public SigningCredentials Credentials { get; }

            public void Dispose() => _owned?.Dispose();

            public static SigningKey Load(SalesforceSettings settings, SecretProtector secrets)
            {
                if (!string.IsNullOrWhiteSpace(settings.CertificatePath)) return FromFile(settings.CertificatePath!, settings, secrets);
                if (!string.IsNullOrWhiteSpace(settings.CertificateThumbprint)) return FromStore(settings.CertificateThumbprint!);
                throw new ChatterException("ChatterSource.SettingMissing", ChatterErrorKind.InvalidArgument,
                    "The JWT bearer flow needs a certificate: set -SalesforceCertificatePath or -SalesforceCertificateThumbprint with Set-ChatterConnector.",
                    "CertificatePath");
            }

            private static SigningKey FromCertificate(X509Certificate2 cert, string where)
            {
                if (!cert.HasPrivateKey)
                {
                    cert.Dispose();
                    throw NoPrivateKey(where);
                }
                RSA? rsa;
                try { rsa = cert.GetRSAPrivateKey(); }
                catch (CryptographicException) { rsa = null; }
                if (rsa == null)
                {
                    cert.Dispose();
                    throw NoPrivateKey(where);
                }
                rsa.Dispose();
                return new SigningKey(new X509SigningCredentials(cert, SecurityAlgorithms.RsaSha256), cert);
            }

            private static SigningKey FromFile(string path, SalesforceSettings settings, SecretProtector secrets)
            {
                var full = Path.GetFullPath(Environment.ExpandEnvironmentVariables(path));
                if (!File.Exists(full))
                    throw new ChatterException("ChatterSource.CertificateNotFound", ChatterErrorKind.ObjectNotFound,
                        $"The certificate file '{full}' (-SalesforceCertificatePath) does not exist.", full);
                var password = settings.CertificatePassword == null ? null : secrets.Reveal(settings.CertificatePassword);
                var bytes = File.ReadAllBytes(full);
                if (PemKey.LooksLikePem(bytes))
                {
                    var rsa = PemKey.ReadRsaPrivateKey(bytes, password, full);
                    if (rsa == null) throw NoPrivateKey(full);
                    var securityKey = new RsaSecurityKey(rsa);
                    var cert = PemKey.ReadCertificate(bytes);
                    if (cert != null)
                    {
                        securityKey.KeyId = cert.Thumbprint;
                        cert.Dispose();
                    }
                    return new SigningKey(new SigningCredentials(securityKey, SecurityAlgorithms.RsaSha256), rsa);
                }
                X509Certificate2 pfx;
                try { pfx = new X509Certificate2(bytes, password, X509KeyStorageFlags.DefaultKeySet); }
                catch (CryptographicException e)
                {
                    throw new ChatterException("ChatterSource.CertificateInvalid", ChatterErrorKind.InvalidData,
                        $"The certificate file '{full}' cannot be read as a PFX or PEM file (wrong -SalesforceCertificatePassword, or not a certificate): {e.Message}", full, e);
                }
                return FromCertificate(pfx, full);
            }

            private static SigningKey FromStore(string thumbprint)
            {
                var thumb = thumbprint.Replace(" ", "").Replace(":", "").Trim().ToUpperInvariant();
                foreach (var location in new[] { X509StoreLocation.CurrentUser, X509StoreLocation.LocalMachine })
                {
                    using var store = new X509Store(StoreName.My, location);
                    try { store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly); }
                    catch (CryptographicException) { continue; }
                    var found = store.Certificates.Find(X509FindType.FindByThumbprint, thumb, false);
                    if (found.Count > 0)
                    {
                        var cert = found[0];
                        for (int i = 1; i < found.Count; i++) found[i].Dispose();
                        return FromCertificate(cert, $"{location}\\My\\{thumb}");
                    }
                }
                throw new ChatterException("ChatterSource.CertificateNotFound", ChatterErrorKind.ObjectNotFound,
                    $"No certificate with thumbprint {thumb} is in the CurrentUser\\My or LocalMachine\\My store (-SalesforceCertificateThumbprint).", thumb);
            }

            private static ChatterException NoPrivateKey(string where) =>
                new ChatterException("ChatterSource.CertificateHasNoPrivateKey", ChatterErrorKind.InvalidArgument,
                    $"The certificate '{where}' has no RSA private key this account can use, so it cannot sign the JWT assertion. Use a PFX (or a PEM with the private key) that includes the key; the connected app holds only the public certificate.",
                    where);
        }

        // --- URLs

        /// <summary>Allows https, and http only to a loopback host (127.0.0.0/8, ::1, localhost); anything else is a ChatterSource.InsecureUrl.</summary>
        public static void CheckUrl(string url, string what)
        {
            if (string.IsNullOrWhiteSpace(url) || !Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri))
                throw new ChatterException("ChatterSource.InsecureUrl", ChatterErrorKind.InvalidArgument,
                    $"The {what} '{url}' is not an absolute https URL.", url);
            if (uri.Scheme == Uri.UriSchemeHttps) return;
            if (uri.Scheme == Uri.UriSchemeHttp && IsLoopback(uri)) return;
            throw new ChatterException("ChatterSource.InsecureUrl", ChatterErrorKind.InvalidArgument,
                $"The {what} '{Display(uri)}' is not https. Salesforce is reached over https only (plain http is allowed to a loopback address, for tests).",
                Display(uri));
        }

        internal static bool IsLoopback(Uri uri)
        {
            var host = uri.Host.Trim('[', ']');
            if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)) return true;
            return IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip);
        }

        private static string Display(Uri uri) => uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);

        // --- helpers

        private static string Require(string? value, string setting, string parameter) =>
            string.IsNullOrWhiteSpace(value) ? throw Missing(setting, parameter) : value!.Trim();

        private static ChatterException Missing(string setting, string parameter) =>
            new ChatterException("ChatterSource.SettingMissing", ChatterErrorKind.InvalidArgument,
                $"The connector's Salesforce settings lack {setting}: set {parameter} with Set-ChatterConnector.", setting);

        private static JsonElement? TryParseObject(string body)
        {
            if (string.IsNullOrWhiteSpace(body)) return null;
            try
            {
                using var doc = JsonDocument.Parse(body);
                return doc.RootElement.ValueKind == JsonValueKind.Object ? doc.RootElement.Clone() : (JsonElement?)null;
            }
            catch (JsonException) { return null; }
        }

        private static string? GetString(JsonElement obj, string name) =>
            obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        internal static string Truncate(string text, int max) => text.Length <= max ? text : text.Substring(0, max) + "…";
    }
}
