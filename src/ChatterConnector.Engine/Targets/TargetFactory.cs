using System.IO;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.State;
using ChatterConnector.Engine.Targets.Graph;

namespace ChatterConnector.Engine.Targets
{
    /// <summary>Makes the target a connector's settings name.</summary>
    public static class TargetFactory
    {
        /// <summary>The connector's target, its secrets revealed by the store.</summary>
        public static IMessageTarget Create(ChatterConnectorInfo connector, IConnectorStore store, GraphTargetOptions? graphOptions = null) =>
            connector.Graph != null ? new GraphTarget(connector.Graph, store.Secrets, connector.FolderName, graphOptions) : Create(connector, store.WorkPath, graphOptions);

        public static IMessageTarget Create(ChatterConnectorInfo connector, string? storePath = null, GraphTargetOptions? graphOptions = null)
        {
            if (connector.Graph != null)
                return new GraphTarget(connector.Graph, SecretProtector.ForStore(StoreLocation.Resolve(storePath ?? connector.StorePath)), connector.FolderName, graphOptions);
            if (string.IsNullOrEmpty(connector.MaildirPath))
                throw new ChatterException("ChatterConnector.NoTarget", ChatterErrorKind.InvalidArgument,
                    $"The connector '{connector.Name}' has no target. Set one with Set-ChatterConnector -MaildirPath.", connector.Name);
            return new MaildirTarget(connector.MaildirPath!, connector.FolderName);
        }
    }
}
