using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using ChatterConnector.Engine.Model;
using CsvHelper;
using CsvHelper.Configuration;

namespace ChatterConnector.Engine.Sources
{
    /// <summary>
    /// Reads a Salesforce Data Export folder: one CSV per object (API field names as headers,
    /// RFC 4180, UTF-8) and ContentVersion/&lt;Id&gt; files. Missing optional files mean "none";
    /// unknown columns are ignored; a bad row becomes a <see cref="SourceRecord"/> with an error.
    /// Rows are streamed; only the directory and an index of feed entities are held in memory.
    /// </summary>
    public sealed class ExportFolderSource : IChatterSource
    {
        private readonly string _root;
        private readonly string _instanceUrl;

        public ExportFolderSource(string path, string? instanceUrl = null)
        {
            _root = path ?? throw new ArgumentNullException(nameof(path));
            _instanceUrl = (instanceUrl ?? ChatterConnectorInfo.DefaultInstanceUrl).TrimEnd('/');
        }

        public string Path => _root;

        public string Location => _root;

        /// <summary>Checks the folder can be read and holds an export; throws a <see cref="ChatterException"/> saying what to fix.</summary>
        public void Validate()
        {
            if (!Directory.Exists(_root))
                throw new ChatterException("ChatterSource.FolderNotFound", ChatterErrorKind.ObjectNotFound,
                    $"The Salesforce export folder '{_root}' does not exist. Point -SourcePath at the folder that holds User.csv and FeedItem.csv.", _root);
            var users = System.IO.Path.Combine(_root, ExportFiles.User);
            try
            {
                if (!File.Exists(users))
                    throw new ChatterException("ChatterSource.NotAnExport", ChatterErrorKind.InvalidData,
                        $"The folder '{_root}' holds no {ExportFiles.User}, so it is not a Salesforce data export. Export at least User, FeedItem and FeedComment, with files.", _root);
                using (File.OpenRead(users)) { }
                Directory.GetFiles(_root, "*.csv");
            }
            catch (Exception ex) when (ex is UnauthorizedAccessException || ex is IOException)
            {
                throw new ChatterException("ChatterSource.FolderUnreadable", ChatterErrorKind.PermissionDenied,
                    $"The Salesforce export folder '{_root}' cannot be read: {ex.Message}", _root, ex);
            }
        }

        // ---- the directory ------------------------------------------------------------------

        public SourceDirectory ReadDirectory()
        {
            Validate();
            var dir = new SourceDirectory();
            foreach (var r in Rows(ExportFiles.User))
            {
                var id = r.Get("Id");
                if (id.Length == 0) continue;
                dir.Users[id] = new ChatterUser
                {
                    Id = id, Name = r.Get("Name"), Username = NullIfEmpty(r.Get("Username")),
                    Email = NullIfEmpty(r.Get("Email")), IsActive = Bool(r.Get("IsActive"), true),
                };
            }
            foreach (var r in Rows(ExportFiles.CollaborationGroup))
                if (r.Get("Id").Length > 0) dir.GroupNames[r.Get("Id")] = r.Get("Name");
            foreach (var r in Rows(ExportFiles.ChatterConversationMember))
            {
                var conv = r.Get("ConversationId");
                if (conv.Length == 0) continue;
                if (!dir.ConversationMembers.TryGetValue(conv, out var list)) dir.ConversationMembers[conv] = list = new List<string>();
                var member = r.Get("MemberId");
                if (member.Length > 0 && !list.Contains(member)) list.Add(member);
            }
            return dir;
        }

        // ---- items --------------------------------------------------------------------------

        /// <summary>
        /// Every item whose row is new against the watermarks, in this order: posts, comments,
        /// edits, deletions, private messages. A deleted post that was never read yields its
        /// post and its deletion notice.
        /// </summary>
        public IEnumerable<SourceRecord> ReadItems(SourceDirectory dir, SourceWatermarks watermarks)
        {
            var mentions = new MentionResolver(dir.Users.Values);
            var files = ReadFiles();
            var index = new Dictionary<string, FeedEntity>(StringComparer.Ordinal);

            // Posts (and the index of posts every later row refers to).
            var deletedPosts = new List<SourceRecord>();
            foreach (var r in Rows(ExportFiles.FeedItem))
            {
                var id = r.Get("Id");
                if (id.Length > 0)
                    index[id] = new FeedEntity(id, id, r.Get("ParentId"), r.Get("CreatedById"), null);
                if (!TryModstamp(r, "SystemModstamp", out var mod, out var bad))
                {
                    yield return Bad("FeedItem", r, bad);
                    continue;
                }
                if (!watermarks.IsNew("FeedItem", mod)) continue;
                var rec = Post(r, dir, mentions, files, mod);
                yield return rec;
                if (rec.Item != null && Bool(r.Get("IsDeleted"), false))
                    deletedPosts.Add(Deletion(rec.Item, "FeedItem", mod));
            }

            var deletedComments = new List<SourceRecord>();
            foreach (var r in Rows(ExportFiles.FeedComment))
            {
                var id = r.Get("Id");
                var post = r.Get("FeedItemId");
                if (id.Length > 0)
                    index[id] = new FeedEntity(id, post, r.Get("ParentId"), r.Get("CreatedById"), id);
                if (!TryModstamp(r, "SystemModstamp", out var mod, out var bad))
                {
                    yield return Bad("FeedComment", r, bad);
                    continue;
                }
                if (!watermarks.IsNew("FeedComment", mod)) continue;
                var rec = Comment(r, dir, mentions, files, mod);
                yield return rec;
                if (rec.Item != null && Bool(r.Get("IsDeleted"), false))
                    deletedComments.Add(Deletion(rec.Item, "FeedComment", mod));
            }

            foreach (var r in Rows(ExportFiles.FeedRevision))
            {
                if (!TryModstamp(r, "SystemModstamp", out var mod, out var bad))
                {
                    yield return Bad("FeedRevision", r, bad);
                    continue;
                }
                if (!watermarks.IsNew("FeedRevision", mod)) continue;
                var rev = Int(r.Get("Revision"), 0);
                if (rev <= 1) continue; // revision 1 is the original, archived as the post or comment itself
                yield return Edit(r, rev, dir, mentions, index, mod);
            }

            foreach (var d in deletedPosts) yield return d;
            foreach (var d in deletedComments) yield return d;

            foreach (var r in Rows(ExportFiles.ChatterMessage))
            {
                if (!TryModstamp(r, "SentDate", out var mod, out var bad))
                {
                    yield return Bad("ChatterMessage", r, bad);
                    continue;
                }
                if (!watermarks.IsNew("ChatterMessage", mod)) continue;
                yield return PrivateMessage(r, dir, mod);
            }
        }

        private sealed class FeedEntity
        {
            public FeedEntity(string id, string postId, string parentId, string authorId, string? commentId)
            {
                Id = id; PostId = postId; ParentId = parentId; AuthorId = authorId; CommentId = commentId;
            }
            public string Id { get; }
            public string PostId { get; }
            public string ParentId { get; }
            public string AuthorId { get; }
            public string? CommentId { get; }
        }

        private SourceRecord Post(CsvRow r, SourceDirectory dir, MentionResolver mentions, FileIndex files, DateTimeOffset mod)
        {
            var id = r.Get("Id");
            if (id.Length == 0) return Bad("FeedItem", r, "the row has no Id");
            if (!SalesforceDate.TryParse(r.Get("CreatedDate"), out var created))
                return Bad("FeedItem", r, $"CreatedDate '{r.Get("CreatedDate")}' is not a Salesforce datetime", id, ChatterItemType.Post);
            var item = new ChatterItem
            {
                Key = id, Id = id, ItemType = ChatterItemType.Post, FeedType = NullIfEmpty(r.Get("Type")), ThreadId = id,
                ParentId = NullIfEmpty(r.Get("ParentId")), AuthorId = r.Get("CreatedById"), CreatedDate = created, SystemModstamp = mod,
                Title = NullIfEmpty(r.Get("Title")), Body = NullIfEmpty(r.Get("Body")), IsRichText = Bool(r.Get("IsRichText"), false),
                LinkUrl = NullIfEmpty(r.Get("LinkUrl")), Revision = Int(r.Get("Revision"), 1), Url = _instanceUrl + "/" + id,
            };
            Complete(item, dir, mentions);
            files.Attach(item, id, r.Get("RelatedRecordId"));
            return new SourceRecord { Object = "FeedItem", Key = item.Key, RowId = id, Modstamp = mod, Item = item, ItemType = item.ItemType };
        }

        private SourceRecord Comment(CsvRow r, SourceDirectory dir, MentionResolver mentions, FileIndex files, DateTimeOffset mod)
        {
            var id = r.Get("Id");
            if (id.Length == 0) return Bad("FeedComment", r, "the row has no Id");
            var post = r.Get("FeedItemId");
            if (post.Length == 0) return Bad("FeedComment", r, "the comment names no FeedItemId", id, ChatterItemType.Comment);
            if (!SalesforceDate.TryParse(r.Get("CreatedDate"), out var created))
                return Bad("FeedComment", r, $"CreatedDate '{r.Get("CreatedDate")}' is not a Salesforce datetime", id, ChatterItemType.Comment);
            var item = new ChatterItem
            {
                Key = id, Id = id, CommentId = id, ItemType = ChatterItemType.Comment, FeedType = NullIfEmpty(r.Get("CommentType")), ThreadId = post,
                ParentId = NullIfEmpty(r.Get("ParentId")), AuthorId = r.Get("CreatedById"), CreatedDate = created, SystemModstamp = mod,
                Body = NullIfEmpty(r.Get("CommentBody")), IsRichText = Bool(r.Get("IsRichText"), false),
                Revision = Int(r.Get("Revision"), 1), Url = _instanceUrl + "/" + post,
            };
            Complete(item, dir, mentions);
            files.Attach(item, id, r.Get("RelatedRecordId"));
            return new SourceRecord { Object = "FeedComment", Key = item.Key, RowId = id, Modstamp = mod, Item = item, ItemType = item.ItemType };
        }

        private SourceRecord Edit(CsvRow r, int revision, SourceDirectory dir, MentionResolver mentions, Dictionary<string, FeedEntity> index, DateTimeOffset mod)
        {
            var entityId = r.Get("FeedEntityId");
            if (entityId.Length == 0) return Bad("FeedRevision", r, "the revision names no FeedEntityId");
            var key = entityId + ".r" + revision.ToString(CultureInfo.InvariantCulture);
            if (!index.TryGetValue(entityId, out var entity))
                return Bad("FeedRevision", r, $"the revision is of '{entityId}', which is in neither FeedItem.csv nor FeedComment.csv", key, ChatterItemType.Edit);
            if (!SalesforceDate.TryParse(r.Get("CreatedDate"), out var created))
                return Bad("FeedRevision", r, $"CreatedDate '{r.Get("CreatedDate")}' is not a Salesforce datetime", key, ChatterItemType.Edit);
            var item = new ChatterItem
            {
                Key = key, Id = entityId, CommentId = entity.CommentId, ItemType = ChatterItemType.Edit, ThreadId = entity.PostId,
                ParentId = NullIfEmpty(entity.ParentId), AuthorId = NullIfEmpty(r.Get("CreatedById")) ?? entity.AuthorId, CreatedDate = created,
                SystemModstamp = mod, Revision = revision, EditedAttribute = NullIfEmpty(r.Get("EditedAttribute")) ?? "Body",
                Body = NullIfEmpty(r.Get("Value")), IsRichText = Bool(r.Get("IsValueRichText"), false), Url = _instanceUrl + "/" + entity.PostId,
            };
            Complete(item, dir, mentions);
            return new SourceRecord { Object = "FeedRevision", Key = key, RowId = r.Get("Id"), Modstamp = mod, Item = item, ItemType = item.ItemType };
        }

        private static SourceRecord Deletion(ChatterItem original, string obj, DateTimeOffset mod)
        {
            var item = new ChatterItem
            {
                Key = original.Id + ".deleted", Id = original.Id, CommentId = original.CommentId, ItemType = ChatterItemType.Delete,
                FeedType = original.FeedType, ThreadId = original.ThreadId, ParentId = original.ParentId, ParentName = original.ParentName,
                AuthorId = original.AuthorId, Author = original.Author, CreatedDate = mod, SystemModstamp = mod, Title = original.Title,
                Body = original.Body, IsRichText = original.IsRichText, LinkUrl = original.LinkUrl, Revision = original.Revision, Url = original.Url,
                Mentions = original.Mentions,
            };
            return new SourceRecord { Object = obj, Key = item.Key, RowId = original.CommentId ?? original.Id, Modstamp = mod, Item = item, ItemType = item.ItemType };
        }

        private SourceRecord PrivateMessage(CsvRow r, SourceDirectory dir, DateTimeOffset sent)
        {
            var id = r.Get("Id");
            if (id.Length == 0) return Bad("ChatterMessage", r, "the row has no Id");
            var conv = r.Get("ConversationId");
            if (conv.Length == 0) return Bad("ChatterMessage", r, "the message names no ConversationId", id, ChatterItemType.PrivateMessage);
            var item = new ChatterItem
            {
                Key = id, Id = id, ItemType = ChatterItemType.PrivateMessage, ThreadId = conv, ParentId = conv,
                AuthorId = r.Get("SenderId"), CreatedDate = sent, SystemModstamp = sent, Body = NullIfEmpty(r.Get("Body")),
                Url = _instanceUrl + "/" + conv,
            };
            item.Author = dir.FindUser(item.AuthorId);
            return new SourceRecord { Object = "ChatterMessage", Key = id, RowId = id, Modstamp = sent, Item = item, ItemType = item.ItemType };
        }

        private static void Complete(ChatterItem item, SourceDirectory dir, MentionResolver mentions)
        {
            item.Author = dir.FindUser(item.AuthorId);
            if (item.ParentId != null)
            {
                if (dir.GroupNames.TryGetValue(item.ParentId, out var group)) item.ParentName = group;
                else if (dir.Users.TryGetValue(item.ParentId, out var user)) item.ParentName = user.Name;
            }
            item.Mentions = mentions.Resolve(item.Body, item.IsRichText);
        }

        // ---- files --------------------------------------------------------------------------

        private sealed class FileIndex
        {
            public Dictionary<string, ChatterFile> Versions { get; } = new Dictionary<string, ChatterFile>(StringComparer.Ordinal);
            public Dictionary<string, List<string>> ByEntity { get; } = new Dictionary<string, List<string>>(StringComparer.Ordinal);

            public void Attach(ChatterItem item, string entityId, string relatedRecordId)
            {
                var ids = ByEntity.TryGetValue(entityId, out var list) ? list : new List<string>();
                if (ids.Count == 0 && relatedRecordId.StartsWith("068", StringComparison.Ordinal)) ids = new List<string> { relatedRecordId };
                foreach (var id in ids)
                {
                    if (Versions.TryGetValue(id, out var f))
                    {
                        item.Files.Add(f);
                        if (f.ContentPath == null)
                            item.Warnings.Add($"File '{f.PathOnClient ?? f.Title ?? id}' ({id}) is listed but its bytes are missing from the export.");
                    }
                    else
                    {
                        item.Files.Add(new ChatterFile { Id = id, Title = id });
                        item.Warnings.Add($"File {id} is attached to the item but is not in {ExportFiles.ContentVersion}.");
                    }
                }
            }
        }

        private FileIndex ReadFiles()
        {
            var index = new FileIndex();
            var folder = System.IO.Path.Combine(_root, ExportFiles.ContentVersionFolder);
            foreach (var r in Rows(ExportFiles.ContentVersion))
            {
                var id = r.Get("Id");
                if (id.Length == 0) continue;
                var path = System.IO.Path.Combine(folder, id);
                index.Versions[id] = new ChatterFile
                {
                    Id = id, Title = NullIfEmpty(r.Get("Title")), PathOnClient = NullIfEmpty(r.Get("PathOnClient")),
                    FileExtension = NullIfEmpty(r.Get("FileExtension")), ContentSize = Long(r.Get("ContentSize")),
                    Checksum = NullIfEmpty(r.Get("Checksum")), ContentPath = IsSafeId(id) && File.Exists(path) ? path : null,
                };
            }
            foreach (var r in Rows(ExportFiles.FeedAttachment))
            {
                if (!string.Equals(r.Get("Type"), "Content", StringComparison.OrdinalIgnoreCase)) continue;
                var entity = r.Get("FeedEntityId");
                var record = r.Get("RecordId");
                if (entity.Length == 0 || record.Length == 0) continue;
                if (!index.ByEntity.TryGetValue(entity, out var list)) index.ByEntity[entity] = list = new List<string>();
                if (!list.Contains(record)) list.Add(record);
            }
            return index;
        }

        /// <summary>A Salesforce id is letters and digits; anything else would let a row name a path outside the folder.</summary>
        private static bool IsSafeId(string id)
        {
            foreach (var c in id) if (!(c < 128 && char.IsLetterOrDigit(c))) return false;
            return true;
        }

        // ---- CSV ----------------------------------------------------------------------------

        /// <summary>A row with fields looked up by header name; a missing column reads as "".</summary>
        internal sealed class CsvRow
        {
            private readonly string[] _fields;
            private readonly Dictionary<string, int> _header;
            public CsvRow(string file, long line, string[] fields, Dictionary<string, int> header)
            {
                File = file; Line = line; _fields = fields; _header = header;
            }
            public string File { get; }
            public long Line { get; }
            public string? Malformed { get; set; }
            public string Get(string name) => _header.TryGetValue(name, out var i) && i < _fields.Length ? _fields[i] : "";
        }

        internal IEnumerable<CsvRow> Rows(string fileName)
        {
            var path = System.IO.Path.Combine(_root, fileName);
            if (!File.Exists(path)) yield break;
            var config = new CsvConfiguration(CultureInfo.InvariantCulture)
            {
                DetectDelimiter = false,
                BadDataFound = null,
                MissingFieldFound = null,
            };
            string? badData = null;
            config.BadDataFound = args => badData = "malformed CSV (a quote inside an unquoted field, or an unclosed quote)";
            using var reader = new StreamReader(path, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true);
            using var csv = new CsvReader(reader, config);
            if (!csv.Read()) yield break;
            csv.ReadHeader();
            var names = csv.HeaderRecord ?? new string[0];
            var header = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < names.Length; i++)
                if (!header.ContainsKey(names[i].Trim())) header[names[i].Trim()] = i;
            while (csv.Read())
            {
                var fields = csv.Parser.Record ?? new string[0];
                var row = new CsvRow(fileName, csv.Parser.RawRow, fields, header);
                if (badData != null || fields.Length != names.Length)
                {
                    row.Malformed = badData ?? $"the row has {fields.Length} fields where the header has {names.Length}";
                    badData = null;
                }
                yield return row;
            }
        }

        private static bool TryModstamp(CsvRow r, string field, out DateTimeOffset value, out string error)
        {
            error = "";
            if (r.Malformed != null)
            {
                value = default;
                error = r.Malformed;
                return false;
            }
            if (SalesforceDate.TryParse(r.Get(field), out value)) return true;
            error = $"{field} '{r.Get(field)}' is not a Salesforce datetime";
            return false;
        }

        private static SourceRecord Bad(string obj, CsvRow r, string reason, string? key = null, ChatterItemType? type = null)
        {
            var id = r.Get("Id");
            return new SourceRecord
            {
                Object = obj, Key = key ?? (IsPlausibleId(id) ? id : $"{r.File}:{r.Line.ToString(CultureInfo.InvariantCulture)}"),
                Error = $"{r.File} line {r.Line.ToString(CultureInfo.InvariantCulture)}: {reason}.", ItemType = type,
            };
        }

        private static bool IsPlausibleId(string id) => (id.Length == 15 || id.Length == 18) && IsSafeId(id);

        private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

        private static bool Bool(string s, bool fallback) =>
            s.Length == 0 ? fallback : s.Equals("true", StringComparison.OrdinalIgnoreCase) || s == "1";

        private static int Int(string s, int fallback) =>
            int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : fallback;

        private static long Long(string s) =>
            long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0;
    }
}
