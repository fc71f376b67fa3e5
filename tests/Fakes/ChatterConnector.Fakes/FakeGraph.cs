using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace ChatterConnector.Fakes;

/// <summary>
/// A local Microsoft Graph over HTTP (Kestrel on 127.0.0.1, a free port): users, mail folders, messages (JSON and MIME),
/// the beta importMime call, attachment upload sessions, $batch, the per-mailbox concurrency limit and fault injection.
/// The SDK base URL is <c>Url + "/v1.0"</c>. Follows /work/shared/PROTOCOLS.md, "Microsoft Graph".
/// </summary>
public sealed partial class FakeGraph : IAsyncDisposable, IDisposable
{
    private const int ChunkMultiple = 320 * 1024;
    private const int MaxChunk = 4 * 1024 * 1024;
    private const int MaxBatch = 20;

    private readonly WebApplication _app;
    private readonly object _gate = new();
    private readonly List<FakeGraphUser> _users = new();
    private readonly Dictionary<string, Mailbox> _mailboxes = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, UploadSession> _uploads = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Slot> _slots = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<FakeGraphRequest> _requests = new();
    private readonly LatencyTimer _latency = new();
    private long _latencyTicks, _latencyCount;
    private int _userRequests, _highestUserRequests;
    private long _ids;
    private Random? _random;
    private int _randomSeed;
    private int _disposed;

    private FakeGraph(FakeGraphOptions options)
    {
        Options = options;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        // Requests go on on the socket's own thread, not through the thread pool: a hop there queues
        // behind whatever else the test process does, and adds to the latency the fake was told to add.
        builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = true);
        _app = builder.Build();
        _app.Run(HandleAsync);
    }

    /// <summary>Starts an empty tenant; add users with <see cref="AddUser"/>.</summary>
    public static FakeGraph Start(FakeGraphOptions? options = null)
    {
        var fake = new FakeGraph(options ?? new FakeGraphOptions());
        fake._app.StartAsync().GetAwaiter().GetResult();
        fake.Url = fake._app.Urls.First().TrimEnd('/');
        return fake;
    }

    /// <summary>e.g. http://127.0.0.1:41234; the SDK base URL is Url + "/v1.0".</summary>
    public string Url { get; private set; } = "";

    public FakeGraphOptions Options { get; }

    public FakeGraphFaults Faults { get; } = new();

    /// <summary>Adds a user with an Exchange Online mailbox (Inbox, Drafts, Sent Items, Deleted Items, Archive).
    /// <paramref name="proxyAddresses"/> may be "smtp:alias@x" or bare addresses; "SMTP:<paramref name="mail"/>" is added.</summary>
    public FakeGraphUser AddUser(string mail, params string[] proxyAddresses)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(mail);
        var user = new FakeGraphUser
        {
            Id = Guid.NewGuid().ToString(),
            Mail = mail,
            UserPrincipalName = mail,
            DisplayName = mail.Split('@')[0],
        };
        user.ProxyAddresses.Add("SMTP:" + mail);
        foreach (var p in proxyAddresses)
        {
            var entry = p.Contains(':') ? p : "smtp:" + p;
            if (!user.ProxyAddresses.Contains(entry, StringComparer.OrdinalIgnoreCase)) user.ProxyAddresses.Add(entry);
        }
        lock (_gate)
        {
            _users.Add(user);
            var box = new Mailbox(user);
            foreach (var (wellKnown, name) in new[] { ("inbox", "Inbox"), ("drafts", "Drafts"), ("sentitems", "Sent Items"), ("deleteditems", "Deleted Items"), ("archive", "Archive") })
                box.Folders.Add(new Folder(NewId("AQMk"), name, null, wellKnown));
            _mailboxes[user.Id] = box;
        }
        return user;
    }

    /// <summary>A snapshot of the users.</summary>
    public IReadOnlyList<FakeGraphUser> Users
    {
        get { lock (_gate) return _users.ToArray(); }
    }

    /// <summary>Every request answered so far, oldest first (a snapshot).</summary>
    public IReadOnlyList<FakeGraphRequest> Requests
    {
        get { lock (_requests) return _requests.ToArray(); }
    }

    /// <summary>Forgets the requests so far, and the figures taken from them (latency given, most lookups at once).</summary>
    public void ResetRequests()
    {
        lock (_requests) _requests.Clear();
        Interlocked.Exchange(ref _latencyTicks, 0);
        Interlocked.Exchange(ref _latencyCount, 0);
        Interlocked.Exchange(ref _highestUserRequests, 0);
    }

    /// <summary>The most requests accepted at once for one mailbox (by user id, UPN, mail or proxy address).</summary>
    public int HighestConcurrency(string userIdOrAddress) =>
        _slots.TryGetValue(SlotKey(userIdOrAddress), out var s) ? Volatile.Read(ref s.Highest) : 0;

    /// <summary>The most requests accepted at once for any one mailbox.</summary>
    public int HighestConcurrencyAnyMailbox => _slots.Values.Select(s => Volatile.Read(ref s.Highest)).DefaultIfEmpty(0).Max();

    /// <summary>The most directory requests (/users, /users/{id}) answered at once.</summary>
    public int HighestConcurrentUserRequests => Volatile.Read(ref _highestUserRequests);

    /// <summary>Requests refused with 429 ApplicationThrottled because the mailbox already had MaxConcurrentPerMailbox in flight.</summary>
    public int ConcurrencyRejections(string userIdOrAddress) =>
        _slots.TryGetValue(SlotKey(userIdOrAddress), out var s) ? Volatile.Read(ref s.Rejected) : 0;

    /// <summary>All refusals for concurrency, over every mailbox.</summary>
    public int ConcurrencyRejectionsAnyMailbox => _slots.Values.Sum(s => Volatile.Read(ref s.Rejected));

    /// <summary>The messages created in a mailbox, oldest first; <paramref name="folderName"/> filters by display name,
    /// well-known name ("inbox") or folder id.</summary>
    public IReadOnlyList<FakeGraphMessage> Messages(string userIdOrAddress, string? folderName = null)
    {
        lock (_gate)
        {
            var user = FindMailboxUser(userIdOrAddress);
            if (user == null) return Array.Empty<FakeGraphMessage>();
            var box = _mailboxes[user.Id];
            if (folderName == null) return box.Messages.ToArray();
            var folders = box.Folders.Where(f => f.Matches(folderName) || f.DisplayName.Equals(folderName, StringComparison.OrdinalIgnoreCase))
                .Select(f => f.Id).ToHashSet(StringComparer.Ordinal);
            return box.Messages.Where(m => folders.Contains(m.FolderId)).ToArray();
        }
    }

    /// <summary>Upload sessions created and not yet finished or cancelled.</summary>
    public int OpenUploadSessions => _uploads.Count;

    // ---- internal model ------------------------------------------------------------------------

    private sealed class Mailbox(FakeGraphUser user)
    {
        public readonly FakeGraphUser User = user;
        public readonly List<Folder> Folders = new();
        public readonly List<FakeGraphMessage> Messages = new();
    }

    private sealed class Folder(string id, string displayName, string? parentId, string? wellKnown)
    {
        public readonly string Id = id;
        public readonly string DisplayName = displayName;
        public readonly string? ParentId = parentId;
        public readonly string? WellKnown = wellKnown;

        public bool Matches(string idOrWellKnown) =>
            Id.Equals(idOrWellKnown, StringComparison.Ordinal) ||
            (WellKnown != null && WellKnown.Equals(idOrWellKnown, StringComparison.OrdinalIgnoreCase));
    }

    private sealed class UploadSession
    {
        public required string Id;
        public required string UserId;
        public required string MessageId;
        public required string Name;
        public string? ContentType;
        public bool IsInline;
        public string? ContentId;
        public long Size;
        public long Next;
        public DateTimeOffset Expires;
        public readonly IncrementalHash Hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        public MemoryStream? Bytes;
        public readonly object Lock = new();
    }

    private sealed class Slot
    {
        public int Current;
        public int Highest;
        public int Rejected;
    }

    /// <summary>A request as the handlers see it, top-level or from a $batch.</summary>
    private sealed class GReq
    {
        public required string Method;
        public required string Path;           // decoded, e.g. /v1.0/users/a@x/mailFolders/inbox
        public required string QueryText;      // decoded, for the log
        public required Dictionary<string, string> Query;
        public required Dictionary<string, string> Headers;
        public required byte[] Body;
        /// <summary>The body already parsed (a request inside a $batch): not parsed again.</summary>
        public JsonObject? Json;
        public bool BodyTooLarge;
        public bool InBatch;

        public string? ContentType => Headers.TryGetValue("Content-Type", out var c) ? c : null;
        public string? Q(string name) => Query.TryGetValue(name, out var v) ? v : null;
    }

    private sealed class GResp
    {
        public int Status;
        public readonly Dictionary<string, string> Headers = new(StringComparer.OrdinalIgnoreCase);
        public JsonNode? Json;
        public bool Drop;
        public string? Mailbox;
    }

    // ---- dispatch --------------------------------------------------------------------------------

    private async Task HandleAsync(HttpContext ctx)
    {
        var time = DateTimeOffset.UtcNow;
        var path = ctx.Request.Path.Value ?? "/";
        var raw = ctx.Request.QueryString.HasValue ? ctx.Request.QueryString.Value![1..] : "";
        string queryText;
        try { queryText = Uri.UnescapeDataString(raw.Replace('+', ' ')); } catch (UriFormatException) { queryText = raw; }
        GResp? resp = null;
        var dropped = false;
        var logged = false;
        try
        {
            var upload = path.StartsWith("/upload/", StringComparison.Ordinal);
            var limit = upload ? MaxChunk : Options.MaxRequestBytes;
            var (body, tooLarge) = await ReadBodyAsync(ctx.Request, limit, ctx.RequestAborted);
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var h in ctx.Request.Headers) headers[h.Key] = h.Value.ToString();
            var req = new GReq
            {
                Method = ctx.Request.Method.ToUpperInvariant(),
                Path = path,
                QueryText = queryText,
                Query = ctx.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                Headers = headers,
                Body = body,
                BodyTooLarge = tooLarge,
            };
            if (upload) resp = await UploadAsync(req, path["/upload/".Length..], ctx.RequestAborted);
            else if (IsBatchPath(path, out var version)) resp = await BatchAsync(req, version, ctx.RequestAborted);
            else resp = await ExecuteAsync(req, authenticated: false, ctx.RequestAborted);

            // logged before answering, so a test that has the answer also finds the request in the log
            if (resp.Drop)
            {
                dropped = true;
                logged = true;
                Log(new FakeGraphRequest(ctx.Request.Method, path, queryText, resp.Mailbox, 0, time));
                ctx.Abort();
                return;
            }
            logged = true;
            Log(new FakeGraphRequest(ctx.Request.Method, path, queryText, resp.Mailbox, resp.Status, time));
            await WriteAsync(ctx, resp);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            dropped = true;
        }
        catch (IOException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            dropped = true;
        }
        catch (Exception e) when (!ctx.Response.HasStarted && e is not OperationCanceledException)
        {
            await WriteAsync(ctx, Error(500, "InternalServerError", "FakeGraph failed: " + e.Message));
        }
        finally
        {
            if (!logged) Log(new FakeGraphRequest(ctx.Request.Method, path, queryText, resp?.Mailbox, dropped ? 0 : ctx.Response.StatusCode, time));
        }
    }

    private void Log(FakeGraphRequest record)
    {
        lock (_requests) _requests.Add(record);
    }

    private static bool IsBatchPath(string path, out string version)
    {
        foreach (var v in new[] { "v1.0", "beta" })
            if (path.Equals("/" + v + "/$batch", StringComparison.OrdinalIgnoreCase))
            {
                version = v;
                return true;
            }
        version = "";
        return false;
    }

    private static async Task<(byte[] Body, bool TooLarge)> ReadBodyAsync(HttpRequest request, int limit, CancellationToken ct)
    {
        // a body over the limit is read to its end and dropped, so the client sees the error answer instead of a reset
        using var ms = new MemoryStream();
        var buffer = new byte[64 * 1024];
        var tooLarge = false;
        int n;
        while ((n = await request.Body.ReadAsync(buffer, ct)) > 0)
        {
            if (tooLarge) continue;
            if (ms.Length + n > limit)
            {
                tooLarge = true;
                ms.SetLength(0);
                continue;
            }
            ms.Write(buffer, 0, n);
        }
        return (tooLarge ? Array.Empty<byte>() : ms.ToArray(), tooLarge);
    }

    private static async Task WriteAsync(HttpContext ctx, GResp resp)
    {
        ctx.Response.StatusCode = resp.Status;
        foreach (var h in resp.Headers) ctx.Response.Headers[h.Key] = h.Value;
        if (resp.Json == null)
        {
            ctx.Response.ContentLength = 0;
            return;
        }
        // UTF-8 straight from the nodes: a batch's answer as one string would be a large object each time
        var bytes = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(bytes)) resp.Json.WriteTo(writer);
        ctx.Response.ContentType = "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8";
        ctx.Response.ContentLength = bytes.WrittenCount;
        await ctx.Response.Body.WriteAsync(bytes.WrittenMemory, ctx.RequestAborted);
    }

    private bool IsAccepted(string token) =>
        token.Length > 0 && (token == Options.AcceptedToken || (Options.AcceptToken?.Invoke(token) ?? false));

    /// <summary>Authentication, roles, the mailbox concurrency limit, latency, faults, then the resource.</summary>
    private async Task<GResp> ExecuteAsync(GReq req, bool authenticated, CancellationToken ct)
    {
        var segments = req.Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length == 0 || !(segments[0] is "v1.0" or "beta"))
            return Error(404, "ResourceNotFound", "Resource not found.");
        var version = segments[0];
        var seg = segments[1..];

        if (!authenticated && Options.RequireToken)
        {
            var auth = req.Headers.TryGetValue("Authorization", out var a) ? a : "";
            if (auth.Length == 0)
                return Unauthorized("Access token is empty.");
            if (!auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || !IsAccepted(auth[7..].Trim()))
                return Unauthorized("Access token validation failure. Invalid audience.");
        }
        if (req.BodyTooLarge)
            return Error(413, "RequestEntityTooLarge", $"The request body exceeds the maximum of {Options.MaxRequestBytes} bytes.");

        var isUsers = seg.Length >= 1 && seg[0].Equals("users", StringComparison.OrdinalIgnoreCase);
        if (!isUsers)
            return Error(400, "BadRequest", $"Resource not found for the segment '{(seg.Length > 0 ? seg[0] : "")}'.");

        if (seg.Length <= 2)
        {
            if (!HasRole("User.Read.All"))
                return Error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
            var now = Interlocked.Increment(ref _userRequests);
            for (var seen = Volatile.Read(ref _highestUserRequests); now > seen; seen = Volatile.Read(ref _highestUserRequests))
                if (Interlocked.CompareExchange(ref _highestUserRequests, now, seen) == seen) break;
            try
            {
                await DelayAsync(ct);
                return WithMailbox(UsersResource(req, seg), seg.Length == 2 ? seg[1] : null);
            }
            finally
            {
                Interlocked.Decrement(ref _userRequests);
            }
        }

        // a mailbox request
        var mailbox = seg[1];
        if (!HasRole("Mail.ReadWrite"))
            return WithMailbox(Error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."), mailbox);
        var key = SlotKey(mailbox);
        if (!TryEnter(key))
            return WithMailbox(ConcurrencyThrottled(), mailbox);
        try
        {
            await DelayAsync(ct);
            var fault = Fault();
            if (fault != null) return WithMailbox(fault, mailbox);
            return WithMailbox(MailboxResource(req, version, seg), mailbox);
        }
        finally
        {
            Leave(key);
        }
    }

    private static GResp WithMailbox(GResp resp, string? mailbox)
    {
        resp.Mailbox = mailbox;
        return resp;
    }

    private bool HasRole(string role)
    {
        lock (Options.GrantedRoles) return Options.GrantedRoles.Contains(role, StringComparer.OrdinalIgnoreCase);
    }

    private async Task DelayAsync(CancellationToken ct)
    {
        var latency = Faults.Latency;
        if (latency <= TimeSpan.Zero) return;
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        await _latency.Delay(latency, ct);
        Interlocked.Add(ref _latencyTicks, System.Diagnostics.Stopwatch.GetTimestamp() - start);
        Interlocked.Increment(ref _latencyCount);
    }

    /// <summary>
    /// The latency the requests were given, on average, from the wait's start until the request went
    /// on (a benchmark checks that the fake adds what it was asked to, not more). Zero without latency.
    /// </summary>
    public TimeSpan AverageLatency
    {
        get
        {
            var n = Interlocked.Read(ref _latencyCount);
            return n == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(Interlocked.Read(ref _latencyTicks) / (double)System.Diagnostics.Stopwatch.Frequency / n);
        }
    }

    // ---- concurrency and faults ---------------------------------------------------------------------

    private string SlotKey(string userIdOrAddress)
    {
        lock (_gate) return FindMailboxUser(userIdOrAddress)?.Id ?? userIdOrAddress.ToLowerInvariant();
    }

    private bool TryEnter(string key)
    {
        var slot = _slots.GetOrAdd(key, _ => new Slot());
        lock (slot)
        {
            if (slot.Current >= Math.Max(1, Options.MaxConcurrentPerMailbox))
            {
                slot.Rejected++;
                return false;
            }
            slot.Current++;
            if (slot.Current > slot.Highest) slot.Highest = slot.Current;
            return true;
        }
    }

    private void Leave(string key)
    {
        var slot = _slots[key];
        lock (slot) slot.Current--;
    }

    private static GResp ConcurrencyThrottled()
    {
        var r = Error(429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.");
        r.Headers["Retry-After"] = "1";
        return r;
    }

    /// <summary>An injected failure for a mailbox request, or null.</summary>
    private GResp? Fault()
    {
        if (Faults.Take(ref Faults.NextDrop)) return new GResp { Drop = true };
        if (Faults.Take(ref Faults.Next503)) return Unavailable();
        if (Faults.Take(ref Faults.Next429)) return Throttled();
        double t429 = Faults.Throttle429Rate, f503 = Faults.Fail503Rate, drop = Faults.DropRate;
        double r;
        lock (Faults.Gate)
        {
            // a changed Seed restarts the sequence (noticed on every mailbox request, also while the rates are 0)
            if (_random == null || _randomSeed != Faults.Seed)
            {
                _randomSeed = Faults.Seed;
                _random = new Random(_randomSeed);
            }
            if (t429 <= 0 && f503 <= 0 && drop <= 0) return null;
            r = _random.NextDouble();
        }
        if (r < t429) return Throttled();
        if (r < t429 + f503) return Unavailable();
        if (r < t429 + f503 + drop) return new GResp { Drop = true };
        return null;
    }

    private GResp Throttled()
    {
        var r = Error(429, "TooManyRequests", "Too many requests. Please retry after the time in the Retry-After header.");
        r.Headers["Retry-After"] = Math.Max(0, Faults.RetryAfterSeconds).ToString(CultureInfo.InvariantCulture);
        return r;
    }

    private static GResp Unavailable() => Error(503, "ServiceUnavailable", "The service is temporarily unavailable. Please try again later.");

    // ---- users ------------------------------------------------------------------------------------

    [GeneratedRegex(@"\G\s*(?:(?<field>mail|userPrincipalName|id)\s+eq\s+'(?<val>(?:[^']|'')*)'|proxyAddresses/any\(\s*(?<var>\w+)\s*:\s*\k<var>\s+eq\s+'(?<pval>(?:[^']|'')*)'\s*\))\s*(?<or>or\b)?",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex UserClause();

    private GResp UsersResource(GReq req, string[] seg)
    {
        if (req.Method != "GET") return MethodNotAllowed();
        var select = Select(req);
        if (seg.Length == 2)
        {
            FakeGraphUser? user;
            lock (_gate)
                user = _users.FirstOrDefault(u => u.Id.Equals(seg[1], StringComparison.OrdinalIgnoreCase) ||
                                                  u.UserPrincipalName.Equals(seg[1], StringComparison.OrdinalIgnoreCase));
            if (user == null)
                return Error(404, "Request_ResourceNotFound", $"Resource '{seg[1]}' does not exist or one of its queried reference-property objects are not present.");
            return Ok(UserJson(user, select));
        }

        var filter = req.Q("$filter");
        List<FakeGraphUser> users;
        lock (_gate) users = _users.ToList();
        if (!string.IsNullOrWhiteSpace(filter))
        {
            var predicates = new List<Func<FakeGraphUser, bool>>();
            var pos = 0;
            while (true)
            {
                var m = UserClause().Match(filter, pos);
                if (!m.Success || m.Index != pos)
                    return Error(400, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for property.");
                if (m.Groups["field"].Success)
                {
                    var field = m.Groups["field"].Value.ToLowerInvariant();
                    var val = m.Groups["val"].Value.Replace("''", "'");
                    predicates.Add(field switch
                    {
                        "mail" => u => u.Mail.Equals(val, StringComparison.OrdinalIgnoreCase),
                        "userprincipalname" => u => u.UserPrincipalName.Equals(val, StringComparison.OrdinalIgnoreCase),
                        _ => u => u.Id.Equals(val, StringComparison.OrdinalIgnoreCase),
                    });
                }
                else
                {
                    var val = m.Groups["pval"].Value.Replace("''", "'");
                    predicates.Add(u => u.ProxyAddresses.Any(p => p.Equals(val, StringComparison.OrdinalIgnoreCase)));
                }
                pos = m.Index + m.Length;
                if (!m.Groups["or"].Success)
                {
                    if (pos != filter.Length)
                        return Error(400, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for property.");
                    break;
                }
            }
            users = users.Where(u => predicates.Any(p => p(u))).ToList();
        }
        return Page(req, users.Select(u => (JsonNode)UserJson(u, select)).ToList(), defaultTop: 100);
    }

    private static JsonObject UserJson(FakeGraphUser u, HashSet<string>? select)
    {
        var all = new JsonObject
        {
            ["id"] = u.Id,
            ["displayName"] = u.DisplayName,
            ["mail"] = u.Mail,
            ["userPrincipalName"] = u.UserPrincipalName,
            ["businessPhones"] = new JsonArray(),
        };
        if (select == null) return all;
        var o = new JsonObject();
        foreach (var s in select)
            switch (s.ToLowerInvariant())
            {
                case "id": o["id"] = u.Id; break;
                case "displayname": o["displayName"] = u.DisplayName; break;
                case "mail": o["mail"] = u.Mail; break;
                case "userprincipalname": o["userPrincipalName"] = u.UserPrincipalName; break;
                case "proxyaddresses": o["proxyAddresses"] = new JsonArray(u.ProxyAddresses.Select(p => (JsonNode?)p).ToArray()); break;
                case "accountenabled": o["accountEnabled"] = !u.Disabled; break;
            }
        if (!o.ContainsKey("id")) o["id"] = u.Id;
        return o;
    }

    /// <summary>Exchange resolves a mailbox by id, UPN, or any SMTP address.</summary>
    private FakeGraphUser? FindMailboxUser(string key)
    {
        var smtp = "smtp:" + key;
        return _users.FirstOrDefault(u => u.Id.Equals(key, StringComparison.OrdinalIgnoreCase)
                                          || u.UserPrincipalName.Equals(key, StringComparison.OrdinalIgnoreCase)
                                          || u.Mail.Equals(key, StringComparison.OrdinalIgnoreCase)
                                          || u.ProxyAddresses.Any(p => p.Equals(smtp, StringComparison.OrdinalIgnoreCase)));
    }

    // ---- mailbox resources ------------------------------------------------------------------------------

    private GResp MailboxResource(GReq req, string version, string[] seg)
    {
        Mailbox box;
        lock (_gate)
        {
            var user = FindMailboxUser(seg[1]);
            if (user == null) return Error(404, "ErrorInvalidUser", $"The requested user '{seg[1]}' is invalid.");
            if (!user.HasMailbox) return Error(404, "MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is hosted on-premise.");
            if (user.Disabled) return Error(403, "ErrorAccessDenied", "Access is denied. The mailbox is disabled.");
            box = _mailboxes[user.Id];
        }
        var rest = seg[2..];
        bool Is(int i, string name) => rest.Length > i && rest[i].Equals(name, StringComparison.OrdinalIgnoreCase);

        if (Is(0, "mailFolders"))
        {
            if (rest.Length == 1)
                return req.Method switch
                {
                    "GET" => ListFolders(req, box, null),
                    "POST" => CreateFolder(req, box, null),
                    _ => MethodNotAllowed(),
                };
            Folder? folder;
            lock (_gate) folder = box.Folders.FirstOrDefault(f => f.Matches(rest[1]));
            if (folder == null) return ItemNotFound();
            if (rest.Length == 2)
                return req.Method == "GET" ? Ok(FolderJson(box, folder)) : MethodNotAllowed();
            if (Is(2, "childFolders") && rest.Length == 3)
                return req.Method switch
                {
                    "GET" => ListFolders(req, box, folder),
                    "POST" => CreateFolder(req, box, folder),
                    _ => MethodNotAllowed(),
                };
            if (Is(2, "importMime") && rest.Length == 3 && version == "beta")
            {
                if (req.Method != "POST") return MethodNotAllowed();
                if (Options.ImportMimeRequiresAdvancedRole && !HasRole("Mail-Advanced.ReadWrite.All"))
                    return Error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.");
                return CreateFromMime(req, box, folder, import: true);
            }
            if (Is(2, "messages"))
            {
                if (rest.Length == 3)
                    return req.Method switch
                    {
                        "GET" => ListMessages(req, box, folder),
                        "POST" => CreateMessage(req, box, folder),
                        _ => MethodNotAllowed(),
                    };
                return MessageResource(req, box, rest[3], rest[4..]);
            }
            return Error(400, "BadRequest", $"Resource not found for the segment '{rest[2]}'.");
        }
        if (Is(0, "messages"))
        {
            if (rest.Length == 1)
            {
                Folder drafts;
                lock (_gate) drafts = box.Folders.First(f => f.WellKnown == "drafts");
                return req.Method switch
                {
                    "GET" => ListMessages(req, box, null),
                    "POST" => CreateMessage(req, box, drafts),
                    _ => MethodNotAllowed(),
                };
            }
            return MessageResource(req, box, rest[1], rest[2..]);
        }
        return Error(400, "BadRequest", $"Resource not found for the segment '{rest[0]}'.");
    }

    private GResp MessageResource(GReq req, Mailbox box, string messageId, string[] rest)
    {
        FakeGraphMessage? message;
        lock (_gate) message = box.Messages.FirstOrDefault(m => m.Id == messageId);
        if (message == null) return ItemNotFound();
        if (rest.Length == 0)
        {
            switch (req.Method)
            {
                case "GET":
                    lock (_gate) return Ok(MessageJson(message, Select(req)));
                case "DELETE":
                    lock (_gate) box.Messages.Remove(message);
                    return new GResp { Status = 204 };
                default:
                    return MethodNotAllowed();
            }
        }
        if (!rest[0].Equals("attachments", StringComparison.OrdinalIgnoreCase))
            return Error(400, "BadRequest", $"Resource not found for the segment '{rest[0]}'.");
        if (rest.Length == 1)
        {
            if (req.Method == "GET")
                lock (_gate) return Ok(new JsonObject { ["value"] = new JsonArray(message.Attachments.Select(a => (JsonNode)AttachmentJson(a, false)).ToArray()) });
            if (req.Method != "POST") return MethodNotAllowed();
            if (!TryParseObject(req, out var json, out var error)) return error!;
            var attachment = ParseAttachment(json, out error);
            if (attachment == null) return error!;
            lock (_gate)
            {
                if (message.Size + attachment.Length > Options.MaxMessageBytes) return MessageTooLarge();
                message.Attachments.Add(attachment);
            }
            return Created(AttachmentJson(attachment, false));
        }
        if (rest.Length == 2 && rest[1].Equals("createUploadSession", StringComparison.OrdinalIgnoreCase))
            return req.Method == "POST" ? CreateUploadSession(req, box, message) : MethodNotAllowed();
        if (rest.Length == 2 && req.Method == "GET")
        {
            lock (_gate)
            {
                var a = message.Attachments.FirstOrDefault(x => x.Id == rest[1]);
                return a == null ? ItemNotFound() : Ok(AttachmentJson(a, true));
            }
        }
        return MethodNotAllowed();
    }

    // ---- folders --------------------------------------------------------------------------------------

    [GeneratedRegex(@"^\s*displayName\s+eq\s+'(?<v>(?:[^']|'')*)'\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DisplayNameFilter();

    /// <summary>The one `$filter` shape a list call supports (`field eq 'value'`): its value, null without a filter, or a 400.</summary>
    private static bool TryEqFilter(GReq req, Regex shape, out string? value, out GResp? error)
    {
        value = null;
        error = null;
        var filter = req.Q("$filter");
        if (string.IsNullOrWhiteSpace(filter)) return true;
        var m = shape.Match(filter);
        if (!m.Success)
        {
            error = Error(400, "ErrorInvalidUrlQueryFilter", "The filter expression is not supported.");
            return false;
        }
        value = m.Groups["v"].Value.Replace("''", "'");
        return true;
    }

    private GResp ListFolders(GReq req, Mailbox box, Folder? parent)
    {
        if (!TryEqFilter(req, DisplayNameFilter(), out var name, out var bad)) return bad!;
        lock (_gate)
        {
            var folders = box.Folders.Where(f => f.ParentId == parent?.Id)
                .Where(f => name == null || f.DisplayName.Equals(name, StringComparison.OrdinalIgnoreCase))
                .Select(f => (JsonNode)FolderJson(box, f)).ToList();
            return Page(req, folders, Options.DefaultPageSize);
        }
    }

    private GResp CreateFolder(GReq req, Mailbox box, Folder? parent)
    {
        if (!TryParseObject(req, out var json, out var error)) return error!;
        var name = Str(json, "displayName");
        if (string.IsNullOrWhiteSpace(name))
            return Error(400, "ErrorInvalidRequest", "The folder name is missing.");
        lock (_gate)
        {
            if (box.Folders.Any(f => f.ParentId == parent?.Id && f.DisplayName.Equals(name, StringComparison.OrdinalIgnoreCase)))
                return Error(409, "ErrorFolderExists", "A folder with the specified name already exists.");
            var folder = new Folder(NewId("AQMk"), name, parent?.Id, null);
            box.Folders.Add(folder);
            return Created(FolderJson(box, folder));
        }
    }

    private static JsonObject FolderJson(Mailbox box, Folder f) => new()
    {
        ["id"] = f.Id,
        ["displayName"] = f.DisplayName,
        ["parentFolderId"] = f.ParentId ?? "AQMkROOT",
        ["childFolderCount"] = box.Folders.Count(c => c.ParentId == f.Id),
        ["unreadItemCount"] = box.Messages.Count(m => m.FolderId == f.Id && !m.IsRead),
        ["totalItemCount"] = box.Messages.Count(m => m.FolderId == f.Id),
        ["sizeInBytes"] = box.Messages.Where(m => m.FolderId == f.Id).Sum(m => m.Size),
        ["isHidden"] = false,
    };

    // ---- messages -----------------------------------------------------------------------------------

    [GeneratedRegex(@"^\s*internetMessageId\s+eq\s+'(?<v>(?:[^']|'')*)'\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex MessageIdFilter();

    private GResp ListMessages(GReq req, Mailbox box, Folder? folder)
    {
        if (!TryEqFilter(req, MessageIdFilter(), out var id, out var bad)) return bad!;
        var select = Select(req);
        lock (_gate)
        {
            var list = box.Messages.Where(m => folder == null || m.FolderId == folder.Id)
                .Where(m => id == null || string.Equals(m.InternetMessageId, id, StringComparison.Ordinal))
                .OrderByDescending(m => m.ReceivedDateTime)
                .Select(m => (JsonNode)MessageJson(m, select)).ToList();
            return Page(req, list, Options.DefaultPageSize);
        }
    }

    /// <summary>A new item of <paramref name="folder"/>, created and received now, keeping the request's body.</summary>
    private FakeGraphMessage NewMessage(GReq req, Mailbox box, Folder folder)
    {
        var now = DateTimeOffset.UtcNow;
        return new FakeGraphMessage
        {
            Id = NewId("AAMk"),
            UserId = box.User.Id,
            FolderId = folder.Id,
            FolderName = folder.DisplayName,
            JsonBody = Encoding.UTF8.GetString(req.Body),
            CreatedDateTime = now,
            ReceivedDateTime = now,
            SentDateTime = now,
        };
    }

    private GResp CreateMessage(GReq req, Mailbox box, Folder folder)
    {
        var contentType = req.ContentType ?? "";
        if (contentType.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase))
            return CreateFromMime(req, box, folder, import: false);
        if (!TryParseObject(req, out var json, out var error)) return error!;

        var msg = NewMessage(req, box, folder);
        msg.Subject = Str(json, "subject");
        msg.InternetMessageId = Str(json, "internetMessageId");
        if (json["body"] is JsonObject body)
        {
            msg.BodyContentType = Str(body, "contentType") ?? "text";
            msg.Body = Str(body, "content");
        }
        msg.FromAddress = Address(json["from"]) ?? Address(json["sender"]);
        msg.ToAddresses = Addresses(json["toRecipients"]);
        msg.CcAddresses = Addresses(json["ccRecipients"]);
        msg.BccAddresses = Addresses(json["bccRecipients"]);
        if (msg.ToAddresses.Count + msg.CcAddresses.Count + msg.BccAddresses.Count > 500)
            return Error(400, "ErrorTooManyRecipients", "The message has too many recipients (at most 500).");

        if (json["internetMessageHeaders"] is JsonArray headers)
        {
            var total = 0;
            foreach (var h in headers)
            {
                var name = h is JsonObject ho ? Str(ho, "name") : null;
                var value = h is JsonObject hv ? Str(hv, "value") ?? "" : "";
                if (string.IsNullOrEmpty(name) || !name.StartsWith("x-", StringComparison.OrdinalIgnoreCase))
                    return Error(400, "InvalidInternetMessageHeader",
                        $"The internet message header name '{name}' should start with 'x-' or 'X-'.");
                total += name.Length + value.Length;
                msg.InternetMessageHeaders[name] = value;
            }
            if (total > 256 * 1024)
                return Error(400, "InvalidInternetMessageHeaderCollection", "The internet message headers exceed 256 KB.");
        }

        int? flags = null;
        if (json["singleValueExtendedProperties"] is JsonArray props)
        {
            foreach (var p in props)
            {
                var id = p is JsonObject po ? Str(po, "id") : null;
                var value = p is JsonObject pv ? Str(pv, "value") : null;
                if (string.IsNullOrWhiteSpace(id) || value == null)
                    return Error(400, "ErrorInvalidProperty", "An extended property needs an id and a value.");
                var key = NormalisePropertyId(id);
                if (key.StartsWith("Integer ", StringComparison.Ordinal) && !int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
                    return Error(400, "ErrorInvalidProperty", $"The value '{value}' is not valid for property '{id}'.");
                if (key.StartsWith("SystemTime ", StringComparison.Ordinal) &&
                    !DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
                    return Error(400, "ErrorInvalidProperty", $"The value '{value}' is not valid for property '{id}'.");
                msg.ExtendedProperties[key] = value;
            }
            if (msg.ExtendedProperties.TryGetValue("Integer 0x0E07", out var f)) flags = int.Parse(f, CultureInfo.InvariantCulture);
            if (msg.ExtendedProperties.TryGetValue("SystemTime 0x0E06", out var received))
                msg.ReceivedDateTime = DateTimeOffset.Parse(received, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            if (msg.ExtendedProperties.TryGetValue("SystemTime 0x0039", out var sent))
                msg.SentDateTime = DateTimeOffset.Parse(sent, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            if (msg.ExtendedProperties.TryGetValue("String 0x001A", out var cls) && cls.Length > 0)
            {
                if (Options.RefuseCustomMessageClass && !cls.StartsWith("IPM.Note", StringComparison.OrdinalIgnoreCase))
                    return Error(400, "ErrorInvalidProperty", $"The value '{cls}' is not valid for property 'String 0x001A'.");
                msg.MessageClass = cls;
            }
        }
        // PR_MESSAGE_FLAGS at creation: MSGFLAG_UNSENT (0x8) or MSGFLAG_SUBMIT (0x4) → a draft; MSGFLAG_READ (0x1) → read.
        // Without it the item is a draft, as Graph creates one.
        if (flags is { } fl)
        {
            msg.IsDraft = (fl & 0xC) != 0;
            msg.IsRead = msg.IsDraft || (fl & 0x1) != 0;
        }
        else
        {
            msg.IsDraft = true;
            msg.IsRead = true;
        }

        if (json["attachments"] is JsonArray attachments)
            foreach (var a in attachments)
            {
                if (a is not JsonObject ao) return Error(400, "ErrorInvalidRequest", "An attachment must be an object.");
                var attachment = ParseAttachment(ao, out var err);
                if (attachment == null) return err!;
                msg.Attachments.Add(attachment);
            }
        if (msg.Size > Options.MaxMessageBytes) return MessageTooLarge();

        lock (_gate) box.Messages.Add(msg);
        return Created(MessageJson(msg, null));
    }

    private GResp CreateFromMime(GReq req, Mailbox box, Folder folder, bool import)
    {
        var text = Encoding.ASCII.GetString(req.Body).Trim();
        if ((import && (req.ContentType ?? "").StartsWith("application/json", StringComparison.OrdinalIgnoreCase)) || text.StartsWith('{'))
        {
            if (!TryParseObject(req, out var json, out var error)) return error!;
            text = (Str(json, "mimeContent") ?? Str(json, "MimeContent") ?? "").Trim();
        }
        if (text.Length == 0) return Error(400, "ErrorMimeContentInvalid", "The MIME content is empty.");
        byte[] mime;
        try { mime = Convert.FromBase64String(text); }
        catch (FormatException) { return Error(400, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content."); }

        var msg = NewMessage(req, box, folder);
        msg.Mime = mime;
        msg.Imported = import;
        // v1.0: a message created from MIME is always a draft (and read); the beta importMime call makes a received item.
        msg.IsDraft = !import;
        msg.IsRead = !import;
        foreach (var (name, value) in MimeHeaders(mime))
        {
            msg.InternetMessageHeaders[name] = value;
            switch (name.ToLowerInvariant())
            {
                case "subject": msg.Subject = DecodeWords(value); break;
                case "message-id": msg.InternetMessageId = value.Trim(); break;
                case "from": msg.FromAddress = AngleAddress(value); break;
                case "to": msg.ToAddresses = value.Split(',').Select(AngleAddress).Where(a => a != null).Select(a => a!).ToList(); break;
                case "cc": msg.CcAddresses = value.Split(',').Select(AngleAddress).Where(a => a != null).Select(a => a!).ToList(); break;
                case "date":
                    if (DateTimeOffset.TryParse(value.Split('(')[0].Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d))
                        msg.SentDateTime = msg.ReceivedDateTime = d;
                    break;
                case "in-reply-to": msg.ExtendedProperties["String 0x1042"] = value.Trim(); break;
                case "references": msg.ExtendedProperties["String 0x1039"] = value.Trim(); break;
            }
        }
        if (msg.Size > Options.MaxMessageBytes) return MessageTooLarge();
        lock (_gate) box.Messages.Add(msg);
        return Created(MessageJson(msg, null));
    }

    private JsonObject MessageJson(FakeGraphMessage m, HashSet<string>? select)
    {
        var o = new JsonObject
        {
            ["@odata.etag"] = "W/\"CQAAABYAAAD" + m.Id[^8..] + "\"",
            ["id"] = m.Id,
            ["createdDateTime"] = Iso(m.CreatedDateTime),
            ["lastModifiedDateTime"] = Iso(m.CreatedDateTime),
            ["receivedDateTime"] = Iso(m.ReceivedDateTime),
            ["sentDateTime"] = Iso(m.SentDateTime),
            ["hasAttachments"] = m.Attachments.Count > 0,
            ["internetMessageId"] = m.InternetMessageId,
            ["subject"] = m.Subject,
            ["bodyPreview"] = m.Body == null ? "" : m.Body[..Math.Min(255, m.Body.Length)],
            ["importance"] = "normal",
            ["parentFolderId"] = m.FolderId,
            ["conversationId"] = "AAQk" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(m.Subject ?? "")))[..24],
            ["isRead"] = m.IsRead,
            ["isDraft"] = m.IsDraft,
            ["body"] = new JsonObject { ["contentType"] = m.BodyContentType ?? "text", ["content"] = m.Body ?? "" },
            ["from"] = m.FromAddress == null ? null : Recipient(m.FromAddress),
            ["sender"] = m.FromAddress == null ? null : Recipient(m.FromAddress),
            ["toRecipients"] = new JsonArray(m.ToAddresses.Select(a => (JsonNode)Recipient(a)).ToArray()),
            ["ccRecipients"] = new JsonArray(m.CcAddresses.Select(a => (JsonNode)Recipient(a)).ToArray()),
            ["bccRecipients"] = new JsonArray(m.BccAddresses.Select(a => (JsonNode)Recipient(a)).ToArray()),
        };
        if (select == null) return o;
        var picked = new JsonObject { ["@odata.etag"] = o["@odata.etag"]!.DeepClone(), ["id"] = m.Id };
        foreach (var s in select)
        {
            if (s.Equals("internetMessageHeaders", StringComparison.OrdinalIgnoreCase))
            {
                picked["internetMessageHeaders"] = new JsonArray(m.InternetMessageHeaders
                    .Select(h => (JsonNode)new JsonObject { ["name"] = h.Key, ["value"] = h.Value }).ToArray());
                continue;
            }
            var prop = o.FirstOrDefault(p => p.Key.Equals(s, StringComparison.OrdinalIgnoreCase));
            if (prop.Key != null && !picked.ContainsKey(prop.Key)) picked[prop.Key] = prop.Value?.DeepClone();
        }
        return picked;
    }

    private static JsonObject Recipient(string address) =>
        new() { ["emailAddress"] = new JsonObject { ["name"] = address, ["address"] = address } };

    private static string? Address(JsonNode? recipient) =>
        recipient is JsonObject r && r["emailAddress"] is JsonObject e ? Str(e, "address") : null;

    private static List<string> Addresses(JsonNode? list) =>
        list is JsonArray a ? a.Select(Address).Where(x => x != null).Select(x => x!).ToList() : new List<string>();

    [GeneratedRegex(@"^(?<type>[A-Za-z]+)\s+0x(?<tag>[0-9A-Fa-f]{1,4})$", RegexOptions.CultureInvariant)]
    private static partial Regex PropertyTag();

    private static string NormalisePropertyId(string id)
    {
        var m = PropertyTag().Match(id.Trim());
        if (!m.Success) return id.Trim();
        var type = m.Groups["type"].Value;
        var known = new[] { "String", "Integer", "SystemTime", "Boolean", "Long", "Binary", "Double", "Float", "Short", "CLSID", "Currency", "Null", "Object" }
            .FirstOrDefault(t => t.Equals(type, StringComparison.OrdinalIgnoreCase)) ?? type;
        return known + " 0x" + Convert.ToInt32(m.Groups["tag"].Value, 16).ToString("X4", CultureInfo.InvariantCulture);
    }

    // ---- attachments -------------------------------------------------------------------------------------

    private FakeGraphAttachment? ParseAttachment(JsonObject a, out GResp? error)
    {
        error = null;
        var type = Str(a, "@odata.type") ?? "";
        if (!type.Equals("#microsoft.graph.fileAttachment", StringComparison.OrdinalIgnoreCase))
        {
            error = Error(400, "ErrorInvalidRequest", $"Unsupported attachment type '{type}'; only #microsoft.graph.fileAttachment is faked.");
            return null;
        }
        byte[] bytes;
        try { bytes = Convert.FromBase64String(Str(a, "contentBytes") ?? ""); }
        catch (FormatException)
        {
            error = Error(400, "ErrorInvalidRequest", "The attachment's contentBytes is not valid base64.");
            return null;
        }
        return new FakeGraphAttachment
        {
            Id = NewId("AAMkAtt"),
            Name = Str(a, "name") ?? "",
            ContentType = Str(a, "contentType"),
            Length = bytes.Length,
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
            Bytes = bytes.Length < FakeGraphAttachment.KeepBytesBelow ? bytes : null,
            IsInline = a["isInline"] is JsonValue v && v.TryGetValue<bool>(out var inline) && inline,
            ContentId = Str(a, "contentId"),
        };
    }

    private static JsonObject AttachmentJson(FakeGraphAttachment a, bool withContent)
    {
        var o = new JsonObject
        {
            ["@odata.type"] = "#microsoft.graph.fileAttachment",
            ["id"] = a.Id,
            ["name"] = a.Name,
            ["contentType"] = a.ContentType,
            ["size"] = a.Length,
            ["isInline"] = a.IsInline,
            ["contentId"] = a.ContentId,
        };
        if (withContent && a.Bytes != null) o["contentBytes"] = Convert.ToBase64String(a.Bytes);
        return o;
    }

    private GResp CreateUploadSession(GReq req, Mailbox box, FakeGraphMessage message)
    {
        if (!TryParseObject(req, out var json, out var error)) return error!;
        var item = json.FirstOrDefault(p => p.Key.Equals("AttachmentItem", StringComparison.OrdinalIgnoreCase)).Value as JsonObject;
        if (item == null) return Error(400, "ErrorInvalidRequest", "The AttachmentItem is missing.");
        var type = Str(item, "attachmentType") ?? "file";
        if (!type.Equals("file", StringComparison.OrdinalIgnoreCase))
            return Error(400, "ErrorInvalidRequest", "Only attachmentType 'file' is supported.");
        var name = Str(item, "name");
        if (string.IsNullOrEmpty(name)) return Error(400, "ErrorInvalidRequest", "The attachment name is missing.");
        long size = -1;
        if (item["size"] is JsonValue sv && !sv.TryGetValue(out size) && sv.TryGetValue<string>(out var ss)) long.TryParse(ss, out size);
        if (size <= 0) return Error(400, "ErrorInvalidRequest", "The attachment size is missing or invalid.");
        if (Options.MinUploadSessionBytes > 0 && size < Options.MinUploadSessionBytes)
            return Error(400, "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize", "Attachment size must be greater than the minimum size.");
        lock (_gate)
            if (message.Size + size > Options.MaxMessageBytes) return MessageTooLarge();
        var session = new UploadSession
        {
            Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            UserId = box.User.Id,
            MessageId = message.Id,
            Name = name,
            ContentType = Str(item, "contentType"),
            IsInline = item["isInline"] is JsonValue iv && iv.TryGetValue<bool>(out var inline) && inline,
            ContentId = Str(item, "contentId"),
            Size = size,
            Expires = DateTimeOffset.UtcNow.AddHours(6),
            Bytes = size < FakeGraphAttachment.KeepBytesBelow ? new MemoryStream((int)size) : null,
        };
        _uploads[session.Id] = session;
        return Created(new JsonObject
        {
            ["@odata.context"] = Url + "/v1.0/$metadata#microsoft.graph.uploadSession",
            ["uploadUrl"] = Url + "/upload/" + session.Id,
            ["expirationDateTime"] = Iso(session.Expires),
            ["nextExpectedRanges"] = new JsonArray("0-"),
        });
    }

    [GeneratedRegex(@"^\s*bytes\s+(?<a>\d+)-(?<b>\d+)/(?<t>\d+)\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ContentRange();

    /// <summary>PUT/DELETE on an upload URL: no Authorization; counted against the mailbox's concurrency and faults.</summary>
    private async Task<GResp> UploadAsync(GReq req, string sessionId, CancellationToken ct)
    {
        if (!_uploads.TryGetValue(sessionId, out var session))
            return Error(404, "ErrorItemNotFound", "The upload session was not found or has expired.");
        var key = session.UserId;
        if (!TryEnter(key)) return WithMailbox(ConcurrencyThrottled(), session.UserId);
        try
        {
            await DelayAsync(ct);
            var fault = Fault();
            if (fault != null) return WithMailbox(fault, session.UserId);
            return WithMailbox(UploadChunk(req, session), session.UserId);
        }
        finally
        {
            Leave(key);
        }
    }

    private GResp UploadChunk(GReq req, UploadSession session)
    {
        if (req.Method == "DELETE")
        {
            _uploads.TryRemove(session.Id, out _);
            session.Hash.Dispose();
            return new GResp { Status = 204 };
        }
        if (req.Method != "PUT") return MethodNotAllowed();
        if (req.BodyTooLarge)
            return Error(400, "InvalidRequest", $"A chunk must be smaller than {MaxChunk} bytes.");
        lock (session.Lock)
        {
            if (DateTimeOffset.UtcNow > session.Expires)
                return Error(404, "ErrorItemNotFound", "The upload session has expired.");
            var range = ContentRange().Match(req.Headers.TryGetValue("Content-Range", out var cr) ? cr : "");
            if (!range.Success) return Error(400, "InvalidRequest", "The Content-Range header is missing or malformed.");
            var a = long.Parse(range.Groups["a"].Value, CultureInfo.InvariantCulture);
            var b = long.Parse(range.Groups["b"].Value, CultureInfo.InvariantCulture);
            var total = long.Parse(range.Groups["t"].Value, CultureInfo.InvariantCulture);
            if (total != session.Size)
                return Error(400, "InvalidRequest", $"The total size {total} does not match the session's {session.Size}.");
            if (b < a || b >= total) return Error(416, "InvalidRange", "The Content-Range is not satisfiable.");
            if (a != session.Next)
                return Error(416, "InvalidRange", $"The next expected range starts at {session.Next}.");
            var length = b - a + 1;
            if (length != req.Body.Length)
                return Error(400, "InvalidRequest", $"The Content-Range says {length} bytes but the body has {req.Body.Length}.");
            var last = b == total - 1;
            if (length >= MaxChunk)
                return Error(400, "InvalidRequest", $"A chunk must be smaller than {MaxChunk} bytes.");
            if (!last && length % ChunkMultiple != 0)
                return Error(400, "InvalidRequest", $"A chunk other than the last must be a multiple of {ChunkMultiple} bytes.");

            session.Hash.AppendData(req.Body);
            session.Bytes?.Write(req.Body);
            session.Next = b + 1;
            if (!last)
                return Ok(new JsonObject
                {
                    ["@odata.context"] = Url + "/v1.0/$metadata#Microsoft.OutlookServices.UploadSession",
                    ["ExpirationDateTime"] = Iso(session.Expires),
                    ["NextExpectedRanges"] = new JsonArray((b + 1).ToString(CultureInfo.InvariantCulture)),
                });

            _uploads.TryRemove(session.Id, out _);
            var attachment = new FakeGraphAttachment
            {
                Id = NewId("AAMkAtt"),
                Name = session.Name,
                ContentType = session.ContentType,
                Length = session.Size,
                Sha256 = Convert.ToHexStringLower(session.Hash.GetHashAndReset()),
                Bytes = session.Bytes?.ToArray(),
                IsInline = session.IsInline,
                ContentId = session.ContentId,
                Uploaded = true,
            };
            session.Hash.Dispose();
            lock (_gate)
            {
                var message = _mailboxes.TryGetValue(session.UserId, out var box) ? box.Messages.FirstOrDefault(m => m.Id == session.MessageId) : null;
                if (message == null) return ItemNotFound();
                if (message.Size + attachment.Length > Options.MaxMessageBytes) return MessageTooLarge();
                message.Attachments.Add(attachment);
            }
            var resp = new GResp { Status = 201 };
            resp.Headers["Location"] = $"{Url}/v1.0/users('{session.UserId}')/messages('{session.MessageId}')/attachments('{attachment.Id}')";
            return resp;
        }
    }

    // ---- $batch -------------------------------------------------------------------------------------------

    private sealed record BatchItem(string Id, string Method, string Url, Dictionary<string, string> Headers, JsonNode? Body, string[] DependsOn);

    private async Task<GResp> BatchAsync(GReq outer, string version, CancellationToken ct)
    {
        if (Options.RequireToken)
        {
            var auth = outer.Headers.TryGetValue("Authorization", out var a) ? a : "";
            if (auth.Length == 0) return Unauthorized("Access token is empty.");
            if (!auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || !IsAccepted(auth[7..].Trim()))
                return Unauthorized("Access token validation failure. Invalid audience.");
        }
        if (outer.Method != "POST") return MethodNotAllowed();
        if (outer.BodyTooLarge)
            return Error(413, "RequestEntityTooLarge", $"The request body exceeds the maximum of {Options.MaxRequestBytes} bytes.");
        if (!TryParseObject(outer, out var json, out var error)) return error!;
        if (json["requests"] is not JsonArray requests || requests.Count == 0)
            return Error(400, "BadRequest", "Invalid batch payload format.");
        if (requests.Count > MaxBatch)
            return Error(400, "BadRequest", $"Number of batch requests exceeded the limit of {MaxBatch}.");

        var items = new List<BatchItem>();
        foreach (var node in requests)
        {
            if (node is not JsonObject r) return Error(400, "BadRequest", "Invalid batch payload format.");
            var id = r["id"]?.ToString();
            var method = Str(r, "method");
            var url = Str(r, "url");
            if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(method) || string.IsNullOrEmpty(url))
                return Error(400, "BadRequest", "A batch request needs an id, a method and a url.");
            if (items.Any(i => i.Id == id)) return Error(400, "BadRequest", $"Batch request id '{id}' is duplicated.");
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            if (r["headers"] is JsonObject h)
                foreach (var p in h) headers[p.Key] = p.Value?.ToString() ?? "";
            var depends = r["dependsOn"] is JsonArray d ? d.Select(x => x?.ToString() ?? "").ToArray() : Array.Empty<string>();
            items.Add(new BatchItem(id, method.ToUpperInvariant(), url, headers, r["body"], depends));
        }
        foreach (var i in items)
            foreach (var dep in i.DependsOn)
                if (!items.Any(x => x.Id == dep))
                    return Error(400, "BadRequest", $"Batch request '{i.Id}' depends on unknown request '{dep}'.");

        var results = new Dictionary<string, GResp>();
        var order = new List<string>();
        var pending = items.ToList();
        while (pending.Count > 0)
        {
            var ready = pending.Where(i => i.DependsOn.All(results.ContainsKey)).ToList();
            if (ready.Count == 0)
            {
                foreach (var i in pending) { results[i.Id] = FailedDependency(); order.Add(i.Id); }
                break;
            }
            var tasks = ready.Select(async i =>
            {
                if (i.DependsOn.Any(d => results[d].Status is < 200 or > 299)) return (i, FailedDependency());
                return (i, await RunBatchItemAsync(i, version, ct));
            }).ToList();
            foreach (var (i, resp) in await Task.WhenAll(tasks))
            {
                results[i.Id] = resp;
                order.Add(i.Id);
                pending.Remove(i);
            }
        }
        if (results.Values.Any(r => r.Drop)) return new GResp { Drop = true };

        var responses = new JsonArray();
        foreach (var id in order)
        {
            var r = results[id];
            var headers = new JsonObject();
            foreach (var h in r.Headers) headers[h.Key] = h.Value;
            if (r.Json != null) headers["Content-Type"] = "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8";
            var o = new JsonObject { ["id"] = id, ["status"] = r.Status, ["headers"] = headers };
            if (r.Json != null) o["body"] = r.Json;
            responses.Add(o);
        }
        return Ok(new JsonObject { ["responses"] = responses });
    }

    private async Task<GResp> RunBatchItemAsync(BatchItem item, string version, CancellationToken ct)
    {
        var time = DateTimeOffset.UtcNow;
        var url = item.Url;
        if (Uri.TryCreate(url, UriKind.Absolute, out var abs) && abs.Scheme.StartsWith("http", StringComparison.OrdinalIgnoreCase))
        {
            url = abs.PathAndQuery;
            foreach (var v in new[] { "/v1.0/", "/beta/" })
                if (url.StartsWith(v, StringComparison.OrdinalIgnoreCase)) { url = url[(v.Length - 1)..]; break; }
        }
        var q = url.IndexOf('?');
        var rawPath = q < 0 ? url : url[..q];
        var rawQuery = q < 0 ? "" : url[(q + 1)..];
        string path, queryText;
        try { path = "/" + version + "/" + Uri.UnescapeDataString(rawPath).TrimStart('/'); } catch (UriFormatException) { path = "/" + version + "/" + rawPath.TrimStart('/'); }
        try { queryText = Uri.UnescapeDataString(rawQuery.Replace('+', ' ')); } catch (UriFormatException) { queryText = rawQuery; }

        var contentType = item.Headers.TryGetValue("Content-Type", out var ctHeader) ? ctHeader : null;
        byte[] body;
        JsonObject? parsed = null;
        if (item.Body == null) body = Array.Empty<byte>();
        else if (item.Body is JsonValue sv && sv.TryGetValue<string>(out var s) &&
                 !(contentType ?? "").Contains("json", StringComparison.OrdinalIgnoreCase))
            body = DecodeBatchBody(s);
        else
        {
            body = Encoding.UTF8.GetBytes(item.Body.ToJsonString());
            parsed = item.Body as JsonObject;
            contentType ??= "application/json";
        }
        var headers = new Dictionary<string, string>(item.Headers, StringComparer.OrdinalIgnoreCase);
        if (contentType != null) headers["Content-Type"] = contentType;
        var req = new GReq
        {
            Method = item.Method,
            Path = path,
            QueryText = queryText,
            Query = QueryHelpers.ParseQuery(rawQuery).ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            Headers = headers,
            Body = body,
            Json = parsed,
            BodyTooLarge = body.Length > Options.MaxRequestBytes,
            InBatch = true,
        };
        var resp = await ExecuteAsync(req, authenticated: true, ct);
        Log(new FakeGraphRequest(item.Method, path, queryText, resp.Mailbox, resp.Drop ? 0 : resp.Status, time, InBatch: true));
        return resp;
    }

    /// <summary>A non-JSON body in a batch is base64 of the raw body; the raw body of a MIME create is itself base64 MIME,
    /// so a single-encoded MIME string is accepted too.</summary>
    private static byte[] DecodeBatchBody(string s)
    {
        try
        {
            var once = Convert.FromBase64String(s);
            var text = Encoding.ASCII.GetString(once).Trim();
            if (text.Length > 0 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '=' or '\r' or '\n'))
                return once;
        }
        catch (FormatException) { }
        return Encoding.UTF8.GetBytes(s);
    }

    private static GResp FailedDependency() => Error(424, "FailedDependency", "The request could not be run because a request it depends on failed.");

    // ---- MIME helpers --------------------------------------------------------------------------------------

    private static List<(string Name, string Value)> MimeHeaders(byte[] mime)
    {
        var text = Encoding.Latin1.GetString(mime, 0, Math.Min(mime.Length, 256 * 1024));
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0) end = text.IndexOf("\n\n", StringComparison.Ordinal);
        if (end >= 0) text = text[..end];
        var headers = new List<(string, string)>();
        foreach (var line in text.Replace("\r\n", "\n").Split('\n'))
        {
            if (line.Length == 0) continue;
            if ((line[0] == ' ' || line[0] == '\t') && headers.Count > 0)
            {
                var (n, v) = headers[^1];
                headers[^1] = (n, v + " " + line.Trim());
                continue;
            }
            var colon = line.IndexOf(':');
            if (colon > 0) headers.Add((line[..colon].Trim(), line[(colon + 1)..].Trim()));
        }
        return headers;
    }

    [GeneratedRegex(@"=\?(?<cs>[^?]+)\?(?<enc>[BbQq])\?(?<text>[^?]*)\?=(\s+(?==\?))?", RegexOptions.CultureInvariant)]
    private static partial Regex EncodedWord();

    private static string DecodeWords(string value) => EncodedWord().Replace(value, m =>
    {
        try
        {
            var encoding = Encoding.GetEncoding(m.Groups["cs"].Value);
            var t = m.Groups["text"].Value;
            if (m.Groups["enc"].Value is "B" or "b") return encoding.GetString(Convert.FromBase64String(t));
            var bytes = new List<byte>();
            for (var i = 0; i < t.Length; i++)
            {
                if (t[i] == '_') bytes.Add((byte)' ');
                else if (t[i] == '=' && i + 2 < t.Length) { bytes.Add(Convert.ToByte(t.Substring(i + 1, 2), 16)); i += 2; }
                else bytes.Add((byte)t[i]);
            }
            return encoding.GetString(bytes.ToArray());
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            return m.Value;
        }
    });

    private static string? AngleAddress(string value)
    {
        var lt = value.LastIndexOf('<');
        var gt = value.LastIndexOf('>');
        var a = lt >= 0 && gt > lt ? value[(lt + 1)..gt] : value;
        a = a.Trim();
        return a.Contains('@') ? a : null;
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    private string NewId(string prefix)
    {
        var n = Interlocked.Increment(ref _ids);
        var bytes = new byte[24];
        RandomNumberGenerator.Fill(bytes.AsSpan(0, 16));
        BitConverter.TryWriteBytes(bytes.AsSpan(16), n);
        return prefix + Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string? Str(JsonObject o, string name) =>
        o.FirstOrDefault(p => p.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static HashSet<string>? Select(GReq req)
    {
        var s = req.Q("$select");
        return string.IsNullOrWhiteSpace(s)
            ? null
            : s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);
    }

    private static bool TryParseObject(GReq req, out JsonObject json, out GResp? error)
    {
        json = null!;
        error = null;
        if (req.Json != null)
        {
            if (req.Json.Count > 0)
            {
                json = req.Json;
                return true;
            }
            error = Error(400, "BadRequest", "Empty Payload. JSON content expected.");
            return false;
        }
        if (req.Body.Length == 0)
        {
            error = Error(400, "BadRequest", "Empty Payload. JSON content expected.");
            return false;
        }
        try
        {
            if (JsonNode.Parse(req.Body) is JsonObject o)
            {
                if (o.Count == 0)
                {
                    error = Error(400, "BadRequest", "Empty Payload. JSON content expected.");
                    return false;
                }
                json = o;
                return true;
            }
        }
        catch (JsonException) { }
        error = Error(400, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.");
        return false;
    }

    /// <summary>A page of a list; $top (default <paramref name="defaultTop"/>, at most 1000) and $skip, with an absolute
    /// @odata.nextLink on the fake's own address.</summary>
    private GResp Page(GReq req, List<JsonNode> all, int defaultTop)
    {
        var top = int.TryParse(req.Q("$top"), NumberStyles.None, CultureInfo.InvariantCulture, out var t) && t > 0 ? Math.Min(t, 1000) : Math.Max(1, defaultTop);
        var skip = int.TryParse(req.Q("$skip"), NumberStyles.None, CultureInfo.InvariantCulture, out var k) ? k : 0;
        var page = new JsonArray(all.Skip(skip).Take(top).ToArray());
        var o = new JsonObject { ["value"] = page };
        if (skip + top < all.Count)
        {
            var query = req.Query.Where(p => !p.Key.Equals("$skip", StringComparison.OrdinalIgnoreCase))
                .Select(p => p.Key + "=" + Uri.EscapeDataString(p.Value))
                .Append("$skip=" + (skip + top).ToString(CultureInfo.InvariantCulture));
            var path = string.Join('/', req.Path.Split('/').Select(Uri.EscapeDataString));
            o["@odata.nextLink"] = Url + path + "?" + string.Join('&', query);
        }
        return Ok(o);
    }

    private static GResp Ok(JsonNode json) => new() { Status = 200, Json = json };

    private static GResp Created(JsonNode json) => new() { Status = 201, Json = json };

    private static GResp ItemNotFound() => Error(404, "ErrorItemNotFound", "The specified object was not found in the store.");

    private static GResp MethodNotAllowed() => Error(405, "ErrorInvalidRequest", "The OData request is not supported.");

    private GResp MessageTooLarge() => Error(413, "ErrorMessageSizeExceeded",
        $"The message exceeds the maximum supported size of {Options.MaxMessageBytes} bytes.");

    private static GResp Unauthorized(string message)
    {
        var r = Error(401, "InvalidAuthenticationToken", message);
        r.Headers["WWW-Authenticate"] = "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\"";
        return r;
    }

    private static GResp Error(int status, string code, string message)
    {
        var requestId = Guid.NewGuid().ToString();
        var r = new GResp
        {
            Status = status,
            Json = new JsonObject
            {
                ["error"] = new JsonObject
                {
                    ["code"] = code,
                    ["message"] = message,
                    ["innerError"] = new JsonObject
                    {
                        ["date"] = Iso(DateTimeOffset.UtcNow),
                        ["request-id"] = requestId,
                        ["client-request-id"] = requestId,
                    },
                },
            },
        };
        r.Headers["request-id"] = requestId;
        return r;
    }

    // ---- lifetime -------------------------------------------------------------------------------------------

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try { await _app.StopAsync(timeout.Token); }
        catch (OperationCanceledException) { }
        await _app.DisposeAsync();
        _latency.Dispose();
        foreach (var s in _uploads.Values) s.Hash.Dispose();
        _uploads.Clear();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
