using System;
using System.Collections.Generic;
using System.Threading;
using ChatterConnector.Engine.Model;

namespace ChatterConnector.Engine.State
{
    /// <summary>
    /// Copies a connector with its state from one store to another (a local store to Azure and back):
    /// its definition with the secrets protected again for the destination, and its checkpoints, staged
    /// items, thread participants, delivery ledger (in ledger order), runs and log, so exactly-once
    /// survives the move.
    /// </summary>
    public static class ConnectorCopy
    {
        /// <summary>Rows written per destination transaction.</summary>
        public const int BatchSize = 500;

        private static readonly DeliveryStatus[] AllStatuses = (DeliveryStatus[])Enum.GetValues(typeof(DeliveryStatus));

        /// <summary>The deliveries that still need their staged message (as <see cref="IConnectorStore.HasOpenDeliveries"/> counts them).</summary>
        private static readonly DeliveryStatus[] OpenStatuses = { DeliveryStatus.Pending, DeliveryStatus.InFlight, DeliveryStatus.Failed, DeliveryStatus.Unmapped };

        /// <summary>
        /// Copies connector <paramref name="name"/> of <paramref name="source"/> into <paramref name="destination"/>
        /// as <paramref name="newName"/> (default: the same name) and returns the destination's connector.
        /// Holds the source's run lock (ChatterImport.ConnectorBusy while a worker runs it) and the destination's.
        /// The secrets are protected for the destination before anything is written (ChatterStore.KeyMissing
        /// for an Azure destination without its key). The state is written in batches and the definition last,
        /// so an interrupted copy leaves no usable connector; what it wrote is removed when it fails, and a
        /// later copy removes what a killed one left. With <paramref name="replace"/> a destination connector
        /// of that name is removed first; without it, ChatterConnector.NameExists.
        /// </summary>
        public static ChatterConnectorInfo Copy(IConnectorStore source, string name, IConnectorStore destination, string? newName = null,
            bool replace = false, CancellationToken cancellationToken = default)
        {
            if (source == null) throw new ArgumentNullException(nameof(source));
            if (destination == null) throw new ArgumentNullException(nameof(destination));
            var target = string.IsNullOrEmpty(newName) ? name : newName!;
            if (string.Equals(source.StorePath, destination.StorePath, StringComparison.OrdinalIgnoreCase) && string.Equals(name, target, StringComparison.OrdinalIgnoreCase))
                throw new ChatterException("ChatterConnector.CopyToItself", ChatterErrorKind.InvalidArgument,
                    $"The connector '{name}' would be copied onto itself in the store '{source.StorePath}'. Give another destination store, or a -NewName.", name);

            using var sourceLock = source.AcquireRunLock(name);
            var original = source.GetConnector(name);
            var copy = Reprotect(original, source.Secrets, destination.Secrets);
            copy.Name = target;

            if (destination.FindConnector(target) != null && !replace)
                throw new ChatterException("ChatterConnector.NameExists", ChatterErrorKind.ResourceExists,
                    $"A connector named '{target}' already exists in the store '{destination.StorePath}'. Give -Force to replace it, or a -NewName.", target);
            using var destinationLock = destination.AcquireRunLock(target);
            // The connector being replaced, or what an interrupted copy left (state without a definition).
            destination.RemoveConnector(target);
            try
            {
                CopyState(source, original.Name, destination, target, cancellationToken);
                destination.AddConnector(copy);
            }
            catch (Exception)
            {
                try { destination.RemoveConnector(target); }
                catch (ChatterException) { /* the store is unreachable: the next copy removes what is left */ }
                throw;
            }
            return destination.GetConnector(target);
        }

        /// <summary>Whether deliveries of a connector that stages in a local folder still need their staged messages.</summary>
        public static bool WaitsOnLocalStaging(IConnectorStore store, ChatterConnectorInfo connector) =>
            connector.BlobStaging == null && store.GetDeliveries(connector.Name, OpenStatuses, 0, 1).Count > 0;

        /// <summary>Whether the definition holds a secret protected for its store (an environment-variable secret is not).</summary>
        public static bool HasProtectedSecrets(ChatterConnectorInfo connector)
        {
            var found = false;
            MapSecrets(connector, s => { found |= IsProtected(s); return s; });
            return found;
        }

        /// <summary>
        /// A copy of the definition for another store: each protected secret revealed with <paramref name="from"/>
        /// and protected with <paramref name="to"/>; secrets read from environment variables stay as they are.
        /// </summary>
        public static ChatterConnectorInfo Reprotect(ChatterConnectorInfo connector, SecretProtector from, SecretProtector to)
        {
            var copy = StoredDefinition.Deserialize(StoredDefinition.Serialize(connector));
            MapSecrets(copy, s => IsProtected(s) ? to.Protect(from.Reveal(s!)) : s);
            return copy;
        }

        private static bool IsProtected(StoredSecret? s) => s != null && string.Equals(s.Kind, StoredSecret.ProtectedKind, StringComparison.OrdinalIgnoreCase);

        /// <summary>Replaces every secret slot of a definition with <paramref name="map"/> of it.</summary>
        private static void MapSecrets(ChatterConnectorInfo c, Func<StoredSecret?, StoredSecret?> map)
        {
            if (c.Salesforce is SalesforceSettings sf)
            {
                sf.ClientSecret = map(sf.ClientSecret);
                sf.RefreshToken = map(sf.RefreshToken);
                sf.Password = map(sf.Password);
                sf.SecurityToken = map(sf.SecurityToken);
                sf.AccessToken = map(sf.AccessToken);
                sf.CertificatePassword = map(sf.CertificatePassword);
            }
            if (c.Graph is GraphSettings g)
            {
                g.ClientSecret = map(g.ClientSecret);
                g.CertificatePassword = map(g.CertificatePassword);
                g.AccessToken = map(g.AccessToken);
            }
            if (c.BlobStaging is BlobStagingSettings b)
            {
                b.ConnectionString = map(b.ConnectionString);
                b.SasUri = map(b.SasUri);
            }
        }

        private static void CopyState(IConnectorStore source, string name, IConnectorStore destination, string target, CancellationToken ct)
        {
            InBatches(destination, source.GetCheckpoints(name), kv => destination.SetCheckpoint(target, kv.Key, kv.Value), ct);
            InBatches(destination, source.GetItems(name), item => destination.AddItem(target, item), ct);
            InBatches(destination, source.GetAllParticipants(name), p => destination.AddParticipant(target, p.ThreadId, p.UserId), ct);
            InBatches(destination, Ledger(source, name), d => destination.AddDelivery(target, d), ct);
            InBatches(destination, source.GetRuns(name), run => { run.ConnectorName = target; destination.SaveRun(run); }, ct);
            InBatches(destination, source.QueryLog(name, null, null, null), e => { e.ConnectorName = target; destination.AppendLog(e); }, ct);
        }

        /// <summary>The whole ledger in ledger order, a page at a time; a copied row gets the next row of the destination, so the order stays.</summary>
        private static IEnumerable<DeliveryRecord> Ledger(IConnectorStore store, string connector)
        {
            long after = 0;
            while (true)
            {
                var page = store.GetDeliveries(connector, AllStatuses, after, BatchSize);
                foreach (var d in page)
                {
                    after = d.Row;
                    d.Row = 0;
                    yield return d;
                }
                if (page.Count < BatchSize) yield break;
            }
        }

        private static void InBatches<T>(IConnectorStore destination, IEnumerable<T> rows, Action<T> write, CancellationToken ct)
        {
            IStoreTransaction? tx = null;
            try
            {
                var n = 0;
                foreach (var row in rows)
                {
                    ct.ThrowIfCancellationRequested();
                    tx ??= destination.Begin();
                    write(row);
                    if (++n % BatchSize != 0) continue;
                    tx.Commit();
                    tx.Dispose();
                    tx = null;
                }
                tx?.Commit();
            }
            finally
            {
                tx?.Dispose();
            }
        }
    }
}
