using System;
using System.Collections.Generic;
using System.Threading;
using ChatterConnector.Engine.Model;

namespace ChatterConnector.Engine.State
{
    /// <summary>
    /// A connector store: definitions, checkpoints, runs, staged items, thread participants, the
    /// (item, recipient) delivery ledger and the log, and a run lock per connector. Two
    /// implementations: <see cref="ConnectorStore"/> (SQLite in a folder) and
    /// <see cref="AzureConnectorStore"/> (Blob and Table storage, shared by many workers).
    /// Not thread-safe: one instance per pipeline.
    /// </summary>
    public interface IConnectorStore : IDisposable
    {
        /// <summary>Where the store is: its folder, or its blob container's URI. Connectors and runs carry it so piping them on finds the store.</summary>
        string StorePath { get; }

        /// <summary>A local folder for what a run keeps on this machine (the API spool, default staging): the store folder itself for a local store.</summary>
        string WorkPath { get; }

        /// <summary>Protects and reveals the secrets of this store's definitions.</summary>
        SecretProtector Secrets { get; }

        /// <summary>
        /// Starts a transaction that every store call joins until it is committed or disposed.
        /// Disposing it uncommitted discards its writes.
        /// </summary>
        IStoreTransaction Begin();

        IReadOnlyList<ChatterConnectorInfo> ListConnectors();
        ChatterConnectorInfo? FindConnector(string name);
        ChatterConnectorInfo GetConnector(string name);
        void AddConnector(ChatterConnectorInfo connector);

        /// <summary>
        /// Replaces the stored definition. When <see cref="ChatterConnectorInfo.ETag"/> is set and the
        /// stored definition changed since it was read, throws ChatterStore.Conflict instead of overwriting.
        /// </summary>
        void UpdateConnector(ChatterConnectorInfo connector);

        /// <summary>Removes the connector and its state (checkpoints, ledger, runs, log). Messages already delivered stay where they are.</summary>
        bool RemoveConnector(string name);

        string? GetCheckpoint(string connector, string name);
        void SetCheckpoint(string connector, string name, string value);
        /// <summary>Every checkpoint of a connector, by name (for copying a connector to another store).</summary>
        IReadOnlyDictionary<string, string> GetCheckpoints(string connector);

        void SaveRun(ChatterImportRun run);
        /// <summary>Runs of one connector (or all), oldest first.</summary>
        IEnumerable<ChatterImportRun> GetRuns(string? connector = null, string? runId = null);
        ChatterImportRun? LastRun(string connector);

        bool HasItem(string connector, string itemKey);
        StagedItem? GetItem(string connector, string itemKey);
        void AddItem(string connector, StagedItem item);
        List<StagedItem> ItemsInThread(string connector, string threadId);
        /// <summary>Every staged item of a connector, streamed, in the store's key order.</summary>
        IEnumerable<StagedItem> GetItems(string connector);

        /// <summary>Adds a participant to a thread; true when it was not one before.</summary>
        bool AddParticipant(string connector, string threadId, string userId);
        /// <summary>The thread's participants in Id order.</summary>
        List<string> GetParticipants(string connector, string threadId);
        /// <summary>Every (thread, participant) pair of a connector, by thread and then user id.</summary>
        List<(string ThreadId, string UserId)> GetAllParticipants(string connector);

        /// <summary>Adds a delivery unless that (item, recipient) is already in the ledger; true when added.</summary>
        bool AddDelivery(string connector, DeliveryRecord d);
        void UpdateDelivery(string connector, DeliveryRecord d);
        void RemoveDelivery(string connector, DeliveryRecord d);

        /// <summary>
        /// Up to <paramref name="limit"/> deliveries in the given states after ledger row <paramref name="afterRow"/>,
        /// in ledger order. Materialized, so the caller may write while it works through them.
        /// </summary>
        List<DeliveryRecord> GetDeliveries(string connector, DeliveryStatus[] statuses, long afterRow = 0, int limit = int.MaxValue);
        /// <summary>Mailboxes with a delivery in flight: a run was stopped while writing to them.</summary>
        List<string> MailboxesInFlight(string connector);
        long CountDeliveries(string connector, DeliveryStatus status);
        /// <summary>Whether a delivery of the item is still to be done (pending, in flight, failed or unmapped): its staged message is still needed.</summary>
        bool HasOpenDeliveries(string connector, string itemKey);

        void AppendLog(ChatterLogEntry entry);
        /// <summary>The log, oldest first, streamed.</summary>
        IEnumerable<ChatterLogEntry> QueryLog(string? connector, string? runId, DeliveryStatus[]? statuses, DateTimeOffset? since);

        /// <summary>
        /// Takes the run lock of a connector for one run, or throws ChatterImport.ConnectorBusy when
        /// another process holds it. Dispose releases it.
        /// </summary>
        IConnectorLease AcquireRunLock(string connector);
    }

    /// <summary>A store transaction: its writes land together on <see cref="Commit"/>, or not at all when disposed first.</summary>
    public interface IStoreTransaction : IDisposable
    {
        void Commit();
    }

    /// <summary>The run lock of one connector, held until disposed.</summary>
    public interface IConnectorLease : IDisposable
    {
        /// <summary>The connector it locks.</summary>
        string Connector { get; }

        /// <summary>Who holds it: machine, process id and a worker id.</summary>
        string Holder { get; }

        /// <summary>Cancelled when the lock was lost (it could not be renewed): the run must stop.</summary>
        CancellationToken Lost { get; }
    }

    /// <summary>Who this process is, as a lock holder: machine, process id and a random worker id.</summary>
    public static class StoreWorker
    {
        public static string Id { get; } = Environment.MachineName + "/" + System.Diagnostics.Process.GetCurrentProcess().Id + "/" + Guid.NewGuid().ToString("N").Substring(0, 8);
    }
}
