using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatterConnector.Fakes;

namespace ChatterConnector.IntegrationTests;

public sealed class FakeGraphTests : IAsyncLifetime
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private FakeGraph _graph = null!;
    private FakeGraphUser _alice = null!;

    public Task InitializeAsync()
    {
        _graph = FakeGraph.Start();
        _alice = _graph.AddUser("alice@contoso.com", "smtp:alice.old@contoso.com");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _graph.DisposeAsync();
    }

    private string V1 => _graph.Url + "/v1.0";

    private static string Enc(string s) => Uri.EscapeDataString(s);

    private async Task<(HttpStatusCode Status, JsonElement Json, HttpResponseMessage Response)> SendAsync(
        HttpMethod method, string url, HttpContent? content = null, string? token = "fake-graph-token")
    {
        using var request = new HttpRequestMessage(method, url) { Content = content };
        if (token != null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var json = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (response.StatusCode, json, response);
    }

    private Task<(HttpStatusCode Status, JsonElement Json, HttpResponseMessage Response)> GetAsync(string url, string? token = "fake-graph-token") =>
        SendAsync(HttpMethod.Get, url, null, token);

    private Task<(HttpStatusCode Status, JsonElement Json, HttpResponseMessage Response)> PostJsonAsync(string url, object body) =>
        SendAsync(HttpMethod.Post, url, new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));

    private static string Code(JsonElement json) => json.GetProperty("error").GetProperty("code").GetString()!;

    private async Task<string> CreateChatterFolderAsync(string user)
    {
        var (status, json, _) = await PostJsonAsync($"{V1}/users/{Enc(user)}/mailFolders/inbox/childFolders", new { displayName = "Salesforce Chatter" });
        Assert.Equal(HttpStatusCode.Created, status);
        return json.GetProperty("id").GetString()!;
    }

    private static object ImportBody(string messageId, string subject = "A post") => new
    {
        subject,
        body = new { contentType = "html", content = "<p>Hello</p>" },
        from = new { emailAddress = new { name = "Bob", address = "bob@contoso.com" } },
        toRecipients = new[] { new { emailAddress = new { address = "alice@contoso.com" } } },
        internetMessageId = messageId,
        internetMessageHeaders = new[] { new { name = "x-chatter-post-id", value = "0D5000000000001" } },
        singleValueExtendedProperties = new[]
        {
            new { id = "Integer 0x0E07", value = "1" },
            new { id = "SystemTime 0x0E06", value = "2024-03-01T10:00:00Z" },
            new { id = "String 0x001A", value = "IPM.ExternalData.Chatter.Post" },
            new { id = "String 0x1042", value = "<parent@chatter>" },
        },
        attachments = new[]
        {
            new Dictionary<string, object>
            {
                ["@odata.type"] = "#microsoft.graph.fileAttachment", ["name"] = "a.txt", ["contentType"] = "text/plain",
                ["contentBytes"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("attached")),
            },
        },
    };

    private static string MimeBase64(string messageId, string subject = "From MIME") => Convert.ToBase64String(Encoding.UTF8.GetBytes(
        "From: Bob <bob@contoso.com>\r\nTo: alice@contoso.com\r\nSubject: " + subject + "\r\nMessage-ID: " + messageId +
        "\r\nDate: Fri, 01 Mar 2024 10:00:00 +0000\r\nX-Chatter-Post-Id: 0D5\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nbody\r\n"));

    // ---- auth and users --------------------------------------------------------------------------

    [Fact]
    public async Task FakeGraph_RequiresTheToken()
    {
        var (status, json, _) = await GetAsync($"{V1}/users/{Enc("alice@contoso.com")}", token: null);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("InvalidAuthenticationToken", Code(json));
        (status, json, _) = await GetAsync($"{V1}/users/{Enc("alice@contoso.com")}", token: "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("InvalidAuthenticationToken", Code(json));
        Assert.Equal(401, _graph.Requests[^1].Status);
    }

    [Fact]
    public async Task FakeGraph_RolesAreEnforced()
    {
        _graph.Options.GrantedRoles.Remove("User.Read.All");
        var (status, json, _) = await GetAsync($"{V1}/users/{Enc("alice@contoso.com")}");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("Authorization_RequestDenied", Code(json));
        _graph.Options.GrantedRoles.Remove("Mail.ReadWrite");
        (status, json, _) = await GetAsync($"{V1}/users/{Enc("alice@contoso.com")}/mailFolders/inbox");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("ErrorAccessDenied", Code(json));
    }

    [Fact]
    public async Task FakeGraph_LooksUpUsersByIdUpnMailAndProxyAddress()
    {
        var (status, json, _) = await GetAsync($"{V1}/users/{Enc("ALICE@contoso.com")}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(_alice.Id, json.GetProperty("id").GetString());
        (status, json, _) = await GetAsync($"{V1}/users/{_alice.Id}");
        Assert.Equal("alice@contoso.com", json.GetProperty("userPrincipalName").GetString());
        (status, json, _) = await GetAsync($"{V1}/users/{Enc("nobody@contoso.com")}");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("Request_ResourceNotFound", Code(json));

        foreach (var address in new[] { "alice@contoso.com", "Alice.Old@Contoso.com" })
        {
            var filter = $"mail eq '{address}' or proxyAddresses/any(p:p eq 'smtp:{address}')";
            (status, json, _) = await GetAsync($"{V1}/users?$filter={Enc(filter)}&$select=id,mail,userPrincipalName");
            Assert.Equal(HttpStatusCode.OK, status);
            var value = json.GetProperty("value");
            Assert.Equal(1, value.GetArrayLength());
            Assert.Equal(_alice.Id, value[0].GetProperty("id").GetString());
            Assert.Equal("alice@contoso.com", value[0].GetProperty("mail").GetString());
        }
        (status, json, _) = await GetAsync($"{V1}/users?$filter={Enc("mail eq 'x@y' or proxyAddresses/any(p:p eq 'smtp:x@y')")}");
        Assert.Equal(0, json.GetProperty("value").GetArrayLength());
        Assert.Contains(_graph.Requests, r => r.Query.Contains("proxyAddresses/any(p:p eq 'smtp:alice.old@contoso.com')", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(_graph.Requests, r => r.Path == "/v1.0/users/ALICE@contoso.com");
    }

    [Fact]
    public async Task FakeGraph_MailboxErrors()
    {
        var (status, json, _) = await GetAsync($"{V1}/users/{Enc("ghost@contoso.com")}/mailFolders/inbox");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("ErrorInvalidUser", Code(json));
        var noBox = _graph.AddUser("nobox@contoso.com");
        noBox.HasMailbox = false;
        (status, json, _) = await GetAsync($"{V1}/users/{noBox.Id}/mailFolders/inbox");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("MailboxNotEnabledForRESTAPI", Code(json));
        var disabled = _graph.AddUser("gone@contoso.com");
        disabled.Disabled = true;
        (status, json, _) = await GetAsync($"{V1}/users/{Enc("gone@contoso.com")}/mailFolders/inbox");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("ErrorAccessDenied", Code(json));
    }

    // ---- folders and messages ----------------------------------------------------------------------

    [Fact]
    public async Task FakeGraph_CreatesTheFolderOnceThenFindsIt()
    {
        var (status, inbox, _) = await GetAsync($"{V1}/users/{Enc("alice@contoso.com")}/mailFolders/inbox");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Inbox", inbox.GetProperty("displayName").GetString());

        var id = await CreateChatterFolderAsync("alice@contoso.com");
        var (dupStatus, dup, _) = await PostJsonAsync($"{V1}/users/{_alice.Id}/mailFolders/inbox/childFolders", new { displayName = "salesforce chatter" });
        Assert.Equal(HttpStatusCode.Conflict, dupStatus);
        Assert.Equal("ErrorFolderExists", Code(dup));

        var filter = Enc("displayName eq 'Salesforce Chatter'");
        var (_, list, _) = await GetAsync($"{V1}/users/{_alice.Id}/mailFolders/inbox/childFolders?$filter={filter}");
        Assert.Equal(id, list.GetProperty("value")[0].GetProperty("id").GetString());
        Assert.Equal(inbox.GetProperty("id").GetString(), list.GetProperty("value")[0].GetProperty("parentFolderId").GetString());
        (_, list, _) = await GetAsync($"{V1}/users/{_alice.Id}/mailFolders/inbox/childFolders?$filter={Enc("displayName eq 'Other'")}");
        Assert.Equal(0, list.GetProperty("value").GetArrayLength());
    }

    [Fact]
    public async Task FakeGraph_JsonCreate_NonDraftWithFlags_DraftWithout()
    {
        var folder = await CreateChatterFolderAsync("alice@contoso.com");
        var url = $"{V1}/users/{Enc("alice@contoso.com")}/mailFolders/{folder}/messages";
        var (status, json, _) = await PostJsonAsync(url, ImportBody("<post-1@chatter>"));
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.False(json.GetProperty("isDraft").GetBoolean());
        Assert.True(json.GetProperty("isRead").GetBoolean());
        Assert.Equal("2024-03-01T10:00:00Z", json.GetProperty("receivedDateTime").GetString());

        (status, json, _) = await PostJsonAsync(url, new { subject = "plain", body = new { contentType = "text", content = "x" } });
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.True(json.GetProperty("isDraft").GetBoolean());

        (status, json, _) = await SendAsync(HttpMethod.Post, url, new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, status);

        (status, json, _) = await PostJsonAsync(url, new { subject = "bad", internetMessageHeaders = new[] { new { name = "Chatter-Id", value = "1" } } });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("InvalidInternetMessageHeader", Code(json));

        var messages = _graph.Messages(_alice.Id, "Salesforce Chatter");
        Assert.Equal(2, messages.Count);
        var m = messages[0];
        Assert.False(m.IsDraft);
        Assert.Equal("<post-1@chatter>", m.InternetMessageId);
        Assert.Equal("1", m.ExtendedProperties["Integer 0x0E07"]);
        Assert.Equal("IPM.ExternalData.Chatter.Post", m.ExtendedProperties["String 0x001A"]);
        Assert.Equal("IPM.ExternalData.Chatter.Post", m.MessageClass);
        Assert.Equal("<parent@chatter>", m.ExtendedProperties["String 0x1042"]);
        Assert.Equal("0D5000000000001", m.InternetMessageHeaders["x-chatter-post-id"]);
        Assert.Equal("bob@contoso.com", m.FromAddress);
        Assert.Equal(new[] { "alice@contoso.com" }, m.ToAddresses);
        Assert.Equal("html", m.BodyContentType);
        Assert.Equal("attached", Encoding.UTF8.GetString(Assert.Single(m.Attachments).Bytes!));
        Assert.Contains("\"x-chatter-post-id\"", m.JsonBody);
        Assert.True(messages[1].IsDraft);
    }

    [Fact]
    public async Task FakeGraph_RejectsBodiesOver4MB()
    {
        var url = $"{V1}/users/{_alice.Id}/mailFolders/inbox/messages";
        var (status, json, _) = await PostJsonAsync(url, new { subject = "big", body = new { contentType = "text", content = new string('x', 4 * 1024 * 1024 + 10) } });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("RequestEntityTooLarge", Code(json));
    }

    [Fact]
    public async Task FakeGraph_MimeCreateIsADraft_ImportMimeIsNot()
    {
        var folder = await CreateChatterFolderAsync("alice@contoso.com");
        var (status, json, _) = await SendAsync(HttpMethod.Post, $"{V1}/users/{_alice.Id}/mailFolders/{folder}/messages",
            new StringContent(MimeBase64("<mime-1@chatter>"), Encoding.ASCII, "text/plain"));
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.True(json.GetProperty("isDraft").GetBoolean());
        Assert.Equal("From MIME", json.GetProperty("subject").GetString());

        (status, json, _) = await SendAsync(HttpMethod.Post, $"{_graph.Url}/beta/users/{_alice.Id}/mailFolders/{folder}/importMime",
            new StringContent(MimeBase64("<mime-2@chatter>", "Imported"), Encoding.ASCII, "text/plain"));
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.False(json.GetProperty("isDraft").GetBoolean());

        (status, json, _) = await PostJsonAsync($"{_graph.Url}/beta/users/{_alice.Id}/mailFolders/{folder}/importMime",
            new { mimeContent = MimeBase64("<mime-3@chatter>", "Imported as JSON") });
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.False(json.GetProperty("isDraft").GetBoolean());

        var messages = _graph.Messages("alice@contoso.com", "Salesforce Chatter");
        Assert.Equal(3, messages.Count);
        Assert.True(messages[0].IsDraft);
        Assert.Equal("<mime-1@chatter>", messages[0].InternetMessageId);
        Assert.False(messages[1].IsDraft);
        Assert.True(messages[1].Imported);
        Assert.Equal("Imported", messages[1].Subject);
        Assert.Contains("Subject: Imported\r\n", Encoding.UTF8.GetString(messages[1].Mime!));
        Assert.Equal("0D5", messages[1].InternetMessageHeaders["X-Chatter-Post-Id"]);
        Assert.Equal("Imported as JSON", messages[2].Subject);
    }

    [Fact]
    public async Task FakeGraph_FindsMessagesByInternetMessageId()
    {
        var folder = await CreateChatterFolderAsync("alice@contoso.com");
        var url = $"{V1}/users/{_alice.Id}/mailFolders/{folder}/messages";
        await PostJsonAsync(url, ImportBody("<a'1@chatter>"));
        await PostJsonAsync(url, ImportBody("<b@chatter>"));
        var filter = Enc("internetMessageId eq '<a''1@chatter>'");
        var (status, json, _) = await GetAsync($"{url}?$filter={filter}&$select=id,internetMessageId");
        Assert.Equal(HttpStatusCode.OK, status);
        var value = json.GetProperty("value");
        Assert.Equal(1, value.GetArrayLength());
        Assert.Equal("<a'1@chatter>", value[0].GetProperty("internetMessageId").GetString());
        Assert.False(value[0].TryGetProperty("subject", out _));
        (_, json, _) = await GetAsync($"{url}?$filter={Enc("internetMessageId eq '<none@chatter>'")}");
        Assert.Equal(0, json.GetProperty("value").GetArrayLength());
        Assert.Contains(_graph.Requests, r => r.Query.Contains("internetMessageId eq '<b@chatter>'") || r.Query.Contains("<a''1@chatter>"));

        // paging: $top=1 → an absolute nextLink on the fake
        (_, json, _) = await GetAsync($"{url}?$top=1");
        var next = json.GetProperty("@odata.nextLink").GetString()!;
        Assert.StartsWith(_graph.Url + "/v1.0/users/", next);
        (_, json, _) = await GetAsync(next);
        Assert.Equal(1, json.GetProperty("value").GetArrayLength());
        Assert.False(json.TryGetProperty("@odata.nextLink", out _));
    }

    // ---- upload sessions ----------------------------------------------------------------------------

    [Fact]
    public async Task FakeGraph_UploadSession_ThreeChunks()
    {
        var (_, message, _) = await PostJsonAsync($"{V1}/users/{_alice.Id}/mailFolders/inbox/messages", ImportBody("<big@chatter>"));
        var messageId = message.GetProperty("id").GetString()!;
        var content = new byte[2 * 1280 * 1024 + 12345];
        new Random(5).NextBytes(content);

        var (status, session, _) = await PostJsonAsync($"{V1}/users/{_alice.Id}/messages/{messageId}/attachments/createUploadSession",
            new { AttachmentItem = new { attachmentType = "file", name = "big.bin", size = content.Length } });
        Assert.Equal(HttpStatusCode.Created, status);
        var uploadUrl = session.GetProperty("uploadUrl").GetString()!;
        Assert.StartsWith(_graph.Url + "/upload/", uploadUrl);
        Assert.Equal("0-", session.GetProperty("nextExpectedRanges")[0].GetString());

        // a chunk that is not a multiple of 320 KiB (and not the last) is refused
        var (bad, badJson, _) = await PutChunkAsync(uploadUrl, content, 0, 100_000);
        Assert.Equal(HttpStatusCode.BadRequest, bad);
        Assert.Equal("InvalidRequest", Code(badJson));
        // out of order
        (bad, _, _) = await PutChunkAsync(uploadUrl, content, 1280 * 1024, 1280 * 1024);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, bad);

        var chunk = 1280 * 1024;
        for (var offset = 0; offset < content.Length; offset += chunk)
        {
            var n = Math.Min(chunk, content.Length - offset);
            var (s, json, response) = await PutChunkAsync(uploadUrl, content, offset, n);
            if (offset + n < content.Length)
            {
                Assert.Equal(HttpStatusCode.OK, s);
                Assert.Equal((offset + n).ToString(), json.GetProperty("NextExpectedRanges")[0].GetString());
                Assert.True(json.TryGetProperty("ExpirationDateTime", out _));
            }
            else
            {
                Assert.Equal(HttpStatusCode.Created, s);
                Assert.NotNull(response.Headers.Location);
                Assert.Equal(JsonValueKind.Undefined, json.ValueKind);
            }
        }
        var m = Assert.Single(_graph.Messages(_alice.Id));
        var uploaded = m.Attachments.Single(a => a.Uploaded);
        Assert.Equal(content.Length, uploaded.Length);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), uploaded.Sha256);
        Assert.Equal(content, uploaded.Bytes);
        Assert.Equal(0, _graph.OpenUploadSessions);
        Assert.All(_graph.Requests.Where(r => r.Path.StartsWith("/upload/") && r.Status is 200 or 201), r => Assert.Equal(_alice.Id, r.Mailbox));
    }

    [Fact]
    public async Task FakeGraph_UploadSession_SizeLimitAndCancel()
    {
        var (_, message, _) = await PostJsonAsync($"{V1}/users/{_alice.Id}/mailFolders/inbox/messages", new { subject = "x" });
        var url = $"{V1}/users/{_alice.Id}/messages/{message.GetProperty("id").GetString()}/attachments/createUploadSession";
        var (status, json, _) = await PostJsonAsync(url, new { AttachmentItem = new { attachmentType = "file", name = "huge", size = 151L * 1024 * 1024 } });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("ErrorMessageSizeExceeded", Code(json));

        (status, json, _) = await PostJsonAsync(url, new { AttachmentItem = new { attachmentType = "file", name = "f", size = 5_000_000 } });
        var uploadUrl = json.GetProperty("uploadUrl").GetString()!;
        Assert.Equal(1, _graph.OpenUploadSessions);
        using (var del = await _http.DeleteAsync(uploadUrl)) Assert.Equal(HttpStatusCode.NoContent, del.StatusCode);
        Assert.Equal(0, _graph.OpenUploadSessions);
        var (gone, _, _) = await PutChunkAsync(uploadUrl, new byte[327680], 0, 327680, total: 5_000_000);
        Assert.Equal(HttpStatusCode.NotFound, gone);
    }

    private async Task<(HttpStatusCode, JsonElement, HttpResponseMessage)> PutChunkAsync(string uploadUrl, byte[] content, int offset, int count, long? total = null)
    {
        var body = new ByteArrayContent(content, offset, count);
        body.Headers.ContentRange = new ContentRangeHeaderValue(offset, offset + count - 1, total ?? content.Length);
        // upload URLs need no Authorization
        return await SendAsync(HttpMethod.Put, uploadUrl, body, token: null);
    }

    // ---- $batch ---------------------------------------------------------------------------------------

    [Fact]
    public async Task FakeGraph_Batch_DependsOnAnd424()
    {
        var bob = _graph.AddUser("bob@contoso.com");
        var batch = new JsonObject
        {
            ["requests"] = new JsonArray(
                new JsonObject { ["id"] = "1", ["method"] = "GET", ["url"] = $"/users/{Enc("bob@contoso.com")}" },
                new JsonObject
                {
                    ["id"] = "2", ["method"] = "POST", ["url"] = $"/users/{Enc("bob@contoso.com")}/mailFolders/inbox/childFolders",
                    ["headers"] = new JsonObject { ["Content-Type"] = "application/json" },
                    ["body"] = new JsonObject { ["displayName"] = "Salesforce Chatter" }, ["dependsOn"] = new JsonArray("1"),
                },
                new JsonObject
                {
                    ["id"] = "3", ["method"] = "POST", ["url"] = $"/users/{Enc("bob@contoso.com")}/mailFolders/inbox/childFolders",
                    ["headers"] = new JsonObject { ["Content-Type"] = "application/json" },
                    ["body"] = new JsonObject { ["displayName"] = "Salesforce Chatter" }, ["dependsOn"] = new JsonArray("2"),
                },
                new JsonObject { ["id"] = "4", ["method"] = "GET", ["url"] = "/users/" + bob.Id + "/mailFolders/inbox", ["dependsOn"] = new JsonArray("3") },
                new JsonObject { ["id"] = "5", ["method"] = "GET", ["url"] = "/users?$filter=" + Enc("mail eq 'bob@contoso.com'") }),
        };
        var (status, json, _) = await SendAsync(HttpMethod.Post, $"{V1}/$batch", new StringContent(batch.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, status);
        var byId = json.GetProperty("responses").EnumerateArray().ToDictionary(r => r.GetProperty("id").GetString()!);
        Assert.Equal(5, byId.Count);
        Assert.Equal(200, byId["1"].GetProperty("status").GetInt32());
        Assert.Equal(bob.Id, byId["1"].GetProperty("body").GetProperty("id").GetString());
        Assert.Equal(201, byId["2"].GetProperty("status").GetInt32());
        Assert.Equal(409, byId["3"].GetProperty("status").GetInt32());
        Assert.Equal("ErrorFolderExists", Code(byId["3"].GetProperty("body")));
        Assert.Equal(424, byId["4"].GetProperty("status").GetInt32());
        Assert.Equal(bob.Id, byId["5"].GetProperty("body").GetProperty("value")[0].GetProperty("id").GetString());
        Assert.Contains(_graph.Requests, r => r.InBatch && r.Status == 409 && r.Mailbox == "bob@contoso.com");

        // more than 20 → 400
        var tooMany = new JsonObject
        {
            ["requests"] = new JsonArray(Enumerable.Range(1, 21)
                .Select(i => (JsonNode)new JsonObject { ["id"] = i.ToString(), ["method"] = "GET", ["url"] = "/users/" + bob.Id }).ToArray()),
        };
        (status, _, _) = await SendAsync(HttpMethod.Post, $"{V1}/$batch", new StringContent(tooMany.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    // ---- concurrency and faults ----------------------------------------------------------------------------

    [Fact]
    public async Task FakeGraph_TheFifthConcurrentRequestGets429()
    {
        _graph.Faults.Latency = TimeSpan.FromMilliseconds(800);
        var url = $"{V1}/users/{Enc("alice@contoso.com")}/mailFolders/inbox";
        var results = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => GetAsync(url)));
        Assert.Equal(4, results.Count(r => r.Status == HttpStatusCode.OK));
        var throttled = Assert.Single(results, r => r.Status == HttpStatusCode.TooManyRequests);
        Assert.Equal("ApplicationThrottled", Code(throttled.Json));
        Assert.Equal("Application is over its MailboxConcurrency limit.", throttled.Json.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(TimeSpan.FromSeconds(1), throttled.Response.Headers.RetryAfter!.Delta);
        Assert.Equal(4, _graph.HighestConcurrency("alice@contoso.com"));
        Assert.Equal(4, _graph.HighestConcurrency(_alice.Id));
        Assert.Equal(4, _graph.HighestConcurrencyAnyMailbox);
        Assert.Equal(1, _graph.ConcurrencyRejections("alice.old@contoso.com"));

        // a well-behaved client (4 at a time) is never refused
        _graph.Faults.Latency = TimeSpan.FromMilliseconds(100);
        using var gate = new SemaphoreSlim(4);
        var polite = await Task.WhenAll(Enumerable.Range(0, 12).Select(async _ =>
        {
            await gate.WaitAsync();
            try { return (await GetAsync(url)).Status; }
            finally { gate.Release(); }
        }));
        Assert.All(polite, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(1, _graph.ConcurrencyRejections(_alice.Id));
    }

    [Fact]
    public async Task FakeGraph_InjectedFaults()
    {
        var url = $"{V1}/users/{_alice.Id}/mailFolders/inbox";
        _graph.Faults.Next503 = 1;
        var (status, json, _) = await GetAsync(url);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        (status, _, _) = await GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, status);

        _graph.Faults.Next429 = 1;
        _graph.Faults.RetryAfterSeconds = 3;
        (status, json, var response) = await GetAsync(url);
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal(TimeSpan.FromSeconds(3), response.Headers.RetryAfter!.Delta);

        _graph.Faults.NextDrop = 1;
        await Assert.ThrowsAsync<HttpRequestException>(() => GetAsync(url));
        Assert.True(_graph.Requests[^1].Dropped);
        Assert.Equal(_alice.Id, _graph.Requests[^1].Mailbox);
        (status, _, _) = await GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, status);

        // seeded rates are deterministic
        async Task<string> RunAsync()
        {
            _graph.Faults.Fail503Rate = 0.3;
            _graph.Faults.Seed = 42;
            _graph.Faults.Seed = 7;   // a new seed restarts the sequence
            var codes = new List<int>();
            for (var i = 0; i < 20; i++) codes.Add((int)(await GetAsync(url)).Status);
            _graph.Faults.Fail503Rate = 0;
            _graph.Faults.Seed = 1;
            await GetAsync(url);
            return string.Join(",", codes);
        }
        var first = await RunAsync();
        var second = await RunAsync();
        Assert.Equal(first, second);
        Assert.Contains("503", first);
        Assert.Contains("200", first);
    }
}
