using System;

namespace ChatterConnector.Engine.Model
{
    /// <summary>
    /// An Azure Blob container as a connector's staging area: one blob per message. Exactly one of
    /// <see cref="ContainerUri"/> (signed in with Microsoft Entra), <see cref="ConnectionString"/>
    /// (with <see cref="ContainerName"/>) or <see cref="SasUri"/> says how to reach it; the secrets
    /// are stored protected, never in plain text.
    /// </summary>
    public sealed class BlobStagingSettings
    {
        public const string DefaultContainerName = "chatter-staging";

        /// <summary>The container's URL (https://account.blob.core.windows.net/container), reached with an Entra credential.</summary>
        public string? ContainerUri { get; set; }

        /// <summary>A storage account connection string (protected).</summary>
        public StoredSecret? ConnectionString { get; set; }

        /// <summary>The container of the account named by <see cref="ConnectionString"/>.</summary>
        public string ContainerName { get; set; } = DefaultContainerName;

        /// <summary>A container SAS URL (protected: its query is the credential).</summary>
        public StoredSecret? SasUri { get; set; }

        /// <summary>The container's URL without any credential, for messages and error targets.</summary>
        public string Location { get; set; } = "";
    }
}
