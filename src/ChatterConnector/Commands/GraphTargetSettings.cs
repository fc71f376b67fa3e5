using System;
using ChatterConnector.Engine;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.State;

namespace ChatterConnector.Commands
{
    /// <summary>
    /// The Microsoft Graph target parameters of New-ChatterConnector: which combinations make a
    /// target, checked in code (the cmdlet's parameter sets already choose the Salesforce sign-in).
    /// </summary>
    internal static class GraphTargetSettings
    {
        /// <summary>True when the Graph parameters name the target; throws when the target is missing, doubled or incomplete.</summary>
        public static bool Validate(NewChatterConnectorCommand c)
        {
            var bound = c.MyInvocation.BoundParameters;
            var anyGraph = c.TenantId != null || c.ClientId != null || c.CertificatePath != null || c.CertificateThumbprint != null || c.ClientSecret != null
                || c.ManagedIdentity || c.ManagedIdentityClientId != null || c.GraphAccessToken != null || c.GraphEndpoint != null || c.CertificatePassword != null
                || bound.ContainsKey(nameof(c.Environment)) || bound.ContainsKey(nameof(c.GraphImportMode)) || bound.ContainsKey(nameof(c.ThrottleLimit));
            if (c.MaildirPath != null && anyGraph)
                throw Invalid("ChatterConnector.TwoTargets", "Give either -MaildirPath (a local Maildir archive) or the Microsoft Graph parameters (-TenantId with a sign-in), not both.");
            if (!anyGraph)
            {
                if (c.MaildirPath == null)
                    throw Invalid("ChatterConnector.NoTarget", "Say where messages go: -MaildirPath for a local Maildir archive, or -TenantId with -ClientId and -CertificatePath, -CertificateThumbprint or -ClientSecret, or -ManagedIdentity, or -GraphAccessToken for Microsoft 365 mailboxes.");
                return false;
            }
            var signIns = (c.CertificatePath != null ? 1 : 0) + (c.CertificateThumbprint != null ? 1 : 0) + (c.ClientSecret != null ? 1 : 0)
                + (c.ManagedIdentity ? 1 : 0) + (c.GraphAccessToken != null ? 1 : 0);
            if (signIns != 1)
                throw Invalid("ChatterConnector.GraphSignInAmbiguous", "Give exactly one Microsoft Graph sign-in: -CertificatePath, -CertificateThumbprint or -ClientSecret (each with -TenantId and -ClientId), -ManagedIdentity, or -GraphAccessToken.");
            if (c.GraphAccessToken == null && !c.ManagedIdentity && c.TenantId == null)
                throw Invalid("ChatterConnector.GraphSettingMissing", "-TenantId is needed to sign in to Microsoft Graph (the tenant's id or its primary domain).");
            if ((c.CertificatePath != null || c.CertificateThumbprint != null || c.ClientSecret != null) && c.ClientId == null)
                throw Invalid("ChatterConnector.GraphSettingMissing", "-ClientId (the app registration's application id) goes with -CertificatePath, -CertificateThumbprint and -ClientSecret.");
            if (c.ManagedIdentityClientId != null && !c.ManagedIdentity)
                throw Invalid("ChatterConnector.GraphSettingMissing", "-ManagedIdentityClientId goes with -ManagedIdentity.");
            EndpointFor(c);
            return true;
        }

        public static string EndpointFor(NewChatterConnectorCommand c)
        {
            var endpoint = c.GraphEndpoint ?? DefaultEndpoint(c.Environment);
            return ConnectorSettings.ValidateHttpsUrl(endpoint, "GraphEndpoint", "ChatterConnector.InvalidGraphEndpoint");
        }

        public static string DefaultEndpoint(GraphEnvironment environment)
        {
            switch (environment)
            {
                case GraphEnvironment.USGov: return "https://graph.microsoft.us";
                case GraphEnvironment.USGovDoD: return "https://dod-graph.microsoft.us";
                case GraphEnvironment.China: return "https://microsoftgraph.chinacloudapi.cn";
                default: return GraphSettings.DefaultEndpoint;
            }
        }

        public static GraphSettings Create(NewChatterConnectorCommand c, SecretProtector secrets) => new GraphSettings
        {
            TenantId = c.TenantId, ClientId = c.ClientId, CertificatePath = c.CertificatePath == null ? null : c.SessionState.Path.GetUnresolvedProviderPathFromPSPath(c.CertificatePath),
            CertificateThumbprint = c.CertificateThumbprint?.ToUpperInvariant(), CertificatePassword = NewChatterConnectorCommand.Protect(secrets, c.CertificatePassword),
            ClientSecret = NewChatterConnectorCommand.Protect(secrets, c.ClientSecret), ManagedIdentity = c.ManagedIdentity, ManagedIdentityClientId = c.ManagedIdentityClientId,
            AccessToken = NewChatterConnectorCommand.Protect(secrets, c.GraphAccessToken), Environment = c.Environment, Endpoint = EndpointFor(c),
            ImportMode = c.GraphImportMode, ThrottleLimit = c.ThrottleLimit,
        };

        private static ChatterException Invalid(string id, string message) =>
            new ChatterException(id, ChatterErrorKind.InvalidArgument, message, null);
    }
}
