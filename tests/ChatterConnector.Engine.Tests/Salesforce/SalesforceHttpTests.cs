using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Web;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources.Salesforce;
using ChatterConnector.Engine.State;

namespace ChatterConnector.Engine.Tests.Salesforce;

/// <summary>A tiny in-test HTTP server: each test says how to answer. The full fake Salesforce lives elsewhere.</summary>
internal sealed class TinyServer : IDisposable
{
    private readonly HttpListener _listener = new();
    public string Url { get; }
    public Func<HttpListenerContext, string, (int Status, string Body, string? LimitInfo)> Handle { get; set; } = (_, _) => (404, "", null);
    public ConcurrentQueue<string> Seen { get; } = new();
    public int TokenCalls;

    public TinyServer()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Url = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Url + "/");
        _listener.Start();
        _ = Task.Run(Loop);
    }

    private async Task Loop()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync(); } catch { return; }
            try
            {
                var body = new StreamReader(ctx.Request.InputStream).ReadToEnd();
                var path = ctx.Request.Url!.PathAndQuery;
                Seen.Enqueue(ctx.Request.HttpMethod + " " + path);
                if (path == "/services/oauth2/token") Interlocked.Increment(ref TokenCalls);
                var (status, text, limit) = Handle(ctx, body);
                ctx.Response.StatusCode = status;
                if (limit != null) ctx.Response.Headers["Sforce-Limit-Info"] = limit;
                var bytes = Encoding.UTF8.GetBytes(text);
                ctx.Response.ContentType = text.StartsWith("<") ? "text/html" : "application/json";
                ctx.Response.OutputStream.Write(bytes);
            }
            catch { ctx.Response.StatusCode = 500; }
            finally { try { ctx.Response.Close(); } catch { } }
        }
    }

    public string TokenJson(string token = "tok1", string? instance = null) =>
        $$"""{"access_token":"{{token}}","instance_url":"{{instance ?? Url}}","id":"{{Url}}/id/00D/005","token_type":"Bearer","issued_at":"1700000000000","signature":"x"}""";

    public void Dispose() { try { _listener.Stop(); _listener.Close(); } catch { } }
}

public class SalesforceHttpTests : IDisposable
{
    private readonly Temp _temp = new();
    private readonly TinyServer _server = new();
    private readonly SecretProtector _secrets;

    public SalesforceHttpTests() => _secrets = SecretProtector.ForStoreWithKeyFile(_temp.Path);

    public void Dispose() { _server.Dispose(); _temp.Dispose(); }

    private SalesforceSettings Settings(SalesforceAuthFlow flow = SalesforceAuthFlow.RefreshToken) => new()
    {
        AuthFlow = flow,
        LoginUrl = _server.Url + "/",
        ClientId = "cid",
        ClientSecret = _secrets.Protect("csecret"),
        RefreshToken = _secrets.Protect("rtoken"),
        BatchSize = 500,
    };

    private static readonly SalesforceClientOptions Fast = new() { MaxRetries = 3, BaseDelay = TimeSpan.Zero, Timeout = TimeSpan.FromSeconds(20) };

    private static string Page(bool done, string? next, params string[] ids) =>
        $$"""{"totalSize":5,"done":{{(done ? "true" : "false")}},{{(next == null ? "" : $"\"nextRecordsUrl\":\"{next}\",")}}"records":[{{string.Join(",", ids.Select(id => $$"""{"attributes":{"type":"User"},"Id":"{{id}}","IsActive":true}"""))}}]}""";

    [Fact]
    public void ARefreshTokenSignsInAndPagesAreFollowed()
    {
        string? form = null, auth = null, options = null;
        _server.Handle = (ctx, body) =>
        {
            var path = ctx.Request.Url!.AbsolutePath;
            if (path == "/services/oauth2/token") { form = body; return (200, _server.TokenJson(), null); }
            auth = ctx.Request.Headers["Authorization"];
            options = ctx.Request.Headers["Sforce-Query-Options"];
            if (path == "/services/data/v62.0/queryAll")
            {
                Assert.Equal("SELECT Id, IsActive FROM User", HttpUtility.ParseQueryString(ctx.Request.Url.Query)["q"]);
                return (200, Page(false, "/services/data/v62.0/query/01gX-500", "005A", "005B"), "api-usage=17/5000");
            }
            if (path == "/services/data/v62.0/query/01gX-500") return (200, Page(true, null, "005C"), "api-usage=18/5000");
            if (path == "/services/data/v62.0/query") return (200, Page(true, null, "005D"), "api-usage=19/5000");
            return (404, "[]", null);
        };
        using var client = new SalesforceApiClient(Settings(), _secrets, Fast);
        var rows = client.QueryAll("SELECT Id, IsActive FROM User", CancellationToken.None).ToList();
        Assert.Equal(new[] { "005A", "005B", "005C" }, rows.Select(r => r["Id"]));
        Assert.Equal("true", rows[0]["IsActive"]);
        var f = HttpUtility.ParseQueryString(form!);
        Assert.Equal(("refresh_token", "rtoken", "cid", "csecret"), (f["grant_type"], f["refresh_token"], f["client_id"], f["client_secret"]));
        Assert.Equal("Bearer tok1", auth);
        Assert.Equal("batchSize=500", options);
        Assert.Equal(2, client.ApiCalls);
        Assert.Equal(1, _server.TokenCalls);
        Assert.Equal((18L, 5000L), (client.ApiUsed, client.ApiMax));
        Assert.Equal(_server.Url, client.InstanceUrl);

        Assert.Single(client.QueryAll("SELECT Id FROM User", CancellationToken.None, includeDeleted: false).Take(1));
        Assert.Contains(_server.Seen, s => s.StartsWith("GET /services/data/v62.0/query?q="));
    }

    [Fact]
    public void A401SignsInAgainOnceThenFails()
    {
        int rest = 0;
        _server.Handle = (ctx, body) =>
        {
            if (ctx.Request.Url!.AbsolutePath == "/services/oauth2/token") return (200, _server.TokenJson("tok" + _server.TokenCalls), null);
            return Interlocked.Increment(ref rest) == 1 || ctx.Request.Headers["Authorization"] == "Bearer tok1"
                ? (401, """[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]""", null)
                : (200, Page(true, null, "005A"), null);
        };
        using var client = new SalesforceApiClient(Settings(), _secrets, Fast);
        Assert.Single(client.QueryAll("SELECT Id FROM User", CancellationToken.None));
        Assert.Equal(2, _server.TokenCalls);

        _server.Handle = (ctx, body) => ctx.Request.Url!.AbsolutePath == "/services/oauth2/token"
            ? (200, _server.TokenJson(), null)
            : (401, """[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]""", null);
        using var refused = new SalesforceApiClient(Settings(), _secrets, Fast);
        var e = Assert.Throws<ChatterException>(() => refused.QueryAll("SELECT Id FROM User", CancellationToken.None).ToList());
        Assert.Equal("ChatterSource.AuthFailed", e.ErrorId);
        Assert.Equal(ChatterErrorKind.AuthenticationError, e.Kind);
        Assert.DoesNotContain("tok1", e.Message);
    }

    [Fact]
    public void A503IsRetriedThenGivenUpOn()
    {
        int rest = 0;
        _server.Handle = (ctx, body) =>
            ctx.Request.Url!.AbsolutePath == "/services/oauth2/token" ? (200, _server.TokenJson(), null)
            : Interlocked.Increment(ref rest) <= 2 ? (503, "[]", null) : (200, Page(true, null, "005A"), null);
        using var client = new SalesforceApiClient(Settings(), _secrets, Fast);
        Assert.Single(client.QueryAll("SELECT Id FROM User", CancellationToken.None));
        Assert.Equal(3, client.ApiCalls);

        _server.Handle = (ctx, body) =>
            ctx.Request.Url!.AbsolutePath == "/services/oauth2/token" ? (200, _server.TokenJson(), null) : (503, "", null);
        using var down = new SalesforceApiClient(Settings(), _secrets, Fast);
        var e = Assert.Throws<ChatterException>(() => down.QueryAll("SELECT Id FROM User", CancellationToken.None).ToList());
        Assert.Equal("ChatterSource.Unavailable", e.ErrorId);
        Assert.Equal(4, down.ApiCalls);
    }

    [Theory]
    [InlineData(403, "REQUEST_LIMIT_EXCEEDED", "ChatterSource.ApiLimitReached", ChatterErrorKind.ResourceUnavailable)]
    [InlineData(403, "INSUFFICIENT_ACCESS", "ChatterSource.InsufficientAccess", ChatterErrorKind.PermissionDenied)]
    [InlineData(403, "API_DISABLED_FOR_ORG", "ChatterSource.ApiDisabled", ChatterErrorKind.PermissionDenied)]
    [InlineData(400, "MALFORMED_QUERY", "ChatterSource.QueryFailed", ChatterErrorKind.InvalidArgument)]
    [InlineData(400, "INVALID_FIELD", "ChatterSource.QueryFailed", ChatterErrorKind.InvalidArgument)]
    public void SalesforceErrorsHaveTheirOwnIds(int status, string code, string errorId, ChatterErrorKind kind)
    {
        _server.Handle = (ctx, body) =>
            ctx.Request.Url!.AbsolutePath == "/services/oauth2/token" ? (200, _server.TokenJson(), null)
            : (status, $$"""[{"message":"no good","errorCode":"{{code}}"}]""", null);
        using var client = new SalesforceApiClient(Settings(), _secrets, Fast);
        var e = Assert.Throws<ChatterException>(() => client.QueryAll("SELECT Id, Body FROM ChatterMessage", CancellationToken.None).ToList());
        Assert.Equal(errorId, e.ErrorId);
        Assert.Equal(kind, e.Kind);
        Assert.Equal("ChatterMessage", e.Target);
        Assert.Contains(code, e.Message);
        Assert.Equal(1, client.ApiCalls);
    }

    [Fact]
    public void UsagePastTheLimitStopsTheRun()
    {
        _server.Handle = (ctx, body) =>
            ctx.Request.Url!.AbsolutePath == "/services/oauth2/token" ? (200, _server.TokenJson(), null)
            : (200, Page(true, null, "005A"), "api-usage=4000/5000");
        var settings = Settings();
        settings.MaxApiUsagePercent = 80;
        using var client = new SalesforceApiClient(settings, _secrets, Fast);
        var e = Assert.Throws<ChatterException>(() => client.QueryAll("SELECT Id FROM User", CancellationToken.None).ToList());
        Assert.Equal("ChatterSource.ApiLimitReached", e.ErrorId);
        settings.MaxApiUsagePercent = 81;
        client.CheckUsage();
    }

    [Fact]
    public void FileBytesAreStreamed()
    {
        var bytes = new byte[300_000];
        new Random(7).NextBytes(bytes);
        var text = Convert.ToBase64String(bytes);
        _server.Handle = (ctx, body) => ctx.Request.Url!.AbsolutePath switch
        {
            "/services/oauth2/token" => (200, _server.TokenJson(), null),
            "/services/data/v62.0/sobjects/ContentVersion/068000000000001AAA/VersionData" => (200, text, "api-usage=1/5000"),
            _ => (404, """[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]""", null),
        };
        using var client = new SalesforceApiClient(Settings(), _secrets, Fast);
        var ms = new MemoryStream();
        client.DownloadVersionData("068000000000001AAA", ms, CancellationToken.None);
        Assert.Equal(text, Encoding.UTF8.GetString(ms.ToArray()));

        var e = Assert.Throws<ChatterException>(() => client.DownloadVersionData("068000000000002AAA", new MemoryStream(), CancellationToken.None));
        Assert.Equal("ChatterSource.FileNotFound", e.ErrorId);
        Assert.Equal("068000000000002AAA", e.Target);
        Assert.Equal("ChatterSource.InvalidId", Assert.Throws<ChatterException>(() => client.DownloadVersionData("../../x", new MemoryStream(), CancellationToken.None)).ErrorId);
    }

    [Theory]
    [InlineData(SalesforceAuthFlow.RefreshToken, 400, """{"error":"invalid_grant","error_description":"expired access/refresh token"}""", "ChatterSource.RefreshTokenRevoked")]
    [InlineData(SalesforceAuthFlow.ClientCredentials, 400, """{"error":"invalid_client_id","error_description":"client identifier invalid"}""", "ChatterSource.AuthFailed")]
    [InlineData(SalesforceAuthFlow.ClientCredentials, 400, """{"error":"invalid_grant","error_description":"authentication failure"}""", "ChatterSource.AuthFailed")]
    [InlineData(SalesforceAuthFlow.RefreshToken, 404, "<html><body>Not here</body></html>", "ChatterSource.LoginUrlInvalid")]
    [InlineData(SalesforceAuthFlow.RefreshToken, 200, "<html><body>A login page</body></html>", "ChatterSource.LoginUrlInvalid")]
    public void TokenFailuresHaveTheirOwnIds(SalesforceAuthFlow flow, int status, string body, string errorId)
    {
        string? form = null;
        _server.Handle = (ctx, b) => { form = b; return (status, body, null); };
        using var client = new SalesforceApiClient(Settings(flow), _secrets, Fast);
        var e = Assert.Throws<ChatterException>(() => client.QueryAll("SELECT Id FROM User", CancellationToken.None).ToList());
        Assert.Equal(errorId, e.ErrorId);
        Assert.DoesNotContain("rtoken", e.Message);
        Assert.DoesNotContain("csecret", e.Message);
        Assert.Equal(0, client.ApiCalls);
        if (flow == SalesforceAuthFlow.ClientCredentials)
            Assert.Equal("client_credentials", HttpUtility.ParseQueryString(form!)["grant_type"]);
    }

    [Fact]
    public void AnUnreachableLoginUrlOrAnHttpInstanceIsRefused()
    {
        var settings = Settings();
        settings.LoginUrl = "http://127.0.0.1:1";
        using (var client = new SalesforceApiClient(settings, _secrets, Fast))
            Assert.Equal("ChatterSource.LoginUrlInvalid", Assert.Throws<ChatterException>(() => client.QueryAll("SELECT Id FROM User", CancellationToken.None).ToList()).ErrorId);

        _server.Handle = (ctx, b) => (200, _server.TokenJson(instance: "http://acme.my.salesforce.com"), null);
        using (var client = new SalesforceApiClient(Settings(), _secrets, Fast))
            Assert.Equal("ChatterSource.InsecureUrl", Assert.Throws<ChatterException>(() => client.QueryAll("SELECT Id FROM User", CancellationToken.None).ToList()).ErrorId);
    }

    [Fact]
    public void AnAccessTokenIsUsedAsItIs()
    {
        string? auth = null;
        _server.Handle = (ctx, b) => { auth = ctx.Request.Headers["Authorization"]; return (200, Page(true, null, "005A"), null); };
        var settings = new SalesforceSettings { AuthFlow = SalesforceAuthFlow.AccessToken, InstanceUrl = _server.Url, AccessToken = _secrets.Protect("given-token") };
        using var client = new SalesforceApiClient(settings, _secrets, Fast);
        Assert.Single(client.QueryAll("SELECT Id FROM User", CancellationToken.None));
        Assert.Equal("Bearer given-token", auth);
        Assert.Equal(0, _server.TokenCalls);
    }
}
