namespace ChatterConnector.Fakes;

/// <summary>How a <see cref="FakeGraph"/> authenticates and limits. The fields may be changed between runs.</summary>
public sealed class FakeGraphOptions
{
    /// <summary>The only bearer token accepted (<c>Authorization: Bearer …</c>).</summary>
    public string AcceptedToken = "fake-graph-token";

    /// <summary>Also accepts a bearer token for which this returns true (e.g. <c>FakeEntraId.TokensFor(graph.Url)</c>:
    /// any token the fake token service issued for this Graph).</summary>
    public Func<string, bool>? AcceptToken;

    /// <summary>Requests in flight at once for one mailbox; the next one gets 429 ApplicationThrottled.</summary>
    public int MaxConcurrentPerMailbox = 4;

    /// <summary>false → no Authorization header is needed (any token is accepted).</summary>
    public bool RequireToken = true;

    /// <summary>Application roles the token carries: without "User.Read.All" /users lookups get 403 Authorization_RequestDenied,
    /// without "Mail.ReadWrite" mailbox calls get 403 ErrorAccessDenied.</summary>
    public List<string> GrantedRoles = new() { "Mail.ReadWrite", "User.Read.All" };

    /// <summary>true → the beta importMime call also needs "Mail-Advanced.ReadWrite.All" in <see cref="GrantedRoles"/>, as Graph documents.</summary>
    public bool ImportMimeRequiresAdvancedRole;

    /// <summary>Request bodies larger than this get 413 RequestEntityTooLarge (Graph: 4 MB).</summary>
    public int MaxRequestBytes = 4 * 1024 * 1024;

    /// <summary>Exchange Online's message size limit (body + attachments): larger → 413 ErrorMessageSizeExceeded.</summary>
    public long MaxMessageBytes = 150L * 1024 * 1024;

    /// <summary>createUploadSession for a smaller attachment is refused (400 ErrorAttachmentSizeShouldNotBeLessThanMinimumSize); 0 = off.
    /// Outlook documents 3 MB as the minimum; off by default.</summary>
    public long MinUploadSessionBytes;

    /// <summary>Page size of list calls when the request has no $top (Graph's default for messages and folders is 10).</summary>
    public int DefaultPageSize = 10;

    /// <summary>true → a message class (PR_MESSAGE_CLASS, "String 0x001A") other than IPM.Note* gets 400 ErrorInvalidProperty,
    /// as a tenant may refuse custom classes.</summary>
    public bool RefuseCustomMessageClass;
}

/// <summary>Fault injection for mailbox requests (paths below /users/{id}/ and upload URLs, also inside $batch).
/// Every field may be set at any time, also while requests are running.</summary>
public sealed class FakeGraphFaults
{
    /// <summary>Share (0..1) of mailbox requests answered 429 TooManyRequests with Retry-After, deterministic from <see cref="Seed"/>.</summary>
    public double Throttle429Rate;

    /// <summary>The Retry-After (seconds) of injected 429s.</summary>
    public int RetryAfterSeconds = 1;

    /// <summary>Share (0..1) of mailbox requests answered 503 ServiceUnavailable.</summary>
    public double Fail503Rate;

    /// <summary>Share (0..1) of mailbox requests whose connection is aborted before any response.</summary>
    public double DropRate;

    public int Seed = 1;

    /// <summary>Added to every Graph request (also upload chunks and requests inside a $batch) while it holds its concurrency slot.</summary>
    public TimeSpan Latency;

    /// <summary>The next N mailbox requests get 429 TooManyRequests.</summary>
    public int Next429;

    /// <summary>The next N mailbox requests get 503.</summary>
    public int Next503;

    /// <summary>The next N mailbox requests have their connection aborted (inside a $batch: the whole batch).</summary>
    public int NextDrop;

    internal readonly object Gate = new();

    internal bool Take(ref int counter)
    {
        lock (Gate)
        {
            if (counter <= 0) return false;
            counter--;
            return true;
        }
    }
}

/// <summary>A directory user; change the flags at any time.</summary>
public sealed class FakeGraphUser
{
    public string Id = "";
    public string Mail = "";
    public string UserPrincipalName = "";
    public string DisplayName = "";

    /// <summary>"SMTP:primary@x" and "smtp:alias@x" entries, as Entra ID keeps them.</summary>
    public List<string> ProxyAddresses = new();

    /// <summary>false → mailbox calls get 404 MailboxNotEnabledForRESTAPI.</summary>
    public bool HasMailbox = true;

    /// <summary>true → mailbox calls get 403 ErrorAccessDenied.</summary>
    public bool Disabled;
}

/// <summary>A message the fake created, as tests read it back.</summary>
public sealed class FakeGraphMessage
{
    public string Id = "";
    public string UserId = "";
    public string FolderId = "";
    public string FolderName = "";
    public string? InternetMessageId;
    public string? Subject;
    public bool IsDraft;
    public bool IsRead;

    /// <summary>PR_MESSAGE_CLASS: "String 0x001A" when given, else IPM.Note.</summary>
    public string MessageClass = "IPM.Note";

    /// <summary>singleValueExtendedProperties by id, normalised to "Type 0xNNNN" (e.g. "Integer 0x0E07" → "1").</summary>
    public Dictionary<string, string> ExtendedProperties = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>internetMessageHeaders (x-…) by name; for MIME-created messages every top-level MIME header.</summary>
    public Dictionary<string, string> InternetMessageHeaders = new(StringComparer.OrdinalIgnoreCase);

    public string? BodyContentType;
    public string? Body;
    public string? FromAddress;
    public List<string> ToAddresses = new();
    public List<string> CcAddresses = new();
    public List<string> BccAddresses = new();
    public List<FakeGraphAttachment> Attachments = new();

    /// <summary>The MIME of messages created from MIME (v1.0 text/plain create or beta importMime).</summary>
    public byte[]? Mime;

    /// <summary>true for the beta importMime call.</summary>
    public bool Imported;

    /// <summary>The raw create request body (JSON, or the base64 MIME text).</summary>
    public string JsonBody = "";

    public DateTimeOffset CreatedDateTime;

    /// <summary>"SystemTime 0x0E06" when given, else the creation time.</summary>
    public DateTimeOffset ReceivedDateTime;

    /// <summary>"SystemTime 0x0039" when given, else the creation time.</summary>
    public DateTimeOffset SentDateTime;

    /// <summary>Body + attachment bytes, checked against <see cref="FakeGraphOptions.MaxMessageBytes"/>.</summary>
    public long Size => (Body?.Length ?? 0) + (Mime?.LongLength ?? 0) + Attachments.Sum(a => a.Length);
}

/// <summary>A file attachment: the bytes are kept only when smaller than 8 MB; <see cref="Sha256"/> and <see cref="Length"/> always.</summary>
public sealed class FakeGraphAttachment
{
    public const int KeepBytesBelow = 8 * 1024 * 1024;

    public string Id = "";
    public string Name = "";
    public string? ContentType;
    public long Length;

    /// <summary>Lower-case hex SHA-256 of the content.</summary>
    public string Sha256 = "";

    /// <summary>The content when shorter than <see cref="KeepBytesBelow"/>, else null.</summary>
    public byte[]? Bytes;

    public bool IsInline;
    public string? ContentId;

    /// <summary>true when it arrived through createUploadSession.</summary>
    public bool Uploaded;
}

/// <summary>One request the fake answered (requests inside a $batch are logged too, with <see cref="InBatch"/>).</summary>
public sealed record FakeGraphRequest(
    string Method,
    string Path,
    string Query,
    string? Mailbox,
    int Status,
    DateTimeOffset Time,
    bool InBatch = false)
{
    /// <summary>True when the connection was aborted instead of answered (<see cref="Status"/> is 0).</summary>
    public bool Dropped => Status == 0;
}
