using System;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources;

namespace ChatterConnector.Commands
{
    /// <summary>Reads a connector's directory (users, groups) and lets go of the source at once.</summary>
    internal static class SourceReader
    {
        public static SourceDirectory ReadDirectory(ChatterConnectorInfo connector)
        {
            var source = SourceFactory.Create(connector);
            try { return source.ReadDirectory(); }
            finally { (source as IDisposable)?.Dispose(); }
        }
    }
}
