using System;

namespace ChatterConnector.Engine.Model
{
    /// <summary>How the connector signs in to Salesforce.</summary>
    public enum SalesforceAuthFlow
    {
        /// <summary>OAuth 2.0 JWT bearer with a certificate: the recommended unattended flow.</summary>
        JwtBearer,
        /// <summary>OAuth 2.0 client credentials (My Domain only).</summary>
        ClientCredentials,
        /// <summary>A refresh token from an earlier interactive sign-in.</summary>
        RefreshToken,
        /// <summary>Username, password and security token: legacy, discouraged by Salesforce.</summary>
        Password,
        /// <summary>An access token the caller already has (it cannot be renewed).</summary>
        AccessToken,
    }

    /// <summary>
    /// A secret as the store keeps it: never in plain text. "Protected" holds the secret encrypted
    /// (DPAPI for the current user on Windows, else a key in a file only the owner can read);
    /// "Environment" names an environment variable to read it from at run time.
    /// </summary>
    public sealed class StoredSecret
    {
        public const string ProtectedKind = "Protected";
        public const string EnvironmentKind = "Environment";

        public string Kind { get; set; } = ProtectedKind;
        public string Value { get; set; } = "";

        public override string ToString() => Kind == EnvironmentKind ? "$env:" + Value : "(protected)";
    }

    /// <summary>Where and how a connector reads an org through the Salesforce REST API.</summary>
    public sealed class SalesforceSettings
    {
        public const string DefaultLoginUrl = "https://login.salesforce.com";
        public const string DefaultApiVersion = "62.0";

        public SalesforceAuthFlow AuthFlow { get; set; }
        /// <summary>https://login.salesforce.com, https://test.salesforce.com (sandbox) or the org's My Domain.</summary>
        public string LoginUrl { get; set; } = DefaultLoginUrl;
        public string ApiVersion { get; set; } = DefaultApiVersion;
        /// <summary>The connected app's consumer key.</summary>
        public string? ClientId { get; set; }
        public string? Username { get; set; }
        /// <summary>A PFX or PEM file with the certificate and its private key (JWT bearer).</summary>
        public string? CertificatePath { get; set; }
        /// <summary>A certificate in the current user's (else the machine's) store, by thumbprint (JWT bearer).</summary>
        public string? CertificateThumbprint { get; set; }
        /// <summary>The org's instance URL; with an access token it says where to send it.</summary>
        public string? InstanceUrl { get; set; }

        public StoredSecret? ClientSecret { get; set; }
        public StoredSecret? RefreshToken { get; set; }
        public StoredSecret? Password { get; set; }
        public StoredSecret? SecurityToken { get; set; }
        public StoredSecret? AccessToken { get; set; }
        public StoredSecret? CertificatePassword { get; set; }

        /// <summary>Stop a run cleanly once the org's daily API usage passes this share of its limit.</summary>
        public int MaxApiUsagePercent { get; set; } = 80;
        /// <summary>The first run reads nothing older than this.</summary>
        public DateTimeOffset? StartDate { get; set; }
        /// <summary>Rows per query page (Sforce-Query-Options: batchSize, 200 to 2000).</summary>
        public int BatchSize { get; set; } = 2000;
    }
}
