using System;
using System.IO;
using System.Text.RegularExpressions;
using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources;
using ChatterConnector.Engine.State;
using ChatterConnector.Engine.Targets.Graph;

namespace ChatterConnector.Engine.Staging
{
    /// <summary>Makes the staging area a connector's settings name, and checks blob staging settings before they are stored.</summary>
    public static class StagingFactory
    {
        /// <summary>The local staging folder when the connector names none: under the store.</summary>
        public static string DefaultStagingPath(string storePath, string connectorName) =>
            Path.Combine(storePath, "staging", SourceFactory.SafeName(connectorName));

        /// <summary>
        /// The connector's staging area: its Azure Blob container when it has one, else its local folder.
        /// A container given by URL is reached with the connector's Microsoft Graph app credential when it
        /// has one (certificate, client secret or managed identity), else with DefaultAzureCredential
        /// (managed identity, environment, Azure CLI…).
        /// </summary>
        public static IStagingArea Create(ChatterConnectorInfo connector, IConnectorStore store, GraphTargetOptions? graphOptions = null)
        {
            var blob = connector.BlobStaging;
            if (blob == null)
                return new LocalStaging(string.IsNullOrEmpty(connector.StagingPath) ? DefaultStagingPath(store.WorkPath, connector.Name) : connector.StagingPath!);
            var secrets = store.Secrets;
            var container = Connect(blob, secrets, () => Credential(connector.Graph, secrets, graphOptions));
            return new BlobStaging(container, connector.Name, Path.Combine(store.WorkPath, "spool", SourceFactory.SafeName(connector.Name) + ".staging"));
        }

        private static TokenCredential Credential(GraphSettings? graph, SecretProtector secrets, GraphTargetOptions? graphOptions) =>
            graph != null && graph.AccessToken == null
                ? GraphAuthentication.CreateCredential(graph, secrets, graphOptions)
                : new DefaultAzureCredential();

        internal static BlobContainerClient Connect(BlobStagingSettings settings, SecretProtector secrets, Func<TokenCredential> credential, BlobClientOptions? options = null)
        {
            options ??= new BlobClientOptions();
            if (settings.ConnectionString != null)
                return ServiceFromConnectionString(secrets.Reveal(settings.ConnectionString), options).GetBlobContainerClient(settings.ContainerName);
            if (settings.SasUri != null)
                return new BlobContainerClient(ParseSasUri(secrets.Reveal(settings.SasUri)), options);
            if (!string.IsNullOrEmpty(settings.ContainerUri))
                return new BlobContainerClient(ParseContainerUri(settings.ContainerUri!), credential(), options);
            throw new ChatterException("ChatterStaging.NoCredential", ChatterErrorKind.InvalidArgument,
                "The blob staging settings name no container: set -StagingContainerUri, -StagingConnectionString or -StagingSasUri with Set-ChatterConnector.");
        }

        /// <summary>Checks a connection string and a container name; returns the container's URL (without the credential).</summary>
        public static string ValidateConnectionString(string connectionString, string containerName)
        {
            ValidateContainerName(containerName);
            return BlobStaging.WithoutQuery(ServiceFromConnectionString(connectionString, new BlobClientOptions()).GetBlobContainerClient(containerName).Uri);
        }

        /// <summary>Checks a container SAS URL; returns the container's URL without the SAS.</summary>
        public static string ValidateSasUri(string sasUri) => BlobStaging.WithoutQuery(ParseSasUri(sasUri));

        /// <summary>Checks a container URL for an Entra sign-in; returns it normalized.</summary>
        public static string ValidateContainerUri(string containerUri) => BlobStaging.WithoutQuery(ParseContainerUri(containerUri));

        public static void ValidateContainerName(string name)
        {
            if (!Regex.IsMatch(name ?? "", "^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$"))
                throw new ChatterException("ChatterStaging.InvalidContainerName", ChatterErrorKind.InvalidArgument,
                    $"'{name}' is not a blob container name: 3 to 63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit.", name);
        }

        private static BlobServiceClient ServiceFromConnectionString(string connectionString, BlobClientOptions options)
        {
            try
            {
                return new BlobServiceClient(connectionString, options);
            }
            catch (Exception e) when (e is FormatException || e is ArgumentException || e is InvalidOperationException || e is System.Collections.Generic.KeyNotFoundException)
            {
                // The message of the SDK's exception is not quoted: it may repeat the connection string.
                throw new ChatterException("ChatterStaging.BadConnectionString", ChatterErrorKind.InvalidArgument,
                    "The staging connection string is not an Azure Storage connection string (DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…;EndpointSuffix=core.windows.net, or one with BlobEndpoint=…). Copy it from the storage account's Access keys.",
                    "StagingConnectionString");
            }
        }

        private static Uri ParseSasUri(string sasUri)
        {
            if (!Uri.TryCreate(sasUri, UriKind.Absolute, out var uri) || !SecureOrLoopback(uri) || uri.Query.IndexOf("sig=", StringComparison.OrdinalIgnoreCase) < 0
                || uri.AbsolutePath.Trim('/').Length == 0)
                throw new ChatterException("ChatterStaging.BadSasUri", ChatterErrorKind.InvalidArgument,
                    "The staging SAS URL is not a container SAS URL: https://account.blob.core.windows.net/container?sv=…&sig=… (http only to a loopback address).", "StagingSasUri");
            return uri;
        }

        private static Uri ParseContainerUri(string containerUri)
        {
            if (!Uri.TryCreate(containerUri, UriKind.Absolute, out var uri) || !SecureOrLoopback(uri) || uri.AbsolutePath.Trim('/').Length == 0)
                throw new ChatterException("ChatterStaging.BadContainerUri", ChatterErrorKind.InvalidArgument,
                    $"'{containerUri}' is not a blob container URL (https://account.blob.core.windows.net/container).", containerUri);
            if (uri.Query.Length > 1)
                throw new ChatterException("ChatterStaging.BadContainerUri", ChatterErrorKind.InvalidArgument,
                    "-StagingContainerUri takes the container's URL without a query: give a SAS URL with -StagingSasUri, which is stored protected.", BlobStaging.WithoutQuery(uri));
            return uri;
        }

        private static bool SecureOrLoopback(Uri uri) => uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback);
    }
}
