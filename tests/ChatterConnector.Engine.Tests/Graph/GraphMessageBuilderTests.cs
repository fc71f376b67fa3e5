using System.Text.Json;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Targets.Graph;
using MimeKit;

namespace ChatterConnector.Engine.Tests.Graph;

public class GraphMessageBuilderTests
{
    private static string GoldenPath(string name) => Path.Combine(AppContext.BaseDirectory, "Golden", name);

    private static JsonElement JsonOf(string golden, ChatterItemType type)
    {
        using var mime = MimeMessage.Load(GoldenPath(golden));
        var json = GraphMessageBuilder.ToJson(GraphMessageBuilder.Build(mime, type));
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    private static Dictionary<string, string> Properties(JsonElement message) =>
        message.GetProperty("singleValueExtendedProperties").EnumerateArray()
            .ToDictionary(p => p.GetProperty("id").GetString()!, p => p.GetProperty("value").GetString()!);

    [Fact]
    public void CommentBecomesAReceivedReadItemWithItsDatesThreadingAndHeaders()
    {
        var m = JsonOf("comment.eml", ChatterItemType.Comment);

        var props = Properties(m);
        Assert.Equal("1", props["Integer 0x0E07"]);
        Assert.Equal("2024-03-05T15:30:00Z", props["SystemTime 0x0E06"]);
        Assert.Equal("2024-03-05T15:30:00Z", props["SystemTime 0x0039"]);
        Assert.Equal("IPM.ExternalData.Chatter.Comment", props["String 0x001A"]);
        Assert.Equal("<0D5000000000001AAA@chatter.salesforce.com>", props["String 0x1042"]);
        Assert.Equal("<0D5000000000001AAA@chatter.salesforce.com>", props["String 0x1039"]);

        Assert.Equal("<0D7000000000001AAA@chatter.salesforce.com>", m.GetProperty("internetMessageId").GetString());
        Assert.StartsWith("Chatter comment by Bob on post in Sales Team", m.GetProperty("subject").GetString());
        Assert.Equal("html", m.GetProperty("body").GetProperty("contentType").GetString());
        Assert.Contains("Thanks Ann, I'll read it tonight.", m.GetProperty("body").GetProperty("content").GetString()!.Replace("&#39;", "'"));

        Assert.Equal("005000000000002AAA@users.chatter.salesforce.com", m.GetProperty("from").GetProperty("emailAddress").GetProperty("address").GetString());
        var to = m.GetProperty("toRecipients").EnumerateArray().Select(r => r.GetProperty("emailAddress").GetProperty("address").GetString()).ToList();
        Assert.Equal(new[] { "ann.lee@example.com", "005000000000002AAA@users.chatter.salesforce.com" }, to);

        var headers = m.GetProperty("internetMessageHeaders").EnumerateArray()
            .ToDictionary(h => h.GetProperty("name").GetString()!, h => h.GetProperty("value").GetString()!);
        Assert.All(headers.Keys, k => Assert.StartsWith("x-chatter-", k));
        Assert.Equal("0D7000000000001AAA", headers["x-chatter-id"]);
        Assert.Equal("Comment", headers["x-chatter-action"]);
        Assert.Equal("0D5000000000001AAA", headers["x-chatter-threadid"]);
        Assert.Equal("0F9000000000001AAA", headers["x-chatter-parentid"]);
        Assert.Equal("0D7000000000001AAA", headers["x-chatter-commentid"]);
        Assert.False(headers.ContainsKey("mime-version"));
        Assert.False(m.TryGetProperty("attachments", out _));
    }

    [Theory]
    [InlineData("post.eml", ChatterItemType.Post, "IPM.ExternalData.Chatter.Post")]
    [InlineData("post-files.eml", ChatterItemType.Post, "IPM.ExternalData.Chatter.Post")]
    [InlineData("edit.eml", ChatterItemType.Edit, "IPM.ExternalData.Chatter.Post")]
    [InlineData("delete.eml", ChatterItemType.Delete, "IPM.ExternalData.Chatter.Post")]
    [InlineData("comment.eml", ChatterItemType.Comment, "IPM.ExternalData.Chatter.Comment")]
    [InlineData("comment-edit.eml", ChatterItemType.Edit, "IPM.ExternalData.Chatter.Comment")]
    [InlineData("private-message.eml", ChatterItemType.PrivateMessage, "IPM.Note")]
    public void MessageClassFollowsTheItemType(string golden, ChatterItemType type, string expected)
    {
        Assert.Equal(expected, Properties(JsonOf(golden, type))["String 0x001A"]);
    }

    [Fact]
    public void PostWithoutParentHasNoThreadingProperties()
    {
        var props = Properties(JsonOf("post.eml", ChatterItemType.Post));
        Assert.False(props.ContainsKey("String 0x1042"));
        Assert.False(props.ContainsKey("String 0x1039"));
    }

    [Fact]
    public void AFreshModelEachCallSerialisesFully()
    {
        using var mime = MimeMessage.Load(GoldenPath("comment.eml"));
        var first = GraphMessageBuilder.ToJson(GraphMessageBuilder.Build(mime, ChatterItemType.Comment));
        var second = GraphMessageBuilder.ToJson(GraphMessageBuilder.Build(mime, ChatterItemType.Comment));
        Assert.Equal(first, second);
        Assert.True(first.Length > 500);
    }

    [Fact]
    public void AtMost500Recipients()
    {
        var mime = new MimeMessage();
        mime.From.Add(new MailboxAddress("A", "a@example.com"));
        for (int i = 0; i < 600; i++) mime.To.Add(new MailboxAddress("", $"u{i}@example.com"));
        mime.Subject = "s";
        mime.Body = new TextPart("plain") { Text = "hello" };
        var message = GraphMessageBuilder.Build(mime, ChatterItemType.PrivateMessage, "x@y");
        Assert.Equal(500, message.ToRecipients!.Count);
        Assert.Equal("text", JsonDocument.Parse(GraphMessageBuilder.ToJson(message)).RootElement.GetProperty("body").GetProperty("contentType").GetString());
        Assert.Equal("<x@y>", message.InternetMessageId);
    }

    [Fact]
    public void InlineAttachmentsAreFileAttachmentsWithBase64Bytes()
    {
        using var staged = StagedMessage.Open(GoldenPath("post-files.eml"), CancellationToken.None);
        Assert.Equal(2, staged.Attachments.Count);
        var files = staged.Attachments.Select(a => GraphMessageBuilder.FileAttachment(a.Name, a.ContentType, a.ReadAll()));
        var json = JsonDocument.Parse(GraphMessageBuilder.ToJson(GraphMessageBuilder.Build(staged.Message, ChatterItemType.Post, null, files))).RootElement;
        var attachments = json.GetProperty("attachments").EnumerateArray().ToList();
        Assert.Equal(2, attachments.Count);
        Assert.Equal("#microsoft.graph.fileAttachment", attachments[0].GetProperty("@odata.type").GetString());
        Assert.Equal("Résumé été.txt", attachments[0].GetProperty("name").GetString());
        Assert.Equal("text/plain", attachments[0].GetProperty("contentType").GetString());
        var bytes = Convert.FromBase64String(attachments[0].GetProperty("contentBytes").GetString()!);
        Assert.Equal(staged.Attachments[0].Size, bytes.Length);
        Assert.Equal("passwd.bin", attachments[1].GetProperty("name").GetString());
    }

    [Fact]
    public void PlanKeepsTheCreateUnderTheLimitAndLeavesOutFilesOver150MB()
    {
        const long MB = 1000 * 1000;
        var files = new List<(string, long)>
        {
            ("a.txt", 3 * MB / 2),      // fits inline (2 MB in base64)
            ("b.bin", 3 * MB / 2),      // would pass 3 MB: posted after the create
            ("c.bin", 10 * MB),         // upload session
            ("d.bin", 151L * 1024 * 1024), // over Exchange's limit
            ("e.txt", 100),             // still fits inline
        };
        var routes = GraphMessageBuilder.Plan(files, 10_000, 3 * MB);
        Assert.Equal(new[] { AttachmentRoute.Inline, AttachmentRoute.Post, AttachmentRoute.Upload, AttachmentRoute.TooLarge, AttachmentRoute.Inline }, routes);
        Assert.Equal(1_333_336, GraphMessageBuilder.Base64Length(1_000_001));
        Assert.Equal(0, GraphMessageBuilder.Base64Length(0));
        Assert.Equal(4, GraphMessageBuilder.Base64Length(1));
    }

    [Theory]
    [InlineData("post.eml", ChatterItemType.Post)]
    [InlineData("post-files.eml", ChatterItemType.Post)]
    [InlineData("comment.eml", ChatterItemType.Comment)]
    [InlineData("edit.eml", ChatterItemType.Edit)]
    [InlineData("comment-edit.eml", ChatterItemType.Edit)]
    [InlineData("delete.eml", ChatterItemType.Delete)]
    [InlineData("post-richtext.eml", ChatterItemType.Post)]
    [InlineData("private-message.eml", ChatterItemType.PrivateMessage)]
    public void TheJsonWrittenForABatchIsTheDocumentTheSdkWouldSend(string golden, ChatterItemType type)
    {
        using var staged = StagedMessage.Open(GoldenPath(golden), CancellationToken.None);
        var files = staged.Attachments.Select(a => (a.Name, a.ContentType, Bytes: a.ReadAll())).ToList();
        var sdk = GraphMessageBuilder.ToJson(GraphMessageBuilder.Build(staged.Message, type, "id-1@x", files.Select(f => GraphMessageBuilder.FileAttachment(f.Name, f.ContentType, f.Bytes)), "IPM.Note"));
        var direct = GraphMessageBuilder.WriteJson(GraphMessageBuilder.Read(staged.Message, type, "id-1@x", "IPM.Note"), files);
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(sdk), System.Text.Json.Nodes.JsonNode.Parse(direct)),
            "SDK:\n" + sdk + "\nDirect:\n" + direct);
        Assert.True(direct.Length <= sdk.Length, "never longer than the SDK's, so the request size estimates hold"); 
    }
}
