using System;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources;
using ChatterConnector.Engine.State;

namespace ChatterConnector.Commands
{
    /// <summary>Reads a connector's directory (users, groups) and lets go of the source at once.</summary>
    internal static class SourceReader
    {
        public static SourceDirectory ReadDirectory(ChatterConnectorInfo connector, IConnectorStore store)
        {
            var source = SourceFactory.Create(connector, store);
            try { return source.ReadDirectory(); }
            finally { (source as IDisposable)?.Dispose(); }
        }
    }
}
