using System;
using System.Collections.Generic;
using System.Globalization;

namespace ChatterConnector.Engine.Sources.Sample
{
    /// <summary>
    /// Builds a realistic, fully deterministic Salesforce org from a seed: users (non-ASCII names, some
    /// without email, some inactive, two sharing a name), groups, posts on user/group/record feeds of
    /// every type, rich text (with hostile markup), comments, @mentions, edits, deletions, private
    /// conversations and files of many sizes and types.
    /// </summary>
    public static class SampleOrgGenerator
    {
        public static SampleOrg Generate(SampleOrgOptions options)
        {
            if (options == null) throw new ArgumentNullException(nameof(options));
            if (options.Users < 1) throw new ArgumentOutOfRangeException(nameof(options), options.Users, "Users must be at least 1.");
            if (options.Posts < 0) throw new ArgumentOutOfRangeException(nameof(options), options.Posts, "Posts must not be negative.");
            return new Run(options).Build();
        }

        private enum Feed { User, Group, Record }

        private sealed class PostPlan
        {
            public Feed Feed;
            public string Type = "TextPost";
            public bool Rich;
            public bool Hostile;
            public bool Tricky;
            public int Mention; // 0 none, 1 someone, 2 the ambiguous name
            public int Files;
            public int Comments;
            public int Edits;
            public bool Deleted;
            public bool Tie;
            public bool OwnFeedOfFirstUser;
        }

        // The first posts are fixed so that even a small org has every feature.
        private static PostPlan[] ForcedPlans() => new[]
        {
            new PostPlan { Feed = Feed.User, Tricky = true, Comments = 4, Edits = 2, OwnFeedOfFirstUser = true },
            new PostPlan { Feed = Feed.Group, Type = "LinkPost", Comments = 1, Edits = 1 },
            new PostPlan { Feed = Feed.Record, Type = "ContentPost", Files = 3, Comments = 2 },
            new PostPlan { Feed = Feed.Group, Rich = true, Hostile = true, Comments = 1 },
            new PostPlan { Feed = Feed.User, Type = "QuestionPost", Comments = 2 },
            new PostPlan { Feed = Feed.Group, Type = "PollPost", Comments = 0 },
            new PostPlan { Feed = Feed.User, Mention = 2, Comments = 1 },
            new PostPlan { Feed = Feed.Group, Type = "ContentPost", Files = 4, Comments = 0, Tie = true },
            new PostPlan { Feed = Feed.Record, Rich = true, Mention = 1, Deleted = true, Comments = 1 },
            new PostPlan { Feed = Feed.User, Type = "ContentPost", Files = 1, Comments = 1 },
            new PostPlan { Feed = Feed.Group, Type = "ContentPost", Files = 2, Comments = 2 },
            new PostPlan { Feed = Feed.Group, Tricky = true, Comments = 3, Edits = 1 },
        };

        private static readonly (string Name, long Size)[] SpecialFiles =
        {
            ("Q1 report, \"final\".pdf", 180_000),
            ("Résumé – Zoë Łukasiewicz.docx", 40_000),
            ("../../evil.txt", 1_000),
            ("empty.txt", 0),
            ("a:b?.txt", 123),
            ("site-photo.png", 1_600_000),
            ("scan 2024-03.pdf", 2_000_000),
            ("data export.csv", 20_000),
            ("李雷的笔记.txt", 3_000),
            ("README", 500),
        };

        private static readonly string[] OddFileNames =
        {
            "Präsentation für Zoë", "見積書", "Plan (v2) – draft", "notes; misc", "budget 50% off", "Ångström data",
        };

        private const long SpanMs = 120L * 24 * 3600 * 1000;

        private sealed class Run
        {
            private readonly SampleOrgOptions _o;
            private readonly SampleOrg _org;
            private readonly DateTimeOffset _start;
            private readonly SampleRandom _userRng, _groupRng, _postRng, _convRng, _fileRng;
            private readonly List<string> _userIds = new List<string>();
            private readonly List<string> _userNames = new List<string>();
            private readonly List<List<int>> _groupMembers = new List<List<int>>();
            private int _fileCount;
            private int _imageCount;

            public Run(SampleOrgOptions o)
            {
                _o = o;
                var seed = o.Seed;
                var idRng = SampleRandom.For(seed, 0);
                var offset = (long)(idRng.NextUInt64() % 3_521_614_606_208UL); // 62^7: ids differ per seed
                _org = new SampleOrg(seed, new SampleIds(offset), SampleRandom.For(seed, 6));
                _userRng = SampleRandom.For(seed, 1);
                _groupRng = SampleRandom.For(seed, 2);
                _postRng = SampleRandom.For(seed, 3);
                _convRng = SampleRandom.For(seed, 4);
                _fileRng = SampleRandom.For(seed, 5);
                _start = o.Start.ToUniversalTime();
            }

            public SampleOrg Build()
            {
                BuildUsers();
                BuildGroups();
                var accounts = Math.Max(3, _o.Users / 20);
                for (var i = 0; i < accounts; i++) _org.AccountIds.Add(_org.Ids.Next(SampleIds.Account));
                BuildPosts();
                BuildConversations();
                return _org;
            }

            private void BuildUsers()
            {
                var rng = _userRng;
                var locals = new HashSet<string>(StringComparer.Ordinal);
                for (var i = 0; i < _o.Users; i++)
                {
                    string name, ascii;
                    switch (i)
                    {
                        case 0: name = "Zoë Łukasiewicz"; ascii = "zoe.lukasiewicz"; break;
                        case 1: name = "José Núñez"; ascii = "jose.nunez"; break;
                        case 2: name = "Søren Kierkegaard"; ascii = "soren.kierkegaard"; break;
                        case 3: name = "李雷"; ascii = "li.lei"; break;
                        case 9: name = "José Núñez"; ascii = "jose.nunez"; break; // the ambiguous @mention
                        default:
                            if (rng.Chance(70))
                            {
                                (name, ascii) = rng.Pick(SampleText.WholeNames);
                            }
                            else
                            {
                                var first = rng.Pick(SampleText.FirstNames);
                                var last = rng.Pick(SampleText.LastNames);
                                name = first.Name + " " + last.Name;
                                ascii = first.Ascii + "." + last.Ascii;
                            }
                            break;
                    }
                    var local = ascii;
                    for (var n = 2; !locals.Add(local); n++) local = ascii + n.ToString(CultureInfo.InvariantCulture);
                    var noEmail = i == 3 || (i > 4 && rng.Chance(50));
                    var inactive = i == 4 || (i > 4 && rng.Chance(100));
                    var id = _org.Ids.Next(SampleIds.User);
                    _org.Users.Add(new UserRow
                    {
                        Id = id,
                        Name = name,
                        Username = local + "@contoso.com",
                        Email = noEmail ? "" : local + "@contoso.com",
                        IsActive = SampleOrg.Bool(!inactive),
                    });
                    _userIds.Add(id);
                    _userNames.Add(name);
                }
                if (_o.Users >= 10) _org.AmbiguousName = _userNames[1];
            }

            private void BuildGroups()
            {
                var rng = _groupRng;
                var count = Math.Max(1, _o.Users / 5);
                for (var g = 0; g < count; g++)
                {
                    var name = g < SampleText.GroupNames.Length
                        ? SampleText.GroupNames[g]
                        : "Project " + Capitalize(rng.Pick(SampleText.Words)) + " " + (g + 1).ToString(CultureInfo.InvariantCulture);
                    var id = _org.Ids.Next(SampleIds.Group);
                    _org.Groups.Add(new CollaborationGroupRow { Id = id, Name = name });
                    List<int> members;
                    if (g == 0)
                    {
                        members = new List<int>(_o.Users);
                        for (var u = 0; u < _o.Users; u++) members.Add(u);
                    }
                    else
                    {
                        members = Distinct(rng, Math.Min(_o.Users, 2), Math.Min(_o.Users, 12), _o.Users);
                    }
                    foreach (var m in members)
                        _org.GroupMembers.Add(new CollaborationGroupMemberRow { CollaborationGroupId = id, MemberId = _userIds[m] });
                    _groupMembers.Add(members);
                }
            }

            private void BuildPosts()
            {
                var rng = _postRng;
                var forced = ForcedPlans();
                var posts = _o.Posts;
                var slot = posts == 0 ? SpanMs : Math.Max(1, SpanMs / posts);
                var previous = _start;
                var linkCounter = 0;
                for (var i = 0; i < posts; i++)
                {
                    var plan = i < forced.Length ? forced[i] : RandomPlan(rng);
                    var created = plan.Tie && i > 0 ? previous : _start.AddTicks((i * slot + rng.NextLong(slot)) * TimeSpan.TicksPerMillisecond);
                    previous = created;

                    // Where and by whom.
                    string parentId;
                    int author;
                    List<int>? members = null;
                    switch (plan.Feed)
                    {
                        case Feed.Group:
                            var g = rng.Next(_org.Groups.Count);
                            members = _groupMembers[g];
                            parentId = _org.Groups[g].Id;
                            author = rng.Pick(members);
                            break;
                        case Feed.Record:
                            parentId = rng.Pick(_org.AccountIds);
                            author = rng.Next(_o.Users);
                            break;
                        default:
                            author = plan.OwnFeedOfFirstUser ? 0 : rng.Next(_o.Users);
                            parentId = plan.OwnFeedOfFirstUser || rng.Chance(500) ? _userIds[author] : _userIds[rng.Next(_o.Users)];
                            break;
                    }

                    var mention = MentionName(rng, plan.Mention);
                    var post = new FeedItemRow
                    {
                        Id = _org.Ids.Next(SampleIds.FeedItem),
                        ParentId = parentId,
                        Type = plan.Type,
                        IsRichText = SampleOrg.Bool(plan.Rich),
                        CreatedById = _userIds[author],
                        CreatedDate = SalesforceDate.Format(created),
                        SystemModstamp = SalesforceDate.Format(created),
                    };
                    post.Body = plan.Rich ? SampleText.RichBody(rng, mention, plan.Hostile) : SampleText.PlainBody(rng, mention, plan.Tricky);
                    switch (plan.Type)
                    {
                        case "LinkPost":
                            linkCounter++;
                            post.LinkUrl = linkCounter % 7 == 3
                                ? "https://例え.テスト/ニュース?id=" + linkCounter.ToString(CultureInfo.InvariantCulture)
                                : "https://www.contoso.com/news/2024/item-" + linkCounter.ToString(CultureInfo.InvariantCulture) + "?utm_source=chatter&tags=a,b";
                            post.Title = "Contoso News – item " + linkCounter.ToString(CultureInfo.InvariantCulture);
                            if (rng.Chance(100)) post.Body = "";
                            _org.FeedAttachments.Add(new FeedAttachmentRow
                            {
                                Id = _org.Ids.Next(SampleIds.FeedAttachment),
                                FeedEntityId = post.Id,
                                Type = "Link",
                                Title = post.Title,
                                Value = post.LinkUrl,
                            });
                            break;
                        case "QuestionPost":
                            post.Title = "How do we handle the " + rng.Pick(SampleText.Words) + " " + rng.Pick(SampleText.Words) + ", \"officially\"?";
                            break;
                        case "PollPost":
                            post.Title = "Poll: where should the " + rng.Pick(SampleText.Words) + " happen?";
                            post.Body = "Vote below: café, canteen, or \"the usual place\"?";
                            break;
                        case "ContentPost":
                            if (rng.Chance(200)) post.Body = "";
                            break;
                    }
                    _org.AddPostRow(post);
                    for (var f = 0; f < plan.Files; f++)
                    {
                        var version = NewFile();
                        if (f == 0) post.RelatedRecordId = version.Id;
                        _org.AttachContent(post.Id, version);
                        if (i == 9 && posts >= 50 && f == 0) _org.MissingFileId = version.Id;
                    }

                    if (plan.Rich && (i == 8 || rng.Chance(80))) AddInlineImage(post);

                    BuildComments(rng, post, created, plan, members, i == 0);

                    // Edits, then perhaps a deletion, each later than the last change.
                    var last = created;
                    for (var e = 0; e < plan.Edits; e++)
                    {
                        last = last.AddTicks(rng.BetweenLong(60_000, 2L * 24 * 3600 * 1000) * TimeSpan.TicksPerMillisecond);
                        var sentence = SampleText.Sentence(rng);
                        var body = post.Body.Length > 9000 ? "" : post.Body;
                        var newBody = plan.Rich
                            ? body + "<p><i>Edit:</i> " + SampleText.Html(sentence) + "</p>"
                            : body + (body.Length == 0 ? "" : "\n\n") + "(edit) " + sentence;
                        _org.ApplyEdit(post, newBody, last);
                    }
                    if (plan.Deleted)
                    {
                        var when = DeletionTime(rng, last);
                        post.IsDeleted = "true";
                        post.SystemModstamp = SalesforceDate.Format(when);
                    }
                }
            }

            private PostPlan RandomPlan(SampleRandom rng)
            {
                var plan = new PostPlan();
                var f = rng.Next(100);
                plan.Feed = f < 35 ? Feed.User : f < 80 ? Feed.Group : Feed.Record;
                var t = rng.Next(100);
                plan.Type = t < 60 ? "TextPost" : t < 72 ? "LinkPost" : t < 84 ? "ContentPost" : t < 92 ? "QuestionPost" : t < 96 ? "PollPost" : "TextPost";
                plan.Rich = (plan.Type == "TextPost" || plan.Type == "QuestionPost") && rng.Chance(250);
                plan.Hostile = plan.Rich && rng.Chance(120);
                plan.Mention = rng.Chance(100) ? (rng.Chance(150) ? 2 : 1) : 0;
                plan.Files = plan.Type == "ContentPost" ? (rng.Chance(150) ? rng.Between(2, 3) : 1) : 0;
                plan.Comments = rng.Next(5);
                plan.Edits = plan.Type == "TextPost" || plan.Type == "LinkPost" || plan.Type == "QuestionPost"
                    ? (rng.Chance(120) ? (rng.Chance(300) ? 2 : 1) : 0) : 0;
                plan.Deleted = rng.Chance(30);
                plan.Tie = rng.Chance(40);
                return plan;
            }

            private void BuildComments(SampleRandom rng, FeedItemRow post, DateTimeOffset created, PostPlan plan, List<int>? members, bool forced)
            {
                var t = created;
                for (var j = 0; j < plan.Comments; j++)
                {
                    var tie = forced ? j == 3 : j > 0 && rng.Chance(30);
                    if (!tie) t = t.AddTicks(CommentDelayMs(rng) * TimeSpan.TicksPerMillisecond);
                    var author = members != null && rng.Chance(800) ? rng.Pick(members) : rng.Next(_o.Users);
                    var mentionKind = forced ? (j == 0 ? 2 : 0) : rng.Chance(80) ? (rng.Chance(150) ? 2 : 1) : 0;
                    var content = forced ? j == 1 : rng.Chance(30);
                    var rich = forced ? j == 3 : rng.Chance(100);
                    var deleted = forced ? j == 2 : rng.Chance(20);
                    var stamp = SalesforceDate.Format(t);
                    var comment = new FeedCommentRow
                    {
                        Id = _org.Ids.Next(SampleIds.FeedComment),
                        FeedItemId = post.Id,
                        ParentId = post.ParentId,
                        CommentBody = SampleText.CommentBody(rng, MentionName(rng, mentionKind), rich),
                        CommentType = content ? "ContentComment" : "TextComment",
                        IsRichText = SampleOrg.Bool(rich),
                        CreatedById = _userIds[author],
                        CreatedDate = stamp,
                        SystemModstamp = stamp,
                    };
                    if (content)
                    {
                        if (rng.Chance(300)) comment.CommentBody = "";
                        comment.RelatedRecordId = NewFile().Id;
                    }
                    if (deleted)
                    {
                        comment.IsDeleted = "true";
                        comment.SystemModstamp = SalesforceDate.Format(DeletionTime(rng, t));
                    }
                    _org.AddCommentRow(comment);
                }
            }

            private void BuildConversations()
            {
                if (_o.Users < 2) return;
                var rng = _convRng;
                var count = Math.Max(1, _o.Users / 2);
                for (var c = 0; c < count; c++)
                {
                    var members = c == 0
                        ? new List<int> { 0, 3 < _o.Users ? 3 : 1 }
                        : Distinct(rng, 2, Math.Min(4, _o.Users), _o.Users);
                    var id = _org.Ids.Next(SampleIds.Conversation);
                    foreach (var m in members)
                        _org.ConversationMembers.Add(new ChatterConversationMemberRow { ConversationId = id, MemberId = _userIds[m] });
                    var t = _start.AddTicks(rng.NextLong(SpanMs) * TimeSpan.TicksPerMillisecond);
                    var messages = rng.Between(1, 6);
                    for (var k = 0; k < messages; k++)
                    {
                        t = t.AddTicks(rng.BetweenLong(10_000, 24L * 3600 * 1000) * TimeSpan.TicksPerMillisecond);
                        _org.Messages.Add(new ChatterMessageRow
                        {
                            Id = _org.Ids.Next(SampleIds.ChatterMessage),
                            ConversationId = id,
                            SenderId = _userIds[rng.Pick(members)],
                            Body = SampleText.MessageBody(rng),
                            SentDate = SalesforceDate.Format(t),
                        });
                    }
                }
            }

            private ContentVersionRow NewFile()
            {
                var rng = _fileRng;
                var index = _fileCount++;
                string name;
                long size;
                if (index < SpecialFiles.Length)
                {
                    (name, size) = SpecialFiles[index];
                }
                else
                {
                    var ext = rng.Pick(SampleText.Extensions);
                    var stem = rng.Chance(80)
                        ? rng.Pick(OddFileNames)
                        : Capitalize(rng.Pick(SampleText.Words)) + " " + rng.Pick(SampleText.Words);
                    name = stem + " " + index.ToString(CultureInfo.InvariantCulture) + "." + ext;
                    var r = rng.Next(1000);
                    size = r < 20 ? 0
                        : r < 520 ? rng.BetweenLong(1, 4096)
                        : r < 920 ? rng.BetweenLong(4097, 32_768)
                        : rng.BetweenLong(32_769, 300_000);
                }
                return _org.NewFile(name, size, rng.NextUInt64());
            }

            /// <summary>
            /// An image pasted into a rich-text body: <c>&lt;img src="sfdc://069…"&gt;</c> in the body and a
            /// FeedAttachment of Type InlineImage whose RecordId is the ContentVersion.
            /// </summary>
            private void AddInlineImage(FeedItemRow post)
            {
                var rng = _fileRng;
                var name = "image" + (++_imageCount).ToString(CultureInfo.InvariantCulture) + ".png";
                var version = _org.NewFile(name, rng.BetweenLong(200, 150_000), rng.NextUInt64());
                post.Body += "<p><img src=\"sfdc://" + version.ContentDocumentId + "\" alt=\"" + name + "\"></img></p>";
                _org.FeedAttachments.Add(new FeedAttachmentRow
                {
                    Id = _org.Ids.Next(SampleIds.FeedAttachment),
                    FeedEntityId = post.Id,
                    Type = "InlineImage",
                    RecordId = version.Id,
                    Title = version.Title,
                });
            }

            private string? MentionName(SampleRandom rng, int kind)
            {
                if (kind == 0) return null;
                if (kind == 2 && _org.AmbiguousName != null) return _org.AmbiguousName;
                return _userNames[rng.Next(_userNames.Count)];
            }

            private static long CommentDelayMs(SampleRandom rng)
            {
                var r = rng.Next(100);
                if (r < 60) return rng.BetweenLong(30_000, 3L * 3600 * 1000);
                if (r < 90) return rng.BetweenLong(3L * 3600 * 1000, 48L * 3600 * 1000);
                return rng.BetweenLong(48L * 3600 * 1000, 20L * 24 * 3600 * 1000);
            }

            /// <summary>Some time after <paramref name="after"/>, on a whole hour: moderators delete in batches, so stamps tie.</summary>
            private DateTimeOffset DeletionTime(SampleRandom rng, DateTimeOffset after)
            {
                var t = after.AddTicks(rng.BetweenLong(60_000, 5L * 24 * 3600 * 1000) * TimeSpan.TicksPerMillisecond);
                var ticksIntoHour = (t - _start).Ticks % TimeSpan.TicksPerHour;
                return t.AddTicks(TimeSpan.TicksPerHour - ticksIntoHour);
            }

            private static List<int> Distinct(SampleRandom rng, int min, int max, int population)
            {
                var count = rng.Between(min, max);
                var seen = new HashSet<int>();
                var result = new List<int>(count);
                while (result.Count < count)
                {
                    var x = rng.Next(population);
                    if (seen.Add(x)) result.Add(x);
                }
                return result;
            }

            private static string Capitalize(string word) =>
                word.Length == 0 ? word : char.ToUpperInvariant(word[0]) + word.Substring(1);
        }
    }
}
