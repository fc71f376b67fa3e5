using ChatterConnector.Engine.Model;

namespace ChatterConnector.Engine.Tests.Conversion;

/// <summary>Fixed Chatter items for the converter tests; attachments are written to a temp folder with fixed bytes.</summary>
public sealed class ConversionFixtures : IDisposable
{
    public static readonly DateTimeOffset When = new(2024, 3, 5, 14, 30, 0, TimeSpan.Zero);

    public static ChatterUser Ann => new() { Id = "005000000000001AAA", Name = "Ann Lee", Username = "ann@example.com.org", Email = "ann.lee@example.com" };
    public static ChatterUser Bob => new() { Id = "005000000000002AAA", Name = "Bob", Username = "bob@example.com.org" };
    public static ChatterUser Chloe => new() { Id = "005000000000003AAA", Name = "Chloé Dupont", Email = "chloe@example.com" };

    public const string PostId = "0D5000000000001AAA";
    public const string CommentId = "0D7000000000001AAA";
    public const string GroupId = "0F9000000000001AAA";
    public const string ConversationId = "03M000000000001AAA";

    public static readonly byte[] TextFileBytes = System.Text.Encoding.UTF8.GetBytes("Quarterly numbers\r\nline two\n");
    public static readonly byte[] BinaryFileBytes = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();

    public string Folder { get; }
    public string TextFilePath { get; }
    public string BinaryFilePath { get; }

    public ConversionFixtures()
    {
        Folder = Path.Combine(Path.GetTempPath(), "cc-conv-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
        TextFilePath = Path.Combine(Folder, "069000000000001AAA");
        BinaryFilePath = Path.Combine(Folder, "069000000000002AAA");
        File.WriteAllBytes(TextFilePath, TextFileBytes);
        File.WriteAllBytes(BinaryFilePath, BinaryFileBytes);
    }

    public void Dispose()
    {
        try { Directory.Delete(Folder, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static ChatterItem BasePost() => new()
    {
        Key = PostId,
        Id = PostId,
        ItemType = ChatterItemType.Post,
        FeedType = "TextPost",
        ThreadId = PostId,
        ParentId = GroupId,
        ParentName = "Sales Team",
        AuthorId = Ann.Id,
        Author = Ann,
        CreatedDate = When,
        SystemModstamp = When,
        Body = "Welcome to the new quarter, everyone!\nPlease read the plan before Friday's meeting.",
        Url = "https://example.my.salesforce.com/" + PostId,
        Participants = { Ann, Bob, Chloe },
    };

    public ChatterItem Post() => BasePost();

    public ChatterItem RichPost()
    {
        var item = BasePost();
        item.IsRichText = true;
        item.Body = "<p onclick=\"alert('x')\">Hello <b>team</b>, see <a href=\"javascript:alert(1)\">this</a> and "
                  + "<a href=\"https://example.com/plan\" onmouseover=\"steal()\">the plan</a>.</p>"
                  + "<script>alert('pwned')</script><style>p{color:red}</style>"
                  + "<ul><li>one</li><li><i>two</i></li></ul><img src=x onerror=alert(2)>"
                  + "<iframe src=\"https://evil.example\"></iframe><span style=\"color:red\">kept text</span>"
                  + "<pre>line 1\n  line 2</pre><blockquote>quoted</blockquote>";
        return item;
    }

    public ChatterItem LinkPost()
    {
        var item = BasePost();
        item.FeedType = "LinkPost";
        item.Body = "Our new pricing page is live";
        item.LinkUrl = "https://www.example.com/pricing?src=chatter&x=1";
        item.Title = "Pricing";
        return item;
    }

    public ChatterItem FilePost()
    {
        var item = BasePost();
        item.FeedType = "ContentPost";
        item.Body = "Files for the review";
        item.Files.Add(new ChatterFile { Id = "068000000000001AAA", Title = "Résumé été", PathOnClient = "C:\\Users\\ann\\Résumé été.txt", FileExtension = "txt", ContentSize = TextFileBytes.Length, ContentPath = TextFilePath });
        item.Files.Add(new ChatterFile { Id = "068000000000002AAA", Title = "passwd", PathOnClient = "../../etc/passwd.bin", FileExtension = "bin", ContentSize = 256, ContentPath = BinaryFilePath });
        item.Files.Add(new ChatterFile { Id = "068000000000003AAA", Title = "budget", PathOnClient = "budget.pdf", FileExtension = "pdf", ContentSize = 123456, ContentPath = null });
        return item;
    }

    public static ChatterItem Comment() => new()
    {
        Key = CommentId,
        Id = CommentId,
        ItemType = ChatterItemType.Comment,
        FeedType = "TextComment",
        ThreadId = PostId,
        ParentId = GroupId,
        ParentName = "Sales Team",
        CommentId = CommentId,
        AuthorId = Bob.Id,
        Author = Bob,
        CreatedDate = When.AddHours(1),
        SystemModstamp = When.AddHours(1),
        Body = "Thanks Ann, I'll read it tonight.",
        Participants = { Ann, Bob },
    };

    public static ChatterItem Edit(int revision)
    {
        var item = BasePost();
        item.Key = PostId + ".r" + revision;
        item.ItemType = ChatterItemType.Edit;
        item.Revision = revision;
        item.EditedAttribute = "Body";
        item.CreatedDate = When.AddDays(1);
        item.Body = "Welcome to the new quarter, everyone! (updated plan attached)";
        return item;
    }

    public static ChatterItem CommentEdit()
    {
        var item = Comment();
        item.Key = CommentId + ".r2";
        item.ItemType = ChatterItemType.Edit;
        item.Revision = 2;
        item.EditedAttribute = "CommentBody";
        return item;
    }

    public static ChatterItem Delete()
    {
        var item = BasePost();
        item.Key = PostId + ".deleted";
        item.ItemType = ChatterItemType.Delete;
        item.CreatedDate = When.AddDays(2);
        return item;
    }

    public static ChatterItem PrivateMessage() => new()
    {
        Key = "03L000000000001AAA",
        Id = "03L000000000001AAA",
        ItemType = ChatterItemType.PrivateMessage,
        ThreadId = ConversationId,
        ParentId = ConversationId,
        AuthorId = Chloe.Id,
        Author = Chloe,
        CreatedDate = new DateTimeOffset(2024, 3, 6, 9, 15, 0, TimeSpan.FromHours(1)),
        Body = "Salut Bob — can we move our 1:1 to Thursday? Ça marche ?",
        Participants = { Chloe, Bob },
    };
}
