using ChatterConnector.Engine.Model;

namespace ChatterConnector.Engine.Sources
{
    /// <summary>Makes the source a connector's settings name.</summary>
    public static class SourceFactory
    {
        public static IChatterSource Create(ChatterConnectorInfo connector)
        {
            if (string.IsNullOrEmpty(connector.SourcePath))
                throw new ChatterException("ChatterConnector.NoSource", ChatterErrorKind.InvalidArgument,
                    $"The connector '{connector.Name}' has no source. Set one with Set-ChatterConnector -SourcePath.", connector.Name);
            return new ExportFolderSource(connector.SourcePath!, connector.InstanceUrl);
        }
    }
}
