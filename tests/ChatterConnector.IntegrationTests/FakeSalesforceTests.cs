using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using ChatterConnector.Engine.Sources;
using ChatterConnector.Engine.Sources.Sample;
using ChatterConnector.Fakes;

namespace ChatterConnector.IntegrationTests;

public sealed class FakeSalesforceTests : IDisposable
{
    private const string V = "/services/data/v62.0";
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private readonly List<string> _temp = new();

    public void Dispose()
    {
        _http.Dispose();
        foreach (var t in _temp) try { Directory.Delete(t, true); } catch (IOException) { }
    }

    private static SampleOrg NewOrg(int seed = 7, int posts = 60) =>
        SampleOrgGenerator.Generate(new SampleOrgOptions { Users = 12, Posts = posts, Seed = seed });

    private async Task<string> TokenAsync(FakeSalesforce fake)
    {
        var (status, json) = await PostTokenAsync(fake, new()
        {
            ["grant_type"] = "client_credentials", ["client_id"] = fake.Options.ClientId, ["client_secret"] = fake.Options.ClientSecret,
        });
        Assert.Equal(HttpStatusCode.OK, status);
        return json.GetProperty("access_token").GetString()!;
    }

    private async Task<(HttpStatusCode Status, JsonElement Json)> PostTokenAsync(FakeSalesforce fake, Dictionary<string, string> form)
    {
        using var response = await _http.PostAsync(fake.Url + "/services/oauth2/token", new FormUrlEncodedContent(form));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private async Task<(HttpStatusCode Status, JsonElement Json, HttpResponseMessage Response)> GetAsync(
        FakeSalesforce fake, string pathAndQuery, string? token, int? batchSize = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, fake.Url + pathAndQuery);
        if (token != null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (batchSize != null) request.Headers.Add("Sforce-Query-Options", "batchSize=" + batchSize);
        var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var json = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (response.StatusCode, json, response);
    }

    private Task<(HttpStatusCode Status, JsonElement Json, HttpResponseMessage Response)> QueryAsync(
        FakeSalesforce fake, string token, string soql, bool all = false, int? batchSize = null) =>
        GetAsync(fake, $"{V}/{(all ? "queryAll" : "query")}?q={Uri.EscapeDataString(soql)}", token, batchSize);

    /// <summary>Follows nextRecordsUrl to the end; returns every record and the number of pages.</summary>
    private async Task<(List<JsonElement> Records, int Pages)> QueryAllPagesAsync(FakeSalesforce fake, string token, string soql, bool all = false, int? batchSize = null)
    {
        var (status, json, _) = await QueryAsync(fake, token, soql, all, batchSize);
        Assert.Equal(HttpStatusCode.OK, status);
        var records = new List<JsonElement>();
        var pages = 1;
        while (true)
        {
            records.AddRange(json.GetProperty("records").EnumerateArray());
            if (json.GetProperty("done").GetBoolean()) break;
            (status, json, _) = await GetAsync(fake, json.GetProperty("nextRecordsUrl").GetString()!, token, batchSize);
            Assert.Equal(HttpStatusCode.OK, status);
            pages++;
        }
        return (records, pages);
    }

    private static string ErrorCode(JsonElement json)
    {
        Assert.Equal(JsonValueKind.Array, json.ValueKind);
        return json[0].GetProperty("errorCode").GetString()!;
    }

    private static List<string> Ids(IEnumerable<JsonElement> records) => records.Select(r => r.GetProperty("Id").GetString()!).ToList();

    // ---- OAuth ----------------------------------------------------------------------------------

    [Fact]
    public async Task Password_grant_needs_password_plus_security_token_and_the_client_secret()
    {
        await using var fake = FakeSalesforce.Start(NewOrg());
        var o = fake.Options;
        var good = new Dictionary<string, string>
        {
            ["grant_type"] = "password", ["client_id"] = o.ClientId, ["client_secret"] = o.ClientSecret,
            ["username"] = o.Username, ["password"] = o.Password + o.SecurityToken,
        };
        var (status, json) = await PostTokenAsync(fake, good);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith(o.AccessTokenPrefix, json.GetProperty("access_token").GetString());
        Assert.Equal(fake.Url, json.GetProperty("instance_url").GetString());
        Assert.Equal("Bearer", json.GetProperty("token_type").GetString());
        Assert.StartsWith(fake.Url + "/id/00D", json.GetProperty("id").GetString());
        Assert.True(long.Parse(json.GetProperty("issued_at").GetString()!) > 1_600_000_000_000);
        Assert.True(json.TryGetProperty("signature", out _));
        Assert.False(json.TryGetProperty("expires_in", out _));

        (status, json) = await PostTokenAsync(fake, new(good) { ["password"] = o.Password });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", json.GetProperty("error").GetString());
        Assert.Equal("authentication failure", json.GetProperty("error_description").GetString());

        (status, json) = await PostTokenAsync(fake, new(good) { ["client_secret"] = "wrong" });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_client", json.GetProperty("error").GetString());

        (status, json) = await PostTokenAsync(fake, new(good) { ["client_id"] = "nobody" });
        Assert.Equal("invalid_client_id", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Client_credentials_grant()
    {
        await using var fake = FakeSalesforce.Start(NewOrg());
        var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["client_id"] = "fake-client-id", ["client_secret"] = "fake-client-secret" };
        var (status, json) = await PostTokenAsync(fake, form);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("api", json.GetProperty("scope").GetString());

        (status, json) = await PostTokenAsync(fake, new(form) { ["client_secret"] = "nope" });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_client", json.GetProperty("error").GetString());
        (status, json) = await PostTokenAsync(fake, new(form) { ["client_id"] = "nope" });
        Assert.Equal("invalid_client_id", json.GetProperty("error").GetString());
        (status, json) = await PostTokenAsync(fake, new(form) { ["grant_type"] = "authorization_code" });
        Assert.Equal("unsupported_grant_type", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Refresh_token_grant_and_revocation()
    {
        await using var fake = FakeSalesforce.Start(NewOrg());
        var form = new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["client_id"] = "fake-client-id", ["refresh_token"] = "fake-refresh-token" };
        var (status, _) = await PostTokenAsync(fake, form);
        Assert.Equal(HttpStatusCode.OK, status);
        (status, _) = await PostTokenAsync(fake, new(form) { ["client_secret"] = "fake-client-secret" });
        Assert.Equal(HttpStatusCode.OK, status);
        (status, var json) = await PostTokenAsync(fake, new(form) { ["client_secret"] = "bad" });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_client", json.GetProperty("error").GetString());

        fake.RevokeRefreshToken("fake-refresh-token");
        (status, json) = await PostTokenAsync(fake, form);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", json.GetProperty("error").GetString());
        Assert.Equal("expired access/refresh token", json.GetProperty("error_description").GetString());
    }

    [Fact]
    public async Task Jwt_bearer_grant_verifies_signature_issuer_subject_audience_and_expiry()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=fake-jwt", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        using var publicOnly = X509CertificateLoader.LoadCertificate(cert.Export(X509ContentType.Cert));
        using var otherKey = RSA.Create(2048);

        await using var fake = FakeSalesforce.Start(NewOrg(), new FakeSalesforceOptions { JwtCertificate = publicOnly });
        var exp = DateTimeOffset.UtcNow.AddMinutes(3).ToUnixTimeSeconds();
        async Task<(HttpStatusCode, JsonElement)> Try(RSA key, string iss, string sub, string aud, long expiry) =>
            await PostTokenAsync(fake, new()
            {
                ["grant_type"] = "urn:ietf:params:oauth:grant-type:jwt-bearer",
                ["assertion"] = Jwt(key, iss, sub, aud, expiry),
            });

        var (status, json) = await Try(rsa, "fake-client-id", "integration@contoso.com", fake.Url, exp);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(fake.Url, json.GetProperty("instance_url").GetString());
        (status, _) = await Try(rsa, "fake-client-id", "integration@contoso.com", "https://login.salesforce.com", exp);
        Assert.Equal(HttpStatusCode.OK, status);
        (status, _) = await Try(rsa, "fake-client-id", "integration@contoso.com", "https://test.salesforce.com", exp);
        Assert.Equal(HttpStatusCode.OK, status);

        (status, json) = await Try(otherKey, "fake-client-id", "integration@contoso.com", fake.Url, exp);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", json.GetProperty("error").GetString());
        (_, json) = await Try(rsa, "someone-else", "integration@contoso.com", fake.Url, exp);
        Assert.Equal("invalid_client_id", json.GetProperty("error").GetString());
        (_, json) = await Try(rsa, "fake-client-id", "other@contoso.com", fake.Url, exp);
        Assert.Equal("invalid_grant", json.GetProperty("error").GetString());
        (_, json) = await Try(rsa, "fake-client-id", "integration@contoso.com", "https://evil.example.com", exp);
        Assert.Equal("invalid_grant", json.GetProperty("error").GetString());
        (status, json) = await Try(rsa, "fake-client-id", "integration@contoso.com", fake.Url, DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds());
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_grant", json.GetProperty("error").GetString());

        // Without a certificate the JWT flow is refused.
        await using var noJwt = FakeSalesforce.Start(NewOrg());
        (status, json) = await PostTokenAsync(noJwt, new()
        {
            ["grant_type"] = "urn:ietf:params:oauth:grant-type:jwt-bearer",
            ["assertion"] = Jwt(rsa, "fake-client-id", "integration@contoso.com", noJwt.Url, exp),
        });
        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    private static string Jwt(RSA key, string iss, string sub, string aud, long exp)
    {
        static string B64(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var header = B64(Encoding.UTF8.GetBytes("{\"alg\":\"RS256\"}"));
        var payload = B64(JsonSerializer.SerializeToUtf8Bytes(new { iss, sub, aud, exp }));
        var signature = key.SignData(Encoding.ASCII.GetBytes(header + "." + payload), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return header + "." + payload + "." + B64(signature);
    }

    // ---- authentication on REST ------------------------------------------------------------------

    [Fact]
    public async Task Rest_calls_need_a_valid_bearer_token()
    {
        await using var fake = FakeSalesforce.Start(NewOrg());
        var (status, json, response) = await GetAsync(fake, $"{V}/query?q=SELECT+Id+FROM+User", null);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("INVALID_SESSION_ID", ErrorCode(json));
        Assert.Equal("Session expired or invalid", json[0].GetProperty("message").GetString());
        Assert.True(response.Headers.Contains("Sforce-Limit-Info"));

        (status, json, _) = await GetAsync(fake, $"{V}/query?q=SELECT+Id+FROM+User", "00Dfake!made-up");
        Assert.Equal(HttpStatusCode.Unauthorized, status);

        var token = await TokenAsync(fake);
        (status, _, _) = await GetAsync(fake, $"{V}/query?q=SELECT+Id+FROM+User", token);
        Assert.Equal(HttpStatusCode.OK, status);

        fake.ExpireAccessTokens();
        (status, json, _) = await GetAsync(fake, $"{V}/query?q=SELECT+Id+FROM+User", token);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("INVALID_SESSION_ID", ErrorCode(json));
        Assert.Equal(1, fake.ApiCalls); // the 401s are not counted
    }

    [Fact]
    public async Task Unauthorized_once_invalidates_the_token_in_use()
    {
        await using var fake = FakeSalesforce.Start(NewOrg());
        var token = await TokenAsync(fake);
        fake.Faults.Unauthorized401Once = 1;
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(fake, $"{V}/limits", token)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(fake, $"{V}/limits", token)).Status);
        var fresh = await TokenAsync(fake);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(fake, $"{V}/limits", fresh)).Status);
    }

    // ---- queries ------------------------------------------------------------------------------------

    [Fact]
    public async Task Paging_follows_relative_nextRecordsUrl_over_three_pages()
    {
        await using var fake = FakeSalesforce.Start(NewOrg());
        var token = await TokenAsync(fake);
        var expected = fake.Org.FeedItems.Count;
        var batch = (expected + 2) / 3;
        Assert.True(expected > 2 * batch);

        var (status, page1, _) = await QueryAsync(fake, token, "SELECT Id, SystemModstamp FROM FeedItem ORDER BY SystemModstamp, Id", all: true, batchSize: batch);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(expected, page1.GetProperty("totalSize").GetInt32());
        Assert.False(page1.GetProperty("done").GetBoolean());
        Assert.Equal(batch, page1.GetProperty("records").GetArrayLength());
        var next = page1.GetProperty("nextRecordsUrl").GetString()!;
        Assert.StartsWith($"{V}/query/01g", next); // /query/ even after queryAll, relative to the instance
        Assert.EndsWith("-" + batch, next);

        var (_, page2, _) = await GetAsync(fake, next, token, batch);
        Assert.False(page2.GetProperty("done").GetBoolean());
        var (_, page3, _) = await GetAsync(fake, page2.GetProperty("nextRecordsUrl").GetString()!, token, batch);
        Assert.True(page3.GetProperty("done").GetBoolean());
        Assert.False(page3.TryGetProperty("nextRecordsUrl", out _));

        var all = Ids(page1.GetProperty("records").EnumerateArray().Concat(page2.GetProperty("records").EnumerateArray()).Concat(page3.GetProperty("records").EnumerateArray()));
        Assert.Equal(expected, all.Count);
        Assert.Equal(expected, all.Distinct().Count());
        var first = page1.GetProperty("records")[0];
        Assert.Equal("FeedItem", first.GetProperty("attributes").GetProperty("type").GetString());
        Assert.Equal($"{V}/sobjects/FeedItem/{first.GetProperty("Id").GetString()}", first.GetProperty("attributes").GetProperty("url").GetString());

        var requests = fake.Requests.Where(r => r.Path.StartsWith(V + "/query", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, requests.Count);
        Assert.All(requests, r => Assert.Equal("FeedItem", r.Object));
        Assert.Contains("SELECT Id, SystemModstamp FROM FeedItem", requests[0].Soql);
        Assert.Contains("q=SELECT Id, SystemModstamp FROM FeedItem", requests[0].Query);
    }

    [Fact]
    public async Task PageSize_option_caps_pages_and_the_result_set_is_fixed_when_the_query_starts()
    {
        var org = NewOrg();
        await using var fake = FakeSalesforce.Start(org, new FakeSalesforceOptions { PageSize = 10 });
        var token = await TokenAsync(fake);
        var before = org.FeedComments.Count;
        var (_, page1, _) = await QueryAsync(fake, token, "SELECT Id, CommentBody FROM FeedComment ORDER BY Id", all: true);
        Assert.Equal(10, page1.GetProperty("records").GetArrayLength());

        var post = org.FeedItems.First(p => p.IsDeleted == "false");
        fake.MutateOrg(o => o.AddComment(post.Id, post.CreatedById, "added later", o.LatestTimestamp().AddMinutes(1)));

        var records = new List<JsonElement>(page1.GetProperty("records").EnumerateArray());
        var json = page1;
        while (!json.GetProperty("done").GetBoolean())
        {
            (_, json, _) = await GetAsync(fake, json.GetProperty("nextRecordsUrl").GetString()!, token);
            Assert.True(json.GetProperty("records").GetArrayLength() <= 10);
            records.AddRange(json.GetProperty("records").EnumerateArray());
        }
        Assert.Equal(before, records.Count);
        Assert.Equal(before + 1, (await QueryAllPagesAsync(fake, token, "SELECT Id FROM FeedComment", all: true)).Records.Count);

        // An unknown locator.
        var (status, err, _) = await GetAsync(fake, $"{V}/query/01gFAKE99999999999-10", token);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("INVALID_QUERY_LOCATOR", ErrorCode(err));
    }

    [Theory]
    [InlineData("yyyy-MM-dd'T'HH:mm:ss.fff'Z'")]
    [InlineData("yyyy-MM-dd'T'HH:mm:ss'Z'")]
    [InlineData("yyyy-MM-dd'T'HH:mm:ss.fff'+0000'")]
    public async Task Watermark_condition_on_SystemModstamp_and_Id(string literalFormat)
    {
        var org = NewOrg();
        // Three posts sharing one SystemModstamp, so the Id tie-break matters.
        var when = org.LatestTimestamp().AddMinutes(5);
        var user = org.Users[0].Id;
        var tied = Enumerable.Range(0, 3).Select(i => org.AddPost(user, user, "tied " + i, when)).ToList();
        org.AddPost(user, user, "later", when.AddSeconds(1));
        await using var fake = FakeSalesforce.Start(org);
        var token = await TokenAsync(fake);

        var sorted = org.FeedItems
            .Select(p => (Row: p, Stamp: SalesforceDate.TryParse(p.SystemModstamp, out var d) ? d : default))
            .OrderBy(x => x.Stamp).ThenBy(x => x.Row.Id, StringComparer.Ordinal).ToList();
        var mark = sorted.First(x => x.Row.Id == tied.OrderBy(t => t, StringComparer.Ordinal).First());
        var markStamp = mark.Stamp.UtcDateTime.ToString(literalFormat, System.Globalization.CultureInfo.InvariantCulture);
        var expected = sorted.Where(x => x.Stamp > mark.Stamp || (x.Stamp == mark.Stamp && string.CompareOrdinal(x.Row.Id, mark.Row.Id) > 0))
            .Select(x => x.Row.Id).ToList();
        Assert.Equal(3, expected.Count); // two tied, one later

        var soql = $"SELECT Id, SystemModstamp FROM FeedItem WHERE (SystemModstamp > {markStamp} OR (SystemModstamp = {markStamp} AND Id > '{mark.Row.Id}')) ORDER BY SystemModstamp, Id";
        var (records, _) = await QueryAllPagesAsync(fake, token, soql, all: true);
        Assert.Equal(expected, Ids(records));
        Assert.Equal(SalesforceDate.Format(when), records[0].GetProperty("SystemModstamp").GetString());

        // A plain > on a datetime, and the whole history ordered.
        var (later, _) = await QueryAllPagesAsync(fake, token, $"SELECT Id FROM FeedItem WHERE SystemModstamp > {markStamp}", all: true);
        Assert.Single(later);
        var (everything, _) = await QueryAllPagesAsync(fake, token, "SELECT Id FROM FeedItem ORDER BY SystemModstamp ASC, Id ASC", all: true);
        Assert.Equal(sorted.Select(x => x.Row.Id).ToList(), Ids(everything));
    }

    [Fact]
    public async Task In_not_limit_order_desc_and_like()
    {
        var org = NewOrg();
        await using var fake = FakeSalesforce.Start(org);
        var token = await TokenAsync(fake);
        var some = org.Users.Take(3).Select(u => u.Id).ToList();

        var (records, _) = await QueryAllPagesAsync(fake, token, $"SELECT Id, Name FROM User WHERE Id IN ('{some[0]}', '{some[1]}', '{some[2]}') ORDER BY Id DESC");
        Assert.Equal(some.OrderByDescending(s => s, StringComparer.Ordinal).ToList(), Ids(records));

        (records, _) = await QueryAllPagesAsync(fake, token, $"SELECT Id FROM User WHERE NOT Id IN ('{some[0]}') AND Id NOT IN ('{some[1]}')");
        Assert.Equal(org.Users.Count - 2, records.Count);

        var (status, json, _) = await QueryAsync(fake, token, "SELECT Id FROM FeedItem ORDER BY CreatedDate DESC LIMIT 5", all: true);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(5, json.GetProperty("totalSize").GetInt32());
        Assert.True(json.GetProperty("done").GetBoolean());

        (records, _) = await QueryAllPagesAsync(fake, token, "SELECT Id, Type FROM FeedItem WHERE Type = 'ContentPost' OR Type = 'LinkPost'", all: true);
        Assert.Equal(org.FeedItems.Count(p => p.Type is "ContentPost" or "LinkPost"), records.Count);

        (records, _) = await QueryAllPagesAsync(fake, token, "SELECT Id FROM FeedItem WHERE Type != 'TextPost' AND Revision >= 2", all: true);
        Assert.Equal(org.FeedItems.Count(p => p.Type != "TextPost" && int.Parse(p.Revision) >= 2), records.Count);

        var name = org.Users[0].Name;
        (records, _) = await QueryAllPagesAsync(fake, token, $"SELECT Id FROM User WHERE Name LIKE '{name[..3].Replace("'", "\\'")}%'");
        Assert.Equal(org.Users.Count(u => u.Name.StartsWith(name[..3], StringComparison.OrdinalIgnoreCase)), records.Count);

        (status, json, _) = await QueryAsync(fake, token, "SELECT COUNT() FROM User");
        Assert.Equal(org.Users.Count, json.GetProperty("totalSize").GetInt32());
        Assert.Equal(0, json.GetProperty("records").GetArrayLength());
    }

    [Fact]
    public async Task Query_hides_deleted_rows_and_queryAll_returns_them()
    {
        var org = NewOrg();
        var victim = org.FeedItems.First(p => p.IsDeleted == "false");
        org.DeletePost(victim.Id, org.LatestTimestamp().AddMinutes(1));
        await using var fake = FakeSalesforce.Start(org);
        var token = await TokenAsync(fake);

        var (all, _) = await QueryAllPagesAsync(fake, token, "SELECT Id, IsDeleted FROM FeedItem", all: true);
        var (live, _) = await QueryAllPagesAsync(fake, token, "SELECT Id, IsDeleted FROM FeedItem");
        Assert.Equal(org.FeedItems.Count, all.Count);
        Assert.Equal(org.FeedItems.Count(p => p.IsDeleted != "true"), live.Count);
        Assert.DoesNotContain(victim.Id, Ids(live));
        var row = all.Single(r => r.GetProperty("Id").GetString() == victim.Id);
        Assert.True(row.GetProperty("IsDeleted").GetBoolean());
        Assert.All(live, r => Assert.False(r.GetProperty("IsDeleted").GetBoolean()));

        var (deleted, _) = await QueryAllPagesAsync(fake, token, "SELECT Id FROM FeedItem WHERE IsDeleted = true", all: true);
        Assert.Contains(victim.Id, Ids(deleted));
    }

    [Fact]
    public async Task Values_come_back_as_json_types()
    {
        var org = NewOrg();
        await using var fake = FakeSalesforce.Start(org);
        var token = await TokenAsync(fake);
        var (posts, _) = await QueryAllPagesAsync(fake, token, "SELECT Id, Body, IsRichText, Revision, LastEditDate, CreatedDate FROM FeedItem", all: true);
        var unedited = posts.First(p => p.GetProperty("Revision").GetInt32() == 1);
        Assert.Equal(JsonValueKind.Null, unedited.GetProperty("LastEditDate").ValueKind);
        Assert.Contains(posts, p => p.GetProperty("IsRichText").ValueKind == JsonValueKind.True);
        Assert.True(SalesforceDate.TryParse(unedited.GetProperty("CreatedDate").GetString(), out _));

        var (files, _) = await QueryAllPagesAsync(fake, token, "select id, contentsize, versiondata, checksum from contentversion");
        var f = files[0];
        var id = f.GetProperty("Id").GetString();
        Assert.Equal(JsonValueKind.Number, f.GetProperty("ContentSize").ValueKind);
        Assert.Equal($"{V}/sobjects/ContentVersion/{id}/VersionData", f.GetProperty("VersionData").GetString());
    }

    [Theory]
    [InlineData("SELECT Id, Bogus FROM FeedItem", "INVALID_FIELD")]
    [InlineData("SELECT Id FROM FeedItem WHERE Nope = 'x'", "INVALID_FIELD")]
    [InlineData("SELECT Id FROM FeedItem ORDER BY Nope", "INVALID_FIELD")]
    [InlineData("SELECT Id FROM FeedItem WHERE SystemModstamp > '2024-01-01T00:00:00Z'", "INVALID_FIELD")]
    [InlineData("SELECT Id FROM Widget__c", "INVALID_TYPE")]
    [InlineData("SELECT Id FROM", "MALFORMED_QUERY")]
    [InlineData("SELECT Id FROM FeedItem WHERE", "MALFORMED_QUERY")]
    [InlineData("SELECT Id FROM FeedItem WHERE Type = 'a' AND Type = 'b' OR Type = 'c'", "MALFORMED_QUERY")]
    [InlineData("SELECT Id FROM FeedItem WHERE Body = 'unterminated", "MALFORMED_QUERY")]
    [InlineData("SELECT Id FROM FeedItem LIMIT x", "MALFORMED_QUERY")]
    [InlineData("DELETE FROM FeedItem", "MALFORMED_QUERY")]
    public async Task Bad_queries_get_400_with_the_salesforce_error_code(string soql, string errorCode)
    {
        await using var fake = FakeSalesforce.Start(NewOrg());
        var token = await TokenAsync(fake);
        var (status, json, _) = await QueryAsync(fake, token, soql);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(errorCode, ErrorCode(json));
        if (soql.Contains("Bogus")) Assert.StartsWith("No such column 'Bogus' on entity 'FeedItem'", json[0].GetProperty("message").GetString());
    }

    [Fact]
    public async Task String_literals_unescape_quotes()
    {
        var org = NewOrg();
        var user = org.Users[0].Id;
        var id = org.AddPost(user, user, "It's \"quoted\" \\ done", org.LatestTimestamp().AddMinutes(1));
        await using var fake = FakeSalesforce.Start(org);
        var token = await TokenAsync(fake);
        var (records, _) = await QueryAllPagesAsync(fake, token, @"SELECT Id, Body FROM FeedItem WHERE Body = 'It\'s ""quoted"" \\ done'");
        Assert.Equal(id, Assert.Single(records).GetProperty("Id").GetString());
    }

    [Fact]
    public async Task Private_messages_and_api_access_can_be_refused()
    {
        await using var fake = FakeSalesforce.Start(NewOrg(), new FakeSalesforceOptions { PrivateMessagesAllowed = false });
        var token = await TokenAsync(fake);
        var (status, json, _) = await QueryAsync(fake, token, "SELECT Id, Body FROM ChatterMessage");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("INSUFFICIENT_ACCESS", ErrorCode(json));
        (status, json, _) = await QueryAsync(fake, token, "SELECT ConversationId FROM ChatterConversationMember");
        Assert.Equal("INSUFFICIENT_ACCESS", ErrorCode(json));
        Assert.Equal(HttpStatusCode.OK, (await QueryAsync(fake, token, "SELECT Id FROM User")).Status);

        fake.Options.ApiEnabled = false;
        (status, json, _) = await QueryAsync(fake, token, "SELECT Id FROM User");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("API_DISABLED_FOR_ORG", ErrorCode(json));
    }

    // ---- limits and faults -----------------------------------------------------------------------------

    [Fact]
    public async Task Limit_header_counts_calls_and_limits_endpoint_reports_them()
    {
        await using var fake = FakeSalesforce.Start(NewOrg(), new FakeSalesforceOptions { ApiUsageAtStart = 40, DailyApiLimit = 5000 });
        var token = await TokenAsync(fake);
        Assert.Equal(0, fake.ApiCalls); // token calls do not count
        var (_, _, r1) = await QueryAsync(fake, token, "SELECT Id FROM User");
        Assert.Equal("api-usage=41/5000", r1.Headers.GetValues("Sforce-Limit-Info").Single());
        var (_, _, r2) = await QueryAsync(fake, token, "SELECT Id FROM Bogus");
        Assert.Equal("api-usage=42/5000", r2.Headers.GetValues("Sforce-Limit-Info").Single());
        var (status, limits, r3) = await GetAsync(fake, $"{V}/limits", token);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(5000, limits.GetProperty("DailyApiRequests").GetProperty("Max").GetInt32());
        Assert.Equal(5000 - 43, limits.GetProperty("DailyApiRequests").GetProperty("Remaining").GetInt32());
        Assert.Equal(3, fake.ApiCalls);

        var (vs, versions, _) = await GetAsync(fake, "/services/data/", null);
        Assert.Equal(HttpStatusCode.OK, vs);
        Assert.Contains(versions.EnumerateArray(), v => v.GetProperty("version").GetString() == "62.0");
    }

    [Fact]
    public async Task Request_limit_exceeded_after_n_calls_and_at_the_daily_limit()
    {
        await using var fake = FakeSalesforce.Start(NewOrg(), new FakeSalesforceOptions { DailyApiLimit = 10, ApiUsageAtStart = 8 });
        var token = await TokenAsync(fake);
        fake.Faults.RequestLimitAfterCalls = 1;
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(fake, $"{V}/limits", token)).Status);
        var (status, json, _) = await GetAsync(fake, $"{V}/limits", token);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("REQUEST_LIMIT_EXCEEDED", ErrorCode(json));
        fake.Faults.RequestLimitAfterCalls = -1;
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(fake, $"{V}/limits", token)).Status);
        // 8 + 2 = 10 = the daily limit
        (status, json, _) = await GetAsync(fake, $"{V}/limits", token);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("REQUEST_LIMIT_EXCEEDED", ErrorCode(json));
        Assert.Equal(2, fake.ApiCalls);
    }

    [Fact]
    public async Task Injected_503s_and_dropped_connections()
    {
        await using var fake = FakeSalesforce.Start(NewOrg());
        var token = await TokenAsync(fake);
        fake.Faults.Fail503 = 2;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await GetAsync(fake, $"{V}/limits", token)).Status);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await GetAsync(fake, $"{V}/limits", token)).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(fake, $"{V}/limits", token)).Status);

        fake.Faults.DropConnections = 1;
        await Assert.ThrowsAsync<HttpRequestException>(() => GetAsync(fake, $"{V}/limits", token));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(fake, $"{V}/limits", token)).Status);
        Assert.Single(fake.Requests, r => r.Dropped);
        Assert.Equal(2, fake.Requests.Count(r => r.Status == 503));

        fake.Faults.Latency = TimeSpan.FromMilliseconds(300);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(fake, $"{V}/limits", token)).Status);
        Assert.True(watch.ElapsedMilliseconds >= 250);
        fake.Faults.Latency = TimeSpan.Zero;

        fake.ResetRequests();
        Assert.Empty(fake.Requests);
    }

    [Fact]
    public async Task Random_failures_are_deterministic_from_the_seed()
    {
        async Task<string> Pattern()
        {
            await using var fake = FakeSalesforce.Start(NewOrg());
            var token = await TokenAsync(fake);
            fake.Faults.Seed = 42;
            fake.Faults.RandomFailureRate = 0.5;
            var sb = new StringBuilder();
            for (var i = 0; i < 20; i++)
            {
                try { sb.Append((int)(await GetAsync(fake, $"{V}/limits", token)).Status).Append(' '); }
                catch (HttpRequestException) { sb.Append("drop "); }
            }
            return sb.ToString();
        }
        var a = await Pattern();
        Assert.Equal(a, await Pattern());
        Assert.Contains("200", a);
        Assert.True(a.Contains("503") || a.Contains("drop"));
    }

    // ---- file bytes -------------------------------------------------------------------------------------

    [Fact]
    public async Task VersionData_is_byte_for_byte_the_export_file()
    {
        var exported = NewOrg(seed: 11);
        var folder = Path.Combine(Path.GetTempPath(), "fake-sf-" + Guid.NewGuid().ToString("N"));
        _temp.Add(folder);
        exported.WriteExport(folder);

        var org = NewOrg(seed: 11);
        Assert.NotNull(org.MissingFileId);
        await using var fake = FakeSalesforce.Start(org);
        var token = await TokenAsync(fake);
        Assert.NotEmpty(org.ContentVersions);
        foreach (var version in org.ContentVersions.Where(v => v.Id != org.MissingFileId))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{fake.Url}{V}/sobjects/ContentVersion/{version.Id}/VersionData");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await _http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(File.ReadAllBytes(Path.Combine(folder, "ContentVersion", version.Id)), bytes);
            Assert.Equal(version.Checksum, Convert.ToHexStringLower(MD5.HashData(bytes)));
        }

        var (status, json, _) = await GetAsync(fake, $"{V}/sobjects/ContentVersion/{org.MissingFileId}/VersionData", token);
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("NOT_FOUND", ErrorCode(json));
        Assert.Equal("The requested resource does not exist", json[0].GetProperty("message").GetString());
        (status, _, _) = await GetAsync(fake, $"{V}/sobjects/ContentVersion/068000000000000AAA/VersionData", token);
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Fact]
    public async Task A_large_file_streams_without_being_held_in_memory()
    {
        const long size = 200L * 1024 * 1024;
        var org = NewOrg(posts: 5);
        var user = org.Users[0].Id;
        var postId = org.AddPost(user, user, "big one", org.LatestTimestamp().AddMinutes(1), fileName: "huge.bin", fileSize: size);
        var version = org.ContentVersions.Single(v => v.Id == org.FeedItems.Single(p => p.Id == postId).RelatedRecordId);
        await using var fake = FakeSalesforce.Start(org);
        var token = await TokenAsync(fake);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"{fake.Url}{V}/sobjects/ContentVersion/{version.Id}/VersionData");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(size, response.Content.Headers.ContentLength);
        using var md5 = MD5.Create();
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[81920];
        long total = 0;
        int n;
        while ((n = await body.ReadAsync(buffer)) > 0) { md5.TransformBlock(buffer, 0, n, null, 0); total += n; }
        md5.TransformFinalBlock(Array.Empty<byte>(), 0, 0);
        Assert.Equal(size, total);
        Assert.Equal(version.Checksum, Convert.ToHexStringLower(md5.Hash!));
    }

    [Fact]
    public async Task A_truncated_download_fails_the_client()
    {
        var org = NewOrg();
        var version = org.ContentVersions.First(v => v.Id != org.MissingFileId && long.Parse(v.ContentSize) > 1000);
        await using var fake = FakeSalesforce.Start(org);
        var token = await TokenAsync(fake);
        fake.Faults.TruncateDownloads = 1;
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{fake.Url}{V}/sobjects/ContentVersion/{version.Id}/VersionData");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            using var response = await _http.SendAsync(request);
            await response.Content.ReadAsByteArrayAsync();
        });
        var (status, _, _) = await GetAsync(fake, $"{V}/limits", token);
        Assert.Equal(HttpStatusCode.OK, status);
    }
}
