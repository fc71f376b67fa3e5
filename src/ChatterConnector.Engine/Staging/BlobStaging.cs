using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Azure;
using Azure.Core;
using Azure.Identity;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ChatterConnector.Engine.Conversion;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources;

namespace ChatterConnector.Engine.Staging
{
    /// <summary>
    /// An Azure Blob container as the staging area: one block blob per message, named
    /// <c>{connector}/{yyyy-MM-dd}/{item}.eml</c> (the date is the item's CreatedDate, so the name is
    /// the same every time the item is staged), with the Salesforce ids and the SHA-256 in its
    /// metadata. A message is written to a local spool file while its hash is measured, then uploaded
    /// from that file in blocks; nothing holds a whole message in memory.
    /// </summary>
    /// <remarks>
    /// Idempotent: a blob that is already there with the same SHA-256 is recognised and not uploaded
    /// again. One with another SHA-256 can only be left by a run that stopped before the ledger
    /// recorded the item (the ledger records an item only after staging it, and never stages a
    /// recorded item again), so no delivery can refer to it: it is replaced, on condition that it
    /// has not changed since it was read (If-Match).
    /// </remarks>
    public sealed class BlobStaging : IStagingArea
    {
        internal const string ProbeName = ".write-check";
        private const int BlockSize = 4 * 1024 * 1024;

        private static readonly StorageTransferOptions Transfer = new StorageTransferOptions
        {
            InitialTransferSize = BlockSize, MaximumTransferSize = BlockSize, MaximumConcurrency = 2,
        };

        private readonly BlobContainerClient _container;
        private readonly string _connector;
        private readonly string _prefix;
        private readonly string _spool;

        /// <param name="container">The container (with its credential).</param>
        /// <param name="connectorName">The connector: its blobs are under a folder of this name.</param>
        /// <param name="spoolFolder">A local folder for the file a message is written to before upload, and downloaded to for a delivery.</param>
        internal BlobStaging(BlobContainerClient container, string connectorName, string spoolFolder)
        {
            _container = container ?? throw new ArgumentNullException(nameof(container));
            _connector = connectorName;
            _prefix = SourceFactory.SafeName(connectorName) + "/";
            _spool = spoolFolder;
            Location = WithoutQuery(container.Uri);
        }

        public string Location { get; }

        /// <summary>The blob a message of <paramref name="itemKey"/> created at <paramref name="date"/> is staged as.</summary>
        public string BlobName(DateTimeOffset date, string itemKey) =>
            _prefix + date.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "/" + SourceFactory.SafeName(itemKey) + ".eml";

        public void Prepare(CancellationToken cancellationToken)
        {
            if (Directory.Exists(_spool))
                foreach (var f in Directory.EnumerateFiles(_spool)) StagingFiles.TryDelete(f);
            WriteProbe(cancellationToken);
        }

        public string Check(CancellationToken cancellationToken)
        {
            WriteProbe(cancellationToken);
            try
            {
                Call(() => _container.GetBlobClient(_prefix + ProbeName).DeleteIfExists(cancellationToken: cancellationToken), null);
            }
            catch (ChatterException ex) when (ex.ErrorId == "ChatterStaging.PermissionDenied")
            {
                return $"The container '{Location}' can be written, but not deleted from: staged messages will stay after -StagingRetention.";
            }
            return $"The container '{Location}' can be written.";
        }

        /// <summary>Writes (and overwrites) a small blob under the connector's folder: the container exists and the credential may write.</summary>
        private void WriteProbe(CancellationToken cancellationToken) =>
            Call(() => _container.GetBlobClient(_prefix + ProbeName).Upload(new BinaryData(Array.Empty<byte>()), overwrite: true, cancellationToken), null);

        public StagedMessage Stage(ChatterMessage message, ChatterItem item, CancellationToken cancellationToken)
        {
            Directory.CreateDirectory(_spool);
            var tmp = Path.Combine(_spool, Guid.NewGuid().ToString("N") + ".tmp");
            var name = BlobName(message.Date, item.Key);
            try
            {
                var (hash, size) = StagingFiles.WriteHashed(message, tmp);
                var staged = new StagedMessage { Path = name, Sha256 = hash, Size = size };
                var blob = _container.GetBlobClient(name);
                var existing = Call(() => Properties(blob, cancellationToken), name);
                if (existing != null && Sha256Of(existing) == hash) return staged;   // staged before: recognised
                var conditions = existing == null
                    ? new BlobRequestConditions { IfNoneMatch = ETag.All }
                    : new BlobRequestConditions { IfMatch = existing.ETag };
                var options = new BlobUploadOptions
                {
                    Metadata = Metadata(message, item, hash), Conditions = conditions, TransferOptions = Transfer,
                    HttpHeaders = new BlobHttpHeaders { ContentType = "message/rfc822" },
                };
                try
                {
                    using var file = new FileStream(tmp, FileMode.Open, FileAccess.Read, FileShare.Read, 81920);
                    Call(() => blob.Upload(file, options, cancellationToken), name);
                }
                catch (ChatterException ex) when (ex.InnerException is RequestFailedException r && (r.Status == 409 || r.Status == 412))
                {
                    // Another writer staged it between our look and our upload: the same message is fine.
                    var now = Call(() => Properties(blob, cancellationToken), name);
                    if (now == null || Sha256Of(now) != hash)
                        throw new ChatterException("ChatterStaging.Conflict", ChatterErrorKind.ResourceBusy,
                            $"The staged message '{name}' in '{Location}' was changed by another writer while it was staged; the item is staged again next run.", Location + "/" + name, ex);
                }
                return staged;
            }
            finally
            {
                StagingFiles.TryDelete(tmp);
            }
        }

        /// <summary>
        /// The blob downloaded once and shared: deliveries of one message to several mailboxes (adjacent
        /// in the ledger) read the same download. A download no delivery holds is kept among the
        /// <see cref="IdleDownloadsKept"/> most recent, then removed; all are removed with the staging area.
        /// </summary>
        public async Task<StagedCopy> FetchAsync(string stagedPath, string sha256, CancellationToken cancellationToken)
        {
            Download download;
            lock (_downloads)
            {
                if (!_downloads.TryGetValue(stagedPath, out download!))
                {
                    download = new Download(DownloadAsync(stagedPath, sha256, cancellationToken));
                    _downloads[stagedPath] = download;
                }
                download.Holders++;
                _idle.Remove(stagedPath);
            }
            try
            {
                var path = await download.File.ConfigureAwait(false);
                return new StagedCopy(path, () => Release(stagedPath, download));
            }
            catch
            {
                Release(stagedPath, download);
                throw;
            }
        }

        private const int IdleDownloadsKept = 4;
        private readonly Dictionary<string, Download> _downloads = new Dictionary<string, Download>(StringComparer.Ordinal);
        private readonly LinkedList<string> _idle = new LinkedList<string>();

        private sealed class Download
        {
            public Download(Task<string> file) { File = file; }
            public Task<string> File { get; }
            public int Holders { get; set; }
        }

        private void Release(string stagedPath, Download download)
        {
            var remove = new List<Download>();
            lock (_downloads)
            {
                download.Holders--;
                if (download.Holders > 0 || !_downloads.TryGetValue(stagedPath, out var current) || current != download) return;
                if (download.File.Status != TaskStatus.RanToCompletion)
                {
                    _downloads.Remove(stagedPath);   // a failed download is tried afresh by the next delivery
                    return;
                }
                _idle.AddLast(stagedPath);
                while (_idle.Count > IdleDownloadsKept)
                {
                    var oldest = _idle.First!.Value;
                    _idle.RemoveFirst();
                    remove.Add(_downloads[oldest]);
                    _downloads.Remove(oldest);
                }
            }
            foreach (var d in remove) StagingFiles.TryDelete(d.File.Result);
        }

        /// <summary>Streams the blob into a spool file, measuring its SHA-256 on the way.</summary>
        private async Task<string> DownloadAsync(string stagedPath, string sha256, CancellationToken cancellationToken)
        {
            Directory.CreateDirectory(_spool);
            var tmp = Path.Combine(_spool, Guid.NewGuid().ToString("N") + ".eml");
            try
            {
                string hash;
                using (var sha = SHA256.Create())
                {
                    using (var file = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
                    using (var hashing = new CryptoStream(file, sha, CryptoStreamMode.Write))
                    {
                        try
                        {
                            var download = await _container.GetBlobClient(stagedPath).DownloadStreamingAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                            using var content = download.Value.Content;
                            await content.CopyToAsync(hashing, 81920, cancellationToken).ConfigureAwait(false);
                        }
                        catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.BlobNotFound)
                        {
                            throw new ChatterException("ChatterImport.StagedMessageMissing", ChatterErrorKind.ObjectNotFound,
                                $"The staged message '{stagedPath}' is missing from the staging container '{Location}' (removed by hand, or after -StagingRetention).", Location + "/" + stagedPath, e);
                        }
                        catch (Exception e) when (e is RequestFailedException || e is AggregateException || e is AuthenticationFailedException)
                        {
                            throw Map(e, stagedPath);
                        }
                        hashing.FlushFinalBlock();
                    }
                    hash = HashingStream.ToHex(sha.Hash!);
                }
                if (!string.Equals(hash, sha256, StringComparison.OrdinalIgnoreCase))
                    throw new ChatterException("ChatterStaging.HashMismatch", ChatterErrorKind.InvalidData,
                        $"The staged message '{stagedPath}' in '{Location}' is not the message that was staged (SHA-256 {hash}, expected {sha256}).", Location + "/" + stagedPath);
                return tmp;
            }
            catch
            {
                StagingFiles.TryDelete(tmp);
                throw;
            }
        }

        public int RemoveExpired(DateTimeOffset stagedBefore, Func<string, bool> isDone, CancellationToken cancellationToken)
        {
            var removed = 0;
            var expired = Call(() => _container.GetBlobs(BlobTraits.Metadata, BlobStates.None, _prefix, cancellationToken)
                .Where(b => (b.Properties.CreatedOn ?? b.Properties.LastModified) < stagedBefore)
                .Select(b => (b.Name, b.Properties.ETag, Key: b.Metadata.TryGetValue("itemkey", out var k) ? k : null))
                .Where(b => b.Key != null)
                .ToList(), null);
            foreach (var (name, etag, key) in expired)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!isDone(key!)) continue;
                // If-Match: a blob staged again since it was listed is not removed.
                var conditions = new BlobRequestConditions { IfMatch = etag };
                try
                {
                    if (Call(() => _container.GetBlobClient(name).DeleteIfExists(DeleteSnapshotsOption.IncludeSnapshots, conditions, cancellationToken).Value, name)) removed++;
                }
                catch (ChatterException ex) when (ex.InnerException is RequestFailedException r && r.Status == 412) { }
            }
            return removed;
        }

        private static BlobProperties? Properties(BlobClient blob, CancellationToken cancellationToken)
        {
            try { return blob.GetProperties(cancellationToken: cancellationToken).Value; }
            catch (RequestFailedException e) when (e.Status == 404 && e.ErrorCode != BlobErrorCode.ContainerNotFound) { return null; }
        }

        private static string? Sha256Of(BlobProperties properties) =>
            properties.Metadata.TryGetValue("sha256", out var v) ? v : null;

        private Dictionary<string, string> Metadata(ChatterMessage message, ChatterItem item, string sha256)
        {
            var metadata = new Dictionary<string, string>
            {
                ["connector"] = _connector, ["itemkey"] = item.Key, ["itemid"] = item.Id, ["threadid"] = item.ThreadId,
                ["itemtype"] = item.ItemType.ToString(), ["messageid"] = message.MessageId, ["sha256"] = sha256,
            };
            if (!string.IsNullOrEmpty(item.CommentId)) metadata["commentid"] = item.CommentId!;
            if (!string.IsNullOrEmpty(item.ParentId)) metadata["parentid"] = item.ParentId!;
            return metadata;
        }

        /// <summary>Runs one storage call, turning its failure into a <see cref="ChatterException"/> with a specific id.</summary>
        private T Call<T>(Func<T> call, string? blob)
        {
            try { return call(); }
            catch (Exception e) when (e is RequestFailedException || e is AggregateException || e is AuthenticationFailedException)
            {
                throw Map(e, blob);
            }
        }

        /// <summary>A storage failure as a ChatterException. Only the status and error code are quoted: a response never puts a credential in an error.</summary>
        internal ChatterException Map(Exception e, string? blob)
        {
            var target = blob == null ? Location : Location + "/" + blob;
            if (e is AuthenticationFailedException)
                return new ChatterException("ChatterStaging.AuthenticationFailed", ChatterErrorKind.AuthenticationError,
                    $"The sign-in to the staging container '{Location}' failed: {e.Message}", Location, e);
            var r = e as RequestFailedException ?? (e as AggregateException)?.InnerExceptions.OfType<RequestFailedException>().LastOrDefault();
            if (r == null)
                return new ChatterException("ChatterStaging.Unreachable", ChatterErrorKind.ResourceUnavailable,
                    $"The staging container '{Location}' cannot be reached: {e.InnerException?.Message ?? e.Message}", Location, e);
            var code = r.ErrorCode;
            if (code == BlobErrorCode.ContainerNotFound)
                return new ChatterException("ChatterStaging.ContainerNotFound", ChatterErrorKind.ObjectNotFound,
                    $"The staging container '{Location}' does not exist. Create it, or point the connector at another one with Set-ChatterConnector.", Location, r);
            if (code == BlobErrorCode.AuthenticationFailed)
                return new ChatterException("ChatterStaging.AuthenticationFailed", ChatterErrorKind.AuthenticationError,
                    $"The storage account of '{Location}' refused the staging credential ({code}): the account key or SAS is wrong or has expired. Set it again with Set-ChatterConnector.", Location, r);
            if (r.Status == 403)
                return new ChatterException("ChatterStaging.PermissionDenied", ChatterErrorKind.PermissionDenied,
                    $"The staging credential may not do this in '{Location}' ({code ?? "403"}). A SAS needs the read, add, create, write, delete and list permissions (sp=racwdl); a Microsoft Entra identity needs the Storage Blob Data Contributor role on the container.", target, r);
            if (r.Status == 0)
                return new ChatterException("ChatterStaging.Unreachable", ChatterErrorKind.ResourceUnavailable,
                    $"The staging container '{Location}' cannot be reached: {r.InnerException?.Message ?? "no answer"}", Location, r);
            return new ChatterException("ChatterStaging.RequestFailed", ChatterErrorKind.WriteError,
                $"The staging container '{Location}' answered {r.Status} {code} for '{blob ?? Location}'.", target, r);
        }

        internal static string WithoutQuery(Uri uri) => new UriBuilder(uri) { Query = "" }.Uri.ToString().TrimEnd('/');

        public void Dispose()
        {
            lock (_downloads)
            {
                foreach (var d in _downloads.Values)
                    if (d.File.Status == TaskStatus.RanToCompletion) StagingFiles.TryDelete(d.File.Result);
                _downloads.Clear();
                _idle.Clear();
            }
            try { if (Directory.Exists(_spool) && !Directory.EnumerateFileSystemEntries(_spool).Any()) Directory.Delete(_spool); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
