using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.State;
using CsvHelper;

namespace ChatterConnector.Engine.Sources.Salesforce
{
    /// <summary>
    /// Reads an org through the REST API with SOQL queryAll, incrementally on (SystemModstamp, Id).
    /// What a run reads is spooled to disk in the data-export format (CSV per object, file bytes
    /// in ContentVersion/&lt;Id&gt;, streamed) and read back by <see cref="ExportFolderSource"/>, so an
    /// org read through the API and the same org exported to a folder give the same items, and
    /// the pipeline can read the run's items twice without calling the API twice.
    /// </summary>
    public sealed class SalesforceApiSource : IChatterSource, IDisposable
    {
        // The fields read of each object: those of a data export (PROTOCOLS.md).
        internal static readonly string[] UserFields = { "Id", "Name", "Username", "Email", "IsActive" };
        internal static readonly string[] GroupFields = { "Id", "Name" };
        internal static readonly string[] FeedItemFields = { "Id", "ParentId", "Type", "Title", "Body", "IsRichText", "LinkUrl", "RelatedRecordId", "CreatedById", "CreatedDate", "LastEditById", "LastEditDate", "Revision", "IsDeleted", "SystemModstamp" };
        internal static readonly string[] FeedCommentFields = { "Id", "FeedItemId", "ParentId", "CommentBody", "CommentType", "IsRichText", "RelatedRecordId", "CreatedById", "CreatedDate", "LastEditDate", "Revision", "IsDeleted", "SystemModstamp" };
        internal static readonly string[] FeedRevisionFields = { "Id", "FeedEntityId", "Revision", "Action", "EditedAttribute", "Value", "IsValueRichText", "CreatedById", "CreatedDate", "IsDeleted", "SystemModstamp" };
        internal static readonly string[] FeedAttachmentFields = { "Id", "FeedEntityId", "Type", "RecordId", "Title", "Value" };
        internal static readonly string[] ContentVersionFields = { "Id", "ContentDocumentId", "Title", "PathOnClient", "FileExtension", "ContentSize", "Checksum" };
        internal static readonly string[] ConversationMemberFields = { "ConversationId", "MemberId" };
        internal static readonly string[] ChatterMessageFields = { "Id", "ConversationId", "SenderId", "Body", "SentDate" };

        private const int IdsPerQuery = 200;

        private readonly SalesforceSettings _settings;
        private readonly SalesforceApiClient _client;
        private readonly string _spool;
        private readonly string? _linkBaseUrl;
        private readonly Action<string> _warn;
        private readonly CancellationToken _ct;
        private ExportFolderSource? _export;
        private bool _itemsDownloaded;
        private bool _privateMessages = true;

        public SalesforceApiSource(SalesforceSettings settings, SecretProtector secrets, string spoolFolder, string? linkBaseUrl = null,
            SalesforceClientOptions? options = null, Action<string>? warn = null, CancellationToken cancellationToken = default)
        {
            _settings = settings ?? throw new ArgumentNullException(nameof(settings));
            _client = new SalesforceApiClient(settings, secrets, options);
            _spool = spoolFolder;
            _linkBaseUrl = linkBaseUrl;
            _warn = warn ?? (_ => { });
            _ct = cancellationToken;
        }

        public string Location => _client.InstanceUrl ?? _settings.LoginUrl;

        /// <summary>Read file metadata but not file bytes: for -WhatIf, which only counts what a run would do.</summary>
        public bool SkipFileContent { get; set; }

        /// <summary>REST calls made so far.</summary>
        public int ApiCalls => _client.ApiCalls;

        public SourceDirectory ReadDirectory()
        {
            if (Directory.Exists(_spool)) Directory.Delete(_spool, recursive: true);
            Directory.CreateDirectory(Path.Combine(_spool, ExportFiles.ContentVersionFolder));
            Spool(ExportFiles.User, UserFields, Query("User", UserFields, null));
            Spool(ExportFiles.CollaborationGroup, GroupFields, Query("CollaborationGroup", GroupFields, null));
            // Group membership makes nobody a participant (authors, commenters and mentions do), so it is not read.
            try
            {
                Spool(ExportFiles.ChatterConversationMember, ConversationMemberFields, Query("ChatterConversationMember", ConversationMemberFields, null));
            }
            catch (ChatterException ex) when (ex.ErrorId == "ChatterSource.InsufficientAccess")
            {
                _privateMessages = false;
                _warn("Private messages are skipped: the Salesforce user cannot read ChatterConversationMember and ChatterMessage. " +
                      "Grant the permission \"Manage Chatter Messages and Direct Messages\" to archive them.");
            }
            _export = new ExportFolderSource(_spool, _linkBaseUrl ?? _client.InstanceUrl);
            return _export.ReadDirectory();
        }

        public IEnumerable<SourceRecord> ReadItems(SourceDirectory directory, SourceWatermarks watermarks)
        {
            if (_export == null) throw new InvalidOperationException("ReadDirectory first.");
            if (!_itemsDownloaded)
            {
                DownloadItems(watermarks);
                _itemsDownloaded = true;
            }
            return _export.ReadItems(directory, watermarks);
        }

        private void DownloadItems(SourceWatermarks w)
        {
            var posts = Spool(ExportFiles.FeedItem, FeedItemFields, Query("FeedItem", FeedItemFields, Since(w, "FeedItem", "SystemModstamp"), "SystemModstamp"));
            var comments = Spool(ExportFiles.FeedComment, FeedCommentFields, Query("FeedComment", FeedCommentFields, Since(w, "FeedComment", "SystemModstamp"), "SystemModstamp"));
            var revisions = Spool(ExportFiles.FeedRevision, FeedRevisionFields, Query("FeedRevision", FeedRevisionFields, Since(w, "FeedRevision", "SystemModstamp"), "SystemModstamp"));

            // An edit of a post or comment read in an earlier run: read that entity too, as context
            // (older than its watermark, the export reader indexes it without archiving it again).
            var known = new HashSet<string>(posts.Select(r => r["Id"]).Concat(comments.Select(r => r["Id"])), StringComparer.Ordinal);
            var missing = revisions.Select(r => r["FeedEntityId"]).Where(id => id.Length > 0 && !known.Contains(id)).Distinct().ToList();
            if (missing.Count > 0)
            {
                AppendSpool(ExportFiles.FeedItem, FeedItemFields, ById("FeedItem", FeedItemFields, "Id", missing.Where(id => id.StartsWith("0D5", StringComparison.Ordinal))));
                AppendSpool(ExportFiles.FeedComment, FeedCommentFields, ById("FeedComment", FeedCommentFields, "Id", missing.Where(id => !id.StartsWith("0D5", StringComparison.Ordinal))));
            }

            // Files of the new posts and comments: their attachments, metadata and bytes.
            var entities = posts.Select(r => r["Id"]).Concat(comments.Select(r => r["Id"])).ToList();
            var attachments = Spool(ExportFiles.FeedAttachment, FeedAttachmentFields, ById("FeedAttachment", FeedAttachmentFields, "FeedEntityId", entities));
            var versionIds = attachments.Where(a => string.Equals(a["Type"], "Content", StringComparison.OrdinalIgnoreCase)).Select(a => a["RecordId"])
                .Concat(posts.Select(p => p["RelatedRecordId"])).Concat(comments.Select(c => c["RelatedRecordId"]))
                .Where(id => id.StartsWith("068", StringComparison.Ordinal)).Distinct().ToList();
            var versions = Spool(ExportFiles.ContentVersion, ContentVersionFields, ById("ContentVersion", ContentVersionFields, "Id", versionIds));
            if (!SkipFileContent)
                foreach (var v in versions) DownloadFile(v["Id"]);

            if (_privateMessages)
            {
                try
                {
                    Spool(ExportFiles.ChatterMessage, ChatterMessageFields, Query("ChatterMessage", ChatterMessageFields, Since(w, "ChatterMessage", "SentDate"), "SentDate"));
                }
                catch (ChatterException ex) when (ex.ErrorId == "ChatterSource.InsufficientAccess")
                {
                    _warn("Private messages are skipped: the Salesforce user cannot read ChatterMessage. Grant \"Manage Chatter Messages and Direct Messages\" to archive them.");
                }
            }
        }

        /// <summary>One finding of <see cref="CheckAccess"/>.</summary>
        public sealed class AccessCheck
        {
            public AccessCheck(string check, bool succeeded, string message) { Check = check; Succeeded = succeeded; Message = message; }
            public string Check { get; }
            public bool Succeeded { get; }
            public string Message { get; }
        }

        /// <summary>
        /// Signs in and reads one row of every object the connector needs, and says what is
        /// missing: the sign-in, API access, or a permission (private messages need "Manage
        /// Chatter Messages and Direct Messages"). Stops at the first failure that leaves nothing to try.
        /// </summary>
        public IEnumerable<AccessCheck> CheckAccess()
        {
            AccessCheck? signIn = null;
            try
            {
                foreach (var _ in _client.QueryAll("SELECT Id FROM User LIMIT 1", _ct)) { }
                signIn = new AccessCheck("Salesforce sign-in", true, $"Signed in to {_client.InstanceUrl} ({_settings.AuthFlow}); the API answers.");
            }
            catch (ChatterException ex)
            {
                signIn = new AccessCheck("Salesforce sign-in", false, ex.ErrorId + ": " + ex.Message);
            }
            yield return signIn;
            if (!signIn.Succeeded) yield break;

            foreach (var (obj, field, permission) in new[]
            {
                ("CollaborationGroup", "Id", "Read on CollaborationGroup"), ("FeedItem", "Id", "Read with View All on FeedItem (or View All Data)"),
                ("FeedComment", "Id", "Read with View All on FeedComment (or View All Data)"), ("FeedRevision", "Id", "Read on FeedRevision"),
                ("ContentVersion", "Id", "Read on ContentVersion and Query All Files"),
                ("ChatterMessage", "Id", "Manage Chatter Messages and Direct Messages (without it private messages are skipped)"),
            })
            {
                AccessCheck result;
                try
                {
                    foreach (var _ in _client.QueryAll($"SELECT {field} FROM {obj} LIMIT 1", _ct)) { }
                    result = new AccessCheck("Salesforce " + obj, true, $"{obj} can be read.");
                }
                catch (ChatterException ex)
                {
                    result = new AccessCheck("Salesforce " + obj, false, $"{ex.ErrorId}: {ex.Message} Grant: {permission}.");
                }
                yield return result;
            }
        }

        private void DownloadFile(string id)
        {
            if (!IsId(id)) return;
            var path = Path.Combine(_spool, ExportFiles.ContentVersionFolder, id);
            try
            {
                using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 81920);
                _client.DownloadVersionData(id, file, _ct);
            }
            catch (ChatterException ex) when (ex.ErrorId == "ChatterSource.FileNotFound")
            {
                // Listed but gone: the message is imported without it and logged PartiallyImported.
                File.Delete(path);
            }
        }

        /// <summary>The WHERE clause that reads what is new: after the (Modstamp, Id) watermark, else from StartDate.</summary>
        internal string? Since(SourceWatermarks w, string obj, string field)
        {
            var mark = w.Get(obj);
            if (mark == null)
                return _settings.StartDate == null ? null : $"{field} >= {Soql(_settings.StartDate.Value)}";
            var id = w.GetLastId(obj);
            return string.IsNullOrEmpty(id)
                ? $"{field} >= {Soql(mark.Value)}"
                : $"({field} > {Soql(mark.Value)} OR ({field} = {Soql(mark.Value)} AND Id > '{id}'))";
        }

        internal static string Soql(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

        private IEnumerable<IReadOnlyDictionary<string, string>> Query(string obj, string[] fields, string? where, string? orderBy = null)
        {
            var soql = "SELECT " + string.Join(", ", fields) + " FROM " + obj
                + (where == null ? "" : " WHERE " + where)
                + (orderBy == null ? "" : " ORDER BY " + orderBy + ", Id");
            return _client.QueryAll(soql, _ct);
        }

        /// <summary>Rows whose <paramref name="field"/> is one of <paramref name="ids"/>, a few hundred ids per query.</summary>
        private IEnumerable<IReadOnlyDictionary<string, string>> ById(string obj, string[] fields, string field, IEnumerable<string> ids)
        {
            var list = ids.Where(IsId).Distinct().ToList();
            for (var i = 0; i < list.Count; i += IdsPerQuery)
            {
                var chunk = list.Skip(i).Take(IdsPerQuery).Select(id => "'" + id + "'");
                foreach (var row in Query(obj, fields, field + " IN (" + string.Join(", ", chunk) + ")"))
                    yield return row;
            }
        }

        /// <summary>Salesforce ids are letters and digits; anything else never reaches a query or a path.</summary>
        private static bool IsId(string id) => id.Length >= 15 && id.Length <= 18 && id.All(c => c < 128 && char.IsLetterOrDigit(c));

        /// <summary>Writes rows to a spool CSV and returns them (the small id-bearing fields only are kept by callers).</summary>
        private List<IReadOnlyDictionary<string, string>> Spool(string file, string[] fields, IEnumerable<IReadOnlyDictionary<string, string>> rows) =>
            Write(file, fields, rows, append: false);

        private void AppendSpool(string file, string[] fields, IEnumerable<IReadOnlyDictionary<string, string>> rows) =>
            Write(file, fields, rows, append: true);

        private List<IReadOnlyDictionary<string, string>> Write(string file, string[] fields, IEnumerable<IReadOnlyDictionary<string, string>> rows, bool append)
        {
            // Only the ids are kept in memory; bodies go straight to disk.
            var keep = new List<IReadOnlyDictionary<string, string>>();
            var path = Path.Combine(_spool, file);
            var header = !append || !File.Exists(path);
            using var writer = new StreamWriter(path, append, new UTF8Encoding(false));
            using var csv = new CsvWriter(writer, CultureInfo.InvariantCulture);
            if (header)
            {
                foreach (var f in fields) csv.WriteField(f);
                csv.NextRecord();
            }
            foreach (var row in rows)
            {
                _ct.ThrowIfCancellationRequested();
                foreach (var f in fields) csv.WriteField(row.TryGetValue(f, out var v) ? v : "");
                csv.NextRecord();
                var ids = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var f in new[] { "Id", "FeedEntityId", "RelatedRecordId", "RecordId", "Type" })
                    if (row.TryGetValue(f, out var v)) ids[f] = v;
                keep.Add(ids);
            }
            return keep;
        }

        public void Dispose()
        {
            _client.Dispose();
            try { if (Directory.Exists(_spool)) Directory.Delete(_spool, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
