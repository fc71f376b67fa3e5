using ChatterConnector.Engine;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources;
using ChatterConnector.Engine.State;
using ChatterConnector.Engine.Targets;

namespace ChatterConnector.Engine.Tests;

public sealed class Temp : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cc-engine-" + Guid.NewGuid().ToString("N")[..10]);
    public Temp() => Directory.CreateDirectory(Path);
    public string Sub(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
}

public class MentionResolverTests
{
    private static readonly ChatterUser Ann = new() { Id = "1", Name = "Ann Lee" };
    private static readonly ChatterUser AnnMarie = new() { Id = "2", Name = "Ann Lee Marie" };
    private static readonly ChatterUser Jo1 = new() { Id = "3", Name = "Jo Smith" };
    private static readonly ChatterUser Jo2 = new() { Id = "4", Name = "Jo Smith" };
    private static readonly ChatterUser Zoe = new() { Id = "5", Name = "Zoë Łukasiewicz" };
    private readonly MentionResolver _r = new(new[] { Ann, AnnMarie, Jo1, Jo2, Zoe });

    [Fact] public void AFullNameAfterAnAtIsAMention() => Assert.Equal(new[] { Ann }, _r.Resolve("hi @Ann Lee, see this", false));
    [Fact] public void TheLongestNameWins() => Assert.Equal(new[] { AnnMarie }, _r.Resolve("@Ann Lee Marie please", false));
    [Fact] public void ANameTwoUsersShareMentionsNobody() => Assert.Empty(_r.Resolve("@Jo Smith?", false));
    [Fact] public void AnEmailAddressIsNotAMention() => Assert.Empty(_r.Resolve("mail ann@Ann Lee", false));
    [Fact] public void NonAsciiNamesAndRichTextWork() => Assert.Equal(new[] { Zoe }, _r.Resolve("<p>Thanks <b>@Zoë Łukasiewicz</b>!</p>", true));
    [Fact] public void APartialNameIsNotAMention() => Assert.Empty(_r.Resolve("@Ann alone", false));
}

public class ExportFolderSourceTests
{
    private static void Write(string dir, string file, string text) => File.WriteAllText(System.IO.Path.Combine(dir, file), text);

    [Fact]
    public void ReadsQuotedFieldsIgnoresUnknownColumnsAndTreatsMissingFilesAsNone()
    {
        using var t = new Temp();
        Write(t.Path, "User.csv", "Extra,Id,Name,Email\r\nx,005A,\"Lee, Ann\",ann@contoso.com\r\n");
        Write(t.Path, "FeedItem.csv", "Id,ParentId,Body,CreatedById,CreatedDate,SystemModstamp,Unknown\r\n" +
                                      "0D5A,005A,\"line1\r\n\"\"quoted\"\", comma\",005A,2024-03-04T10:00:00.000+0000,2024-03-04T10:00:00.000+0000,?\r\n");
        var source = new ExportFolderSource(t.Path);
        var dir = source.ReadDirectory();
        Assert.Equal("Lee, Ann", dir.Users["005A"].Name);
        var item = Assert.Single(source.ReadItems(dir, new SourceWatermarks())).Item!;
        Assert.Equal("line1\r\n\"quoted\", comma", item.Body);
        Assert.Equal(new DateTimeOffset(2024, 3, 4, 10, 0, 0, TimeSpan.Zero), item.CreatedDate);
        Assert.Equal("Lee, Ann", item.ParentName);
        Assert.Equal(ChatterItemType.Post, item.ItemType);
    }

    [Fact]
    public void RowsBeforeTheWatermarkAreSkipped_TiesAreReadAgain()
    {
        using var t = new Temp();
        Write(t.Path, "User.csv", "Id,Name\r\n005A,Ann\r\n");
        Write(t.Path, "FeedItem.csv", "Id,CreatedById,CreatedDate,SystemModstamp\r\n" +
            "0D5A,005A,2024-01-01T00:00:00.000+0000,2024-01-01T00:00:00.000+0000\r\n" +
            "0D5B,005A,2024-01-02T00:00:00.000+0000,2024-01-02T00:00:00.000+0000\r\n" +
            "0D5C,005A,2024-01-02T00:00:00.000+0000,2024-01-02T00:00:00.000+0000\r\n");
        var source = new ExportFolderSource(t.Path);
        var w = new SourceWatermarks();
        w.ByObject["FeedItem"] = new DateTimeOffset(2024, 1, 2, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(new[] { "0D5B", "0D5C" }, source.ReadItems(source.ReadDirectory(), w).Select(r => r.Key));
    }

    [Fact]
    public void ADeletedPostYieldsThePostAndItsDeletionNotice_AnEditIsItsOwnItem()
    {
        using var t = new Temp();
        Write(t.Path, "User.csv", "Id,Name\r\n005A,Ann\r\n");
        Write(t.Path, "FeedItem.csv", "Id,CreatedById,CreatedDate,Body,IsDeleted,SystemModstamp\r\n0D5A,005A,2024-01-01T00:00:00.000+0000,gone,true,2024-01-05T00:00:00.000+0000\r\n");
        Write(t.Path, "FeedRevision.csv", "Id,FeedEntityId,Revision,Value,CreatedById,CreatedDate,SystemModstamp\r\n" +
            "0D6A,0D5A,1,orig,005A,2024-01-01T00:00:00.000+0000,2024-01-01T00:00:00.000+0000\r\n0D6B,0D5A,2,new,005A,2024-01-02T00:00:00.000+0000,2024-01-02T00:00:00.000+0000\r\n");
        var source = new ExportFolderSource(t.Path);
        var recs = source.ReadItems(source.ReadDirectory(), new SourceWatermarks()).ToList();
        Assert.Equal(new[] { "0D5A", "0D5A.r2", "0D5A.deleted" }, recs.Select(r => r.Key));
        Assert.Equal(ChatterItemType.Delete, recs[2].Item!.ItemType);
        Assert.Equal("new", recs[1].Item!.Body);
    }

    [Fact]
    public void AMissingFolderAndAFolderWithoutUsersAreNamedErrors()
    {
        using var t = new Temp();
        var missing = Assert.Throws<ChatterException>(() => new ExportFolderSource(t.Sub("nope")).ReadDirectory());
        Assert.Equal("ChatterSource.FolderNotFound", missing.ErrorId);
        var empty = Assert.Throws<ChatterException>(() => new ExportFolderSource(t.Path).ReadDirectory());
        Assert.Equal("ChatterSource.NotAnExport", empty.ErrorId);
    }

    [Fact]
    public void AFileIdThatIsNotAnIdNeverReadsOutsideTheExport()
    {
        using var t = new Temp();
        Write(t.Path, "User.csv", "Id,Name\r\n005A,Ann\r\n");
        File.WriteAllText(t.Sub("secret"), "secret");
        Directory.CreateDirectory(t.Sub("ContentVersion"));
        Write(t.Path, "ContentVersion.csv", "Id,PathOnClient\r\n../secret,x.txt\r\n");
        Write(t.Path, "FeedItem.csv", "Id,CreatedById,CreatedDate,RelatedRecordId,SystemModstamp\r\n0D5A,005A,2024-01-01T00:00:00.000+0000,068X,2024-01-01T00:00:00.000+0000\r\n");
        Write(t.Path, "FeedAttachment.csv", "Id,FeedEntityId,Type,RecordId\r\n0D8A,0D5A,Content,../secret\r\n");
        var source = new ExportFolderSource(t.Path);
        var item = source.ReadItems(source.ReadDirectory(), new SourceWatermarks()).Single().Item!;
        Assert.Null(Assert.Single(item.Files).ContentPath);
        Assert.NotEmpty(item.Warnings);
    }
}

public class ConnectorStoreTests
{
    [Fact]
    public void ATransactionThatIsNotCommittedLeavesNothing()
    {
        using var t = new Temp();
        using (var store = ConnectorStore.Open(t.Path))
        {
            using (store.Begin())
            {
                store.AddItem("c", new StagedItem { ItemKey = "k", ItemId = "k", ThreadId = "k", MessageId = "m", StagedPath = "p", Sha256 = "h" });
                Assert.True(store.HasItem("c", "k"));
            }
            Assert.False(store.HasItem("c", "k"));
        }
        using var reopened = ConnectorStore.Open(t.Path);
        Assert.False(reopened.HasItem("c", "k"));
    }

    [Fact]
    public void ADeliveryIsEnteredOncePerItemAndRecipient()
    {
        using var t = new Temp();
        using var store = ConnectorStore.Open(t.Path);
        var d = new DeliveryRecord { ItemKey = "k", Recipient = "a@x.com", UserId = "u1", Mailbox = "a@x.com", Status = DeliveryStatus.Pending };
        Assert.True(store.AddDelivery("c", d));
        Assert.False(store.AddDelivery("c", new DeliveryRecord { ItemKey = "k", Recipient = "a@x.com", UserId = "u2", Mailbox = "a@x.com" }));
        Assert.Single(store.GetDeliveries("c", new[] { DeliveryStatus.Pending }));
    }

    [Fact]
    public void AStoreOfTheFirstSchema_GainsDefinitionVersions_AndKeepsItsConnectors()
    {
        using var t = new Temp();
        using (var v1 = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + Path.Combine(t.Path, ConnectorStore.DatabaseFileName) + ";Pooling=False"))
        {
            v1.Open();
            using var cmd = v1.CreateCommand();
            cmd.CommandText = "CREATE TABLE connectors (name TEXT NOT NULL PRIMARY KEY COLLATE NOCASE, definition TEXT NOT NULL); " +
                              "INSERT INTO connectors VALUES ('Old', '{\"Name\":\"Old\",\"SourcePath\":\"/old\"}'); PRAGMA user_version = 1;";
            cmd.ExecuteNonQuery();
        }
        using var store = ConnectorStore.Open(t.Path);
        var old = store.GetConnector("Old");
        Assert.Equal(("/old", "1"), (old.SourcePath, old.ETag));
        var stale = store.GetConnector("Old");
        old.FolderName = "New";
        store.UpdateConnector(old);
        Assert.Equal("2", old.ETag);
        Assert.Equal("ChatterStore.Conflict", Assert.Throws<ChatterException>(() => store.UpdateConnector(stale)).ErrorId);
    }

    [Fact]
    public void ConnectorNamesAreUniqueIgnoringCase()
    {
        using var t = new Temp();
        using var store = ConnectorStore.Open(t.Path);
        store.AddConnector(new ChatterConnectorInfo { Name = "Contoso" });
        Assert.Equal("ChatterConnector.NameExists", Assert.Throws<ChatterException>(() => store.AddConnector(new ChatterConnectorInfo { Name = "contoso" })).ErrorId);
    }
}

public class MaildirTargetTests
{
    [Fact]
    public void DeliversIntoAMaildirPlusPlusFolder_AndRecognisesItAfterwards()
    {
        using var t = new Temp();
        File.WriteAllText(t.Sub("m.eml"), "Message-ID: <a@b>\r\n\r\nbody\r\n");
        var target = new MaildirTarget(t.Sub("mail"), "Salesforce Chatter");
        Assert.Equal(DeliveryOutcome.Delivered, target.Deliver("Ann@Contoso.com", "a@b", t.Sub("m.eml"), checkFirst: false));
        var folder = Path.Combine(t.Sub("mail"), "ann@contoso.com", ".Salesforce Chatter");
        Assert.True(File.Exists(Path.Combine(folder, "maildirfolder")));
        Assert.Single(Directory.GetFiles(Path.Combine(folder, "cur")));
        Assert.Empty(Directory.GetFiles(Path.Combine(folder, "tmp")));
        Assert.Equal(DeliveryOutcome.AlreadyPresent, target.Deliver("ann@contoso.com", "a@b", t.Sub("m.eml"), checkFirst: false));

        // A client that changed the flags: only the thorough check finds it.
        var file = Directory.GetFiles(Path.Combine(folder, "cur")).Single();
        File.Move(file, file.Replace(":2,S", ":2,FS"));
        Assert.False(target.Contains("ann@contoso.com", "a@b", thorough: false));
        Assert.Equal(DeliveryOutcome.AlreadyPresent, target.Deliver("ann@contoso.com", "a@b", t.Sub("m.eml"), checkFirst: true));
    }

    [Theory]
    [InlineData("../evil")]
    [InlineData("a/b")]
    [InlineData("..")]
    public void AMailboxThatWouldEscapeTheRootIsRefused(string mailbox)
    {
        using var t = new Temp();
        var target = new MaildirTarget(t.Sub("mail"), "Salesforce Chatter");
        Assert.Equal("ChatterTarget.InvalidMailbox", Assert.Throws<ChatterException>(() => target.FolderPath(mailbox)).ErrorId);
    }
}

public class HardLinkDeliveryTests
{
    [Fact]
    public void OnOneFileSystemEachMailboxGetsALinkToTheStagedMessage_WithItsBytesIntact()
    {
        using var t = new Temp();
        var staged = t.Sub("m.eml");
        File.WriteAllText(staged, "Message-ID: <a@b>\r\n\r\nbody\r\n");
        var target = new MaildirTarget(t.Sub("mail"), "Salesforce Chatter");
        target.Deliver("a@x.com", "a@b", staged, checkFirst: false);
        target.Deliver("b@x.com", "a@b", staged, checkFirst: false);
        var delivered = Directory.GetFiles(t.Sub("mail"), "*", SearchOption.AllDirectories).Where(f => f.Contains("/cur/")).ToList();
        Assert.Equal(2, delivered.Count);
        Assert.All(delivered, f => Assert.Equal(File.ReadAllBytes(staged), File.ReadAllBytes(f)));
        if (OperatingSystem.IsLinux())
        {
            using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", $"-c %h \"{staged}\"") { RedirectStandardOutput = true })!;
            Assert.Equal("3", stat.StandardOutput.ReadToEnd().Trim());   // the staged file and one link per mailbox
        }
    }
}
