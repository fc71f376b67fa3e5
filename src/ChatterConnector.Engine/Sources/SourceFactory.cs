using System;
using System.IO;
using System.Threading;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources.Salesforce;
using ChatterConnector.Engine.State;

namespace ChatterConnector.Engine.Sources
{
    /// <summary>Makes the source a connector's settings name.</summary>
    public static class SourceFactory
    {
        /// <summary>
        /// The connector's source. An API source spools what it reads under the store and reports
        /// warnings (private messages it may not read) through <paramref name="warn"/>.
        /// </summary>
        public static IChatterSource Create(ChatterConnectorInfo connector, string? storePath = null, Action<string>? warn = null,
            SalesforceClientOptions? clientOptions = null, CancellationToken cancellationToken = default)
        {
            if (connector.Salesforce != null)
            {
                var store = StoreLocation.Resolve(storePath ?? connector.StorePath);
                return ApiSource(connector, SecretProtector.ForStore(store), store, warn, clientOptions, cancellationToken);
            }
            if (string.IsNullOrEmpty(connector.SourcePath))
                throw new ChatterException("ChatterConnector.NoSource", ChatterErrorKind.InvalidArgument,
                    $"The connector '{connector.Name}' has no source. Set one with Set-ChatterConnector -SourcePath, or create it with the -Salesforce* parameters.", connector.Name);
            return new ExportFolderSource(connector.SourcePath!, connector.InstanceUrl);
        }

        /// <summary>The connector's source, with the spool in the store's work folder and its secrets revealed by the store.</summary>
        public static IChatterSource Create(ChatterConnectorInfo connector, IConnectorStore store, Action<string>? warn = null,
            SalesforceClientOptions? clientOptions = null, CancellationToken cancellationToken = default)
        {
            if (connector.Salesforce == null) return Create(connector, store.WorkPath, warn, clientOptions, cancellationToken);
            return ApiSource(connector, store.Secrets, store.WorkPath, warn, clientOptions, cancellationToken);
        }

        private static SalesforceApiSource ApiSource(ChatterConnectorInfo connector, SecretProtector secrets, string workPath, Action<string>? warn,
            SalesforceClientOptions? clientOptions, CancellationToken cancellationToken) =>
            new SalesforceApiSource(connector.Salesforce!, secrets, Path.Combine(workPath, "spool", SafeName(connector.Name)), linkBaseUrl: null, clientOptions, warn, cancellationToken);

        internal static string SafeName(string name)
        {
            var chars = name.ToCharArray();
            for (var i = 0; i < chars.Length; i++)
                if (!(char.IsLetterOrDigit(chars[i]) || chars[i] == '-' || chars[i] == '_' || chars[i] == '.')) chars[i] = '_';
            return new string(chars);
        }
    }
}
