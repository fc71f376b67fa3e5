using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text.Json;
using ChatterConnector.Engine.Model;
using Microsoft.Data.Sqlite;

namespace ChatterConnector.Engine.State
{
    /// <summary>
    /// The connector store: definitions, checkpoints, runs, the (item, recipient) ledger and the
    /// log, in one SQLite database under the store folder. Every multi-row change is one
    /// transaction, so a process killed at any point leaves either all of it or none.
    /// Not thread-safe: one instance per pipeline.
    /// </summary>
    public sealed class ConnectorStore : IConnectorStore
    {
        public const string DatabaseFileName = "chatterconnector.db";
        private const int SchemaVersion = 2;

        private readonly SqliteConnection _db;
        private readonly Dictionary<string, SqliteCommand> _commands = new Dictionary<string, SqliteCommand>();
        private SqliteTransaction? _tx;

        private static readonly JsonSerializerOptions Json = new JsonSerializerOptions { WriteIndented = false };

        private ConnectorStore(string path, SqliteConnection db)
        {
            StorePath = path;
            _db = db;
        }

        /// <summary>The store folder.</summary>
        public string StorePath { get; }

        /// <summary>The store folder: a local store keeps its spool and default staging beside the database.</summary>
        public string WorkPath => StorePath;

        private SecretProtector? _secrets;

        /// <summary>DPAPI on Windows, else the key file in &lt;store&gt;/keys.</summary>
        public SecretProtector Secrets => _secrets ??= SecretProtector.ForStore(StorePath);

        /// <summary>The exclusive lock file &lt;store&gt;/locks/&lt;connector&gt;.lock, released by the OS when the process dies.</summary>
        public IConnectorLease AcquireRunLock(string connector) => Import.ConnectorLock.Acquire(StorePath, connector);

        /// <summary>Opens (and creates, when missing) the store in <paramref name="storePath"/> or the default location.</summary>
        public static ConnectorStore Open(string? storePath)
        {
            var path = StoreLocation.Resolve(storePath);
            SqliteConnection? db = null;
            try
            {
                Directory.CreateDirectory(path);
                SQLitePCL.Batteries_V2.Init();
                db = new SqliteConnection(new SqliteConnectionStringBuilder
                {
                    DataSource = Path.Combine(path, DatabaseFileName),
                    Mode = SqliteOpenMode.ReadWriteCreate,
                    Pooling = false,
                }.ToString());
                db.Open();
                var store = new ConnectorStore(path, db);
                store.Migrate();
                return store;
            }
            catch (Exception ex) when (ex is UnauthorizedAccessException || ex is IOException || ex is SqliteException)
            {
                db?.Dispose();
                throw new ChatterException("ChatterStore.NotWritable", ChatterErrorKind.PermissionDenied,
                    $"The connector store '{path}' cannot be opened for writing: {ex.Message} Choose a folder you can write to with -StorePath or $env:{StoreLocation.EnvironmentVariable}.",
                    path, ex);
            }
        }

        private void Migrate()
        {
            Exec("PRAGMA journal_mode=WAL;");
            Exec("PRAGMA synchronous=NORMAL;");
            Exec("PRAGMA busy_timeout=10000;");
            Exec("PRAGMA foreign_keys=OFF;");
            var version = Convert.ToInt32(Scalar("PRAGMA user_version;"), CultureInfo.InvariantCulture);
            if (version > SchemaVersion)
                throw new ChatterException("ChatterStore.NewerSchema", ChatterErrorKind.InvalidData,
                    $"The connector store '{StorePath}' was written by a newer ChatterConnector (schema {version}). Update the module.", StorePath);
            if (version == SchemaVersion) return;
            using var tx = Begin();
            Exec(@"
CREATE TABLE IF NOT EXISTS connectors (name TEXT NOT NULL PRIMARY KEY COLLATE NOCASE, definition TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (connector TEXT NOT NULL COLLATE NOCASE, name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (connector, name));
CREATE TABLE IF NOT EXISTS runs (run_id TEXT NOT NULL PRIMARY KEY, connector TEXT NOT NULL COLLATE NOCASE, start TEXT NOT NULL, status TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS runs_by_connector ON runs (connector, start);
CREATE TABLE IF NOT EXISTS items (connector TEXT NOT NULL COLLATE NOCASE, item_key TEXT NOT NULL, item_id TEXT NOT NULL, thread_id TEXT NOT NULL,
  item_type TEXT NOT NULL, author_id TEXT NOT NULL, message_id TEXT NOT NULL, staged_path TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
  partial_reason TEXT, PRIMARY KEY (connector, item_key));
CREATE INDEX IF NOT EXISTS items_by_thread ON items (connector, thread_id);
CREATE TABLE IF NOT EXISTS thread_participants (connector TEXT NOT NULL COLLATE NOCASE, thread_id TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (connector, thread_id, user_id));
CREATE TABLE IF NOT EXISTS deliveries (connector TEXT NOT NULL COLLATE NOCASE, item_key TEXT NOT NULL, recipient TEXT NOT NULL, user_id TEXT NOT NULL,
  mailbox TEXT, status TEXT NOT NULL, reason TEXT, attempts INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (connector, item_key, recipient));
CREATE INDEX IF NOT EXISTS deliveries_open ON deliveries (connector, status);
CREATE INDEX IF NOT EXISTS deliveries_todo ON deliveries (connector) WHERE status IN ('Pending','InFlight','Failed');
CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY AUTOINCREMENT, connector TEXT NOT NULL COLLATE NOCASE, time TEXT NOT NULL, run_id TEXT NOT NULL,
  item_key TEXT NOT NULL, item_id TEXT NOT NULL, item_type TEXT, sf_user TEXT, mailbox TEXT, status TEXT NOT NULL, reason TEXT, message_id TEXT, size INTEGER NOT NULL, sha256 TEXT);
CREATE INDEX IF NOT EXISTS log_by_run ON log (connector, run_id);");
            // 2: a version per definition, so a stale update is a conflict rather than a silent overwrite.
            Exec("ALTER TABLE connectors ADD COLUMN version INTEGER NOT NULL DEFAULT 1;");
            Exec("PRAGMA user_version = 2;");
            tx.Commit();
        }

        // ---- transactions -------------------------------------------------------------------

        /// <summary>Starts a transaction that every store call joins until it is committed or disposed.</summary>
        public IStoreTransaction Begin()
        {
            if (_tx != null) throw new InvalidOperationException("A store transaction is already open.");
            _tx = _db.BeginTransaction();
            return new StoreTransaction(this);
        }

        private sealed class StoreTransaction : IStoreTransaction
        {
            private readonly ConnectorStore _store;
            internal StoreTransaction(ConnectorStore store) => _store = store;

            public void Commit()
            {
                _store._tx?.Commit();
                _store.EndTransaction();
            }

            public void Dispose()
            {
                if (_store._tx != null)
                {
                    _store._tx.Rollback();
                    _store.EndTransaction();
                }
            }
        }

        private void EndTransaction()
        {
            _tx?.Dispose();
            _tx = null;
        }

        // ---- connectors ---------------------------------------------------------------------

        public IReadOnlyList<ChatterConnectorInfo> ListConnectors()
        {
            var list = new List<ChatterConnectorInfo>();
            using (var r = Reader("SELECT definition, version FROM connectors ORDER BY name"))
                while (r.Read()) list.Add(Hydrate(r.GetString(0), r.GetInt64(1)));
            return list;
        }

        public ChatterConnectorInfo? FindConnector(string name)
        {
            using var r = Reader("SELECT definition, version FROM connectors WHERE name = $n", ("$n", name));
            if (!r.Read()) return null;
            var (json, version) = (r.GetString(0), r.GetInt64(1));
            r.Close();
            return Hydrate(json, version);
        }

        public ChatterConnectorInfo GetConnector(string name) =>
            FindConnector(name) ?? throw new ChatterException("ChatterConnector.NotFound", ChatterErrorKind.ObjectNotFound,
                $"There is no connector named '{name}' in the store '{StorePath}'. Get-ChatterConnector lists them.", name);

        public void AddConnector(ChatterConnectorInfo connector)
        {
            if (FindConnector(connector.Name) != null)
                throw new ChatterException("ChatterConnector.NameExists", ChatterErrorKind.ResourceExists,
                    $"A connector named '{connector.Name}' already exists in the store '{StorePath}'. Choose another name, or change it with Set-ChatterConnector.", connector.Name);
            Exec("INSERT INTO connectors (name, definition, version) VALUES ($n, $d, 1)", ("$n", connector.Name), ("$d", Serialize(connector)));
            connector.StorePath = StorePath;
            connector.ETag = "1";
        }

        public void UpdateConnector(ChatterConnectorInfo connector)
        {
            long? expected = long.TryParse(connector.ETag, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : (long?)null;
            if (Exec("UPDATE connectors SET definition = $d, version = version + 1 WHERE name = $n AND ($v IS NULL OR version = $v)",
                    ("$n", connector.Name), ("$d", Serialize(connector)), ("$v", expected)) == 0)
            {
                if (Scalar("SELECT 1 FROM connectors WHERE name = $n", ("$n", connector.Name)) != null)
                    throw StoreErrors.Conflict(connector.Name, StorePath);
                throw new ChatterException("ChatterConnector.NotFound", ChatterErrorKind.ObjectNotFound,
                    $"There is no connector named '{connector.Name}' in the store '{StorePath}'.", connector.Name);
            }
            connector.ETag = Convert.ToString(Scalar("SELECT version FROM connectors WHERE name = $n", ("$n", connector.Name)), CultureInfo.InvariantCulture);
        }

        /// <summary>Removes the connector and its state (checkpoints, ledger, runs, log). Messages already delivered stay where they are.</summary>
        public bool RemoveConnector(string name)
        {
            using var tx = Begin();
            var removed = Exec("DELETE FROM connectors WHERE name = $n", ("$n", name)) > 0;
            foreach (var table in new[] { "checkpoints", "runs", "items", "thread_participants", "deliveries", "log" })
                Exec($"DELETE FROM {table} WHERE connector = $n", ("$n", name));
            tx.Commit();
            return removed;
        }

        private static string Serialize(ChatterConnectorInfo c) => StoredDefinition.Serialize(c);

        private ChatterConnectorInfo Hydrate(string json, long version)
        {
            var c = StoredDefinition.Deserialize(json);
            c.StorePath = StorePath;
            c.ETag = version.ToString(CultureInfo.InvariantCulture);
            var last = LastRun(c.Name);
            if (last != null)
            {
                c.LastRunTime = last.StartTime;
                c.LastRunStatus = last.Status.ToString();
                var completed = Scalar("SELECT start FROM runs WHERE connector = $c AND status IN ('Succeeded', 'CompletedWithErrors') ORDER BY start DESC LIMIT 1", ("$c", c.Name)) as string;
                if (completed != null) c.LastCompletedRunTime = DateTimeOffset.Parse(completed, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
            }
            return c;
        }


        // ---- checkpoints --------------------------------------------------------------------

        public string? GetCheckpoint(string connector, string name) =>
            Scalar("SELECT value FROM checkpoints WHERE connector = $c AND name = $n", ("$c", connector), ("$n", name)) as string;

        public void SetCheckpoint(string connector, string name, string value) =>
            Exec("INSERT INTO checkpoints (connector, name, value) VALUES ($c, $n, $v) ON CONFLICT (connector, name) DO UPDATE SET value = excluded.value",
                ("$c", connector), ("$n", name), ("$v", value));

        public IReadOnlyDictionary<string, string> GetCheckpoints(string connector)
        {
            var all = new Dictionary<string, string>(StringComparer.Ordinal);
            using var r = Reader("SELECT name, value FROM checkpoints WHERE connector = $c", ("$c", connector));
            while (r.Read()) all[r.GetString(0)] = r.GetString(1);
            return all;
        }

        // ---- runs ---------------------------------------------------------------------------

        public void SaveRun(ChatterImportRun run) =>
            Exec("INSERT INTO runs (run_id, connector, start, status, data) VALUES ($id, $c, $s, $st, $d) ON CONFLICT (run_id) DO UPDATE SET status = excluded.status, data = excluded.data",
                ("$id", run.RunId), ("$c", run.ConnectorName), ("$s", Iso(run.StartTime)), ("$st", run.Status.ToString()), ("$d", JsonSerializer.Serialize(run, Json)));

        /// <summary>Runs of one connector (or all), oldest first.</summary>
        public IEnumerable<ChatterImportRun> GetRuns(string? connector = null, string? runId = null)
        {
            var sql = "SELECT data FROM runs WHERE ($c IS NULL OR connector = $c) AND ($id IS NULL OR run_id = $id) ORDER BY start, run_id";
            using var r = Reader(sql, ("$c", connector), ("$id", runId));
            while (r.Read())
            {
                var run = JsonSerializer.Deserialize<ChatterImportRun>(r.GetString(0), Json)!;
                run.StorePath = StorePath;
                yield return run;
            }
        }

        public ChatterImportRun? LastRun(string connector)
        {
            var json = Scalar("SELECT data FROM runs WHERE connector = $c ORDER BY start DESC, run_id DESC LIMIT 1", ("$c", connector)) as string;
            return json == null ? null : JsonSerializer.Deserialize<ChatterImportRun>(json, Json);
        }

        // ---- items and threads --------------------------------------------------------------

        public bool HasItem(string connector, string itemKey) =>
            Scalar("SELECT 1 FROM items WHERE connector = $c AND item_key = $k", ("$c", connector), ("$k", itemKey)) != null;

        public StagedItem? GetItem(string connector, string itemKey)
        {
            using var r = Reader("SELECT " + ItemColumns + " FROM items WHERE connector = $c AND item_key = $k", ("$c", connector), ("$k", itemKey));
            return r.Read() ? ReadItem(r) : null;
        }

        public void AddItem(string connector, StagedItem item) =>
            Exec("INSERT INTO items (connector, item_key, item_id, thread_id, item_type, author_id, message_id, staged_path, sha256, size, partial_reason) " +
                 "VALUES ($c, $k, $i, $t, $ty, $a, $m, $p, $h, $s, $r)",
                ("$c", connector), ("$k", item.ItemKey), ("$i", item.ItemId), ("$t", item.ThreadId), ("$ty", item.ItemType.ToString()),
                ("$a", item.AuthorId), ("$m", item.MessageId), ("$p", item.StagedPath), ("$h", item.Sha256), ("$s", item.Size), ("$r", item.PartialReason));

        public List<StagedItem> ItemsInThread(string connector, string threadId)
        {
            var list = new List<StagedItem>();
            using var r = Reader("SELECT " + ItemColumns + " FROM items WHERE connector = $c AND thread_id = $t ORDER BY item_key", ("$c", connector), ("$t", threadId));
            while (r.Read()) list.Add(ReadItem(r));
            return list;
        }

        /// <summary>Every staged item of a connector, streamed with a reader of its own (the caller may write meanwhile).</summary>
        public IEnumerable<StagedItem> GetItems(string connector)
        {
            using var cmd = _db.CreateCommand();
            cmd.Transaction = _tx;
            cmd.CommandText = "SELECT " + ItemColumns + " FROM items WHERE connector = $c ORDER BY item_key";
            cmd.Parameters.AddWithValue("$c", connector);
            using var r = cmd.ExecuteReader();
            while (r.Read()) yield return ReadItem(r);
        }

        private const string ItemColumns = "item_key, item_id, thread_id, item_type, author_id, message_id, staged_path, sha256, size, partial_reason";

        private static StagedItem ReadItem(SqliteDataReader r) => new StagedItem
        {
            ItemKey = r.GetString(0), ItemId = r.GetString(1), ThreadId = r.GetString(2),
            ItemType = (ChatterItemType)Enum.Parse(typeof(ChatterItemType), r.GetString(3)), AuthorId = r.GetString(4),
            MessageId = r.GetString(5), StagedPath = r.GetString(6), Sha256 = r.GetString(7), Size = r.GetInt64(8),
            PartialReason = r.IsDBNull(9) ? null : r.GetString(9),
        };

        /// <summary>Adds a participant to a thread; true when it was not one before.</summary>
        public bool AddParticipant(string connector, string threadId, string userId) =>
            Exec("INSERT OR IGNORE INTO thread_participants (connector, thread_id, user_id) VALUES ($c, $t, $u)",
                ("$c", connector), ("$t", threadId), ("$u", userId)) > 0;

        public List<string> GetParticipants(string connector, string threadId)
        {
            var list = new List<string>();
            // In Id order, not the order they joined: the To header must not depend on the order a source returns rows.
            using var r = Reader("SELECT user_id FROM thread_participants WHERE connector = $c AND thread_id = $t ORDER BY user_id", ("$c", connector), ("$t", threadId));
            while (r.Read()) list.Add(r.GetString(0));
            return list;
        }

        public List<(string ThreadId, string UserId)> GetAllParticipants(string connector)
        {
            var list = new List<(string, string)>();
            using var r = Reader("SELECT thread_id, user_id FROM thread_participants WHERE connector = $c ORDER BY thread_id, user_id", ("$c", connector));
            while (r.Read()) list.Add((r.GetString(0), r.GetString(1)));
            return list;
        }

        // ---- deliveries ---------------------------------------------------------------------

        /// <summary>Adds a delivery unless that (item, recipient) is already in the ledger; true when added.</summary>
        public bool AddDelivery(string connector, DeliveryRecord d) =>
            Exec("INSERT OR IGNORE INTO deliveries (connector, item_key, recipient, user_id, mailbox, status, reason, attempts) VALUES ($c, $k, $r, $u, $m, $s, $why, $a)",
                ("$c", connector), ("$k", d.ItemKey), ("$r", d.Recipient), ("$u", d.UserId), ("$m", d.Mailbox), ("$s", d.Status.ToString()), ("$why", d.Reason), ("$a", d.Attempts)) > 0;

        public void UpdateDelivery(string connector, DeliveryRecord d) =>
            Exec("UPDATE deliveries SET status = $s, reason = $why, attempts = $a WHERE connector = $c AND item_key = $k AND recipient = $r",
                ("$c", connector), ("$k", d.ItemKey), ("$r", d.Recipient), ("$s", d.Status.ToString()), ("$why", d.Reason), ("$a", d.Attempts));

        public void RemoveDelivery(string connector, DeliveryRecord d) =>
            Exec("DELETE FROM deliveries WHERE connector = $c AND item_key = $k AND recipient = $r", ("$c", connector), ("$k", d.ItemKey), ("$r", d.Recipient));

        /// <summary>
        /// Up to <paramref name="limit"/> deliveries in the given states after ledger row <paramref name="afterRow"/>,
        /// in ledger order. Materialized, so the caller may write while it works through them.
        /// </summary>
        public List<DeliveryRecord> GetDeliveries(string connector, DeliveryStatus[] statuses, long afterRow = 0, int limit = int.MaxValue)
        {
            var list = new List<DeliveryRecord>();
            var names = string.Join(",", Array.ConvertAll(statuses, s => "'" + s + "'"));
            using var r = Reader($"SELECT rowid, item_key, recipient, user_id, mailbox, status, reason, attempts FROM deliveries WHERE connector = $c AND status IN ({names}) AND rowid > $after ORDER BY rowid LIMIT $limit",
                ("$c", connector), ("$after", afterRow), ("$limit", limit));
            while (r.Read())
                list.Add(new DeliveryRecord
                {
                    Row = r.GetInt64(0), ItemKey = r.GetString(1), Recipient = r.GetString(2), UserId = r.GetString(3), Mailbox = r.IsDBNull(4) ? null : r.GetString(4),
                    Status = (DeliveryStatus)Enum.Parse(typeof(DeliveryStatus), r.GetString(5)), Reason = r.IsDBNull(6) ? null : r.GetString(6), Attempts = r.GetInt32(7),
                });
            return list;
        }

        /// <summary>Mailboxes with a delivery in flight: a run was stopped while writing to them.</summary>
        public List<string> MailboxesInFlight(string connector)
        {
            var list = new List<string>();
            using var r = Reader("SELECT DISTINCT mailbox FROM deliveries WHERE connector = $c AND status = 'InFlight' AND mailbox IS NOT NULL", ("$c", connector));
            while (r.Read()) list.Add(r.GetString(0));
            return list;
        }

        /// <summary>True while some delivery of the item may still need its staged message (pending, in flight, failed or unmapped).</summary>
        public bool HasOpenDeliveries(string connector, string itemKey) =>
            Scalar("SELECT 1 FROM deliveries WHERE connector = $c AND item_key = $k AND status IN ('Pending','InFlight','Failed','Unmapped') LIMIT 1",
                ("$c", connector), ("$k", itemKey)) != null;

        public long CountDeliveries(string connector, DeliveryStatus status) =>
            Convert.ToInt64(Scalar("SELECT COUNT(*) FROM deliveries WHERE connector = $c AND status = $s", ("$c", connector), ("$s", status.ToString())), CultureInfo.InvariantCulture);

        // ---- log ----------------------------------------------------------------------------

        public void AppendLog(ChatterLogEntry e) =>
            Exec("INSERT INTO log (connector, time, run_id, item_key, item_id, item_type, sf_user, mailbox, status, reason, message_id, size, sha256) " +
                 "VALUES ($c, $t, $run, $k, $i, $ty, $u, $m, $s, $why, $mid, $size, $h)",
                ("$c", e.ConnectorName), ("$t", Iso(e.Time)), ("$run", e.RunId), ("$k", e.ItemKey), ("$i", e.ItemId), ("$ty", e.ItemType?.ToString()),
                ("$u", e.SalesforceUser), ("$m", e.Mailbox), ("$s", e.Status.ToString()), ("$why", e.Reason), ("$mid", e.InternetMessageId), ("$size", e.Size), ("$h", e.Sha256));

        /// <summary>The log, oldest first, streamed.</summary>
        public IEnumerable<ChatterLogEntry> QueryLog(string? connector, string? runId, DeliveryStatus[]? statuses, DateTimeOffset? since)
        {
            var where = "($c IS NULL OR connector = $c) AND ($run IS NULL OR run_id = $run) AND ($since IS NULL OR time >= $since)";
            if (statuses != null && statuses.Length > 0)
                where += " AND status IN (" + string.Join(",", Array.ConvertAll(statuses, s => "'" + s + "'")) + ")";
            // A reader of its own: the caller may run other store commands while it streams.
            using var cmd = _db.CreateCommand();
            cmd.Transaction = _tx;
            cmd.CommandText = "SELECT connector, time, run_id, item_key, item_id, item_type, sf_user, mailbox, status, reason, message_id, size, sha256 FROM log WHERE " + where + " ORDER BY id";
            cmd.Parameters.AddWithValue("$c", (object?)connector ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$run", (object?)runId ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$since", since == null ? DBNull.Value : (object)Iso(since.Value));
            using var r = cmd.ExecuteReader();
            while (r.Read())
                yield return new ChatterLogEntry
                {
                    ConnectorName = r.GetString(0),
                    Time = DateTimeOffset.Parse(r.GetString(1), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
                    RunId = r.GetString(2), ItemKey = r.GetString(3), ItemId = r.GetString(4),
                    ItemType = r.IsDBNull(5) ? (ChatterItemType?)null : (ChatterItemType)Enum.Parse(typeof(ChatterItemType), r.GetString(5)),
                    SalesforceUser = r.IsDBNull(6) ? null : r.GetString(6), Mailbox = r.IsDBNull(7) ? null : r.GetString(7),
                    Status = (DeliveryStatus)Enum.Parse(typeof(DeliveryStatus), r.GetString(8)), Reason = r.IsDBNull(9) ? null : r.GetString(9),
                    InternetMessageId = r.IsDBNull(10) ? null : r.GetString(10), Size = r.GetInt64(11), Sha256 = r.IsDBNull(12) ? null : r.GetString(12),
                };
        }

        // ---- plumbing -----------------------------------------------------------------------

        private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

        private SqliteCommand Prepare(string sql, (string, object?)[] args)
        {
            if (!_commands.TryGetValue(sql, out var cmd))
            {
                cmd = _db.CreateCommand();
                cmd.CommandText = sql;
                foreach (var (name, _) in args) cmd.Parameters.Add(new SqliteParameter { ParameterName = name });
                _commands[sql] = cmd;
            }
            cmd.Transaction = _tx;
            for (var i = 0; i < args.Length; i++) cmd.Parameters[i].Value = args[i].Item2 ?? DBNull.Value;
            return cmd;
        }

        private int Exec(string sql, params (string, object?)[] args) => Prepare(sql, args).ExecuteNonQuery();

        private object? Scalar(string sql, params (string, object?)[] args)
        {
            var v = Prepare(sql, args).ExecuteScalar();
            return v is DBNull ? null : v;
        }

        private SqliteDataReader Reader(string sql, params (string, object?)[] args) => Prepare(sql, args).ExecuteReader();

        public void Dispose()
        {
            _tx?.Dispose();
            foreach (var c in _commands.Values) c.Dispose();
            _db.Dispose();
        }
    }
}
