using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Http;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.State;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Authentication.Azure;

namespace ChatterConnector.Engine.Targets.Graph
{
    /// <summary>
    /// Builds the access-token provider of a connector's Graph settings. The provider's allowed hosts
    /// are the configured endpoint's host only: the SDK's TokenCredential constructors would send no
    /// token to a host outside Graph's own list, and no other host (an upload URL) ever gets one.
    /// </summary>
    internal static class GraphAuthentication
    {
        public static IAccessTokenProvider CreateTokenProvider(GraphSettings settings, SecretProtector secrets, Uri graph, GraphTargetOptions? options = null)
        {
            var hosts = new[] { graph.Host };
            if (settings.AccessToken != null)
                return new StaticTokenProvider(secrets.Reveal(settings.AccessToken), hosts);
            var credential = new SharedTokenCredential(CreateCredential(settings, secrets, options));
            return new AzureIdentityAccessTokenProvider(credential, hosts, null, false, GraphEndpoints.Scope(graph));
        }

        /// <summary>
        /// One token for every request while it is good for five more minutes, and one sign-in at a
        /// time: a run starts dozens of requests at once (the participants' lookups, the first
        /// deliveries), and each would otherwise ask the token service before the first answer is in.
        /// A request that carries claims (a challenge) always goes to the credential.
        /// </summary>
        internal sealed class SharedTokenCredential : TokenCredential
        {
            private static readonly TimeSpan Margin = TimeSpan.FromMinutes(5);
            private readonly TokenCredential _inner;
            private readonly SemaphoreSlim _signIn = new SemaphoreSlim(1, 1);
            private readonly object _lock = new object();
            private (string Scopes, AccessToken Token)? _current;

            public SharedTokenCredential(TokenCredential inner) { _inner = inner; }

            public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
            {
                if (requestContext.Claims != null) return _inner.GetToken(requestContext, cancellationToken);
                var scopes = string.Join(" ", requestContext.Scopes);
                if (TryCurrent(scopes, out var token)) return token;
                _signIn.Wait(cancellationToken);
                try
                {
                    if (TryCurrent(scopes, out token)) return token;
                    return Keep(scopes, _inner.GetToken(requestContext, cancellationToken));
                }
                finally { _signIn.Release(); }
            }

            public override async ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
            {
                if (requestContext.Claims != null) return await _inner.GetTokenAsync(requestContext, cancellationToken).ConfigureAwait(false);
                var scopes = string.Join(" ", requestContext.Scopes);
                if (TryCurrent(scopes, out var token)) return token;
                await _signIn.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    if (TryCurrent(scopes, out token)) return token;
                    return Keep(scopes, await _inner.GetTokenAsync(requestContext, cancellationToken).ConfigureAwait(false));
                }
                finally { _signIn.Release(); }
            }

            private bool TryCurrent(string scopes, out AccessToken token)
            {
                lock (_lock)
                {
                    if (_current is { } c && c.Scopes == scopes && c.Token.ExpiresOn - Margin > DateTimeOffset.UtcNow)
                    {
                        token = c.Token;
                        return true;
                    }
                }
                token = default;
                return false;
            }

            private AccessToken Keep(string scopes, AccessToken token)
            {
                lock (_lock) _current = (scopes, token);
                return token;
            }
        }

        /// <summary>The Azure.Identity credential: managed identity, certificate (file or thumbprint) or client secret.</summary>
        /// <remarks>
        /// The authority host is <see cref="GraphSettings.AuthorityHost"/> when set, else the environment's
        /// (login.microsoftonline.com for the global cloud). <paramref name="options"/> may route the
        /// sign-in's requests through a handler (tests: a local token service with its own certificate)
        /// and turn off instance discovery; by default neither is changed.
        /// </remarks>
        public static TokenCredential CreateCredential(GraphSettings settings, SecretProtector secrets, GraphTargetOptions? options = null)
        {
            var authority = GraphEndpoints.ResolveAuthority(settings);
            if (settings.ManagedIdentity)
            {
                var id = string.IsNullOrWhiteSpace(settings.ManagedIdentityClientId)
                    ? ManagedIdentityId.SystemAssigned
                    : ManagedIdentityId.FromUserAssignedClientId(settings.ManagedIdentityClientId!.Trim());
                return new ManagedIdentityCredential(Configure(new ManagedIdentityCredentialOptions(id) { AuthorityHost = authority }, options));
            }

            string tenant = Required(settings.TenantId, "TenantId");
            string client = Required(settings.ClientId, "ClientId");
            if (!string.IsNullOrWhiteSpace(settings.CertificatePath) || !string.IsNullOrWhiteSpace(settings.CertificateThumbprint))
            {
                var certOptions = Configure(new ClientCertificateCredentialOptions { AuthorityHost = authority, SendCertificateChain = false }, options);
                certOptions.DisableInstanceDiscovery = options?.DisableInstanceDiscovery ?? false;
                if (!string.IsNullOrWhiteSpace(settings.CertificatePath))
                {
                    var path = settings.CertificatePath!.Trim();
                    if (!File.Exists(path))
                        throw new ChatterException("ChatterTarget.CertificateNotFound", ChatterErrorKind.ObjectNotFound,
                            $"The certificate file '{path}' of the Microsoft Graph app does not exist.", path);
                    if (settings.CertificatePassword == null)
                        return new ClientCertificateCredential(tenant, client, path, certOptions); // a PEM, or a PFX without a password
                    return new ClientCertificateCredential(tenant, client, LoadPfx(path, secrets.Reveal(settings.CertificatePassword)), certOptions);
                }
                return new ClientCertificateCredential(tenant, client, FindByThumbprint(settings.CertificateThumbprint!), certOptions);
            }
            if (settings.ClientSecret != null)
            {
                var secretOptions = Configure(new ClientSecretCredentialOptions { AuthorityHost = authority }, options);
                secretOptions.DisableInstanceDiscovery = options?.DisableInstanceDiscovery ?? false;
                return new ClientSecretCredential(tenant, client, secrets.Reveal(settings.ClientSecret), secretOptions);
            }

            throw new ChatterException("ChatterTarget.NoCredential", ChatterErrorKind.InvalidArgument,
                "The Microsoft Graph settings name no way to sign in: set a certificate (file or thumbprint), a client secret, a managed identity or an access token with Set-ChatterConnector.");
        }

        /// <summary>Routes the credential's requests through <see cref="GraphTargetOptions.TokenHttpHandler"/> when one is set; else Azure.Core's default transport.</summary>
        private static T Configure<T>(T credentialOptions, GraphTargetOptions? options) where T : TokenCredentialOptions
        {
            if (options?.TokenHttpHandler != null)
                credentialOptions.Transport = new HttpClientTransport(new HttpClient(options.TokenHttpHandler, disposeHandler: false));
            return credentialOptions;
        }

        private static string Required(string? value, string name)
        {
            if (string.IsNullOrWhiteSpace(value))
                throw new ChatterException("ChatterTarget.MissingSetting", ChatterErrorKind.InvalidArgument,
                    $"The Microsoft Graph settings have no {name}; it is needed to sign in with a certificate or a client secret.", name);
            return value!.Trim();
        }

        private static X509Certificate2 LoadPfx(string path, string password)
        {
            try
            {
                var cert = new X509Certificate2(path, password, X509KeyStorageFlags.DefaultKeySet);
                if (!cert.HasPrivateKey)
                    throw new ChatterException("ChatterTarget.CertificateInvalid", ChatterErrorKind.InvalidData,
                        $"The certificate '{path}' has no private key: the app signs in with the certificate's private key.", path);
                return cert;
            }
            catch (CryptographicException e)
            {
                throw new ChatterException("ChatterTarget.CertificateInvalid", ChatterErrorKind.InvalidData,
                    $"The certificate '{path}' cannot be read with its password: {e.Message}", path, e);
            }
        }

        /// <summary>A certificate with a private key in CurrentUser\My or LocalMachine\My.</summary>
        internal static X509Certificate2 FindByThumbprint(string thumbprint)
        {
            var clean = thumbprint.Replace(" ", "").Replace(":", "").Trim().ToUpperInvariant();
            foreach (var location in new[] { System.Security.Cryptography.X509Certificates.StoreLocation.CurrentUser, System.Security.Cryptography.X509Certificates.StoreLocation.LocalMachine })
            {
                try
                {
                    using var store = new X509Store(StoreName.My, location);
                    store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
                    foreach (var cert in store.Certificates.Find(X509FindType.FindByThumbprint, clean, false))
                        if (cert.HasPrivateKey) return cert;
                }
                catch (CryptographicException) { }
                catch (PlatformNotSupportedException) { }
            }
            throw new ChatterException("ChatterTarget.CertificateNotFound", ChatterErrorKind.ObjectNotFound,
                $"No certificate with a private key and the thumbprint {clean} is in the CurrentUser or LocalMachine 'My' store.", clean);
        }

        /// <summary>A token the caller already holds, sent only to the allowed hosts over https (or http to a loopback host).</summary>
        internal sealed class StaticTokenProvider : IAccessTokenProvider
        {
            private readonly string _token;

            public StaticTokenProvider(string token, IEnumerable<string> allowedHosts)
            {
                _token = token;
                AllowedHostsValidator = new AllowedHostsValidator(allowedHosts);
            }

            public AllowedHostsValidator AllowedHostsValidator { get; }

            public Task<string> GetAuthorizationTokenAsync(Uri uri, Dictionary<string, object>? additionalAuthenticationContext = null, CancellationToken cancellationToken = default)
            {
                if (uri == null || !AllowedHostsValidator.IsUrlHostValid(uri)) return Task.FromResult(string.Empty);
                if (uri.Scheme != Uri.UriSchemeHttps && !GraphEndpoints.IsLoopback(uri)) return Task.FromResult(string.Empty);
                return Task.FromResult(_token);
            }
        }
    }
}
