using System;
using System.IO;
using System.Linq;

namespace ChatterConnector.Engine.Import
{
    /// <summary>
    /// Keeps two runs of one connector apart on one store: an exclusive lock file held for the
    /// whole run. The operating system releases it when a process dies, so a killed run never
    /// blocks the next one.
    /// </summary>
    public sealed class ConnectorLock : IDisposable
    {
        private readonly FileStream _file;

        private ConnectorLock(FileStream file) => _file = file;

        public static ConnectorLock Acquire(string storePath, string connectorName)
        {
            var dir = Path.Combine(storePath, "locks");
            Directory.CreateDirectory(dir);
            var safe = new string(connectorName.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) || c == '-' || c == '_' ? c : '_').ToArray());
            var path = Path.Combine(dir, safe + ".lock");
            try
            {
                return new ConnectorLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException ex)
            {
                throw new ChatterException("ChatterImport.ConnectorBusy", ChatterErrorKind.ResourceBusy,
                    $"The connector '{connectorName}' is being imported by another process; this run was skipped.", connectorName, ex);
            }
        }

        public void Dispose() => _file.Dispose();
    }
}
