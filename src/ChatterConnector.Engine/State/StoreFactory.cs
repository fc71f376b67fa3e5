using System;
using System.Collections.Concurrent;

namespace ChatterConnector.Engine.State
{
    /// <summary>
    /// Opens the store a location names: a folder (the local SQLite store), a blob container URI (an Azure
    /// store, signed in with Microsoft Entra ID), or an Azure Storage connection string. With none given,
    /// $env:CHATTERCONNECTOR_STORE may name any of the three; else the local store in $env:CHATTERCONNECTOR_HOME
    /// or the user's profile.
    /// </summary>
    public static class StoreFactory
    {
        /// <summary>Names the store when no -StorePath, -StoreUri or -StoreConnectionString is given: a path, a URI or a connection string.</summary>
        public const string EnvironmentVariable = "CHATTERCONNECTOR_STORE";

        // Azure stores opened with a connection string in this process, by their container URI: a connector
        // or run piped on carries only that URI (never the key), and finds its store again here.
        private static readonly ConcurrentDictionary<string, string> ConnectionStrings = new ConcurrentDictionary<string, string>(StringComparer.OrdinalIgnoreCase);

        /// <summary>Whether <paramref name="location"/> is an http(s) URI rather than a folder.</summary>
        public static bool IsUri(string location) =>
            Uri.TryCreate(location, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttps || u.Scheme == Uri.UriSchemeHttp);

        /// <summary>Whether <paramref name="text"/> looks like an Azure Storage connection string.</summary>
        public static bool IsConnectionString(string text) =>
            text.IndexOf("AccountName=", StringComparison.OrdinalIgnoreCase) >= 0 || text.IndexOf("BlobEndpoint=", StringComparison.OrdinalIgnoreCase) >= 0 ||
            text.IndexOf("UseDevelopmentStorage=", StringComparison.OrdinalIgnoreCase) >= 0;

        /// <summary>Opens the store at a folder, URI or connection string; null or empty: $env:CHATTERCONNECTOR_STORE, else the default local store.</summary>
        public static IConnectorStore Open(string? location)
        {
            if (string.IsNullOrWhiteSpace(location))
            {
                var env = Environment.GetEnvironmentVariable(EnvironmentVariable);
                if (string.IsNullOrWhiteSpace(env)) return ConnectorStore.Open(null);
                location = env!.Trim();
            }
            if (IsConnectionString(location!)) return OpenConnectionString(location!);
            if (IsUri(location!)) return OpenUri(new Uri(location!));
            return ConnectorStore.Open(location);
        }

        /// <summary>An Azure store by its container URI: with the connection string it was opened with in this process, else with Entra ID.</summary>
        public static IConnectorStore OpenUri(Uri containerUri)
        {
            if (ConnectionStrings.TryGetValue(containerUri.ToString().TrimEnd('/'), out var cs)) return OpenConnectionString(cs);
            return AzureConnectorStore.Open(containerUri);
        }

        public static IConnectorStore OpenConnectionString(string connectionString)
        {
            var store = AzureConnectorStore.Open(connectionString);
            ConnectionStrings[store.StorePath] = connectionString;
            return store;
        }
    }
}
