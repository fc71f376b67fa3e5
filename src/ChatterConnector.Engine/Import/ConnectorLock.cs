using System;
using System.IO;
using System.Linq;
using System.Threading;
using ChatterConnector.Engine.State;

namespace ChatterConnector.Engine.Import
{
    /// <summary>
    /// Keeps two runs of one connector apart on one store: an exclusive lock file held for the
    /// whole run. The operating system releases it when a process dies, so a killed run never
    /// blocks the next one.
    /// </summary>
    public sealed class ConnectorLock : IConnectorLease
    {
        private readonly FileStream _file;

        private ConnectorLock(FileStream file, string connector)
        {
            _file = file;
            Connector = connector;
        }

        public string Connector { get; }

        public string Holder => StoreWorker.Id;

        /// <summary>Never: a file lock is held until the process lets it go.</summary>
        public CancellationToken Lost => CancellationToken.None;

        public static ConnectorLock Acquire(string storePath, string connectorName)
        {
            var dir = Path.Combine(storePath, "locks");
            Directory.CreateDirectory(dir);
            var safe = new string(connectorName.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) || c == '-' || c == '_' ? c : '_').ToArray());
            var path = Path.Combine(dir, safe + ".lock");
            try
            {
                return new ConnectorLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None), connectorName);
            }
            catch (IOException ex)
            {
                throw StoreErrors.Busy(connectorName, null, ex);
            }
        }

        public void Dispose() => _file.Dispose();
    }
}
