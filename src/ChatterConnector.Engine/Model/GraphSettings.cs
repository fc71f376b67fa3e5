namespace ChatterConnector.Engine.Model
{
    /// <summary>The national clouds Microsoft Graph runs in; each has its own Graph and sign-in hosts.</summary>
    public enum GraphEnvironment
    {
        Global,
        USGov,
        USGovDoD,
        China,
    }

    /// <summary>How messages are created in Exchange Online.</summary>
    public enum GraphImportMode
    {
        /// <summary>v1.0: the message is created as JSON with the MAPI properties of a received item.</summary>
        Json,
        /// <summary>beta importMime: the MIME exactly as converted (needs Mail-Advanced.ReadWrite.All).</summary>
        MimeBeta,
    }

    /// <summary>How a connector delivers into Microsoft 365 mailboxes through Microsoft Graph.</summary>
    public sealed class GraphSettings
    {
        public const string DefaultEndpoint = "https://graph.microsoft.com";

        public string? TenantId { get; set; }
        public string? ClientId { get; set; }
        /// <summary>A PFX or PEM with the app's certificate and private key.</summary>
        public string? CertificatePath { get; set; }
        public string? CertificateThumbprint { get; set; }
        public StoredSecret? CertificatePassword { get; set; }
        public StoredSecret? ClientSecret { get; set; }
        /// <summary>Sign in as the managed identity of the Azure resource (Azure Automation, a VM, a container job).</summary>
        public bool ManagedIdentity { get; set; }
        /// <summary>A user-assigned managed identity's client id; null for the system-assigned one.</summary>
        public string? ManagedIdentityClientId { get; set; }
        /// <summary>A token the caller already holds (it cannot be renewed).</summary>
        public StoredSecret? AccessToken { get; set; }

        public GraphEnvironment Environment { get; set; } = GraphEnvironment.Global;
        /// <summary>The Graph endpoint (scheme and host); derived from <see cref="Environment"/> unless set.</summary>
        public string Endpoint { get; set; } = DefaultEndpoint;
        /// <summary>The sign-in authority host; derived from <see cref="Environment"/> unless set.</summary>
        public string? AuthorityHost { get; set; }

        public GraphImportMode ImportMode { get; set; } = GraphImportMode.Json;
        /// <summary>Mailboxes written at once (each gets at most 4 concurrent requests, Exchange's limit).</summary>
        public int ThrottleLimit { get; set; } = 8;
    }
}
