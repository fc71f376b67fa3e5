using System;

namespace ChatterConnector.Engine.Sources.Salesforce
{
    /// <summary>An access token and the org instance it is good for. <see cref="ToString"/> never shows the token.</summary>
    public sealed class SalesforceToken
    {
        public SalesforceToken(string accessToken, string instanceUrl, string? identityUrl = null, string? scope = null, DateTimeOffset? issuedAt = null)
        {
            AccessToken = accessToken ?? throw new ArgumentNullException(nameof(accessToken));
            InstanceUrl = (instanceUrl ?? throw new ArgumentNullException(nameof(instanceUrl))).TrimEnd('/');
            IdentityUrl = identityUrl;
            Scope = scope;
            IssuedAt = issuedAt;
        }

        /// <summary>The bearer token. Never log it or put it in a message.</summary>
        public string AccessToken { get; }
        /// <summary>The org's instance, without a trailing slash (https://mydomain.my.salesforce.com).</summary>
        public string InstanceUrl { get; }
        /// <summary>The identity URL ("id") the token endpoint returned, if any.</summary>
        public string? IdentityUrl { get; }
        public string? Scope { get; }
        public DateTimeOffset? IssuedAt { get; }

        public override string ToString() => "Salesforce token for " + InstanceUrl;
    }
}
