using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading;
using CsvHelper;
using CsvHelper.Configuration;
using System.Text;

namespace ChatterConnector.Engine.Sources.Sample
{
    /// <summary>
    /// A generated Salesforce org held in memory as data-export rows, with helpers that change it the
    /// way a later export would (new comments, edits, deletions…, each with a newer SystemModstamp)
    /// and a writer for the data-export folder.
    /// </summary>
    public sealed class SampleOrg
    {
        private readonly SampleIds _ids;
        private readonly SampleRandom _rng;
        private readonly Dictionary<string, SampleFileSpec> _files = new Dictionary<string, SampleFileSpec>(StringComparer.Ordinal);
        private readonly Dictionary<string, FeedItemRow> _postsById = new Dictionary<string, FeedItemRow>(StringComparer.Ordinal);
        private readonly Dictionary<string, FeedCommentRow> _commentsById = new Dictionary<string, FeedCommentRow>(StringComparer.Ordinal);
        private readonly byte[] _buffer = new byte[SampleFileContent.ChunkSize];

        internal SampleOrg(int seed, SampleIds ids, SampleRandom mutationRandom)
        {
            Seed = seed;
            _ids = ids;
            _rng = mutationRandom;
        }

        public int Seed { get; }

        public List<UserRow> Users { get; } = new List<UserRow>();
        public List<CollaborationGroupRow> Groups { get; } = new List<CollaborationGroupRow>();
        public List<CollaborationGroupMemberRow> GroupMembers { get; } = new List<CollaborationGroupMemberRow>();
        public List<FeedItemRow> FeedItems { get; } = new List<FeedItemRow>();
        public List<FeedCommentRow> FeedComments { get; } = new List<FeedCommentRow>();
        public List<FeedRevisionRow> FeedRevisions { get; } = new List<FeedRevisionRow>();
        public List<FeedAttachmentRow> FeedAttachments { get; } = new List<FeedAttachmentRow>();
        public List<ContentVersionRow> ContentVersions { get; } = new List<ContentVersionRow>();
        public List<ChatterConversationMemberRow> ConversationMembers { get; } = new List<ChatterConversationMemberRow>();
        public List<ChatterMessageRow> Messages { get; } = new List<ChatterMessageRow>();

        /// <summary>The 001 Account ids that record feeds hang off (there is no Account.csv).</summary>
        public List<string> AccountIds { get; } = new List<string>();

        /// <summary>A full Name that two users share (an ambiguous @mention), or null when Users &lt; 10.</summary>
        public string? AmbiguousName { get; internal set; }

        /// <summary>A ContentVersion listed in ContentVersion.csv whose bytes file is never written; null when Posts &lt; 50.</summary>
        public string? MissingFileId { get; internal set; }

        // ---- mutation helpers ---------------------------------------------------------------

        /// <summary>
        /// Adds a post. With <paramref name="fileName"/> it is a ContentPost carrying a new file of
        /// <paramref name="fileSize"/> bytes; otherwise a TextPost. Returns the FeedItem id.
        /// </summary>
        public string AddPost(string parentId, string authorId, string body, DateTimeOffset when,
            bool isRichText = false, string? fileName = null, long fileSize = 1024)
        {
            if (string.IsNullOrEmpty(parentId)) throw new ArgumentException("A parent id is required.", nameof(parentId));
            if (string.IsNullOrEmpty(authorId)) throw new ArgumentException("An author id is required.", nameof(authorId));
            if (fileSize < 0) throw new ArgumentOutOfRangeException(nameof(fileSize));
            var stamp = SalesforceDate.Format(when);
            var post = new FeedItemRow
            {
                Id = _ids.Next(SampleIds.FeedItem),
                ParentId = parentId,
                Type = fileName == null ? "TextPost" : "ContentPost",
                Body = body ?? "",
                IsRichText = Bool(isRichText),
                CreatedById = authorId,
                CreatedDate = stamp,
                SystemModstamp = stamp,
            };
            AddPostRow(post);
            if (fileName != null)
            {
                var version = NewFile(fileName, fileSize, _rng.NextUInt64());
                post.RelatedRecordId = version.Id;
                AttachContent(post.Id, version);
            }
            return post.Id;
        }

        /// <summary>Adds a comment to a post (the post itself is not changed). Returns the FeedComment id.</summary>
        public string AddComment(string feedItemId, string authorId, string body, DateTimeOffset when)
        {
            var post = FindPost(feedItemId);
            if (post.IsDeleted == "true") throw new InvalidOperationException($"FeedItem {feedItemId} is deleted.");
            var stamp = SalesforceDate.Format(when);
            var comment = new FeedCommentRow
            {
                Id = _ids.Next(SampleIds.FeedComment),
                FeedItemId = post.Id,
                ParentId = post.ParentId,
                CommentBody = body ?? "",
                CreatedById = authorId,
                CreatedDate = stamp,
                SystemModstamp = stamp,
            };
            AddCommentRow(comment);
            return comment.Id;
        }

        /// <summary>
        /// Edits a post's body: adds a FeedRevision (Revision = old + 1, Value = the new body) and updates
        /// the FeedItem's Body, Revision, LastEditById/LastEditDate and SystemModstamp. Returns the FeedRevision id.
        /// </summary>
        public string EditPost(string feedItemId, string newBody, DateTimeOffset when)
        {
            var post = FindPost(feedItemId);
            if (post.IsDeleted == "true") throw new InvalidOperationException($"FeedItem {feedItemId} is deleted.");
            RequireLater(post.SystemModstamp, when, nameof(when));
            return ApplyEdit(post, newBody ?? "", when).Id;
        }

        /// <summary>Marks a post deleted (IsDeleted = true, SystemModstamp = when). Returns the FeedItem id.</summary>
        public string DeletePost(string feedItemId, DateTimeOffset when)
        {
            var post = FindPost(feedItemId);
            RequireLater(post.SystemModstamp, when, nameof(when));
            post.IsDeleted = "true";
            post.SystemModstamp = SalesforceDate.Format(when);
            return post.Id;
        }

        /// <summary>Marks a comment deleted (IsDeleted = true, SystemModstamp = when). Returns the FeedComment id.</summary>
        public string DeleteComment(string feedCommentId, DateTimeOffset when)
        {
            var comment = FindComment(feedCommentId);
            RequireLater(comment.SystemModstamp, when, nameof(when));
            comment.IsDeleted = "true";
            comment.SystemModstamp = SalesforceDate.Format(when);
            return comment.Id;
        }

        /// <summary>Starts a private conversation between users. Returns the conversation (0J0) id.</summary>
        public string AddConversation(params string[] memberIds)
        {
            if (memberIds == null || memberIds.Length < 2) throw new ArgumentException("A conversation needs at least two members.", nameof(memberIds));
            var id = _ids.Next(SampleIds.Conversation);
            foreach (var m in memberIds) ConversationMembers.Add(new ChatterConversationMemberRow { ConversationId = id, MemberId = m });
            return id;
        }

        /// <summary>Adds a private message to a conversation. Returns the ChatterMessage id.</summary>
        public string AddPrivateMessage(string conversationId, string senderId, string body, DateTimeOffset when)
        {
            if (!ConversationMembers.Exists(m => m.ConversationId == conversationId))
                throw new ArgumentException($"No conversation {conversationId}.", nameof(conversationId));
            var message = new ChatterMessageRow
            {
                Id = _ids.Next(SampleIds.ChatterMessage),
                ConversationId = conversationId,
                SenderId = senderId,
                Body = body ?? "",
                SentDate = SalesforceDate.Format(when),
            };
            Messages.Add(message);
            return message.Id;
        }

        /// <summary>The newest SystemModstamp / SentDate in the org: a mutation should come later than this.</summary>
        public DateTimeOffset LatestTimestamp()
        {
            var latest = DateTimeOffset.MinValue;
            void See(string s) { if (SalesforceDate.TryParse(s, out var d) && d > latest) latest = d; }
            foreach (var r in FeedItems) See(r.SystemModstamp);
            foreach (var r in FeedComments) See(r.SystemModstamp);
            foreach (var r in FeedRevisions) See(r.SystemModstamp);
            foreach (var r in Messages) See(r.SentDate);
            return latest;
        }

        // ---- file bytes -----------------------------------------------------------------------

        /// <summary>
        /// True when the ContentVersion's bytes exist (it is in the org and is not <see cref="MissingFileId"/>).
        /// </summary>
        public bool HasFileContent(string contentVersionId) =>
            contentVersionId != null && contentVersionId != MissingFileId && _files.ContainsKey(contentVersionId);

        /// <summary>
        /// Opens a read-only, forward-only stream of a ContentVersion's bytes, generated chunk by chunk from
        /// its seed (never more than one 64 KB chunk in memory): the same bytes <see cref="WriteExport"/>
        /// writes to ContentVersion/&lt;Id&gt;. Throws <see cref="FileNotFoundException"/> for an unknown id
        /// and for <see cref="MissingFileId"/>. Safe to call from several threads at once.
        /// </summary>
        public Stream OpenFileContent(string contentVersionId) => new SampleFileStream(SpecOf(contentVersionId));

        /// <summary>Streams a ContentVersion's bytes into <paramref name="destination"/>; returns the byte count.</summary>
        public long WriteFileContent(string contentVersionId, Stream destination)
        {
            if (destination == null) throw new ArgumentNullException(nameof(destination));
            return SampleFileContent.WriteTo(SpecOf(contentVersionId), destination, new byte[SampleFileContent.ChunkSize]);
        }

        private SampleFileSpec SpecOf(string contentVersionId)
        {
            if (contentVersionId == null || contentVersionId == MissingFileId || !_files.TryGetValue(contentVersionId, out var spec))
                throw new FileNotFoundException($"ContentVersion {contentVersionId} has no bytes.", contentVersionId);
            return spec;
        }

        // ---- export ---------------------------------------------------------------------------

        /// <summary>
        /// Writes the data-export folder: one CSV per object (UTF-8 without BOM, CRLF, RFC 4180) and
        /// each ContentVersion's bytes in ContentVersion/&lt;Id&gt;, except <see cref="MissingFileId"/>.
        /// Existing files of the same names are overwritten.
        /// </summary>
        public SampleExportSummary WriteExport(string folder, CancellationToken cancellationToken = default)
        {
            if (string.IsNullOrEmpty(folder)) throw new ArgumentException("A folder is required.", nameof(folder));
            var root = Path.GetFullPath(folder);
            Directory.CreateDirectory(root);
            WriteCsv(Path.Combine(root, ExportFiles.User), Users);
            WriteCsv(Path.Combine(root, ExportFiles.CollaborationGroup), Groups);
            WriteCsv(Path.Combine(root, ExportFiles.CollaborationGroupMember), GroupMembers);
            WriteCsv(Path.Combine(root, ExportFiles.FeedItem), FeedItems);
            WriteCsv(Path.Combine(root, ExportFiles.FeedComment), FeedComments);
            WriteCsv(Path.Combine(root, ExportFiles.FeedRevision), FeedRevisions);
            WriteCsv(Path.Combine(root, ExportFiles.FeedAttachment), FeedAttachments);
            WriteCsv(Path.Combine(root, ExportFiles.ContentVersion), ContentVersions);
            WriteCsv(Path.Combine(root, ExportFiles.ChatterConversationMember), ConversationMembers);
            WriteCsv(Path.Combine(root, ExportFiles.ChatterMessage), Messages);
            cancellationToken.ThrowIfCancellationRequested();

            var fileFolder = Path.Combine(root, ExportFiles.ContentVersionFolder);
            Directory.CreateDirectory(fileFolder);
            long fileBytes = 0;
            foreach (var version in ContentVersions)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var path = Path.Combine(fileFolder, version.Id);
                if (version.Id == MissingFileId)
                {
                    if (File.Exists(path)) File.Delete(path);
                    continue;
                }
                if (!_files.TryGetValue(version.Id, out var spec)) continue;
                using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 4096);
                fileBytes += SampleFileContent.WriteTo(spec, stream, new byte[SampleFileContent.ChunkSize]);
            }

            var summary = new SampleExportSummary
            {
                Path = root,
                Users = Users.Count,
                Groups = Groups.Count,
                Posts = FeedItems.Count,
                Comments = FeedComments.Count,
                Edits = FeedRevisions.Count,
                Deletions = FeedItems.FindAll(p => p.IsDeleted == "true").Count + FeedComments.FindAll(c => c.IsDeleted == "true").Count,
                PrivateMessages = Messages.Count,
                Files = ContentVersions.Count,
                FileBytes = fileBytes,
            };
            summary.Items = summary.Posts + summary.Comments + summary.Edits + summary.Deletions + summary.PrivateMessages;
            return summary;
        }

        private static void WriteCsv<T>(string path, List<T> rows)
        {
            var columns = CsvColumns<T>.Columns;
            var names = CsvColumns<T>.Names;
            using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024);
            using var writer = new StreamWriter(stream, new UTF8Encoding(false));
            // RFC 4180: quote when needed, CRLF between records, UTF-8 without BOM.
            using var csv = new CsvWriter(writer, new CsvConfiguration(CultureInfo.InvariantCulture));
            foreach (var name in names) csv.WriteField(name);
            csv.NextRecord();
            foreach (var row in rows)
            {
                for (var i = 0; i < columns.Length; i++) csv.WriteField(columns[i](row) ?? "");
                csv.NextRecord();
            }
        }

        /// <summary>The public string properties of a row class, in declaration order, as column names and getters.</summary>
        private static class CsvColumns<T>
        {
            public static readonly string[] Names;
            public static readonly Func<T, string>[] Columns;

            static CsvColumns()
            {
                var properties = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
                    .Where(p => p.PropertyType == typeof(string) && p.GetMethod != null)
                    .OrderBy(p => p.MetadataToken)
                    .ToArray();
                Names = properties.Select(p => p.Name).ToArray();
                Columns = properties.Select(p => (Func<T, string>)Delegate.CreateDelegate(typeof(Func<T, string>), p.GetMethod!)).ToArray();
            }
        }

        // ---- shared by the generator and the helpers ------------------------------------------

        internal SampleIds Ids => _ids;

        internal static string Bool(bool value) => value ? "true" : "false";

        internal void AddPostRow(FeedItemRow post)
        {
            FeedItems.Add(post);
            _postsById[post.Id] = post;
        }

        internal void AddCommentRow(FeedCommentRow comment)
        {
            FeedComments.Add(comment);
            _commentsById[comment.Id] = comment;
        }

        internal FeedRevisionRow ApplyEdit(FeedItemRow post, string newBody, DateTimeOffset when)
        {
            var stamp = SalesforceDate.Format(when);
            var revision = int.Parse(post.Revision, NumberStyles.Integer, CultureInfo.InvariantCulture) + 1;
            var row = new FeedRevisionRow
            {
                Id = _ids.Next(SampleIds.FeedRevision),
                FeedEntityId = post.Id,
                Revision = revision.ToString(CultureInfo.InvariantCulture),
                Action = "Edit",
                EditedAttribute = "Body",
                Value = newBody,
                IsValueRichText = post.IsRichText,
                CreatedById = post.CreatedById,
                CreatedDate = stamp,
                SystemModstamp = stamp,
            };
            FeedRevisions.Add(row);
            post.Body = newBody;
            post.Revision = row.Revision;
            post.LastEditById = post.CreatedById;
            post.LastEditDate = stamp;
            post.SystemModstamp = stamp;
            return row;
        }

        /// <summary>Creates a ContentVersion (and its checksum, by streaming the bytes once).</summary>
        internal ContentVersionRow NewFile(string fileName, long size, ulong seed)
        {
            var extension = ExtensionOf(fileName);
            var spec = new SampleFileSpec(extension, size, seed);
            var row = new ContentVersionRow
            {
                Id = _ids.Next(SampleIds.ContentVersion),
                ContentDocumentId = _ids.Next(SampleIds.ContentDocument),
                Title = extension.Length == 0 ? fileName : fileName.Substring(0, fileName.Length - extension.Length - 1),
                PathOnClient = fileName,
                FileExtension = extension,
                ContentSize = size.ToString(CultureInfo.InvariantCulture),
                Checksum = SampleFileContent.Md5Hex(spec, _buffer),
            };
            ContentVersions.Add(row);
            _files[row.Id] = spec;
            return row;
        }

        internal void AttachContent(string feedEntityId, ContentVersionRow version)
        {
            FeedAttachments.Add(new FeedAttachmentRow
            {
                Id = _ids.Next(SampleIds.FeedAttachment),
                FeedEntityId = feedEntityId,
                Type = "Content",
                RecordId = version.Id,
                Title = version.Title,
            });
        }

        private static string ExtensionOf(string fileName)
        {
            var dot = fileName.LastIndexOf('.');
            var slash = Math.Max(fileName.LastIndexOf('/'), fileName.LastIndexOf('\\'));
            if (dot <= slash + 1 || dot == fileName.Length - 1) return "";
            return fileName.Substring(dot + 1).ToLowerInvariant();
        }

        private FeedItemRow FindPost(string id)
        {
            if (id != null && _postsById.TryGetValue(id, out var post)) return post;
            var found = FeedItems.Find(p => p.Id == id);
            return found ?? throw new ArgumentException($"No FeedItem {id}.", nameof(id));
        }

        private FeedCommentRow FindComment(string id)
        {
            if (id != null && _commentsById.TryGetValue(id, out var comment)) return comment;
            var found = FeedComments.Find(c => c.Id == id);
            return found ?? throw new ArgumentException($"No FeedComment {id}.", nameof(id));
        }

        private static void RequireLater(string current, DateTimeOffset when, string parameter)
        {
            if (SalesforceDate.TryParse(current, out var stamp) && when <= stamp)
                throw new ArgumentOutOfRangeException(parameter, when,
                    $"The change must be later than the current SystemModstamp {current}.");
        }
    }
}
