using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Threading;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ChatterConnector.Engine.Model;

namespace ChatterConnector.Engine.State
{
    /// <summary>How an Azure store is laid out and how long its run locks last.</summary>
    public sealed class AzureStoreOptions
    {
        /// <summary>The blob container of definitions and locks (only for a connection string; a URI names its container).</summary>
        public string Container { get; set; } = "chatterconnector";

        /// <summary>The prefix of the store's tables: ChatterCheckpoints, ChatterRuns, ChatterItems, ChatterParticipants, ChatterDeliveries, ChatterLog.</summary>
        public string TablePrefix { get; set; } = "Chatter";

        /// <summary>How long a run lock (a blob lease) lasts unless renewed: 15 to 60 seconds.</summary>
        public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>How often a held lock is renewed; default a third of <see cref="LeaseDuration"/>. Timeout.InfiniteTimeSpan never renews (a test's dead worker).</summary>
        public TimeSpan? RenewInterval { get; set; }

        /// <summary>The local folder for the API spool and default staging; default under $env:CHATTERCONNECTOR_HOME (or the profile).</summary>
        public string? WorkPath { get; set; }
    }

    /// <summary>
    /// A connector store in Azure Storage that many workers share: definitions as JSON blobs under
    /// connectors/ (their ETag guards updates), run locks as blob leases on locks/&lt;connector&gt;, and
    /// checkpoints, runs, items, participants, the delivery ledger and the log in tables partitioned by
    /// connector. A transaction buffers its writes and sends them on Commit as entity-group batches (up to
    /// 100 per table and partition), ledger rows first and checkpoints last, so a worker that dies mid-commit
    /// leaves at worst work the next run redoes, never a delivery it forgets. Reads in a transaction see its
    /// own point writes (checkpoints, items, participants, ledger keys). Items, participants and ledger keys
    /// are read a connector at a time and cached (one worker runs a connector). Not thread-safe.
    /// </summary>
    public sealed class AzureConnectorStore : IConnectorStore
    {
        private const int BatchLimit = 100;
        private const int RowBlock = 1000;

        private readonly BlobContainerClient _container;
        private readonly TableClient _checkpoints, _runs, _items, _participants, _deliveries, _log, _locks;
        private readonly TableClient[] _flushOrder;
        private readonly AzureStoreOptions _options;
        private readonly Dictionary<(TableClient, string, string), TableEntity?> _pending = new Dictionary<(TableClient, string, string), TableEntity?>();
        private readonly List<(TableClient, string, string)> _pendingOrder = new List<(TableClient, string, string)>();
        private readonly Dictionary<string, PartitionCache> _caches = new Dictionary<string, PartitionCache>(StringComparer.Ordinal);
        private readonly Dictionary<string, (long Next, long End)> _rows = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        private bool _inTransaction;
        private long _logSeq;
        private readonly string _instance = Guid.NewGuid().ToString("N").Substring(0, 6);

        private readonly RequestCounter _requests;

        private AzureConnectorStore(BlobContainerClient container, TableServiceClient tables, AzureStoreOptions options, RequestCounter requests)
        {
            _requests = requests;
            _container = container;
            _options = options;
            var p = options.TablePrefix;
            _checkpoints = tables.GetTableClient(p + "Checkpoints");
            _runs = tables.GetTableClient(p + "Runs");
            _items = tables.GetTableClient(p + "Items");
            _participants = tables.GetTableClient(p + "Participants");
            _deliveries = tables.GetTableClient(p + "Deliveries");
            _log = tables.GetTableClient(p + "Log");
            _locks = tables.GetTableClient(p + "Locks");
            // Ledger first: items and participants name work that is done only once its deliveries are recorded.
            _flushOrder = new[] { _deliveries, _items, _participants, _log, _runs, _checkpoints };
            StorePath = container.Uri.ToString().TrimEnd('/');
            WorkPath = options.WorkPath ?? Path.Combine(StoreLocation.Resolve(null), "azure",
                SafeFolder(container.AccountName + "-" + container.Name));
            Secrets = SecretProtector.ForSharedStore(StorePath);
        }

        public string StorePath { get; }
        public string WorkPath { get; }
        public SecretProtector Secrets { get; }

        /// <summary>Requests this store sent to Azure Storage (retries included), for benchmarks: requests per message.</summary>
        public long RequestCount => Interlocked.Read(ref _requests.Count);

        /// <summary>Counts every request the store's clients send.</summary>
        private sealed class RequestCounter : HttpPipelineSynchronousPolicy
        {
            public long Count;
            public override void OnSendingRequest(HttpMessage message) => Interlocked.Increment(ref Count);
        }

        // ---- opening -----------------------------------------------------------------------

        /// <summary>
        /// Opens the store of a storage connection string (shared key or SAS). Two extra settings are
        /// taken out of it before the SDK sees it: Container=… and TablePrefix=….
        /// </summary>
        public static AzureConnectorStore Open(string connectionString, AzureStoreOptions? options = null)
        {
            options ??= new AzureStoreOptions();
            var kept = new List<string>();
            foreach (var part in (connectionString ?? "").Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = part.IndexOf('=');
                var key = eq > 0 ? part.Substring(0, eq).Trim() : "";
                if (key.Equals("Container", StringComparison.OrdinalIgnoreCase)) options.Container = part.Substring(eq + 1).Trim();
                else if (key.Equals("TablePrefix", StringComparison.OrdinalIgnoreCase)) options.TablePrefix = part.Substring(eq + 1).Trim();
                else kept.Add(part.Trim());
            }
            var cs = string.Join(";", kept);
            var requests = new RequestCounter();
            BlobContainerClient container;
            TableServiceClient tables;
            try
            {
                container = new BlobContainerClient(cs, options.Container, BlobOptions(requests));
                tables = new TableServiceClient(cs, TableOptions(requests));
            }
            catch (Exception ex) when (ex is FormatException || ex is ArgumentException || ex is InvalidOperationException)
            {
                throw new ChatterException("ChatterStore.InvalidConnectionString", ChatterErrorKind.InvalidArgument,
                    "The store connection string is not a valid Azure Storage connection string (it needs AccountName and AccountKey, or a SharedAccessSignature, " +
                    "and endpoints that include both Blob and Table). Copy it again from the storage account's Access keys.", null, ex);
            }
            return Create(container, tables, options, requests);
        }

        /// <summary>
        /// Opens the store of a container URI (https://account.blob.core.windows.net/container) with an Entra ID
        /// credential (default: DefaultAzureCredential, so a managed identity in Azure Automation). The table
        /// endpoint is the account's: https://account.table.core.windows.net.
        /// </summary>
        public static AzureConnectorStore Open(Uri containerUri, TokenCredential? credential = null, AzureStoreOptions? options = null)
        {
            options ??= new AzureStoreOptions();
            if (containerUri == null) throw new ArgumentNullException(nameof(containerUri));
            var segments = containerUri.AbsolutePath.Trim('/').Split('/');
            var host = containerUri.Host;
            var blobAt = host.IndexOf(".blob.", StringComparison.OrdinalIgnoreCase);
            if (!containerUri.IsAbsoluteUri || (containerUri.Scheme != Uri.UriSchemeHttps && !containerUri.IsLoopback) || blobAt <= 0
                || segments.Length != 1 || segments[0].Length == 0)
                throw new ChatterException("ChatterStore.InvalidUri", ChatterErrorKind.InvalidArgument,
                    $"'{containerUri}' is not a blob container URI. Give the container's address, such as https://contoso.blob.core.windows.net/chatterconnector.", containerUri);
            var tableUri = new UriBuilder(containerUri) { Host = host.Substring(0, blobAt) + ".table." + host.Substring(blobAt + 6), Path = "" }.Uri;
            return Open(containerUri, tableUri, credential ?? new DefaultAzureCredential(), options);
        }

        /// <summary>
        /// Opens the store of a container and a table service named apart, with an Entra ID credential
        /// (an emulator's path-style addresses; <paramref name="transport"/> for tests).
        /// </summary>
        internal static AzureConnectorStore Open(Uri containerUri, Uri tableServiceUri, TokenCredential credential, AzureStoreOptions? options = null, HttpPipelineTransport? transport = null)
        {
            options ??= new AzureStoreOptions();
            options.Container = containerUri.AbsolutePath.Trim('/').Split('/').Last();
            var requests = new RequestCounter();
            return Create(new BlobContainerClient(containerUri, credential, BlobOptions(requests, transport)),
                new TableServiceClient(tableServiceUri, credential, TableOptions(requests, transport)), options, requests);
        }

        private static BlobClientOptions BlobOptions(RequestCounter requests, HttpPipelineTransport? transport = null) => Configure(new BlobClientOptions(), requests, transport);

        private static TableClientOptions TableOptions(RequestCounter requests, HttpPipelineTransport? transport = null) => Configure(new TableClientOptions(), requests, transport);

        private static T Configure<T>(T options, RequestCounter requests, HttpPipelineTransport? transport) where T : ClientOptions
        {
            if (transport != null) options.Transport = transport;
            options.AddPolicy(requests, HttpPipelinePosition.PerRetry);
            var r = options.Retry;
            r.MaxRetries = 3;
            r.Delay = TimeSpan.FromMilliseconds(300);
            r.MaxDelay = TimeSpan.FromSeconds(5);
            r.NetworkTimeout = TimeSpan.FromSeconds(30);
            return options;
        }

        private static AzureConnectorStore Create(BlobContainerClient container, TableServiceClient tables, AzureStoreOptions options, RequestCounter requests)
        {
            if (options.LeaseDuration < TimeSpan.FromSeconds(15) || options.LeaseDuration > TimeSpan.FromSeconds(60))
                throw new ArgumentOutOfRangeException(nameof(options), "A run lock lasts 15 to 60 seconds.");
            var store = new AzureConnectorStore(container, tables, options, requests);
            store.Guard(() =>
            {
                container.CreateIfNotExists();
                foreach (var t in store._flushOrder) t.CreateIfNotExists();
                store._locks.CreateIfNotExists();
                return 0;
            });
            return store;
        }

        /// <summary>Runs a storage call; its failures become errors that say what to do.</summary>
        private T Guard<T>(Func<T> call)
        {
            try
            {
                return call();
            }
            catch (RequestFailedException ex) when (ex.Status == 403)
            {
                throw new ChatterException("ChatterStore.AccessDenied", ChatterErrorKind.PermissionDenied,
                    $"The store '{StorePath}' refused access ({ex.ErrorCode ?? "403"}). Check the account key or SAS of the connection string, " +
                    "or give the identity 'Storage Blob Data Contributor' and 'Storage Table Data Contributor' on the storage account.", StorePath, ex);
            }
            catch (RequestFailedException ex) when (ex.Status == 0)
            {
                throw Unreachable(ex);
            }
            catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is RequestFailedException r && r.Status == 0 || e is HttpRequestException))
            {
                throw Unreachable(ex);
            }
            catch (HttpRequestException ex)
            {
                throw Unreachable(ex);
            }
            catch (AuthenticationFailedException ex)
            {
                throw new ChatterException("ChatterStore.AuthenticationFailed", ChatterErrorKind.AuthenticationError,
                    $"Signing in to the store '{StorePath}' with Microsoft Entra ID failed: {ex.Message} In Azure Automation, turn on the account's managed identity; at a prompt, sign in with Connect-AzAccount or az login.", StorePath, ex);
            }
            catch (RequestFailedException ex)
            {
                throw new ChatterException("ChatterStore.RequestFailed", ChatterErrorKind.WriteError,
                    $"The store '{StorePath}' answered {ex.Status} {ex.ErrorCode}: {FirstLine(ex.Message)}", StorePath, ex);
            }
        }

        private ChatterException Unreachable(Exception ex) =>
            new ChatterException("ChatterStore.Unreachable", ChatterErrorKind.ResourceUnavailable,
                $"The store '{StorePath}' cannot be reached: {FirstLine(ex.Message)} Check the account name and endpoints, and the network.", StorePath, ex);

        private static string FirstLine(string s)
        {
            var i = s.IndexOfAny(new[] { '\r', '\n' });
            return i < 0 ? s : s.Substring(0, i);
        }

        // ---- keys --------------------------------------------------------------------------

        /// <summary>A table key: any text, with the characters Table storage forbids in keys (and %) percent-escaped.</summary>
        internal static string Key(string text)
        {
            var sb = new StringBuilder(text.Length);
            foreach (var ch in text)
            {
                if (ch == '%' || ch == '/' || ch == '\\' || ch == '#' || ch == '?' || ch == '|' || char.IsControl(ch))
                    sb.Append('%').Append(((int)ch).ToString("X2", CultureInfo.InvariantCulture));
                else sb.Append(ch);
            }
            return sb.ToString();
        }

        /// <summary>The text a <see cref="Key"/> was made of.</summary>
        internal static string Unkey(string key)
        {
            if (key.IndexOf('%') < 0) return key;
            var sb = new StringBuilder(key.Length);
            for (var i = 0; i < key.Length; i++)
            {
                if (key[i] == '%' && i + 2 < key.Length && int.TryParse(key.Substring(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var ch))
                {
                    sb.Append((char)ch);
                    i += 2;
                }
                else sb.Append(key[i]);
            }
            return sb.ToString();
        }

        /// <summary>The partition of a connector: names are unique ignoring case.</summary>
        private static string Part(string connector) => Key(connector.ToLowerInvariant());

        private static string BlobName(string connector) => Uri.EscapeDataString(connector.ToLowerInvariant());

        private static string SafeFolder(string s) =>
            new string(s.Select(c => char.IsLetterOrDigit(c) || c == '-' || c == '_' || c == '.' ? c : '_').ToArray());

        private static string Odata(string s) => s.Replace("'", "''");

        /// <summary>Entities whose RowKey starts with <paramref name="prefix"/>, in one partition.</summary>
        private static string PrefixFilter(string pk, string prefix, string? more = null) =>
            $"PartitionKey eq '{Odata(pk)}' and RowKey ge '{Odata(prefix)}' and RowKey lt '{Odata(prefix.Substring(0, prefix.Length - 1) + (char)(prefix[prefix.Length - 1] + 1))}'" +
            (more != null ? " and (" + more + ")" : "");

        private static string StatusFilter(IEnumerable<DeliveryStatus> statuses) =>
            string.Join(" or ", statuses.Select(s => $"Status eq '{s}'"));

        // ---- transactions ------------------------------------------------------------------

        public IStoreTransaction Begin()
        {
            if (_inTransaction) throw new InvalidOperationException("A store transaction is already open.");
            _inTransaction = true;
            return new Transaction(this);
        }

        private sealed class Transaction : IStoreTransaction
        {
            private readonly AzureConnectorStore _store;
            private bool _done;
            public Transaction(AzureConnectorStore store) => _store = store;

            public void Commit()
            {
                if (_done) return;
                _done = true;
                try { _store.Flush(); }
                catch { _store.Discard(); throw; }
                finally { _store._inTransaction = false; }
            }

            public void Dispose()
            {
                if (_done) return;
                _done = true;
                _store.Discard();
                _store._inTransaction = false;
            }
        }

        private void Put(TableClient table, TableEntity entity) => Write(table, entity.PartitionKey, entity.RowKey, entity);

        private void Delete(TableClient table, string pk, string rk) => Write(table, pk, rk, null);

        private void Write(TableClient table, string pk, string rk, TableEntity? entity)
        {
            var key = (table, pk, rk);
            if (!_pending.ContainsKey(key)) _pendingOrder.Add(key);
            _pending[key] = entity;
            if (_inTransaction) return;
            try { Flush(); }
            catch { Discard(); throw; }
        }

        /// <summary>The buffered write of an entity: (true, entity) when the transaction wrote it, (true, null) when it deleted it.</summary>
        private (bool Found, TableEntity? Entity) Buffered(TableClient table, string pk, string rk) =>
            _pending.TryGetValue((table, pk, rk), out var e) ? (true, e) : (false, null);

        private void Discard()
        {
            _pending.Clear();
            _pendingOrder.Clear();
            // The caches may hold what was just thrown away.
            _caches.Clear();
        }

        /// <summary>Sends the buffered writes: upserts table by table in <see cref="_flushOrder"/>, then deletes; 100 per batch.</summary>
        private void Flush()
        {
            if (_pendingOrder.Count == 0) return;
            var writes = _pendingOrder.Select(k => (Key: k, Entity: _pending[k])).ToList();
            _pending.Clear();
            _pendingOrder.Clear();
            foreach (var deletes in new[] { false, true })
                foreach (var table in _flushOrder)
                    foreach (var partition in writes.Where(w => w.Key.Item1 == table && (w.Entity == null) == deletes).GroupBy(w => w.Key.Item2))
                    {
                        var actions = partition.Select(w => deletes
                            ? new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(w.Key.Item2, w.Key.Item3), ETag.All)
                            : new TableTransactionAction(TableTransactionActionType.UpsertReplace, w.Entity!)).ToList();
                        for (var i = 0; i < actions.Count; i += BatchLimit)
                            Submit(table, actions.GetRange(i, Math.Min(BatchLimit, actions.Count - i)));
                    }
        }

        private void Submit(TableClient table, List<TableTransactionAction> batch)
        {
            try
            {
                Guard(() => batch.Count == 1 ? Single(table, batch[0]) : table.SubmitTransaction(batch).Value.Count);
            }
            catch (ChatterException ex) when (ex.InnerException is TableTransactionFailedException || (ex.InnerException as RequestFailedException)?.Status == 404)
            {
                // A delete of an entity that is gone already fails its whole batch: send them one by one.
                if (batch.Count == 1 && (ex.InnerException as RequestFailedException)?.Status == 404) return;
                foreach (var action in batch)
                {
                    try { Guard(() => Single(table, action)); }
                    catch (ChatterException e) when ((e.InnerException as RequestFailedException)?.Status == 404) { }
                }
            }
        }

        private static int Single(TableClient table, TableTransactionAction action)
        {
            if (action.ActionType == TableTransactionActionType.Delete) table.DeleteEntity(action.Entity.PartitionKey, action.Entity.RowKey, ETag.All);
            else table.UpsertEntity((TableEntity)action.Entity, TableUpdateMode.Replace);
            return 1;
        }

        /// <summary>One entity: the transaction's own write first, else the table's.</summary>
        private TableEntity? Point(TableClient table, string pk, string rk)
        {
            var (found, buffered) = Buffered(table, pk, rk);
            if (found) return buffered;
            return Guard(() =>
            {
                var r = table.GetEntityIfExists<TableEntity>(pk, rk);
                return r.HasValue ? r.Value : null;
            });
        }

        private List<TableEntity> Query(TableClient table, string filter, int limit = int.MaxValue, IEnumerable<string>? select = null) =>
            Guard(() =>
            {
                var list = new List<TableEntity>();
                foreach (var page in table.Query<TableEntity>(filter, Math.Min(limit, 1000), select).AsPages())
                {
                    foreach (var e in page.Values)
                    {
                        list.Add(e);
                        if (list.Count >= limit) return list;
                    }
                }
                return list;
            });

        // ---- connectors --------------------------------------------------------------------

        private BlobClient DefinitionBlob(string name) => _container.GetBlobClient("connectors/" + BlobName(name) + ".json");

        public IReadOnlyList<ChatterConnectorInfo> ListConnectors()
        {
            var names = Guard(() => _container.GetBlobs(BlobTraits.None, BlobStates.None, "connectors/", CancellationToken.None).Select(b => b.Name).ToList());
            var list = new List<ChatterConnectorInfo>();
            foreach (var blob in names)
            {
                var c = Read(_container.GetBlobClient(blob));
                if (c != null) list.Add(c);
            }
            return list.OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase).ToList();
        }

        public ChatterConnectorInfo? FindConnector(string name) => Read(DefinitionBlob(name));

        private ChatterConnectorInfo? Read(BlobClient blob)
        {
            var content = Guard(() =>
            {
                try { return blob.DownloadContent().Value; }
                catch (RequestFailedException ex) when (ex.Status == 404) { return null; }
            });
            if (content == null) return null;
            var c = StoredDefinition.Deserialize(content.Content.ToString());
            c.StorePath = StorePath;
            c.ETag = content.Details.ETag.ToString();
            var last = LastRun(c.Name);
            if (last != null)
            {
                c.LastRunTime = last.StartTime;
                c.LastRunStatus = last.Status.ToString();
                var completed = Query(_runs, $"PartitionKey eq '{Odata(Part(c.Name))}' and (Status eq 'Succeeded' or Status eq 'CompletedWithErrors')", 1, new[] { "Start" });
                if (completed.Count > 0) c.LastCompletedRunTime = completed[0].GetDateTimeOffset("Start");
            }
            return c;
        }

        public ChatterConnectorInfo GetConnector(string name) =>
            FindConnector(name) ?? throw new ChatterException("ChatterConnector.NotFound", ChatterErrorKind.ObjectNotFound,
                $"There is no connector named '{name}' in the store '{StorePath}'. Get-ChatterConnector lists them.", name);

        public void AddConnector(ChatterConnectorInfo connector)
        {
            var response = Guard(() =>
            {
                try
                {
                    return DefinitionBlob(connector.Name).Upload(BinaryData.FromString(StoredDefinition.Serialize(connector)),
                        new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } });
                }
                catch (RequestFailedException ex) when (ex.Status == 409 || ex.Status == 412)
                {
                    throw new ChatterException("ChatterConnector.NameExists", ChatterErrorKind.ResourceExists,
                        $"A connector named '{connector.Name}' already exists in the store '{StorePath}'. Choose another name, or change it with Set-ChatterConnector.", connector.Name, ex);
                }
            });
            connector.StorePath = StorePath;
            connector.ETag = response.Value.ETag.ToString();
        }

        public void UpdateConnector(ChatterConnectorInfo connector)
        {
            var response = Guard(() =>
            {
                try
                {
                    return DefinitionBlob(connector.Name).Upload(BinaryData.FromString(StoredDefinition.Serialize(connector)),
                        new BlobUploadOptions { Conditions = new BlobRequestConditions { IfMatch = connector.ETag == null ? ETag.All : new ETag(connector.ETag) } });
                }
                catch (RequestFailedException ex) when (ex.Status == 412 && connector.ETag != null && DefinitionBlob(connector.Name).Exists().Value)
                {
                    throw StoreErrors.Conflict(connector.Name, StorePath);
                }
                catch (RequestFailedException ex) when (ex.Status == 412 || ex.Status == 404)
                {
                    throw new ChatterException("ChatterConnector.NotFound", ChatterErrorKind.ObjectNotFound,
                        $"There is no connector named '{connector.Name}' in the store '{StorePath}'.", connector.Name, ex);
                }
            });
            connector.ETag = response.Value.ETag.ToString();
        }

        public bool RemoveConnector(string name)
        {
            var removed = Guard(() => DefinitionBlob(name).DeleteIfExists().Value);
            var pk = Part(name);
            foreach (var table in _flushOrder.Concat(new[] { _locks }))
            {
                var keys = Query(table, $"PartitionKey eq '{Odata(pk)}'", select: new[] { "PartitionKey", "RowKey" });
                for (var i = 0; i < keys.Count; i += BatchLimit)
                    Submit(table, keys.Skip(i).Take(BatchLimit)
                        .Select(k => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(pk, k.RowKey), ETag.All)).ToList());
            }
            _rows.Remove(pk);
            _caches.Clear();
            return removed;
        }

        // ---- checkpoints -------------------------------------------------------------------

        public string? GetCheckpoint(string connector, string name) =>
            Point(_checkpoints, Part(connector), Key(name))?.GetString("Value");

        public void SetCheckpoint(string connector, string name, string value) =>
            Put(_checkpoints, new TableEntity(Part(connector), Key(name)) { ["Value"] = value });

        public IReadOnlyDictionary<string, string> GetCheckpoints(string connector)
        {
            var pk = Part(connector);
            var all = Query(_checkpoints, $"PartitionKey eq '{Odata(pk)}'").ToDictionary(e => Unkey(e.RowKey), e => e.GetString("Value"), StringComparer.Ordinal);
            // This transaction's own writes, as GetCheckpoint sees them.
            foreach (var key in _pendingOrder.Where(k => k.Item1 == _checkpoints && k.Item2 == pk))
            {
                var e = _pending[key];
                if (e == null) all.Remove(Unkey(key.Item3));
                else all[Unkey(key.Item3)] = e.GetString("Value");
            }
            return all;
        }

        // ---- runs --------------------------------------------------------------------------

        /// <summary>Newest first: the row key counts down with the start time.</summary>
        private static string RunKey(ChatterImportRun run) =>
            (DateTimeOffset.MaxValue.UtcTicks - run.StartTime.UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + "_" + Key(run.RunId);

        private static readonly JsonSerializerOptions Json = new JsonSerializerOptions { WriteIndented = false };

        public void SaveRun(ChatterImportRun run) =>
            Put(_runs, new TableEntity(Part(run.ConnectorName), RunKey(run))
            {
                ["RunId"] = run.RunId, ["Start"] = run.StartTime, ["Status"] = run.Status.ToString(), ["Data"] = JsonSerializer.Serialize(run, Json),
            });

        public IEnumerable<ChatterImportRun> GetRuns(string? connector = null, string? runId = null)
        {
            var filters = new List<string>();
            if (connector != null) filters.Add($"PartitionKey eq '{Odata(Part(connector))}'");
            if (runId != null) filters.Add($"RunId eq '{Odata(runId)}'");
            return Query(_runs, filters.Count == 0 ? "" : string.Join(" and ", filters))
                .Select(e => Run(e))
                .OrderBy(r => r.StartTime).ThenBy(r => r.RunId, StringComparer.Ordinal)
                .ToList();
        }

        private ChatterImportRun Run(TableEntity e)
        {
            var run = JsonSerializer.Deserialize<ChatterImportRun>(e.GetString("Data"), Json)!;
            run.StorePath = StorePath;
            return run;
        }

        public ChatterImportRun? LastRun(string connector) =>
            Query(_runs, $"PartitionKey eq '{Odata(Part(connector))}'", 1).Select(Run).FirstOrDefault();

        // ---- items and threads -------------------------------------------------------------

        // A run asks about every item, participant and ledger key of its connector, one at a time. One worker
        // runs a connector (the run lock), so each kind is read once, a partition at a time in pages of 1000,
        // and kept while this store is open: a run's reads cost a request per thousand rows, not one per row.
        private sealed class PartitionCache
        {
            public Dictionary<string, StagedItem>? Items;
            public Dictionary<string, List<StagedItem>>? Threads;
            public Dictionary<string, HashSet<string>>? Participants;
            public Dictionary<string, HashSet<string>>? Recipients;
        }

        private PartitionCache Cache(string pk)
        {
            if (!_caches.TryGetValue(pk, out var c)) _caches[pk] = c = new PartitionCache();
            return c;
        }

        private static HashSet<string> SetOf(Dictionary<string, HashSet<string>> sets, string key)
        {
            if (!sets.TryGetValue(key, out var set)) sets[key] = set = new HashSet<string>(StringComparer.Ordinal);
            return set;
        }

        private Dictionary<string, StagedItem> Items(string pk)
        {
            var c = Cache(pk);
            if (c.Items == null)
            {
                c.Items = new Dictionary<string, StagedItem>(StringComparer.Ordinal);
                c.Threads = new Dictionary<string, List<StagedItem>>(StringComparer.Ordinal);
                foreach (var e in Query(_items, $"PartitionKey eq '{Odata(pk)}'")) Remember(c, ReadItem(e));
            }
            return c.Items;
        }

        private static void Remember(PartitionCache c, StagedItem item)
        {
            c.Items![item.ItemKey] = item;
            if (!c.Threads!.TryGetValue(item.ThreadId, out var list)) c.Threads[item.ThreadId] = list = new List<StagedItem>();
            list.Add(item);
        }

        public bool HasItem(string connector, string itemKey) => GetItem(connector, itemKey) != null;

        public StagedItem? GetItem(string connector, string itemKey) =>
            Items(Part(connector)).TryGetValue(itemKey, out var item) ? item : null;

        public void AddItem(string connector, StagedItem item)
        {
            var pk = Part(connector);
            Items(pk);
            Remember(Cache(pk), item);
            Put(_items, ItemEntity(pk, Key(item.ItemKey), item));
        }

        private static TableEntity ItemEntity(string pk, string rk, StagedItem item) => new TableEntity(pk, rk)
        {
            ["ItemKey"] = item.ItemKey, ["ItemId"] = item.ItemId, ["ThreadId"] = item.ThreadId, ["ItemType"] = item.ItemType.ToString(),
            ["AuthorId"] = item.AuthorId, ["MessageId"] = item.MessageId, ["StagedPath"] = item.StagedPath, ["Sha256"] = item.Sha256,
            ["Size"] = item.Size, ["PartialReason"] = item.PartialReason,
        };

        private static StagedItem ReadItem(TableEntity e) => new StagedItem
        {
            ItemKey = e.GetString("ItemKey"), ItemId = e.GetString("ItemId"), ThreadId = e.GetString("ThreadId"),
            ItemType = (ChatterItemType)Enum.Parse(typeof(ChatterItemType), e.GetString("ItemType")), AuthorId = e.GetString("AuthorId"),
            MessageId = e.GetString("MessageId"), StagedPath = e.GetString("StagedPath"), Sha256 = e.GetString("Sha256"),
            Size = e.GetInt64("Size") ?? 0, PartialReason = e.GetString("PartialReason"),
        };

        public List<StagedItem> ItemsInThread(string connector, string threadId)
        {
            var pk = Part(connector);
            Items(pk);
            return Cache(pk).Threads!.TryGetValue(threadId, out var list)
                ? list.OrderBy(i => i.ItemKey, StringComparer.Ordinal).ToList()
                : new List<StagedItem>();
        }

        /// <summary>Every staged item of a connector, read a page at a time (not through the cache: a copy reads each once).</summary>
        public IEnumerable<StagedItem> GetItems(string connector)
        {
            var pages = Guard(() => _items.Query<TableEntity>($"PartitionKey eq '{Odata(Part(connector))}'", 1000).AsPages().GetEnumerator());
            while (Guard(() => pages.MoveNext()))
                foreach (var e in pages.Current.Values) yield return ReadItem(e);
        }

        public List<(string ThreadId, string UserId)> GetAllParticipants(string connector)
        {
            var pk = Part(connector);
            Participants(pk, "");   // loads every thread of the partition into the cache
            return Cache(pk).Participants!.SelectMany(t => t.Value.Select(u => (t.Key, u)))
                .OrderBy(p => p.Key, StringComparer.Ordinal).ThenBy(p => p.u, StringComparer.Ordinal).ToList();
        }

        /// <summary>A thread's participants.</summary>
        private HashSet<string> Participants(string pk, string threadId)
        {
            var c = Cache(pk);
            if (c.Participants == null)
            {
                c.Participants = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
                foreach (var e in Query(_participants, $"PartitionKey eq '{Odata(pk)}'", select: new[] { "ThreadId", "UserId" }))
                    SetOf(c.Participants, e.GetString("ThreadId")).Add(e.GetString("UserId"));
            }
            return SetOf(c.Participants, threadId);
        }

        public bool AddParticipant(string connector, string threadId, string userId)
        {
            var pk = Part(connector);
            if (!Participants(pk, threadId).Add(userId)) return false;
            Put(_participants, new TableEntity(pk, Key(threadId) + "|" + Key(userId)) { ["ThreadId"] = threadId, ["UserId"] = userId });
            return true;
        }

        public List<string> GetParticipants(string connector, string threadId)
        {
            var list = Participants(Part(connector), threadId).ToList();
            list.Sort(StringComparer.Ordinal);
            return list;
        }

        // ---- deliveries --------------------------------------------------------------------

        // The ledger: "r:<row>" holds a delivery, in row order for paging; "k:<item>|<recipient>" names its row,
        // so an (item, recipient) is entered once; "~seq" hands out rows a block at a time.
        private const string RowPrefix = "r:";
        private const string KeyPrefix = "k:";
        private const string SeqKey = "~seq";

        private static string RowKey(long row) => RowPrefix + row.ToString("D19", CultureInfo.InvariantCulture);
        private static string LedgerKey(string itemKey, string recipient) => KeyPrefix + Key(itemKey) + "|" + Key(recipient);

        /// <summary>The recipients an item has in the ledger.</summary>
        private HashSet<string> Recipients(string pk, string itemKey)
        {
            var c = Cache(pk);
            if (c.Recipients == null)
            {
                c.Recipients = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
                foreach (var e in Query(_deliveries, PrefixFilter(pk, KeyPrefix), select: new[] { "ItemKey", "Recipient" }))
                    SetOf(c.Recipients, e.GetString("ItemKey")).Add(e.GetString("Recipient"));
            }
            return SetOf(c.Recipients, itemKey);
        }

        private long NextRow(string pk)
        {
            if (_rows.TryGetValue(pk, out var r) && r.Next < r.End)
            {
                _rows[pk] = (r.Next + 1, r.End);
                return r.Next;
            }
            // Reserve a block: read the counter and move it on, guarded by its ETag. Sent at once, outside any transaction.
            while (true)
            {
                var seq = Guard(() =>
                {
                    var x = _deliveries.GetEntityIfExists<TableEntity>(pk, SeqKey);
                    return x.HasValue ? x.Value : null;
                });
                var start = seq?.GetInt64("Next") ?? 1;
                var next = new TableEntity(pk, SeqKey) { ["Next"] = start + RowBlock };
                try
                {
                    if (seq == null) _deliveries.AddEntity(next);
                    else _deliveries.UpdateEntity(next, seq.ETag, TableUpdateMode.Replace);
                }
                catch (RequestFailedException ex) when (ex.Status == 409 || ex.Status == 412)
                {
                    continue;   // someone else took a block: read again
                }
                catch (RequestFailedException ex)
                {
                    Guard<int>(() => throw ex);
                }
                _rows[pk] = (start + 1, start + RowBlock);
                return start;
            }
        }

        public bool AddDelivery(string connector, DeliveryRecord d)
        {
            var pk = Part(connector);
            if (!Recipients(pk, d.ItemKey).Add(d.Recipient)) return false;
            var row = NextRow(pk);
            Put(_deliveries, new TableEntity(pk, LedgerKey(d.ItemKey, d.Recipient)) { ["ItemKey"] = d.ItemKey, ["Recipient"] = d.Recipient, ["Row"] = row });
            Put(_deliveries, DeliveryEntity(pk, row, d));
            return true;
        }

        private static TableEntity DeliveryEntity(string pk, long row, DeliveryRecord d) => new TableEntity(pk, RowKey(row))
        {
            ["ItemKey"] = d.ItemKey, ["Recipient"] = d.Recipient, ["UserId"] = d.UserId, ["Mailbox"] = d.Mailbox,
            ["Status"] = d.Status.ToString(), ["Reason"] = d.Reason, ["Attempts"] = d.Attempts,
        };

        /// <summary>The row of a delivery: the one it was read with, else the ledger key's.</summary>
        private long? RowOf(string pk, DeliveryRecord d) =>
            d.Row > 0 ? d.Row : Point(_deliveries, pk, LedgerKey(d.ItemKey, d.Recipient))?.GetInt64("Row");

        public void UpdateDelivery(string connector, DeliveryRecord d)
        {
            var pk = Part(connector);
            var row = RowOf(pk, d);
            if (row != null) Put(_deliveries, DeliveryEntity(pk, row.Value, d));
        }

        public void RemoveDelivery(string connector, DeliveryRecord d)
        {
            var pk = Part(connector);
            var row = RowOf(pk, d);
            if (row == null) return;
            Recipients(pk, d.ItemKey).Remove(d.Recipient);
            Delete(_deliveries, pk, RowKey(row.Value));
            Delete(_deliveries, pk, LedgerKey(d.ItemKey, d.Recipient));
        }

        public List<DeliveryRecord> GetDeliveries(string connector, DeliveryStatus[] statuses, long afterRow = 0, int limit = int.MaxValue)
        {
            var pk = Part(connector);
            var filter = $"PartitionKey eq '{Odata(pk)}' and RowKey gt '{RowKey(afterRow)}' and RowKey lt 'r;' and ({StatusFilter(statuses)})";
            return Query(_deliveries, filter, limit).Select(e => new DeliveryRecord
            {
                Row = long.Parse(e.RowKey.Substring(RowPrefix.Length), CultureInfo.InvariantCulture),
                ItemKey = e.GetString("ItemKey"), Recipient = e.GetString("Recipient"), UserId = e.GetString("UserId"), Mailbox = e.GetString("Mailbox"),
                Status = (DeliveryStatus)Enum.Parse(typeof(DeliveryStatus), e.GetString("Status")), Reason = e.GetString("Reason"), Attempts = e.GetInt32("Attempts") ?? 0,
            }).ToList();
        }

        public List<string> MailboxesInFlight(string connector) =>
            Query(_deliveries, PrefixFilter(Part(connector), RowPrefix, "Status eq 'InFlight'"), select: new[] { "Mailbox" })
                .Select(e => e.GetString("Mailbox")).Where(m => m != null).Distinct(StringComparer.Ordinal).ToList();

        public bool HasOpenDeliveries(string connector, string itemKey) =>
            Query(_deliveries, PrefixFilter(Part(connector), RowPrefix,
                $"ItemKey eq '{Odata(itemKey)}' and ({StatusFilter(new[] { DeliveryStatus.Pending, DeliveryStatus.InFlight, DeliveryStatus.Failed, DeliveryStatus.Unmapped })})"),
                limit: 1, select: new[] { "RowKey" }).Count > 0;

        public long CountDeliveries(string connector, DeliveryStatus status) =>
            Query(_deliveries, PrefixFilter(Part(connector), RowPrefix, $"Status eq '{status}'"), select: new[] { "RowKey" }).Count;

        // ---- log ---------------------------------------------------------------------------

        public void AppendLog(ChatterLogEntry e)
        {
            // Oldest first: the time, then a counter of this store, then who wrote it.
            var rk = e.Time.UtcTicks.ToString("D19", CultureInfo.InvariantCulture) + "-" +
                     Interlocked.Increment(ref _logSeq).ToString("D10", CultureInfo.InvariantCulture) + "-" + _instance;
            Put(_log, new TableEntity(Part(e.ConnectorName), rk)
            {
                ["ConnectorName"] = e.ConnectorName, ["Time"] = e.Time, ["RunId"] = e.RunId, ["ItemKey"] = e.ItemKey, ["ItemId"] = e.ItemId,
                ["ItemType"] = e.ItemType?.ToString(), ["SalesforceUser"] = e.SalesforceUser, ["Mailbox"] = e.Mailbox, ["Status"] = e.Status.ToString(),
                ["Reason"] = e.Reason, ["InternetMessageId"] = e.InternetMessageId, ["Size"] = e.Size, ["Sha256"] = e.Sha256,
            });
        }

        public IEnumerable<ChatterLogEntry> QueryLog(string? connector, string? runId, DeliveryStatus[]? statuses, DateTimeOffset? since)
        {
            var filters = new List<string>();
            if (connector != null) filters.Add($"PartitionKey eq '{Odata(Part(connector))}'");
            if (runId != null) filters.Add($"RunId eq '{Odata(runId)}'");
            if (since != null) filters.Add($"Time ge datetime'{since.Value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture)}'");
            if (statuses != null && statuses.Length > 0) filters.Add("(" + StatusFilter(statuses) + ")");
            var pages = Guard(() => _log.Query<TableEntity>(string.Join(" and ", filters), 1000).AsPages().GetEnumerator());
            while (Guard(() => pages.MoveNext()))
                foreach (var e in pages.Current.Values)
                    yield return new ChatterLogEntry
                    {
                        ConnectorName = e.GetString("ConnectorName"), Time = e.GetDateTimeOffset("Time") ?? default, RunId = e.GetString("RunId"),
                        ItemKey = e.GetString("ItemKey"), ItemId = e.GetString("ItemId"),
                        ItemType = e.GetString("ItemType") is string t ? (ChatterItemType)Enum.Parse(typeof(ChatterItemType), t) : (ChatterItemType?)null,
                        SalesforceUser = e.GetString("SalesforceUser"), Mailbox = e.GetString("Mailbox"),
                        Status = (DeliveryStatus)Enum.Parse(typeof(DeliveryStatus), e.GetString("Status")), Reason = e.GetString("Reason"),
                        InternetMessageId = e.GetString("InternetMessageId"), Size = e.GetInt64("Size") ?? 0, Sha256 = e.GetString("Sha256"),
                    };
        }

        // ---- run locks ---------------------------------------------------------------------

        /// <summary>The metadata key naming who holds a connector's run lock.</summary>
        public const string HolderMetadata = "holder";

        /// <summary>
        /// Takes a blob lease on locks/&lt;connector&gt; for <see cref="AzureStoreOptions.LeaseDuration"/> and renews it
        /// on a timer; the holder (machine, process, worker id) goes in the blob's metadata. A worker that dies
        /// stops renewing, and its lease lapses within the lease duration. Every lease taken is also a row of
        /// the lock history (<see cref="GetRunLockHistory"/>), closed when it is released or lost.
        /// </summary>
        public IConnectorLease AcquireRunLock(string connector) => Guard<IConnectorLease>(() =>
        {
            var blob = _container.GetBlobClient("locks/" + BlobName(connector));
            try { blob.Upload(BinaryData.FromString(""), new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }); }
            catch (RequestFailedException ex) when (ex.Status == 409 || ex.Status == 412) { /* it is there already */ }
            var lease = Azure.Storage.Blobs.Specialized.SpecializedBlobExtensions.GetBlobLeaseClient(blob);
            DateTimeOffset asked;
            try
            {
                lease.Acquire(_options.LeaseDuration);
                // Taken once the lease is granted (and Released just before it is given back), so each
                // row of the history lies within the time the lease was surely held: two rows of one
                // connector that overlap would mean two holders at once.
                asked = DateTimeOffset.UtcNow;
            }
            catch (RequestFailedException ex) when (ex.Status == 409)
            {
                string? holder = null;
                try { blob.GetProperties().Value.Metadata.TryGetValue(HolderMetadata, out holder); } catch (RequestFailedException) { }
                throw StoreErrors.Busy(connector, holder, ex);
            }
            var audit = new TableEntity(Part(connector), (DateTimeOffset.MaxValue.UtcTicks - asked.UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + "_" + lease.LeaseId)
            {
                ["Connector"] = connector, ["Holder"] = StoreWorker.Id, ["Acquired"] = asked,
            };
            try
            {
                blob.SetMetadata(new Dictionary<string, string>
                {
                    [HolderMetadata] = StoreWorker.Id, ["acquired"] = asked.ToString("o", CultureInfo.InvariantCulture),
                }, new BlobRequestConditions { LeaseId = lease.LeaseId });
                _locks.AddEntity(audit);
            }
            catch
            {
                try { lease.Release(); } catch (RequestFailedException) { }
                throw;
            }
            return new BlobLease(connector, lease, _locks, audit, _options.LeaseDuration, _options.RenewInterval ?? TimeSpan.FromTicks(_options.LeaseDuration.Ticks / 3));
        });

        /// <summary>
        /// Who held a connector's run lock (or every connector's) and when, oldest first: one entry per lease
        /// taken. <see cref="RunLockRecord.Released"/> is empty while it is held, and stays empty for a worker
        /// that died holding it (its lease lapsed by itself).
        /// </summary>
        public IReadOnlyList<RunLockRecord> GetRunLockHistory(string? connector = null) =>
            Query(_locks, connector == null ? "" : $"PartitionKey eq '{Odata(Part(connector))}'")
                .Select(e => new RunLockRecord
                {
                    Connector = e.GetString("Connector"), Holder = e.GetString("Holder"), LeaseId = e.RowKey.Substring(20),
                    Acquired = e.GetDateTimeOffset("Acquired") ?? default, Released = e.GetDateTimeOffset("Released"), Lost = e.GetBoolean("Lost") ?? false,
                })
                .OrderBy(r => r.Acquired).ThenBy(r => r.Connector, StringComparer.OrdinalIgnoreCase)
                .ToList();

        /// <summary>Reads who holds (or last held) a connector's run lock, and whether it is leased now.</summary>
        public (string? Holder, bool Leased) ReadRunLock(string connector) => Guard(() =>
        {
            try
            {
                var p = _container.GetBlobClient("locks/" + BlobName(connector)).GetProperties().Value;
                p.Metadata.TryGetValue(HolderMetadata, out var holder);
                return (holder, p.LeaseState == LeaseState.Leased);
            }
            catch (RequestFailedException ex) when (ex.Status == 404) { return ((string?)null, false); }
        });

        private sealed class BlobLease : IConnectorLease
        {
            private readonly Azure.Storage.Blobs.Specialized.BlobLeaseClient _lease;
            private readonly TimeSpan _duration;
            private readonly CancellationTokenSource _lost = new CancellationTokenSource();
            private readonly Timer? _timer;
            private DateTime _renewed = DateTime.UtcNow;
            private int _busy;

            private readonly TableClient _history;
            private readonly TableEntity _audit;

            public BlobLease(string connector, Azure.Storage.Blobs.Specialized.BlobLeaseClient lease, TableClient history, TableEntity audit, TimeSpan duration, TimeSpan renewEvery)
            {
                Connector = connector;
                _lease = lease;
                _history = history;
                _audit = audit;
                _duration = duration;
                if (renewEvery != Timeout.InfiniteTimeSpan) _timer = new Timer(_ => Renew(), null, renewEvery, renewEvery);
            }

            public string Connector { get; }
            public string Holder => StoreWorker.Id;
            public CancellationToken Lost => _lost.Token;

            private void Renew()
            {
                if (Interlocked.Exchange(ref _busy, 1) == 1 || _lost.IsCancellationRequested) return;
                try
                {
                    _lease.Renew();
                    _renewed = DateTime.UtcNow;
                }
                catch (RequestFailedException ex) when (ex.Status == 409 || ex.Status == 412)
                {
                    _lost.Cancel();   // another worker holds it now
                }
                catch (Exception)
                {
                    // A network failure: try again on the next tick, unless the lease has lapsed meanwhile.
                    if (DateTime.UtcNow - _renewed >= _duration) _lost.Cancel();
                }
                finally
                {
                    Interlocked.Exchange(ref _busy, 0);
                }
            }

            public void Dispose()
            {
                _timer?.Dispose();
                var lost = _lost.IsCancellationRequested;
                // The time is taken before the release: the row ends while the lease is still held.
                var released = DateTimeOffset.UtcNow;
                if (!lost)
                {
                    try { _lease.Release(); } catch (RequestFailedException) { } catch (Exception ex) when (ex is HttpRequestException || ex is AggregateException) { }
                }
                // Closes its row of the lock history.
                try
                {
                    _history.UpdateEntity(new TableEntity(_audit.PartitionKey, _audit.RowKey) { ["Released"] = released, ["Lost"] = lost },
                        ETag.All, TableUpdateMode.Merge);
                }
                catch (RequestFailedException) { } catch (Exception ex) when (ex is HttpRequestException || ex is AggregateException) { }
                // _lost is not disposed: a renewal already under way may still cancel it.
            }
        }

        public void Dispose()
        {
            Discard();
        }
    }
}
