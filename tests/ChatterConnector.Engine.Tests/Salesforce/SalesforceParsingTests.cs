using System.Text;
using ChatterConnector.Engine.Sources.Salesforce;

namespace ChatterConnector.Engine.Tests.Salesforce;

public class SalesforceParsingTests
{
    [Theory]
    [InlineData("api-usage=18/5000", 18, 5000)]
    [InlineData("api-usage=18/5000; per-app-api-usage=17/250(appName=sample-connected-app)", 18, 5000)]
    [InlineData("per-app-api-usage=17/250(appName=x); api-usage=4999/5000", 4999, 5000)]
    [InlineData(" api-usage = 7 / 15000 ", 7, 15000)]
    public void LimitInfoIsRead(string header, long used, long max)
    {
        Assert.True(SalesforceApiClient.TryParseLimitInfo(header, out var u, out var m));
        Assert.Equal((used, max), (u, m));
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("per-app-api-usage=17/250(appName=x)")]
    [InlineData("api-usage=lots")]
    public void OtherLimitInfoIsIgnored(string? header) => Assert.False(SalesforceApiClient.TryParseLimitInfo(header, out _, out _));

    private const string Page = """
    {"totalSize":3,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gD0000002HU6KIAW-2000",
     "records":[
      {"attributes":{"type":"FeedItem","url":"/services/data/v62.0/sobjects/FeedItem/0D5000000000001AAA"},
       "Id":"0D5000000000001AAA","Body":"<p>Hi, \"all\"\nline 2</p>","IsRichText":true,"IsDeleted":false,
       "Revision":1,"Title":null,"SystemModstamp":"2024-03-04T10:00:00.000+0000","CreatedBy":{"attributes":{"type":"User"},"Name":"Ann Lee"}},
      {"attributes":{"type":"ContentVersion"},"Id":"068000000000001AAA","ContentSize":1234567,"Score":1.5,"Big":1E3,"Neg":-0.25},
      {"attributes":{"type":"FeedItem"},"Id":"0D5000000000003AAA","Sub":{"totalSize":0,"done":true,"records":[]}}
     ]}
    """;

    [Fact]
    public void RecordsBecomeExportStrings()
    {
        var page = SalesforceApiClient.ParsePage(new MemoryStream(Encoding.UTF8.GetBytes(Page)), "FeedItem");
        Assert.False(page.Done);
        Assert.Equal("/services/data/v62.0/query/01gD0000002HU6KIAW-2000", page.NextRecordsUrl);
        Assert.Equal(3, page.Records.Count);

        var r = page.Records[0];
        Assert.False(r.ContainsKey("attributes"));
        Assert.Equal("0D5000000000001AAA", r["Id"]);
        Assert.Equal("<p>Hi, \"all\"\nline 2</p>", r["Body"]);
        Assert.Equal("true", r["IsRichText"]);
        Assert.Equal("false", r["isdeleted"]); // names are case-insensitive
        Assert.Equal("1", r["Revision"]);
        Assert.Equal("", r["Title"]);
        Assert.Equal("2024-03-04T10:00:00.000+0000", r["SystemModstamp"]);
        Assert.Equal("Ann Lee", r["CreatedBy.Name"]);
        Assert.False(r.ContainsKey("CreatedBy.attributes"));

        var c = page.Records[1];
        Assert.Equal("1234567", c["ContentSize"]);
        Assert.Equal("1.5", c["Score"]);
        Assert.Equal("1000", c["Big"]);
        Assert.Equal("-0.25", c["Neg"]);
        Assert.StartsWith("{", page.Records[2]["Sub"]);
    }

    [Fact]
    public void ALastPageIsDone()
    {
        var page = SalesforceApiClient.ParsePage(new MemoryStream(Encoding.UTF8.GetBytes("""{"totalSize":0,"done":true,"records":[]}""")), "User");
        Assert.True(page.Done);
        Assert.Null(page.NextRecordsUrl);
        Assert.Empty(page.Records);
    }

    [Fact]
    public void HtmlInsteadOfAPageIsAQueryFailure()
    {
        var e = Assert.Throws<ChatterException>(() => SalesforceApiClient.ParsePage(new MemoryStream(Encoding.UTF8.GetBytes("<html>maintenance</html>")), "User"));
        Assert.Equal("ChatterSource.QueryFailed", e.ErrorId);
    }

    [Theory]
    [InlineData("""[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID","fields":[]}]""", "INVALID_SESSION_ID", "Session expired or invalid")]
    [InlineData("""{"error":"invalid_grant","error_description":"expired access/refresh token"}""", "invalid_grant", "expired access/refresh token")]
    [InlineData("<html>no</html>", null, null)]
    [InlineData("[]", null, null)]
    [InlineData("", null, null)]
    public void ErrorBodiesAreRead(string body, string? code, string? message)
        => Assert.Equal((code, message), SalesforceApiClient.ParseError(body));

    [Theory]
    [InlineData("SELECT Id FROM FeedItem WHERE SystemModstamp > 2024-01-01T00:00:00Z", "FeedItem")]
    [InlineData("select Id, Body from ChatterMessage", "ChatterMessage")]
    public void TheQueriedObjectIsTheTarget(string soql, string target) => Assert.Equal(target, SalesforceApiClient.ObjectOf(soql));
}
