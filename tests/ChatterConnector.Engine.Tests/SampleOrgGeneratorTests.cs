using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using ChatterConnector.Engine.Sources;
using ChatterConnector.Engine.Sources.Sample;
using CsvHelper;
using Xunit;

namespace ChatterConnector.Engine.Tests
{
    public sealed class SampleOrgGeneratorTests
    {
        private sealed class TempDir : IDisposable
        {
            public TempDir() => Directory.CreateDirectory(Path);
            public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cc-sample-" + Guid.NewGuid().ToString("N"));
            public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
        }

        private static SampleOrg Generate(int seed = 1, int users = 25, int posts = 200) =>
            SampleOrgGenerator.Generate(new SampleOrgOptions { Seed = seed, Users = users, Posts = posts });

        private static string HashFolder(string root)
        {
            using var sha = SHA256.Create();
            var files = Directory.GetFiles(root, "*", SearchOption.AllDirectories)
                .Select(f => System.IO.Path.GetRelativePath(root, f).Replace('\\', '/'))
                .OrderBy(f => f, StringComparer.Ordinal);
            var sb = new StringBuilder();
            foreach (var f in files)
            {
                var bytes = File.ReadAllBytes(System.IO.Path.Combine(root, f));
                sb.Append(f).Append(' ').Append(Convert.ToHexString(sha.ComputeHash(bytes))).Append('\n');
            }
            return sb.ToString();
        }

        private static (string[] Headers, List<string[]> Rows) ReadCsv(string path)
        {
            using var reader = new StreamReader(path, new System.Text.UTF8Encoding(false));
            using var parser = new CsvHelper.CsvParser(reader, System.Globalization.CultureInfo.InvariantCulture);
            var rows = new List<string[]>();
            string[]? headers = null;
            while (parser.Read())
            {
                if (headers == null) { headers = parser.Record!; continue; }
                rows.Add(parser.Record!);
            }
            return (headers ?? new string[0], rows);
        }

        private static string[] PropertyNames<T>() =>
            typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.MetadataToken).Select(p => p.Name).ToArray();

        private static string[] Values<T>(T row) =>
            typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.MetadataToken).Select(p => (string)p.GetValue(row)!).ToArray();

        private static DateTimeOffset Date(string s)
        {
            Assert.True(SalesforceDate.TryParse(s, out var d), $"not a Salesforce date: '{s}'");
            return d;
        }

        private static string Md5Hex(string path)
        {
            using var md5 = MD5.Create();
            using var stream = File.OpenRead(path);
            return Convert.ToHexString(md5.ComputeHash(stream)).ToLowerInvariant();
        }

        // ---- determinism ---------------------------------------------------------------------

        [Fact]
        public void SameSeed_WritesIdenticalBytes()
        {
            using var a = new TempDir();
            using var b = new TempDir();
            var sa = Generate(seed: 7).WriteExport(a.Path);
            var sb = Generate(seed: 7).WriteExport(b.Path);
            var ha = HashFolder(a.Path);
            Assert.Equal(ha, HashFolder(b.Path));
            Assert.Equal(sa.Items, sb.Items);
            Assert.Equal(sa.FileBytes, sb.FileBytes);
            Assert.Contains("FeedItem.csv", ha);
        }

        [Fact]
        public void Prng_IsSplitMix64()
        {
            // The published SplitMix64 sequence for seed 0: the generator does not depend on System.Random.
            var rng = new SampleRandom(0);
            Assert.Equal(0xE220A8397B1DCDAFUL, rng.NextUInt64());
            Assert.Equal(0x6E789E6AA1B965F4UL, rng.NextUInt64());
            Assert.Equal(0x06C45D188009454FUL, rng.NextUInt64());
        }

        [Fact]
        public void DefaultExport_MatchesGoldenHash()
        {
            // A tripwire for accidental changes (or a runtime-dependent sequence). If the generator is
            // changed on purpose, replace the expected value with the one reported here.
            using var dir = new TempDir();
            SampleOrgGenerator.Generate(new SampleOrgOptions()).WriteExport(dir.Path);
            var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(HashFolder(dir.Path))));
            Assert.True(hash == GoldenHash, "The default export changed; its hash is now " + hash);
        }

        private const string GoldenHash = "94DFA15C34766959D2375CBBDDBC87C47C3C3D11E3E7AF294929ADAB6FCF92F8";

        [Fact]
        public void DifferentSeed_WritesDifferentBytes()
        {
            using var a = new TempDir();
            using var b = new TempDir();
            Generate(seed: 1).WriteExport(a.Path);
            Generate(seed: 2).WriteExport(b.Path);
            Assert.NotEqual(HashFolder(a.Path), HashFolder(b.Path));
            Assert.NotEqual(File.ReadAllBytes(System.IO.Path.Combine(a.Path, ExportFiles.User)),
                            File.ReadAllBytes(System.IO.Path.Combine(b.Path, ExportFiles.User)));
        }

        [Fact]
        public void Start_ShiftsDates_AndCultureDoesNotMatter()
        {
            var saved = CultureInfo.CurrentCulture;
            try
            {
                CultureInfo.CurrentCulture = new CultureInfo("ar-SA");
                var org = SampleOrgGenerator.Generate(new SampleOrgOptions { Start = new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.FromHours(2)) });
                CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
                var org2 = SampleOrgGenerator.Generate(new SampleOrgOptions { Start = new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.FromHours(2)) });
                Assert.Equal(org.FeedItems.Select(p => p.CreatedDate), org2.FeedItems.Select(p => p.CreatedDate));
                Assert.All(org.FeedItems, p => Assert.True(Date(p.CreatedDate) >= new DateTimeOffset(2025, 5, 31, 22, 0, 0, TimeSpan.Zero)));
                Assert.StartsWith("2025-", org.FeedItems[0].CreatedDate);
            }
            finally { CultureInfo.CurrentCulture = saved; }
        }

        // ---- the CSV format ------------------------------------------------------------------

        [Fact]
        public void Csv_ParsesBack_WithHeadersAndValues()
        {
            using var dir = new TempDir();
            var org = Generate();
            var summary = org.WriteExport(dir.Path);
            Assert.Equal(System.IO.Path.GetFullPath(dir.Path), summary.Path);

            void Check<T>(string file, List<T> rows)
            {
                var path = System.IO.Path.Combine(dir.Path, file);
                var bytes = File.ReadAllBytes(path);
                Assert.False(bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF, file + " has a BOM");
                var text = new UTF8Encoding(false, true).GetString(bytes);
                var header = string.Join(",", PropertyNames<T>()) + "\r\n";
                Assert.StartsWith(header, text);
                Assert.EndsWith("\r\n", text);
                var (headers, parsed) = ReadCsv(path);
                Assert.Equal(PropertyNames<T>(), headers);
                Assert.Equal(rows.Count, parsed.Count);
                for (var i = 0; i < rows.Count; i++) Assert.Equal(Values(rows[i]), parsed[i]);
            }

            Check(ExportFiles.User, org.Users);
            Check(ExportFiles.CollaborationGroup, org.Groups);
            Check(ExportFiles.CollaborationGroupMember, org.GroupMembers);
            Check(ExportFiles.FeedItem, org.FeedItems);
            Check(ExportFiles.FeedComment, org.FeedComments);
            Check(ExportFiles.FeedRevision, org.FeedRevisions);
            Check(ExportFiles.FeedAttachment, org.FeedAttachments);
            Check(ExportFiles.ContentVersion, org.ContentVersions);
            Check(ExportFiles.ChatterConversationMember, org.ConversationMembers);
            Check(ExportFiles.ChatterMessage, org.Messages);

            // Quoting really is exercised: quotes doubled, fields with newlines inside quotes.
            var feed = File.ReadAllText(System.IO.Path.Combine(dir.Path, ExportFiles.FeedItem));
            Assert.Contains("\"\"", feed);
            Assert.Contains("\n", feed.Replace("\r\n", ""));
        }

        [Fact]
        public void Summary_CountsItems()
        {
            using var dir = new TempDir();
            var org = Generate();
            var s = org.WriteExport(dir.Path);
            Assert.Equal(25, s.Users);
            Assert.Equal(5, s.Groups);
            Assert.Equal(200, s.Posts);
            Assert.Equal(org.FeedComments.Count, s.Comments);
            Assert.Equal(org.FeedRevisions.Count, s.Edits);
            Assert.Equal(org.FeedItems.Count(p => p.IsDeleted == "true") + org.FeedComments.Count(c => c.IsDeleted == "true"), s.Deletions);
            Assert.Equal(org.Messages.Count, s.PrivateMessages);
            Assert.Equal(org.ContentVersions.Count, s.Files);
            Assert.Equal(s.Posts + s.Comments + s.Edits + s.Deletions + s.PrivateMessages, s.Items);
            var written = Directory.GetFiles(System.IO.Path.Combine(dir.Path, ExportFiles.ContentVersionFolder)).Sum(f => new FileInfo(f).Length);
            Assert.Equal(written, s.FileBytes);
        }

        // ---- realism and coverage ------------------------------------------------------------

        private static string ExpectedSuffix(string id15)
        {
            const string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
            var sb = new StringBuilder();
            for (var chunk = 0; chunk < 3; chunk++)
            {
                var flags = 0;
                for (var j = 0; j < 5; j++) if (char.IsAsciiLetterUpper(id15[chunk * 5 + j])) flags |= 1 << j;
                sb.Append(chars[flags]);
            }
            return sb.ToString();
        }

        private static void AssertId(string id, string prefix)
        {
            Assert.Equal(18, id.Length);
            Assert.StartsWith(prefix, id);
            Assert.True(id.All(char.IsAsciiLetterOrDigit), id);
            Assert.Equal(ExpectedSuffix(id.Substring(0, 15)), id.Substring(15));
        }

        [Fact]
        public void Ids_HaveRightPrefixes_AndAreUnique()
        {
            var org = Generate();
            org.Users.ForEach(u => AssertId(u.Id, "005"));
            org.Groups.ForEach(g => AssertId(g.Id, "0F9"));
            org.FeedItems.ForEach(p => AssertId(p.Id, "0D5"));
            org.FeedComments.ForEach(c => AssertId(c.Id, "0D7"));
            org.FeedRevisions.ForEach(r => AssertId(r.Id, "0D6"));
            org.FeedAttachments.ForEach(a => AssertId(a.Id, "0D8"));
            org.ContentVersions.ForEach(v => { AssertId(v.Id, "068"); AssertId(v.ContentDocumentId, "069"); });
            org.ConversationMembers.ForEach(m => AssertId(m.ConversationId, "0J0"));
            org.Messages.ForEach(m => AssertId(m.Id, "0J1"));
            org.AccountIds.ForEach(a => AssertId(a, "001"));
            var all = org.Users.Select(u => u.Id).Concat(org.Groups.Select(g => g.Id)).Concat(org.FeedItems.Select(p => p.Id))
                .Concat(org.FeedComments.Select(c => c.Id)).Concat(org.FeedRevisions.Select(r => r.Id)).Concat(org.FeedAttachments.Select(a => a.Id))
                .Concat(org.ContentVersions.Select(v => v.Id)).Concat(org.Messages.Select(m => m.Id)).ToList();
            Assert.Equal(all.Count, all.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        }

        [Fact]
        public void Users_AreRealistic()
        {
            var org = Generate();
            Assert.Contains(org.Users, u => u.Email == "");
            Assert.Contains(org.Users, u => u.IsActive == "false");
            Assert.Contains(org.Users, u => u.Name == "Zoë Łukasiewicz");
            Assert.Contains(org.Users, u => u.Name == "李雷");
            Assert.Contains(org.Users, u => u.Name.Any(c => c > 127));
            Assert.All(org.Users, u =>
            {
                Assert.Matches("^[a-z0-9.\\-]+@contoso\\.com$", u.Username);
                Assert.True(u.Email == "" || u.Email == u.Username);
                Assert.True(u.IsActive == "true" || u.IsActive == "false");
            });
            Assert.Equal(org.Users.Count, org.Users.Select(u => u.Username).Distinct().Count());
            Assert.NotNull(org.AmbiguousName);
            Assert.Equal(2, org.Users.Count(u => u.Name == org.AmbiguousName));
            Assert.Contains(org.Users, u => u.Email == "zoe.lukasiewicz@contoso.com");
        }

        [Fact]
        public void Feed_CoversEveryPath()
        {
            var org = Generate();
            var users = org.Users.Select(u => u.Id).ToHashSet();
            var groups = org.Groups.Select(g => g.Id).ToHashSet();

            // Groups with members.
            Assert.All(org.Groups, g => Assert.Contains(org.GroupMembers, m => m.CollaborationGroupId == g.Id));
            Assert.All(org.GroupMembers, m => Assert.Contains(m.MemberId, users));

            // Feeds of all three kinds.
            Assert.Contains(org.FeedItems, p => users.Contains(p.ParentId));
            Assert.Contains(org.FeedItems, p => groups.Contains(p.ParentId));
            Assert.Contains(org.FeedItems, p => p.ParentId.StartsWith("001", StringComparison.Ordinal));
            Assert.All(org.FeedItems, p => Assert.Contains(p.CreatedById, users));

            // Types.
            Assert.Contains(org.FeedItems, p => p.Type == "TextPost");
            Assert.Contains(org.FeedItems, p => p.Type == "LinkPost" && p.LinkUrl.StartsWith("https://", StringComparison.Ordinal));
            Assert.Contains(org.FeedItems, p => p.Type == "QuestionPost" && p.Title != "");
            Assert.Contains(org.FeedItems, p => p.Type == "PollPost" && p.Title != "");
            var content = org.FeedItems.Where(p => p.Type == "ContentPost").ToList();
            var posts0 = org.FeedItems.ToDictionary(p => p.Id);
            Assert.NotEmpty(content);
            var versions = org.ContentVersions.Select(v => v.Id).ToHashSet();
            Assert.All(content, p =>
            {
                Assert.Contains(p.RelatedRecordId, versions);
                Assert.Contains(org.FeedAttachments, a => a.FeedEntityId == p.Id && a.Type == "Content" && a.RecordId == p.RelatedRecordId);
            });
            Assert.Contains(content, p => org.FeedAttachments.Count(a => a.FeedEntityId == p.Id && a.Type == "Content") > 1);
            Assert.Contains(org.FeedAttachments, a => a.Type == "Link" && a.Value.StartsWith("https://", StringComparison.Ordinal));
            Assert.Contains(org.FeedAttachments, a => a.Type == "InlineImage" && versions.Contains(a.RecordId)
                && posts0[a.FeedEntityId].IsRichText == "true"
                && posts0[a.FeedEntityId].Body.Contains("sfdc://" + org.ContentVersions.Single(v => v.Id == a.RecordId).ContentDocumentId));

            // Rich text, with hostile bits.
            var rich = org.FeedItems.Where(p => p.IsRichText == "true").ToList();
            Assert.Contains(rich, p => p.Body.Contains("<script>alert(1)</script>"));
            Assert.Contains(rich, p => p.Body.Contains("<p>") && p.Body.Contains("<b>"));
            Assert.Contains(rich, p => p.Body.Contains("<ul><li>") || p.Body.Contains("<a href="));
            Assert.Contains(org.FeedItems, p => p.Body.Contains("onclick=") || p.Body.Contains("onerror=") || p.Body.Contains("javascript:") || p.Body.Contains("<iframe") || p.Body.Contains("<style>"));

            // Awkward plain text.
            Assert.Contains(org.FeedItems, p => p.IsRichText == "false" && p.Body.Contains(',') && p.Body.Contains('"') && p.Body.Contains('\n'));
            Assert.All(org.FeedItems, p => Assert.True(p.Body.Length <= 10_000));

            // Mentions, the ambiguous one included, in posts and comments.
            var mentionable = org.Users.Select(u => "@" + u.Name).ToList();
            Assert.Contains(org.FeedItems, p => mentionable.Any(m => p.Body.Contains(m)));
            Assert.Contains(org.FeedItems, p => p.Body.Contains("@" + org.AmbiguousName));
            Assert.Contains(org.FeedComments, c => c.CommentBody.Contains("@" + org.AmbiguousName));

            // Comments: on existing posts, same ParentId, several authors, a file.
            var posts = org.FeedItems.ToDictionary(p => p.Id);
            Assert.NotEmpty(org.FeedComments);
            Assert.All(org.FeedComments, c =>
            {
                Assert.True(posts.TryGetValue(c.FeedItemId, out var post));
                Assert.Equal(post!.ParentId, c.ParentId);
                Assert.True(Date(c.CreatedDate) >= Date(post.CreatedDate));
            });
            Assert.True(org.FeedComments.Select(c => c.CreatedById).Distinct().Count() > 5);
            Assert.Contains(org.FeedComments, c => c.CommentType == "ContentComment" && versions.Contains(c.RelatedRecordId));
            Assert.All(org.FeedItems.GroupBy(p => p.Id), g => Assert.InRange(org.FeedComments.Count(c => c.FeedItemId == g.Key), 0, 4));

            // Edits: revisions 2 and 3, post fields in step.
            Assert.Contains(org.FeedRevisions, r => r.Revision == "2");
            Assert.Contains(org.FeedRevisions, r => r.Revision == "3");
            Assert.All(org.FeedRevisions.GroupBy(r => r.FeedEntityId), g =>
            {
                var post = posts[g.Key];
                var last = g.OrderBy(r => int.Parse(r.Revision, CultureInfo.InvariantCulture)).Last();
                Assert.Equal(post.Revision, last.Revision);
                Assert.Equal(post.Body, last.Value);
                Assert.Equal(post.LastEditDate, last.CreatedDate);
                Assert.Equal(post.CreatedById, post.LastEditById);
                Assert.Equal(post.IsRichText, last.IsValueRichText);
            });
            var edited = org.FeedItems.Count(p => p.Revision != "1");
            Assert.InRange(edited, 5, 60);

            // Deletions of posts and comments.
            Assert.Contains(org.FeedItems, p => p.IsDeleted == "true");
            Assert.Contains(org.FeedComments, c => c.IsDeleted == "true");
        }

        [Fact]
        public void Dates_AreSpreadAndConsistent_WithTies()
        {
            var org = Generate();
            var start = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
            var created = org.FeedItems.Select(p => Date(p.CreatedDate)).ToList();
            Assert.All(created, d => Assert.InRange(d, start, start.AddDays(121)));
            Assert.True(created.Max() - created.Min() > TimeSpan.FromDays(60));
            Assert.All(org.FeedItems, p => Assert.True(Date(p.SystemModstamp) >= Date(p.CreatedDate)));
            Assert.All(org.FeedComments, c => Assert.True(Date(c.SystemModstamp) >= Date(c.CreatedDate)));
            Assert.All(org.FeedRevisions, r => Assert.Equal(r.CreatedDate, r.SystemModstamp));
            Assert.All(org.FeedItems.Where(p => p.IsDeleted == "true"), p => Assert.True(Date(p.SystemModstamp) > Date(p.CreatedDate)));
            Assert.Contains(org.FeedItems.GroupBy(p => p.SystemModstamp), g => g.Count() > 1);
            Assert.Contains(org.FeedComments.GroupBy(c => c.SystemModstamp), g => g.Count() > 1);
            Assert.All(org.Messages, m => Date(m.SentDate));
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$", org.FeedItems[0].CreatedDate);
        }

        [Fact]
        public void Conversations_HaveMembersAndMessages()
        {
            var org = Generate();
            var conversations = org.ConversationMembers.GroupBy(m => m.ConversationId).ToList();
            Assert.InRange(conversations.Count, 10, 14);
            Assert.All(conversations, c =>
            {
                Assert.InRange(c.Count(), 2, 4);
                Assert.Equal(c.Count(), c.Select(m => m.MemberId).Distinct().Count());
                var messages = org.Messages.Where(m => m.ConversationId == c.Key).ToList();
                Assert.InRange(messages.Count, 1, 6);
                Assert.All(messages, m => Assert.Contains(c, member => member.MemberId == m.SenderId));
            });
        }

        [Fact]
        public void Files_HaveRightSizesAndChecksums_AndOneIsMissing()
        {
            using var dir = new TempDir();
            var org = Generate();
            org.WriteExport(dir.Path);
            var folder = System.IO.Path.Combine(dir.Path, ExportFiles.ContentVersionFolder);

            Assert.NotNull(org.MissingFileId);
            Assert.Contains(org.ContentVersions, v => v.Id == org.MissingFileId);
            Assert.False(File.Exists(System.IO.Path.Combine(folder, org.MissingFileId!)));
            Assert.Contains(org.FeedAttachments, a => a.RecordId == org.MissingFileId);

            foreach (var v in org.ContentVersions.Where(v => v.Id != org.MissingFileId))
            {
                var path = System.IO.Path.Combine(folder, v.Id);
                Assert.True(File.Exists(path), v.Id);
                Assert.Equal(long.Parse(v.ContentSize, CultureInfo.InvariantCulture), new FileInfo(path).Length);
                Assert.Equal(v.Checksum, Md5Hex(path));
            }
            Assert.Equal(org.ContentVersions.Count - 1, Directory.GetFiles(folder).Length);

            var names = org.ContentVersions.Select(v => v.PathOnClient).ToList();
            foreach (var ext in new[] { "txt", "pdf", "png", "docx", "csv" })
                Assert.Contains(org.ContentVersions, v => v.FileExtension == ext);
            Assert.Contains("../../evil.txt", names);
            Assert.Contains("a:b?.txt", names);
            Assert.Contains("李雷的笔记.txt", names);
            Assert.Contains("README", names);
            Assert.Contains(names, n => n.Any(c => c > 127));
            Assert.Contains(org.ContentVersions, v => v.ContentSize == "0");
            Assert.Contains(org.ContentVersions, v => long.Parse(v.ContentSize, CultureInfo.InvariantCulture) > 1_000_000);
            Assert.All(org.ContentVersions, v => Assert.InRange(long.Parse(v.ContentSize, CultureInfo.InvariantCulture), 0, 2_100_000));
            Assert.Contains(org.ContentVersions, v => v.Checksum == "d41d8cd98f00b204e9800998ecf8427e"); // MD5 of nothing

            var pdf = org.ContentVersions.First(v => v.FileExtension == "pdf" && v.Id != org.MissingFileId && v.ContentSize != "0");
            Assert.StartsWith("%PDF-", Encoding.ASCII.GetString(File.ReadAllBytes(System.IO.Path.Combine(folder, pdf.Id)), 0, 5));
        }

        [Fact]
        public void SmallOrgs_Work()
        {
            using var dir = new TempDir();
            var tiny = SampleOrgGenerator.Generate(new SampleOrgOptions { Users = 1, Posts = 0 });
            var s = tiny.WriteExport(dir.Path);
            Assert.Equal(1, s.Users);
            Assert.Equal(1, s.Groups);
            Assert.Equal(0, s.Items);
            Assert.Null(tiny.MissingFileId);
            Assert.Null(tiny.AmbiguousName);
            var (headers, rows) = ReadCsv(System.IO.Path.Combine(dir.Path, ExportFiles.FeedItem));
            Assert.Equal(PropertyNames<FeedItemRow>(), headers);
            Assert.Empty(rows);

            for (var users = 1; users <= 12; users++)
            {
                var org = SampleOrgGenerator.Generate(new SampleOrgOptions { Users = users, Posts = 15, Seed = users });
                Assert.Equal(15, org.FeedItems.Count);
                Assert.Equal(Math.Max(1, users / 5), org.Groups.Count);
            }
            Assert.Throws<ArgumentOutOfRangeException>(() => SampleOrgGenerator.Generate(new SampleOrgOptions { Users = 0 }));
            Assert.Throws<ArgumentOutOfRangeException>(() => SampleOrgGenerator.Generate(new SampleOrgOptions { Posts = -1 }));
        }

        // ---- mutations -----------------------------------------------------------------------

        [Fact]
        public void Mutations_BumpSystemModstamp_AndLaterExportIsSuperset()
        {
            using var first = new TempDir();
            using var second = new TempDir();
            var org = Generate();
            org.WriteExport(first.Path);
            var watermark = org.LatestTimestamp();
            var t = watermark.AddHours(1);

            var live = org.FeedItems.Where(p => p.IsDeleted == "false" && p.Type == "TextPost").ToList();
            var target = live[0];
            var oldRevision = int.Parse(target.Revision, CultureInfo.InvariantCulture);
            var author = org.Users[2].Id;

            var commentId = org.AddComment(target.Id, author, "Late comment, with \"quotes\"\nand a newline", t);
            var revisionId = org.EditPost(target.Id, "Edited body", t.AddMinutes(1));
            var deletedId = org.DeletePost(live[1].Id, t.AddMinutes(2));
            var postId = org.AddPost(org.Groups[0].Id, author, "New post with a file", t.AddMinutes(3), fileName: "late report.pdf", fileSize: 70_000);
            var conversationId = org.ConversationMembers[0].ConversationId;
            var messageId = org.AddPrivateMessage(conversationId, org.ConversationMembers[0].MemberId, "Late message", t.AddMinutes(4));
            var newConversation = org.AddConversation(org.Users[0].Id, org.Users[1].Id);
            var message2 = org.AddPrivateMessage(newConversation, org.Users[1].Id, "Hi", t.AddMinutes(5));
            var commentDeleted = org.DeleteComment(org.FeedComments.First(c => c.IsDeleted == "false" && c.Id != commentId).Id, t.AddMinutes(6));

            AssertId(commentId, "0D7");
            AssertId(revisionId, "0D6");
            Assert.Equal(live[1].Id, deletedId);
            AssertId(postId, "0D5");
            AssertId(messageId, "0J1");
            AssertId(newConversation, "0J0");

            var comment = org.FeedComments.Single(c => c.Id == commentId);
            Assert.Equal(target.ParentId, comment.ParentId);
            Assert.True(Date(comment.SystemModstamp) > watermark);

            Assert.Equal((oldRevision + 1).ToString(CultureInfo.InvariantCulture), target.Revision);
            Assert.Equal("Edited body", target.Body);
            Assert.True(Date(target.SystemModstamp) > watermark);
            Assert.Equal(target.SystemModstamp, target.LastEditDate);
            var revision = org.FeedRevisions.Single(r => r.Id == revisionId);
            Assert.Equal(target.Revision, revision.Revision);
            Assert.Equal("Edited body", revision.Value);
            Assert.Equal(target.Id, revision.FeedEntityId);

            Assert.Equal("true", live[1].IsDeleted);
            Assert.True(Date(live[1].SystemModstamp) > watermark);
            Assert.Equal("true", org.FeedComments.Single(c => c.Id == commentDeleted).IsDeleted);

            var post = org.FeedItems.Single(p => p.Id == postId);
            Assert.Equal("ContentPost", post.Type);
            Assert.True(Date(post.SystemModstamp) > watermark);

            // Changes must move forward in time; unknown ids are refused.
            Assert.Throws<ArgumentOutOfRangeException>(() => org.EditPost(live[2].Id, "x", watermark.AddYears(-1)));
            Assert.Throws<ArgumentException>(() => org.AddComment("0D5000000000000AAA", author, "x", t));
            Assert.Throws<InvalidOperationException>(() => org.EditPost(live[1].Id, "x", t.AddDays(1)));

            var summary = org.WriteExport(second.Path);
            var changedAfter = org.LatestTimestamp();
            Assert.True(changedAfter > watermark);

            // Superset: every id of the first export is in the second; changed rows have newer stamps.
            foreach (var file in new[] { ExportFiles.User, ExportFiles.FeedItem, ExportFiles.FeedComment, ExportFiles.FeedRevision,
                                         ExportFiles.FeedAttachment, ExportFiles.ContentVersion, ExportFiles.ChatterMessage })
            {
                var before = ReadCsv(System.IO.Path.Combine(first.Path, file));
                var after = ReadCsv(System.IO.Path.Combine(second.Path, file));
                Assert.Equal(before.Headers, after.Headers);
                var afterById = after.Rows.ToDictionary(r => r[0]);
                Assert.All(before.Rows, r => Assert.True(afterById.ContainsKey(r[0]), $"{file}: {r[0]} missing"));
                var stamp = Array.IndexOf(after.Headers, "SystemModstamp");
                if (stamp >= 0)
                {
                    foreach (var r in before.Rows)
                    {
                        var a = afterById[r[0]];
                        if (!r.SequenceEqual(a)) Assert.True(Date(a[stamp]) > watermark, $"{file}: {r[0]} changed without a newer SystemModstamp");
                    }
                }
                Assert.True(after.Rows.Count >= before.Rows.Count);
            }
            var newVersion = org.ContentVersions.Single(v => v.Id == post.RelatedRecordId);
            var newPath = System.IO.Path.Combine(second.Path, ExportFiles.ContentVersionFolder, newVersion.Id);
            Assert.Equal(70_000, new FileInfo(newPath).Length);
            Assert.Equal(newVersion.Checksum, Md5Hex(newPath));
            Assert.Equal("late report", newVersion.Title);
            Assert.Equal(2, summary.PrivateMessages - Generate().Messages.Count);
            Assert.Contains(org.Messages, m => m.Id == message2);

            // Mutations are deterministic too.
            var again = Generate();
            again.AddComment(target.Id, author, "Late comment, with \"quotes\"\nand a newline", t);
            Assert.Equal(commentId, again.FeedComments.Last().Id);
        }
    }
}
