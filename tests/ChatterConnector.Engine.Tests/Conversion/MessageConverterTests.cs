using System.Security.Cryptography;
using System.Text;
using ChatterConnector.Engine.Conversion;
using ChatterConnector.Engine.Model;
using MimeKit;
using Xunit;

namespace ChatterConnector.Engine.Tests.Conversion;

public sealed class MessageConverterTests : IClassFixture<ConversionFixtures>
{
    private readonly ConversionFixtures fx;
    private readonly MessageConverter converter = new();

    public MessageConverterTests(ConversionFixtures fx) => this.fx = fx;

    private ChatterItem Item(string name) => name switch
    {
        "post" => fx.Post(),
        "post-richtext" => fx.RichPost(),
        "post-link" => fx.LinkPost(),
        "post-files" => fx.FilePost(),
        "comment" => ConversionFixtures.Comment(),
        "edit" => ConversionFixtures.Edit(2),
        "comment-edit" => ConversionFixtures.CommentEdit(),
        "delete" => ConversionFixtures.Delete(),
        "private-message" => ConversionFixtures.PrivateMessage(),
        _ => throw new ArgumentException(name),
    };

    public static TheoryData<string> Kinds => new()
    {
        "post", "post-richtext", "post-link", "post-files", "comment", "edit", "comment-edit", "delete", "private-message",
    };

    private static MimeMessage Parse(byte[] bytes) => MimeMessage.Load(new MemoryStream(bytes));

    [Theory]
    [MemberData(nameof(Kinds))]
    public void MatchesGolden(string name)
    {
        var bytes = converter.Convert(Item(name)).GetBytes();
        Golden.Check(name + ".eml", bytes);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ConvertingTwiceGivesTheSameBytes(string name)
    {
        var a = converter.Convert(Item(name));
        var b = new MessageConverter().Convert(Item(name));
        Assert.Equal(a.GetBytes(), b.GetBytes());
        Assert.Equal(a.GetBytes(), a.GetBytes()); // WriteTo is repeatable
        Assert.Equal(a.Sha256, b.Sha256);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void SizeAndSha256MatchTheBytes(string name)
    {
        var message = converter.Convert(Item(name));
        var bytes = message.GetBytes();
        Assert.Equal(bytes.LongLength, message.Size);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant(), message.Sha256);
        var streamed = new MemoryStream();
        message.WriteTo(streamed);
        Assert.Equal(bytes, streamed.ToArray());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void OutputIsCrLfOnlyAndAscii(string name)
    {
        var bytes = converter.Convert(Item(name)).GetBytes();
        for (int i = 0; i < bytes.Length; i++)
        {
            Assert.True(bytes[i] < 0x80, $"non-ASCII byte at {i}");
            if (bytes[i] == (byte)'\n') Assert.True(i > 0 && bytes[i - 1] == (byte)'\r', $"bare LF at {i}");
            if (bytes[i] == (byte)'\r') Assert.True(i + 1 < bytes.Length && bytes[i + 1] == (byte)'\n', $"bare CR at {i}");
        }
    }

    [Fact]
    public void HostileHtmlNeverAppears()
    {
        var message = converter.Convert(fx.RichPost());
        var bytes = message.GetBytes();
        var raw = Encoding.ASCII.GetString(bytes);
        var parsed = Parse(bytes);
        var html = parsed.HtmlBody!.Replace("\r\n", "\n");
        var text = parsed.TextBody!.Replace("\r\n", "\n");
        foreach (var s in new[] { raw, html, text })
        {
            Assert.DoesNotContain("<script", s, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("alert", s, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("onclick", s, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("onmouseover", s, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("onerror", s, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("javascript:", s, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("<iframe", s, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("color:red", s, StringComparison.OrdinalIgnoreCase);
        }
        Assert.Contains("<b>team</b>", html);
        Assert.Contains("<a href=\"https://example.com/plan\">the plan</a>", html);
        Assert.Contains("<li>one</li>", html);
        Assert.Contains("kept text", html);
        Assert.Contains("Hello team, see this and the plan <https://example.com/plan>.", text);
        Assert.Contains("- one\n- two", text);
        Assert.Contains("line 1\n  line 2", text);
    }

    [Fact]
    public void PlainTextPostIsEncodedNotInterpreted()
    {
        var item = fx.Post();
        item.Body = "a <b>bold</b> claim & <script>x</script>\nsecond line";
        var parsed = Parse(converter.Convert(item).GetBytes());
        Assert.Contains("a &lt;b&gt;bold&lt;/b&gt; claim &amp; &lt;script&gt;x&lt;/script&gt;<br>\nsecond line", parsed.HtmlBody!.Replace("\r\n", "\n"));
        Assert.Contains("a <b>bold</b> claim & <script>x</script>\nsecond line", parsed.TextBody!.Replace("\r\n", "\n"));
    }

    [Fact]
    public void AttachmentsRoundTripByteExact()
    {
        var message = converter.Convert(fx.FilePost());
        Assert.Equal(2, message.AttachmentCount);
        Assert.True(message.IsPartial);
        var warning = Assert.Single(message.Warnings);
        Assert.Equal("File 'budget.pdf' (068000000000003AAA) is listed but its bytes are missing", warning);

        var parsed = Parse(message.GetBytes());
        var parts = parsed.Attachments.OfType<MimePart>().ToList();
        Assert.Equal(2, parts.Count);
        Assert.Equal("Résumé été.txt", parts[0].FileName);
        Assert.Equal("text/plain", parts[0].ContentType.MimeType);
        Assert.Equal("passwd.bin", parts[1].FileName);
        Assert.Equal(ContentEncoding.Base64, parts[1].ContentTransferEncoding);
        Assert.Equal(ConversionFixtures.TextFileBytes, Decode(parts[0]));
        Assert.Equal(ConversionFixtures.BinaryFileBytes, Decode(parts[1]));
        Assert.Contains("budget.pdf (not attached: its bytes are missing)", parsed.TextBody);
        Assert.Contains("budget.pdf (not attached: its bytes are missing)", parsed.HtmlBody);
        Assert.IsType<MultipartAlternative>(((Multipart)parsed.Body!)[0]);
    }

    [Fact]
    public void AttachmentFilesAreNotHeldOpen()
    {
        var path = Path.Combine(fx.Folder, "held-open-check");
        File.WriteAllBytes(path, new byte[] { 1, 2, 3 });
        var item = fx.Post();
        item.Files.Add(new ChatterFile { Id = "068000000000009AAA", PathOnClient = "x.bin", ContentPath = path });
        var message = converter.Convert(item);
        message.GetBytes();
        // Exclusive open succeeds only if the converter closed the file.
        using (new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) { }
        File.Delete(path);
    }

    private static byte[] Decode(MimePart part)
    {
        var ms = new MemoryStream();
        part.Content!.DecodeTo(ms);
        return ms.ToArray();
    }

    [Theory]
    [InlineData("report.pdf", "report.pdf")]
    [InlineData("../../etc/passwd", "passwd")]
    [InlineData("C:\\Users\\ann\\Q1 <draft>: \"v2\"?.docx", "Q1 draft v2.docx")]
    [InlineData("...hidden", "hidden")]
    [InlineData("CON", "_CON")]
    [InlineData("nul.txt", "_nul.txt")]
    [InlineData("com1.log", "_com1.log")]
    [InlineData("console.log", "console.log")]
    [InlineData("a\u0000b\tc\u001f.txt", "abc.txt")]
    [InlineData("trailing. . ", "trailing")]
    [InlineData("日本語の資料.xlsx", "日本語の資料.xlsx")]
    [InlineData("dir/", null)]
    [InlineData("///", null)]
    [InlineData("..", null)]
    public void FileNamesAreSafe(string raw, string? expected)
    {
        Assert.Equal(expected, SafeFileName.Clean(raw));
    }

    [Fact]
    public void FileNameFallsBackToTitleThenId()
    {
        Assert.Equal("Plan.pdf", SafeFileName.For(new ChatterFile { Id = "068A", Title = "Plan", FileExtension = "pdf" }));
        Assert.Equal("Plan.pdf", SafeFileName.For(new ChatterFile { Id = "068A", Title = "Plan.pdf", FileExtension = "pdf" }));
        Assert.Equal("068A.bin", SafeFileName.For(new ChatterFile { Id = "068A", PathOnClient = "../", Title = "??" }));
        Assert.Equal("file.bin", SafeFileName.For(new ChatterFile { Id = "" }));
    }

    [Fact]
    public void LongFileNamesKeepTheirExtension()
    {
        var name = SafeFileName.Clean(new string('x', 300) + ".pdf")!;
        Assert.Equal(200, name.Length);
        Assert.EndsWith("x.pdf", name);
        var emoji = SafeFileName.Clean(new string('y', 195) + "😀😀😀😀😀😀.txt")!;
        Assert.True(emoji.Length <= 200);
        Assert.False(char.IsHighSurrogate(emoji[emoji.Length - 5]));
    }

    [Fact]
    public void MessageIdsDifferPerRevisionAndDeletion()
    {
        var ids = new[]
        {
            converter.Convert(fx.Post()).MessageId,
            converter.Convert(ConversionFixtures.Edit(2)).MessageId,
            converter.Convert(ConversionFixtures.Edit(3)).MessageId,
            converter.Convert(ConversionFixtures.Delete()).MessageId,
        };
        Assert.Equal(ids.Length, ids.Distinct().Count());
        Assert.Equal("0D5000000000001AAA@chatter.salesforce.com", ids[0]);
        Assert.Equal("0D5000000000001AAA.r2@chatter.salesforce.com", ids[1]);
        Assert.Equal("0D5000000000001AAA.deleted@chatter.salesforce.com", ids[3]);
    }

    [Fact]
    public void ThreadingHeaders()
    {
        var post = Parse(converter.Convert(fx.Post()).GetBytes());
        Assert.Null(post.InReplyTo);
        Assert.Empty(post.References);

        var comment = Parse(converter.Convert(ConversionFixtures.Comment()).GetBytes());
        Assert.Equal("0D5000000000001AAA@chatter.salesforce.com", comment.InReplyTo);
        Assert.Equal(new[] { "0D5000000000001AAA@chatter.salesforce.com" }, comment.References.ToArray());

        var edit = Parse(converter.Convert(ConversionFixtures.Edit(2)).GetBytes());
        Assert.Equal("0D5000000000001AAA@chatter.salesforce.com", edit.InReplyTo);

        var commentEdit = Parse(converter.Convert(ConversionFixtures.CommentEdit()).GetBytes());
        Assert.Equal(new[] { "0D5000000000001AAA@chatter.salesforce.com", "0D7000000000001AAA@chatter.salesforce.com" }, commentEdit.References.ToArray());

        var pm = Parse(converter.Convert(ConversionFixtures.PrivateMessage()).GetBytes());
        Assert.Equal("03M000000000001AAA@chatter.salesforce.com", pm.InReplyTo);
    }

    [Fact]
    public void HeadersAndAddresses()
    {
        var message = converter.Convert(ConversionFixtures.Comment());
        var parsed = Parse(message.GetBytes());
        Assert.Equal("Chatter comment by Bob on post in Sales Team: Thanks Ann, I'll read it tonight.", parsed.Subject);
        Assert.Equal(message.Subject, parsed.Subject);
        var from = Assert.IsType<MailboxAddress>(Assert.Single(parsed.From));
        Assert.Equal("005000000000002AAA@users.chatter.salesforce.com", from.Address);
        Assert.Equal(new[] { "ann.lee@example.com", "005000000000002AAA@users.chatter.salesforce.com" },
            parsed.To.Mailboxes.Select(m => m.Address).ToArray());
        Assert.Equal(ConversionFixtures.When.AddHours(1), parsed.Date);
        Assert.Equal("0D7000000000001AAA", parsed.Headers["X-Chatter-Id"]);
        Assert.Equal("Comment", parsed.Headers["X-Chatter-Action"]);
        Assert.Equal("1", parsed.Headers["X-Chatter-Revision"]);
        Assert.Equal("0F9000000000001AAA", parsed.Headers["X-Chatter-ParentId"]);
        Assert.Null(parsed.Headers["X-Chatter-Url"]);
        Assert.Null(parsed.Headers["X-Mailer"]);
        // new MimeMessage() adds a random Message-Id and a Date of now: the converter must replace both.
        Assert.Single(parsed.Headers, h => h.Id == HeaderId.MessageId);
        Assert.Single(parsed.Headers, h => h.Id == HeaderId.Date);
        Assert.Single(parsed.Headers, h => h.Id == HeaderId.MimeVersion);
    }

    [Fact]
    public void Subjects()
    {
        Assert.Equal("Chatter post by Ann Lee in Sales Team: Welcome to the new quarter, everyone! Please read…", converter.Convert(fx.Post()).Subject);
        Assert.Equal("Chatter post edited by Ann Lee (revision 2): Welcome to the new quarter, everyone! (updated plan…", converter.Convert(ConversionFixtures.Edit(2)).Subject);
        Assert.StartsWith("Chatter post deleted: ", converter.Convert(ConversionFixtures.Delete()).Subject);
        Assert.StartsWith("Chatter comment edited by Bob (revision 2): ", converter.Convert(ConversionFixtures.CommentEdit()).Subject);
        Assert.StartsWith("Chatter private message from Chloé Dupont: Salut Bob", converter.Convert(ConversionFixtures.PrivateMessage()).Subject);
        var noParent = fx.Post();
        noParent.ParentName = null;
        noParent.Body = "Short";
        Assert.Equal("Chatter post by Ann Lee: Short", converter.Convert(noParent).Subject);
        var longWord = fx.Post();
        longWord.Body = new string('w', 100);
        Assert.Equal("Chatter post by Ann Lee in Sales Team: " + new string('w', 60) + "…", converter.Convert(longWord).Subject);
    }

    [Fact]
    public void ConvertIsThreadSafe()
    {
        var expected = converter.Convert(fx.RichPost()).Sha256;
        var results = new string[32];
        Parallel.For(0, results.Length, i => results[i] = converter.Convert(fx.RichPost()).Sha256);
        Assert.All(results, r => Assert.Equal(expected, r));
    }

    [Fact]
    public void SparseItemsStillConvert()
    {
        var item = new ChatterItem
        {
            Key = "0D5000000000009AAA",
            Id = "0D5000000000009AAA",
            ItemType = ChatterItemType.Post,
            AuthorId = "005000000000009AAA",
            CreatedDate = ConversionFixtures.When,
        };
        var message = converter.Convert(item);
        Assert.Equal("Chatter post by 005000000000009AAA", message.Subject);
        Assert.Equal("005000000000009AAA@users.chatter.salesforce.com", Parse(message.GetBytes()).From.Mailboxes.Single().Address);
        Assert.Empty(message.To);
        Assert.False(message.IsPartial);
    }

    [Fact]
    public void BadEmailsAndOddKeysStayValid()
    {
        var item = fx.Post();
        item.Key = "0D5 weird<key>";
        item.Author = new ChatterUser { Id = "005000000000001AAA", Name = "Ann\r\nBcc: evil@example.com", Email = "not an email" };
        item.Participants = new List<ChatterUser> { item.Author, new() { Id = "005X", Name = "X", Email = "x@example.com" }, new() { Id = "005Y", Name = "X again", Email = "X@example.com" } };
        item.Title = "Question?";
        item.FeedType = "QuestionPost";
        item.LinkUrl = "javascript:alert(1)";
        var message = converter.Convert(item);
        var parsed = Parse(message.GetBytes());
        Assert.Equal("0D5=20weird=3Ckey=3E@chatter.salesforce.com", message.MessageId);
        Assert.Equal(message.MessageId, parsed.MessageId);
        Assert.Equal("005000000000001AAA@users.chatter.salesforce.com", parsed.From.Mailboxes.Single().Address);
        Assert.Empty(parsed.Bcc);
        Assert.Equal(2, parsed.To.Count);
        Assert.Contains("<h3 class=\"chatter-title\">Question?</h3>", parsed.HtmlBody);
        Assert.DoesNotContain("href=\"javascript", parsed.HtmlBody);
    }

    [Fact]
    public void OptionsChangeDomainAndSubjectLength()
    {
        var c = new MessageConverter(new MessageConverterOptions { MessageIdDomain = "archive.example.org", SubjectWords = 2 });
        var message = c.Convert(ConversionFixtures.Comment());
        Assert.Equal("0D7000000000001AAA@archive.example.org", message.MessageId);
        Assert.Equal("Chatter comment by Bob on post in Sales Team: Thanks Ann\u2026", message.Subject);
        Assert.Contains("005000000000002AAA@users.archive.example.org", message.From);
    }
}
