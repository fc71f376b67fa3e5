using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using ChatterConnector.Engine.Conversion;
using ChatterConnector.Engine.Mapping;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources;
using ChatterConnector.Engine.Sources.Salesforce;
using ChatterConnector.Engine.Staging;
using ChatterConnector.Engine.State;
using ChatterConnector.Engine.Targets;
using ChatterConnector.Engine.Targets.Graph;

namespace ChatterConnector.Engine.Import
{
    /// <summary>What a run would do, for -WhatIf: read-only.</summary>
    public sealed class ImportPlan
    {
        public string ConnectorName { get; set; } = "";
        public int NewItems { get; set; }
        public int BadRows { get; set; }
        public long OpenDeliveries { get; set; }
        public long UnmappedDeliveries { get; set; }
        public override string ToString() =>
            string.Format(CultureInfo.InvariantCulture, "{0} new item(s), {1} unreadable row(s), {2} delivery(ies) to retry, {3} unmapped delivery(ies) to re-resolve",
                NewItems, BadRows, OpenDeliveries, UnmappedDeliveries);
    }

    /// <summary>
    /// One run of a connector: read what is new, convert, stage, and deliver to every
    /// participant's mailbox, recording each step in the ledger so a run killed anywhere is
    /// finished by the next one without a duplicate.
    /// </summary>
    public sealed class ImportPipeline
    {
        private const int BatchSize = 200;
        private static readonly DeliveryStatus[] OpenStatuses = { DeliveryStatus.Pending, DeliveryStatus.InFlight, DeliveryStatus.Failed };

        private readonly IConnectorStore _store;
        private readonly ChatterConnectorInfo _connector;
        private readonly MessageConverter _converter;
        private readonly Func<DateTimeOffset> _clock;

        private readonly SalesforceClientOptions? _clientOptions;
        private readonly GraphTargetOptions? _graphOptions;

        public ImportPipeline(IConnectorStore store, ChatterConnectorInfo connector, MessageConverter? converter = null, Func<DateTimeOffset>? clock = null,
            SalesforceClientOptions? clientOptions = null, GraphTargetOptions? graphOptions = null)
        {
            _clientOptions = clientOptions;
            _graphOptions = graphOptions;
            _store = store ?? throw new ArgumentNullException(nameof(store));
            _connector = connector ?? throw new ArgumentNullException(nameof(connector));
            _converter = converter ?? new MessageConverter();
            _clock = clock ?? (() => DateTimeOffset.UtcNow);
        }

        private string Name => _connector.Name;

        /// <summary>Tests: the target to deliver to instead of the connector's (disposed by the run).</summary>
        internal IMessageTarget? TargetOverride { get; set; }

        public static string DefaultStagingPath(string storePath, string connectorName) => StagingFactory.DefaultStagingPath(storePath, connectorName);

        private IChatterSource Source(IImportObserver observer, CancellationToken ct) =>
            SourceFactory.Create(_connector, _store, observer.OnWarning, _clientOptions, ct);

        private static void Dispose(IChatterSource source) => (source as IDisposable)?.Dispose();

        private SourceWatermarks LoadWatermarks()
        {
            var w = new SourceWatermarks();
            foreach (var obj in SourceWatermarks.Objects)
            {
                var v = _store.GetCheckpoint(Name, "watermark." + obj);
                if (v != null && DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t)) w.ByObject[obj] = t;
                var id = _store.GetCheckpoint(Name, "watermark." + obj + ".id");
                if (id != null) w.LastIdByObject[obj] = id;
            }
            return w;
        }

        /// <summary>What <see cref="Run(IImportObserver, CancellationToken)"/> would do now, without changing anything.</summary>
        public ImportPlan Plan(CancellationToken cancellationToken = default)
        {
            var source = Source(NullImportObserver.Instance, cancellationToken);
            if (source is SalesforceApiSource api) api.SkipFileContent = true;   // counting needs no file bytes
            try { return Plan(source, cancellationToken); }
            finally { Dispose(source); }
        }

        private ImportPlan Plan(IChatterSource source, CancellationToken cancellationToken)
        {
            var dir = source.ReadDirectory();
            var plan = new ImportPlan { ConnectorName = Name };
            foreach (var rec in source.ReadItems(dir, LoadWatermarks()))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (rec.Item == null) plan.BadRows++;
                else if (!_store.HasItem(Name, rec.Key)) plan.NewItems++;
            }
            plan.OpenDeliveries = OpenStatuses.Sum(s => _store.CountDeliveries(Name, s));
            plan.UnmappedDeliveries = _store.CountDeliveries(Name, DeliveryStatus.Unmapped);
            return plan;
        }

        /// <summary>
        /// Runs the connector once. Failures of single items or deliveries are reported to the
        /// observer and logged; the run goes on. Cancellation stops between steps and leaves the
        /// ledger consistent (status Stopped).
        /// </summary>
        public ChatterImportRun Run(IImportObserver? observer = null, CancellationToken cancellationToken = default)
        {
            using var runLock = _store.AcquireRunLock(Name);
            return Run(runLock, observer, cancellationToken);
        }

        /// <summary>
        /// Runs the connector once under a run lock the caller took with <see cref="IConnectorStore.AcquireRunLock"/>
        /// (and releases). When the lock is lost (it could not be renewed) the run stops as if cancelled.
        /// </summary>
        public ChatterImportRun Run(IConnectorLease runLock, IImportObserver? observer = null, CancellationToken cancellationToken = default)
        {
            if (runLock == null) throw new ArgumentNullException(nameof(runLock));
            observer ??= NullImportObserver.Instance;
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, runLock.Lost);
            cancellationToken = linked.Token;
            var run = new ChatterImportRun
            {
                ConnectorName = Name, RunId = NewRunId(), StartTime = _clock(), Status = ImportRunStatus.Running, StorePath = _store.StorePath,
                Worker = runLock.Holder,
            };
            foreach (var stale in _store.GetRuns(Name).Where(r => r.Status == ImportRunStatus.Running).ToList())
            {
                stale.Status = ImportRunStatus.Interrupted;
                stale.Message = "The run ended without finishing (the process was stopped); a later run completed its work.";
                _store.SaveRun(stale);
            }
            _store.SaveRun(run);
            try
            {
                Execute(run, observer, cancellationToken);
                run.Status = run.Failed > 0 ? ImportRunStatus.CompletedWithErrors : ImportRunStatus.Succeeded;
            }
            catch (OperationCanceledException)
            {
                run.Status = ImportRunStatus.Stopped;
                run.Message = runLock.Lost.IsCancellationRequested
                    ? $"The run lost its lock on the connector '{Name}' (it could not be renewed) and stopped; the next run carries on from where it stopped."
                    : "The run was stopped; the next run carries on from where it stopped.";
            }
            catch (ChatterException ex) when (ex.ErrorId == "ChatterSource.ApiLimitReached")
            {
                // Not a failure: the org's API budget is protected. The checkpoint stays where it was.
                run.Status = ImportRunStatus.Stopped;
                run.Message = ex.Message + " The run stopped cleanly; the next run carries on from the last checkpoint.";
            }
            catch (ChatterException ex)
            {
                run.Status = ImportRunStatus.Failed;
                run.Message = ex.Message;
                Finish(run);
                throw;
            }
            catch (Exception ex)
            {
                run.Status = ImportRunStatus.Failed;
                run.Message = ex.Message;
                Finish(run);
                throw;
            }
            Finish(run);
            return run;
        }

        private void Finish(ChatterImportRun run)
        {
            run.EndTime = _clock();
            _store.SaveRun(run);
        }

        private static string NewRunId() =>
            DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N").Substring(0, 8);

        private void Execute(ChatterImportRun run, IImportObserver observer, CancellationToken ct)
        {
            var source = Source(observer, ct);
            try { Execute(source, run, observer, ct); }
            finally
            {
                if (source is SalesforceApiSource api) run.ApiCalls = api.ApiCalls;
                Dispose(source);
            }
        }

        private void Execute(IChatterSource source, ChatterImportRun run, IImportObserver observer, CancellationToken ct)
        {
            using var target = TargetOverride ?? TargetFactory.Create(_connector, _store, _graphOptions);
            using var staging = StagingFactory.Create(_connector, _store, _graphOptions);
            // A staging area that cannot be written fails the run before anything is read: no delivery could read it either.
            staging.Prepare(ct);

            observer.OnProgress(new ImportProgress("Reading", "Reading users and groups from " + source.Location, 0, 0));
            var dir = source.ReadDirectory();
            var mapper = new UserMapper(_connector, dir, mailbox => target.CheckMailboxAsync(mailbox, ct)) { CheckParallelism = target.MaxParallelism };
            var watermarks = LoadWatermarks();

            // 1. Participants of every thread a new item belongs to, and earlier items for newcomers.
            RecordParticipants(source, dir, watermarks, mapper, run, observer, ct);

            // 2. New items: convert, stage, and enter their deliveries in the ledger.
            var newest = new Dictionary<string, (DateTimeOffset Modstamp, string RowId)>(StringComparer.Ordinal);
            var failedObjects = new HashSet<string>(StringComparer.Ordinal);
            StageNewItems(source, dir, watermarks, mapper, staging, run, observer, newest, failedObjects, ct);

            // 3. Deliveries that were unmapped: the mapping may have changed since.
            Remap(mapper, run, ct);

            // 4. Deliver everything open: new, retried after a failure, or in flight when a run was killed.
            Deliver(target, staging, run, observer, ct);

            // 5. Staged messages kept longer than the retention whose deliveries are all done.
            RemoveExpired(staging, observer, ct);

            // 6. Move each object's watermark past what this run fully recorded.
            using (var tx = _store.Begin())
            {
                foreach (var kv in newest)
                {
                    if (failedObjects.Contains(kv.Key)) continue;
                    var old = watermarks.Get(kv.Key);
                    var oldId = watermarks.GetLastId(kv.Key) ?? "";
                    if (old == null || kv.Value.Modstamp > old || (kv.Value.Modstamp == old && string.CompareOrdinal(kv.Value.RowId, oldId) > 0))
                    {
                        _store.SetCheckpoint(Name, "watermark." + kv.Key, kv.Value.Modstamp.ToString("o", CultureInfo.InvariantCulture));
                        _store.SetCheckpoint(Name, "watermark." + kv.Key + ".id", kv.Value.RowId);
                    }
                }
                tx.Commit();
            }
        }

        private void RecordParticipants(IChatterSource source, SourceDirectory dir, SourceWatermarks watermarks, UserMapper mapper,
            ChatterImportRun run, IImportObserver observer, CancellationToken ct)
        {
            var count = 0;
            var newcomers = new List<(StagedItem Earlier, string UserId)>();
            using var tx = _store.Begin();
            foreach (var rec in source.ReadItems(dir, watermarks))
            {
                ct.ThrowIfCancellationRequested();
                if (rec.Item == null || _store.HasItem(Name, rec.Key)) continue;
                foreach (var userId in ItemReader.ParticipantIds(rec.Item, dir))
                {
                    if (!_store.AddParticipant(Name, rec.Item.ThreadId, userId)) continue;
                    // A newcomer to a thread gets the thread's earlier items too.
                    foreach (var earlier in _store.ItemsInThread(Name, rec.Item.ThreadId)) newcomers.Add((earlier, userId));
                }
                if (newcomers.Count >= BatchSize) AddNewcomerDeliveries(newcomers, mapper, run, ct);
                if (++count % 1000 == 0) observer.OnProgress(new ImportProgress("Reading", $"Found {count} new items", count, 0));
            }
            AddNewcomerDeliveries(newcomers, mapper, run, ct);
            tx.Commit();
        }

        /// <summary>The earlier items of their threads for newcomers, whose mailboxes are looked up together first.</summary>
        private void AddNewcomerDeliveries(List<(StagedItem Earlier, string UserId)> newcomers, UserMapper mapper, ChatterImportRun run, CancellationToken ct)
        {
            if (newcomers.Count == 0) return;
            mapper.Prefetch(newcomers.Select(n => n.UserId), ct);
            foreach (var (earlier, userId) in newcomers)
                AddDelivery(earlier.ItemKey, earlier.ItemId, earlier.ItemType, userId, mapper, run);
            newcomers.Clear();
        }

        private void StageNewItems(IChatterSource source, SourceDirectory dir, SourceWatermarks watermarks, UserMapper mapper, IStagingArea staging,
            ChatterImportRun run, IImportObserver observer, Dictionary<string, (DateTimeOffset Modstamp, string RowId)> newest, HashSet<string> failedObjects, CancellationToken ct)
        {
            // Conversion is pure and staging writes each message to a file of its own, so a window of
            // items is converted and staged in parallel; the ledger records them in source order.
            var window = new List<(SourceRecord Record, StagedItem? Staged, Exception? Error)>(BatchSize);
            foreach (var rec in source.ReadItems(dir, watermarks))
            {
                ct.ThrowIfCancellationRequested();
                if (rec.Item == null)
                {
                    failedObjects.Add(rec.Object);
                    run.Failed++;
                    var entry = Log(run, rec.Key, rec.Key, rec.ItemType, null, null, DeliveryStatus.Failed, rec.Error, null, 0, null);
                    observer.OnFailure("ChatterSource.BadRow", entry);
                    continue;
                }
                if (!newest.TryGetValue(rec.Object, out var n) || rec.Modstamp > n.Modstamp || (rec.Modstamp == n.Modstamp && string.CompareOrdinal(rec.RowId, n.RowId) > 0))
                    newest[rec.Object] = (rec.Modstamp, rec.RowId);
                if (_store.HasItem(Name, rec.Key) || window.Exists(w => w.Record.Key == rec.Key)) continue;
                rec.Item.Participants = _store.GetParticipants(Name, rec.Item.ThreadId)
                    .Select(id => dir.FindUser(id) ?? new ChatterUser { Id = id, Name = id, IsActive = false }).ToList();
                window.Add((rec, null, null));
                if (window.Count >= BatchSize)
                {
                    StageWindow(window, mapper, staging, run, observer, failedObjects, ct);
                    window.Clear();
                }
            }
            StageWindow(window, mapper, staging, run, observer, failedObjects, ct);
        }

        private void StageWindow(List<(SourceRecord Record, StagedItem? Staged, Exception? Error)> window, UserMapper mapper, IStagingArea staging,
            ChatterImportRun run, IImportObserver observer, HashSet<string> failedObjects, CancellationToken ct)
        {
            if (window.Count == 0) return;
            var options = new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = Environment.ProcessorCount };
            Parallel.For(0, window.Count, options, i =>
            {
                var item = window[i].Record.Item!;
                try
                {
                    var message = _converter.Convert(item);
                    var file = staging.Stage(message, item, ct);
                    window[i] = (window[i].Record, new StagedItem
                    {
                        ItemKey = item.Key, ItemId = item.Id, ThreadId = item.ThreadId, ItemType = item.ItemType, AuthorId = item.AuthorId,
                        MessageId = message.MessageId, StagedPath = file.Path, Sha256 = file.Sha256, Size = file.Size,
                        PartialReason = message.IsPartial ? string.Join(" ", message.Warnings) : null,
                    }, null);
                }
                catch (Exception ex) when (ex is ChatterException || ex is IOException || ex is UnauthorizedAccessException || ex is FormatException || ex is ArgumentException)
                {
                    window[i] = (window[i].Record, null, ex);
                }
            });

            // The participants' mailboxes are looked up together, not one by one as the ledger meets them.
            mapper.Prefetch(window.Where(w => w.Staged != null).SelectMany(w => w.Record.Item!.Participants.Select(p => p.Id)), ct);

            using var tx = _store.Begin();
            var failures = new List<(string ErrorId, ChatterLogEntry Entry)>();
            foreach (var (rec, staged, error) in window)
            {
                var item = rec.Item!;
                run.ItemsAvailable++;
                if (staged == null)
                {
                    failedObjects.Add(rec.Object);
                    run.Failed++;
                    // Its object's watermark stays put, so the next run stages it again.
                    failures.Add(((error as ChatterException)?.ErrorId ?? "ChatterImport.StagingFailed", Log(run, item.Key, item.Id, item.ItemType, item.AuthorId, null, DeliveryStatus.Failed,
                        "The item could not be converted or staged: " + error!.Message, null, 0, null)));
                    continue;
                }
                _store.AddItem(Name, staged);
                foreach (var p in item.Participants)
                    AddDelivery(staged.ItemKey, staged.ItemId, staged.ItemType, p.Id, mapper, run);
            }
            tx.Commit();
            foreach (var (id, entry) in failures) observer.OnFailure(id, entry);
            observer.OnProgress(new ImportProgress("Converting", $"Converted and staged {run.ItemsAvailable} items", run.ItemsAvailable, 0));
        }

        /// <summary>Enters one (item, participant) delivery in the ledger: to the participant's mailbox, or as unmapped.</summary>
        private void AddDelivery(string itemKey, string itemId, ChatterItemType type, string userId, UserMapper mapper, ChatterImportRun run)
        {
            var map = mapper.Resolve(userId);
            if (map.Mailbox != null)
            {
                _store.AddDelivery(Name, new DeliveryRecord { ItemKey = itemKey, Recipient = map.Mailbox, UserId = userId, Mailbox = map.Mailbox, Status = DeliveryStatus.Pending });
                return;
            }
            var unmapped = new DeliveryRecord
            {
                ItemKey = itemKey, Recipient = DeliveryRecord.UnmappedRecipient(userId), UserId = userId, Status = DeliveryStatus.Unmapped, Reason = map.Reason,
            };
            if (_store.AddDelivery(Name, unmapped))
            {
                run.Unmapped++;
                run.MessagesAfterFanout++;
                Log(run, itemKey, itemId, type, userId, null, DeliveryStatus.Unmapped, map.Reason, null, 0, null);
            }
        }

        private void Remap(UserMapper mapper, ChatterImportRun run, CancellationToken ct)
        {
            long after = 0;
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                var batch = _store.GetDeliveries(Name, new[] { DeliveryStatus.Unmapped }, after, 1000);
                if (batch.Count == 0) return;
                after = batch[batch.Count - 1].Row;
                using var tx = _store.Begin();
                foreach (var d in batch)
                {
                    var map = mapper.Resolve(d.UserId);
                    if (map.Mailbox == null) continue;
                    _store.RemoveDelivery(Name, d);
                    _store.AddDelivery(Name, new DeliveryRecord { ItemKey = d.ItemKey, Recipient = map.Mailbox, UserId = d.UserId, Mailbox = map.Mailbox, Status = DeliveryStatus.Pending });
                }
                tx.Commit();
            }
        }

        private void RemoveExpired(IStagingArea staging, IImportObserver observer, CancellationToken ct)
        {
            try
            {
                var removed = staging.RemoveExpired(_clock() - _connector.StagingRetention, key => !_store.HasOpenDeliveries(Name, key), ct);
                if (removed > 0) observer.OnProgress(new ImportProgress("Cleaning", $"Removed {removed} staged message(s) older than {_connector.StagingRetention.TotalDays:0.##} days", removed, removed));
            }
            catch (ChatterException ex)
            {
                // Nothing is lost when old messages stay staged: the next run tries again.
                observer.OnWarning($"Staged messages older than the retention were not removed from '{staging.Location}': {ex.Message}");
            }
        }

        /// <summary>
        /// Delivers every open (item, recipient) of the ledger, streaming: up to the target's
        /// parallelism at once, the next delivery starting as soon as one ends. The ledger is read and
        /// marked in flight a chunk ahead (so a run killed mid-way looks each of those messages up
        /// before delivering it again), and outcomes are written back in chunks. Every ledger access
        /// stays on this thread; the deliveries themselves run on the thread pool.
        /// </summary>
        private void Deliver(IMessageTarget target, IStagingArea staging, ChatterImportRun run, IImportObserver observer, CancellationToken ct)
        {
            // A run stopped while delivering may have left half-written files or sessions: tidy them first.
            target.Recover(_store.MailboxesInFlight(Name), ct);
            long total = OpenStatuses.Sum(s => _store.CountDeliveries(Name, s));
            observer.OnProgress(new ImportProgress("Delivering", $"Delivering {total} messages", 0, total));

            int window = Math.Max(1, target.MaxParallelism);
            int chunk = Math.Max(BatchSize, window * 4);
            var items = new Dictionary<string, StagedItem?>(StringComparer.Ordinal);
            var queued = new Queue<(DeliveryRecord Delivery, StagedItem? Item, bool CheckFirst)>();
            var completed = new ConcurrentQueue<(DeliveryRecord Delivery, ChatterLogEntry Entry, string? ErrorId)?>();
            var results = new List<(DeliveryRecord Delivery, ChatterLogEntry Entry, string? ErrorId)>();
            ChatterException? fatal = null;
            ExceptionDispatchInfo? unexpected = null;
            long after = 0, done = 0;
            int running = 0;
            bool exhausted = false;
            var sinceWrite = Stopwatch.StartNew();

            // Reads the next chunk of the ledger and marks it in flight before any of it is attempted.
            bool Fetch()
            {
                var chunkRows = _store.GetDeliveries(Name, OpenStatuses, after, chunk);
                if (chunkRows.Count == 0) return false;
                after = chunkRows[chunkRows.Count - 1].Row;
                using (var tx = _store.Begin())
                {
                    foreach (var d in chunkRows)
                    {
                        bool checkFirst = d.Status != DeliveryStatus.Pending;
                        d.Status = DeliveryStatus.InFlight;
                        _store.UpdateDelivery(Name, d);
                        if (!items.TryGetValue(d.ItemKey, out var item))
                        {
                            if (items.Count > 10000) items.Clear();
                            items[d.ItemKey] = item = _store.GetItem(Name, d.ItemKey);
                        }
                        queued.Enqueue((d, item, checkFirst));
                    }
                    tx.Commit();
                }
                return true;
            }

            // One delivery; never faults: a delivery that ends without an outcome stays in flight and is looked up next run.
            async Task<(DeliveryRecord, ChatterLogEntry, string?)?> Attempt((DeliveryRecord Delivery, StagedItem? Item, bool CheckFirst) next)
            {
                try
                {
                    return await DeliverOneAsync(target, staging, run.RunId, next.Delivery, next.Item, next.CheckFirst, ct).ConfigureAwait(false);
                }
                catch (ChatterException ex) when (ex.Kind == ChatterErrorKind.AuthenticationError)
                {
                    Interlocked.CompareExchange(ref fatal, ex, null);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
                catch (Exception ex)
                {
                    Interlocked.CompareExchange(ref unexpected, ExceptionDispatchInfo.Capture(ex), null);
                }
                return null;
            }

            void Write()
            {
                if (results.Count == 0) return;
                using (var tx = _store.Begin())
                {
                    foreach (var (d, entry, _) in results)
                    {
                        Count(run, d);
                        _store.UpdateDelivery(Name, d);
                        _store.AppendLog(entry);
                    }
                    tx.Commit();
                }
                foreach (var (_, entry, errorId) in results)
                    if (errorId != null) observer.OnFailure(errorId, entry);
                done += results.Count;
                results.Clear();
                sinceWrite.Restart();
                observer.OnProgress(new ImportProgress("Delivering", $"Delivered {done} of {total} messages", done, total));
            }

            using (var signal = new SemaphoreSlim(0))
            {
                while (true)
                {
                    bool stopping = Volatile.Read(ref fatal) != null || Volatile.Read(ref unexpected) != null || ct.IsCancellationRequested;
                    if (!stopping && !exhausted && queued.Count < window) exhausted = !Fetch();
                    while (!stopping && running < window && queued.Count > 0)
                    {
                        var next = queued.Dequeue();
                        // A target that delivers one at a time runs here; others on the pool, so their
                        // work before the first wait (reading the staged message) runs in parallel too.
                        var task = window == 1 ? Attempt(next) : Task.Run(() => Attempt(next));
                        running++;
                        task.ContinueWith(t => { completed.Enqueue(t.Result); signal.Release(); }, CancellationToken.None,
                            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    }
                    if (running == 0)
                    {
                        if (stopping || (exhausted && queued.Count == 0)) break;
                        continue;
                    }
                    signal.Wait(); // not on ct: a delivery under way sees ct itself, and its outcome is still written
                    do
                    {
                        completed.TryDequeue(out var outcome);
                        running--;
                        if (outcome != null) results.Add(outcome.Value);
                    }
                    while (signal.Wait(0));
                    if (results.Count >= chunk || sinceWrite.Elapsed >= TimeSpan.FromSeconds(1)) Write();
                }
            }
            Write();
            unexpected?.Throw();
            if (fatal != null) throw fatal;
            ct.ThrowIfCancellationRequested();
        }

        private static void Count(ChatterImportRun run, DeliveryRecord d)
        {
            run.MessagesAfterFanout++;
            switch (d.Status)
            {
                case DeliveryStatus.Imported: run.Imported++; run.Bytes += d.Size; break;
                case DeliveryStatus.PartiallyImported: run.PartiallyImported++; run.Bytes += d.Size; break;
                case DeliveryStatus.SkippedDuplicate: run.SkippedDuplicates++; break;
                case DeliveryStatus.Failed: run.Failed++; break;
            }
        }

        /// <summary>One delivery, on any thread: touches only its own record.</summary>
        private async Task<(DeliveryRecord, ChatterLogEntry, string?)> DeliverOneAsync(IMessageTarget target, IStagingArea staging, string runId, DeliveryRecord d, StagedItem? item, bool checkFirst, CancellationToken ct)
        {
            d.Attempts++;
            string? errorId = null;
            if (item == null)
            {
                d.Status = DeliveryStatus.Failed;
                d.Reason = "The ledger has no staged message for this item.";
                errorId = "ChatterImport.StagedMessageMissing";
            }
            else
            {
                try
                {
                    // Local staging hands over the staged file itself; blob staging a download kept for this delivery.
                    using var copy = await staging.FetchAsync(item.StagedPath, item.Sha256, ct).ConfigureAwait(false);
                    var message = new OutgoingMessage { ItemKey = item.ItemKey, ItemType = item.ItemType, MessageId = item.MessageId, StagedPath = copy.Path, Size = item.Size };
                    var result = await target.DeliverAsync(d.Mailbox!, message, checkFirst, ct).ConfigureAwait(false);
                    if (result.Outcome == DeliveryOutcome.AlreadyPresent)
                    {
                        d.Status = DeliveryStatus.SkippedDuplicate;
                        d.Reason = "The message was already in the mailbox.";
                    }
                    else
                    {
                        var partial = string.Join(" ", new[] { item.PartialReason, result.PartialReason }.Where(r => r != null));
                        d.Status = partial.Length > 0 ? DeliveryStatus.PartiallyImported : DeliveryStatus.Imported;
                        d.Reason = partial.Length > 0 ? partial : null;
                    }
                    d.Size = item.Size;
                }
                catch (ChatterException ex) when (ex.ErrorId == "ChatterImport.StagedMessageMissing")
                {
                    d.Status = DeliveryStatus.Failed;
                    d.Reason = ex.Message;
                    errorId = ex.ErrorId;
                }
                catch (ChatterException ex) when (ex.Kind != ChatterErrorKind.AuthenticationError)
                {
                    d.Status = DeliveryStatus.Failed;
                    d.Reason = "The message could not be delivered: " + ex.Message;
                    errorId = ex.ErrorId;
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
                {
                    d.Status = DeliveryStatus.Failed;
                    d.Reason = "The message could not be written to the mailbox: " + ex.Message;
                    errorId = "ChatterImport.DeliveryFailed";
                }
            }
            var entry = new ChatterLogEntry
            {
                Time = _clock(), ConnectorName = Name, RunId = runId, ItemKey = d.ItemKey, ItemId = item?.ItemId ?? d.ItemKey, ItemType = item?.ItemType,
                SalesforceUser = d.UserId, Mailbox = d.Mailbox, Status = d.Status, Reason = d.Reason, InternetMessageId = item == null ? null : "<" + item.MessageId + ">",
                Size = item?.Size ?? 0, Sha256 = item?.Sha256,
            };
            return (d, entry, errorId);
        }

        private ChatterLogEntry Log(ChatterImportRun run, string key, string itemId, ChatterItemType? type, string? user, string? mailbox,
            DeliveryStatus status, string? reason, string? messageId, long size, string? sha)
        {
            var entry = new ChatterLogEntry
            {
                Time = _clock(), ConnectorName = Name, RunId = run.RunId, ItemKey = key, ItemId = itemId, ItemType = type, SalesforceUser = user,
                Mailbox = mailbox, Status = status, Reason = reason, InternetMessageId = messageId, Size = size, Sha256 = sha,
            };
            _store.AppendLog(entry);
            return entry;
        }
    }
}
