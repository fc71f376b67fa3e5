using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ChatterConnector.Engine.Sources.Sample;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace ChatterConnector.Fakes;

/// <summary>
/// A local Salesforce org over HTTP (Kestrel on 127.0.0.1, a free port) serving a <see cref="SampleOrg"/>:
/// the OAuth token endpoint, SOQL query/queryAll with server-side cursors, ContentVersion VersionData,
/// limits, and fault injection. <see cref="Url"/> is both the login URL and the instance URL.
/// </summary>
public sealed class FakeSalesforce : IAsyncDisposable, IDisposable
{
    public const string OrgId = "00D000000000FAKEAA";
    public const string IntegrationUserId = "005000000000FAKEAA";

    private static readonly Regex VersionSegment = new(@"^v\d+\.\d+$", RegexOptions.CultureInvariant);

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, byte> _accessTokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Cursor> _cursors = new(StringComparer.Ordinal);
    private readonly List<FakeRequest> _requests = new();
    private int _apiCalls;
    private long _cursorCounter;
    private Random? _random;
    private int _randomSeed;
    private int _disposed;

    private sealed record Cursor(QueryResult Result, int BatchSize);

    private FakeSalesforce(SampleOrg org, FakeSalesforceOptions options)
    {
        Org = org;
        Options = options;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 1024 * 1024);
        _app = builder.Build();
        _app.Run(HandleAsync);
    }

    /// <summary>Starts a fake org serving <paramref name="org"/> (from SampleOrgGenerator.Generate).</summary>
    public static FakeSalesforce Start(SampleOrg org, FakeSalesforceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(org);
        var fake = new FakeSalesforce(org, options ?? new FakeSalesforceOptions());
        fake._app.StartAsync().GetAwaiter().GetResult();
        fake.Url = fake._app.Urls.First().TrimEnd('/');
        return fake;
    }

    /// <summary>e.g. http://127.0.0.1:41234 — the login URL and the instance URL.</summary>
    public string Url { get; private set; } = "";

    /// <summary>The org served. Mutate it between runs, or at any time under <c>lock (fake.Org)</c> / <see cref="MutateOrg"/>;
    /// queries read it under that lock.</summary>
    public SampleOrg Org { get; }

    public FakeSalesforceOptions Options { get; }

    public FakeFaults Faults { get; } = new();

    /// <summary>Every request answered so far, oldest first (a snapshot).</summary>
    public IReadOnlyList<FakeRequest> Requests
    {
        get { lock (_requests) return _requests.ToArray(); }
    }

    /// <summary>REST calls counted against the daily limit: those that got past authentication and the fault
    /// injection (not token calls, not 401/403-limit/503/dropped ones).</summary>
    public int ApiCalls => Volatile.Read(ref _apiCalls);

    /// <summary>The "N" of Sforce-Limit-Info: ApiUsageAtStart + ApiCalls.</summary>
    public int ApiUsage => Options.ApiUsageAtStart + ApiCalls;

    /// <summary>Access tokens issued and still valid.</summary>
    public int ValidAccessTokens => _accessTokens.Count;

    public void ResetRequests()
    {
        lock (_requests) _requests.Clear();
    }

    /// <summary>Invalidates every access token issued so far: the next REST call with one gets 401 INVALID_SESSION_ID.</summary>
    public void ExpireAccessTokens() => _accessTokens.Clear();

    /// <summary>Revokes a refresh token: the refresh_token grant then fails with invalid_grant "expired access/refresh token".</summary>
    public void RevokeRefreshToken(string refreshToken)
    {
        lock (Options.ValidRefreshTokens) Options.ValidRefreshTokens.Remove(refreshToken);
    }

    /// <summary>Changes the org under its lock (safe while requests are running).</summary>
    public void MutateOrg(Action<SampleOrg> change)
    {
        lock (Org) change(Org);
    }

    /// <summary>Issues an access token without the token endpoint, for tests that start at the REST API.</summary>
    public string IssueAccessToken()
    {
        var token = Options.AccessTokenPrefix + Base64Url(RandomNumberGenerator.GetBytes(48));
        _accessTokens[token] = 0;
        return token;
    }

    // ---- dispatch ------------------------------------------------------------------------------

    private sealed class RequestNote
    {
        public DateTimeOffset Time = DateTimeOffset.UtcNow;
        public string? Soql;
        public string? Object;
        public bool Dropped;
        public bool Logged;
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        var note = new RequestNote();
        var path = ctx.Request.Path.Value ?? "/";
        try
        {
            if (path.Equals("/services/oauth2/token", StringComparison.Ordinal)) await TokenAsync(ctx);
            else if (path is "/services/data" or "/services/data/") await VersionsAsync(ctx);
            else if (path.StartsWith("/services/data/", StringComparison.Ordinal)) await RestAsync(ctx, path, note);
            else await ErrorAsync(ctx, 404, "NOT_FOUND", "The requested resource does not exist");
        }
        catch (SoqlException e) when (!ctx.Response.HasStarted)
        {
            await ErrorAsync(ctx, 400, e.ErrorCode, e.Message);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            note.Dropped = true;
        }
        catch (IOException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            note.Dropped = true;
        }
        finally
        {
            Log(ctx, note);
        }
    }

    /// <summary>Records the request once: a dropped one before its connection goes, so a client that saw the drop finds it logged.</summary>
    private void Log(HttpContext ctx, RequestNote note)
    {
        if (note.Logged) return;
        note.Logged = true;
        var raw = ctx.Request.QueryString.HasValue ? ctx.Request.QueryString.Value![1..] : "";
        string query;
        try { query = Uri.UnescapeDataString(raw.Replace('+', ' ')); } catch (UriFormatException) { query = raw; }
        var record = new FakeRequest(ctx.Request.Method, ctx.Request.Path.Value ?? "/", query, note.Soql, note.Object,
            note.Dropped ? 0 : ctx.Response.StatusCode, note.Time);
        lock (_requests) _requests.Add(record);
    }

    private async Task RestAsync(HttpContext ctx, string path, RequestNote note)
    {
        // /services/data/vNN.N/<rest>
        var tail = path["/services/data/".Length..];
        var slash = tail.IndexOf('/');
        var version = slash < 0 ? tail : tail[..slash];
        var rest = slash < 0 ? "" : tail[(slash + 1)..].TrimEnd('/');
        ctx.Response.OnStarting(() =>
        {
            ctx.Response.Headers["Sforce-Limit-Info"] = $"api-usage={ApiUsage}/{Options.DailyApiLimit}";
            return Task.CompletedTask;
        });
        if (!VersionSegment.IsMatch(version))
        {
            await ErrorAsync(ctx, 404, "NOT_FOUND", "The requested resource does not exist");
            return;
        }
        version = version[1..];

        var latency = Faults.Latency;
        if (latency > TimeSpan.Zero) await Task.Delay(latency, ctx.RequestAborted);

        if (!Options.ApiEnabled)
        {
            await ErrorAsync(ctx, 403, "API_DISABLED_FOR_ORG", "The REST API is not enabled for this Organization.");
            return;
        }
        var token = BearerToken(ctx.Request);
        if (token == null || !_accessTokens.ContainsKey(token))
        {
            await ErrorAsync(ctx, 401, "INVALID_SESSION_ID", "Session expired or invalid");
            return;
        }
        if (Faults.Take(ref Faults.Unauthorized401Once))
        {
            _accessTokens.TryRemove(token, out _);
            await ErrorAsync(ctx, 401, "INVALID_SESSION_ID", "Session expired or invalid");
            return;
        }
        if (Faults.Take(ref Faults.DropConnections))
        {
            Drop(ctx, note);
            return;
        }
        if (Faults.Take(ref Faults.Fail503))
        {
            await ErrorAsync(ctx, 503, "SERVER_UNAVAILABLE", "Server temporarily unavailable");
            return;
        }
        switch (RandomFailure())
        {
            case 1:
                await ErrorAsync(ctx, 503, "SERVER_UNAVAILABLE", "Server temporarily unavailable");
                return;
            case 2:
                Drop(ctx, note);
                return;
        }
        var after = Faults.RequestLimitAfterCalls;
        if ((after >= 0 && ApiCalls >= after) || ApiUsage >= Options.DailyApiLimit)
        {
            await ErrorAsync(ctx, 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.");
            return;
        }
        Interlocked.Increment(ref _apiCalls);

        if (!HttpMethods.IsGet(ctx.Request.Method))
        {
            await ErrorAsync(ctx, 405, "METHOD_NOT_ALLOWED", $"HTTP Method '{ctx.Request.Method}' not allowed. Allowed are GET");
            return;
        }
        var segments = rest.Split('/');
        if (rest is "query" or "queryAll")
            await QueryAsync(ctx, version, rest == "queryAll", note);
        else if (segments.Length == 2 && segments[0] is "query" or "queryAll")
            await NextPageAsync(ctx, version, segments[1], note);
        else if (rest == "limits")
            await LimitsAsync(ctx);
        else if (segments.Length == 4 && segments[0] == "sobjects" && segments[1] == "ContentVersion" && segments[3] == "VersionData")
            await VersionDataAsync(ctx, segments[2], note);
        else if (rest == "")
            await JsonAsync(ctx, 200, w =>
            {
                w.WriteStartObject();
                w.WriteString("query", $"/services/data/v{version}/query");
                w.WriteString("queryAll", $"/services/data/v{version}/queryAll");
                w.WriteString("limits", $"/services/data/v{version}/limits");
                w.WriteString("sobjects", $"/services/data/v{version}/sobjects");
                w.WriteEndObject();
            });
        else
            await ErrorAsync(ctx, 404, "NOT_FOUND", "The requested resource does not exist");
    }

    private static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        foreach (var scheme in new[] { "Bearer ", "OAuth " })
            if (header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
                return header[scheme.Length..].Trim();
        return null;
    }

    private void Drop(HttpContext ctx, RequestNote note)
    {
        note.Dropped = true;
        Log(ctx, note);
        ctx.Abort();
    }

    /// <summary>0 none, 1 a 503, 2 a dropped connection.</summary>
    private int RandomFailure()
    {
        var rate = Faults.RandomFailureRate;
        if (rate <= 0) return 0;
        lock (Faults.Gate)
        {
            if (_random == null || _randomSeed != Faults.Seed)
            {
                _randomSeed = Faults.Seed;
                _random = new Random(_randomSeed);
            }
            if (_random.NextDouble() >= rate) return 0;
            return _random.Next(2) == 0 ? 1 : 2;
        }
    }

    // ---- REST resources --------------------------------------------------------------------------

    private async Task QueryAsync(HttpContext ctx, string version, bool includeDeleted, RequestNote note)
    {
        var soql = ctx.Request.Query["q"].ToString();
        note.Soql = soql;
        if (string.IsNullOrWhiteSpace(soql))
        {
            await ErrorAsync(ctx, 400, "MALFORMED_QUERY", "A query string has to be specified");
            return;
        }
        var query = SoqlParser.Parse(soql);
        note.Object = FakeSchema.Objects.TryGetValue(query.Object, out var def) ? def.Name : query.Object;
        if (def is { IsPrivate: true } && !Options.PrivateMessagesAllowed)
        {
            await ErrorAsync(ctx, 403, "INSUFFICIENT_ACCESS", "insufficient access rights on object id");
            return;
        }
        var result = SoqlExecutor.Execute(query, Org, includeDeleted);
        var batch = BatchSize(ctx.Request, Options.PageSize);
        string? locator = null;
        if (result.Rows.Count > batch)
        {
            locator = "01gFAKE" + Interlocked.Increment(ref _cursorCounter).ToString("D11", CultureInfo.InvariantCulture);
            _cursors[locator] = new Cursor(result, batch);
        }
        await WritePageAsync(ctx, version, result, locator, 0, batch);
    }

    private async Task NextPageAsync(HttpContext ctx, string version, string locatorAndOffset, RequestNote note)
    {
        var dash = locatorAndOffset.LastIndexOf('-');
        if (dash <= 0 || !int.TryParse(locatorAndOffset[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var offset)
            || !_cursors.TryGetValue(locatorAndOffset[..dash], out var cursor) || offset >= cursor.Result.Rows.Count)
        {
            await ErrorAsync(ctx, 400, "INVALID_QUERY_LOCATOR", "invalid query locator");
            return;
        }
        note.Object = cursor.Result.Object.Name;
        var batch = BatchSize(ctx.Request, cursor.BatchSize);
        await WritePageAsync(ctx, version, cursor.Result, locatorAndOffset[..dash], offset, batch);
    }

    private int BatchSize(HttpRequest request, int fallback)
    {
        var size = Math.Max(1, Options.PageSize);
        var header = request.Headers["Sforce-Query-Options"].ToString();
        var matched = false;
        foreach (var part in header.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=');
            if (eq > 0 && part[..eq].Trim().Equals("batchSize", StringComparison.OrdinalIgnoreCase)
                && int.TryParse(part[(eq + 1)..].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 1)
            {
                size = Math.Min(size, n);
                matched = true;
            }
        }
        return matched ? size : Math.Min(size, Math.Max(1, fallback));
    }

    private Task WritePageAsync(HttpContext ctx, string version, QueryResult result, string? locator, int offset, int batch)
    {
        var end = Math.Min(result.Rows.Count, offset + batch);
        var done = end >= result.Rows.Count;
        return JsonAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WriteNumber("totalSize", result.TotalSize);
            w.WriteBoolean("done", done);
            if (!done) w.WriteString("nextRecordsUrl", $"/services/data/v{version}/query/{locator}-{end}");
            w.WriteStartArray("records");
            var id = result.Object.IdField;
            for (var i = offset; i < end; i++)
            {
                var row = result.Rows[i];
                w.WriteStartObject();
                w.WriteStartObject("attributes");
                w.WriteString("type", result.Object.Name);
                if (id != null && row[id.Index] != null)
                    w.WriteString("url", $"/services/data/v{version}/sobjects/{result.Object.Name}/{row[id.Index]}");
                w.WriteEndObject();
                foreach (var f in result.Fields)
                {
                    var v = row[f.Index];
                    switch (f.Kind)
                    {
                        case FieldKind.Url:
                            if (id != null && row[id.Index] != null)
                                w.WriteString(f.Name, $"/services/data/v{version}/sobjects/{result.Object.Name}/{row[id.Index]}/{f.Name}");
                            else w.WriteNull(f.Name);
                            break;
                        case FieldKind.Bool when v != null:
                            w.WriteBoolean(f.Name, v == "true");
                            break;
                        case FieldKind.Number when v != null:
                            w.WritePropertyName(f.Name);
                            w.WriteRawValue(decimal.Parse(v, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture));
                            break;
                        default:
                            if (v == null) w.WriteNull(f.Name);
                            else w.WriteString(f.Name, v);
                            break;
                    }
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private Task LimitsAsync(HttpContext ctx) => JsonAsync(ctx, 200, w =>
    {
        w.WriteStartObject();
        w.WriteStartObject("DailyApiRequests");
        w.WriteNumber("Max", Options.DailyApiLimit);
        w.WriteNumber("Remaining", Math.Max(0, Options.DailyApiLimit - ApiUsage));
        w.WriteEndObject();
        w.WriteEndObject();
    });

    private async Task VersionDataAsync(HttpContext ctx, string id, RequestNote note)
    {
        note.Object = "ContentVersion";
        Stream? content = null;
        long length = 0;
        lock (Org)
        {
            var row = Org.ContentVersions.Find(v => v.Id == id);
            if (row != null && Org.HasFileContent(id))
            {
                content = Org.OpenFileContent(id);
                length = long.Parse(row.ContentSize, CultureInfo.InvariantCulture);
            }
        }
        if (content == null)
        {
            await ErrorAsync(ctx, 404, "NOT_FOUND", "The requested resource does not exist");
            return;
        }
        using (content)
        {
            var truncate = Faults.Take(ref Faults.TruncateDownloads);
            var stopAt = truncate ? length / 2 : long.MaxValue;
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/octet-stream";
            ctx.Response.ContentLength = length;
            var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
            try
            {
                long sent = 0;
                int n;
                while (sent < stopAt && (n = content.Read(buffer, 0, (int)Math.Min(buffer.Length, stopAt - sent))) > 0)
                {
                    await ctx.Response.Body.WriteAsync(buffer.AsMemory(0, n), ctx.RequestAborted);
                    sent += n;
                }
                if (truncate)
                {
                    await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
                    Drop(ctx, note);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private Task VersionsAsync(HttpContext ctx) => JsonAsync(ctx, 200, w =>
    {
        w.WriteStartArray();
        foreach (var v in new[] { "60.0", "61.0", "62.0", "63.0", "64.0", Options.ApiVersion }.Distinct()
                     .OrderBy(v => decimal.Parse(v, CultureInfo.InvariantCulture)))
        {
            w.WriteStartObject();
            w.WriteString("label", "Fake " + v);
            w.WriteString("url", "/services/data/v" + v);
            w.WriteString("version", v);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    });

    // ---- OAuth -------------------------------------------------------------------------------------

    private async Task TokenAsync(HttpContext ctx)
    {
        if (!HttpMethods.IsPost(ctx.Request.Method) || !ctx.Request.HasFormContentType)
        {
            await OAuthErrorAsync(ctx, "invalid_request", "must use HTTP POST with application/x-www-form-urlencoded");
            return;
        }
        var form = await ctx.Request.ReadFormAsync(ctx.RequestAborted);
        string F(string name) => form[name].ToString();
        var o = Options;
        switch (F("grant_type"))
        {
            case "urn:ietf:params:oauth:grant-type:jwt-bearer":
            {
                var error = VerifyJwt(F("assertion"));
                if (error != null) { await OAuthErrorAsync(ctx, error.Value.Error, error.Value.Description); return; }
                break;
            }
            case "client_credentials":
                if (F("client_id") != o.ClientId) { await OAuthErrorAsync(ctx, "invalid_client_id", "client identifier invalid"); return; }
                if (F("client_secret") != o.ClientSecret) { await OAuthErrorAsync(ctx, "invalid_client", "invalid client credentials"); return; }
                break;
            case "refresh_token":
            {
                if (F("client_id") != o.ClientId) { await OAuthErrorAsync(ctx, "invalid_client_id", "client identifier invalid"); return; }
                if (form.ContainsKey("client_secret") && F("client_secret") != o.ClientSecret) { await OAuthErrorAsync(ctx, "invalid_client", "invalid client credentials"); return; }
                bool valid;
                lock (o.ValidRefreshTokens) valid = o.ValidRefreshTokens.Contains(F("refresh_token"));
                if (!valid) { await OAuthErrorAsync(ctx, "invalid_grant", "expired access/refresh token"); return; }
                break;
            }
            case "password":
                if (F("client_id") != o.ClientId) { await OAuthErrorAsync(ctx, "invalid_client_id", "client identifier invalid"); return; }
                if (F("client_secret") != o.ClientSecret) { await OAuthErrorAsync(ctx, "invalid_client", "invalid client credentials"); return; }
                if (!string.Equals(F("username"), o.Username, StringComparison.OrdinalIgnoreCase) || F("password") != o.Password + o.SecurityToken)
                {
                    await OAuthErrorAsync(ctx, "invalid_grant", "authentication failure");
                    return;
                }
                break;
            default:
                await OAuthErrorAsync(ctx, "unsupported_grant_type", "grant type not supported");
                return;
        }

        var token = IssueAccessToken();
        var id = $"{Url}/id/{OrgId}/{IntegrationUserId}";
        var issuedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var signature = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(o.ClientSecret), Encoding.UTF8.GetBytes(id + issuedAt)));
        await JsonAsync(ctx, 200, w =>
        {
            w.WriteStartObject();
            w.WriteString("access_token", token);
            w.WriteString("signature", signature);
            w.WriteString("scope", "api");
            w.WriteString("instance_url", Url);
            w.WriteString("id", id);
            w.WriteString("token_type", "Bearer");
            w.WriteString("issued_at", issuedAt);
            w.WriteEndObject();
        });
    }

    private (string Error, string Description)? VerifyJwt(string assertion)
    {
        var o = Options;
        if (o.JwtCertificate == null) return ("invalid_grant", "invalid assertion");
        var parts = assertion.Split('.');
        if (parts.Length != 3) return ("invalid_grant", "invalid assertion");
        JsonElement header, payload;
        byte[] signature;
        try
        {
            header = JsonDocument.Parse(FromBase64Url(parts[0])).RootElement;
            payload = JsonDocument.Parse(FromBase64Url(parts[1])).RootElement;
            signature = FromBase64Url(parts[2]);
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return ("invalid_grant", "invalid assertion");
        }
        if (!header.TryGetProperty("alg", out var alg) || alg.GetString() != "RS256") return ("invalid_grant", "invalid assertion");
        using (var rsa = o.JwtCertificate.GetRSAPublicKey())
        {
            if (rsa == null || !rsa.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), signature,
                    HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
                return ("invalid_grant", "invalid assertion");
        }
        if (payload.ValueKind != JsonValueKind.Object) return ("invalid_grant", "invalid assertion");
        if (!payload.TryGetProperty("iss", out var iss) || iss.ValueKind != JsonValueKind.String || iss.GetString() != o.ClientId)
            return ("invalid_client_id", "client identifier invalid");
        var audiences = new[] { Url, "https://login.salesforce.com", "https://test.salesforce.com" };
        bool AudienceOk(JsonElement a) => a.ValueKind == JsonValueKind.String &&
            audiences.Any(x => string.Equals(x, a.GetString()!.TrimEnd('/'), StringComparison.OrdinalIgnoreCase));
        if (!payload.TryGetProperty("aud", out var aud) ||
            !(AudienceOk(aud) || (aud.ValueKind == JsonValueKind.Array && aud.EnumerateArray().Any(AudienceOk))))
            return ("invalid_grant", "audience is invalid");
        if (!payload.TryGetProperty("exp", out var exp) || exp.ValueKind != JsonValueKind.Number ||
            exp.GetDouble() <= DateTimeOffset.UtcNow.ToUnixTimeSeconds())
            return ("invalid_grant", "expired authorization code");
        if (!payload.TryGetProperty("sub", out var sub) || sub.ValueKind != JsonValueKind.String ||
            !string.Equals(sub.GetString(), o.Username, StringComparison.OrdinalIgnoreCase))
            return ("invalid_grant", "user hasn't approved this consumer");
        return null;
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private static Task OAuthErrorAsync(HttpContext ctx, string error, string description) => JsonAsync(ctx, 400, w =>
    {
        w.WriteStartObject();
        w.WriteString("error", error);
        w.WriteString("error_description", description);
        w.WriteEndObject();
    });

    private static Task ErrorAsync(HttpContext ctx, int status, string errorCode, string message) => JsonAsync(ctx, status, w =>
    {
        w.WriteStartArray();
        w.WriteStartObject();
        w.WriteString("message", message);
        w.WriteString("errorCode", errorCode);
        w.WriteStartArray("fields");
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndArray();
    });

    private static async Task JsonAsync(HttpContext ctx, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer)) write(writer);
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json;charset=UTF-8";
        ctx.Response.ContentLength = buffer.WrittenCount;
        await ctx.Response.Body.WriteAsync(buffer.WrittenMemory, ctx.RequestAborted);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string s)
    {
        var t = s.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(t + new string('=', (4 - t.Length % 4) % 4));
    }

    // ---- lifetime ---------------------------------------------------------------------------------

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try { await _app.StopAsync(timeout.Token); }
        catch (OperationCanceledException) { }
        await _app.DisposeAsync();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
