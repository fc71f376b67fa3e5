using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Threading;
using System.Threading.Tasks;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.State;
using Microsoft.Graph;
using Microsoft.Graph.Models;
using Microsoft.Graph.Users.Item.Messages.Item.Attachments.CreateUploadSession;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware.Options;

namespace ChatterConnector.Engine.Targets.Graph
{
    /// <summary>
    /// Microsoft 365 mailboxes through Microsoft Graph. Each message is created in
    /// Inbox/&lt;folder&gt; as a received, read, non-draft item (JSON with the MAPI properties of a
    /// received item; or, with ImportMode MimeBeta, the MIME itself through beta importMime). Small
    /// files go inline, larger ones through an upload session, files over 150 MB are left out.
    /// Called from up to <see cref="MaxParallelism"/> threads; each mailbox keeps Exchange's limits:
    /// 4 requests in flight, a 429's Retry-After for that mailbox only, 150 MB uploaded per 5 minutes.
    /// A small create that holds everything goes into a JSON $batch with others (see
    /// <see cref="GraphTargetOptions.BatchSize"/>); each inner request holds its mailbox's slot.
    /// </summary>
    public sealed class GraphTarget : IMessageTarget
    {
        private const string ApiVersion = "v1.0";

        private readonly GraphSettings _settings;
        private readonly string _folderName;
        private readonly GraphTargetOptions _options;
        private readonly Uri _graph;
        private readonly IAccessTokenProvider _tokens;
        private readonly HttpClient _http;
        private readonly GraphServiceClient _client;
        private readonly GraphBatcher? _batcher;
        private readonly ConcurrentDictionary<string, MailboxGate> _gates = new ConcurrentDictionary<string, MailboxGate>(StringComparer.OrdinalIgnoreCase);
        private readonly ConcurrentDictionary<string, Lazy<Task<MailboxInfo>>> _mailboxes = new ConcurrentDictionary<string, Lazy<Task<MailboxInfo>>>(StringComparer.OrdinalIgnoreCase);
        private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _folders = new ConcurrentDictionary<string, Lazy<Task<string>>>(StringComparer.Ordinal);
        private readonly object _randomLock = new object();
        private readonly Random _random = new Random();
        private readonly RecentCreates _recent = new RecentCreates();
        private long _conversions;
        private volatile bool _customClassRefused;

        public GraphTarget(GraphSettings settings, SecretProtector secrets, string folderName, GraphTargetOptions? options = null)
        {
            _settings = settings ?? throw new ArgumentNullException(nameof(settings));
            if (secrets == null) throw new ArgumentNullException(nameof(secrets));
            _folderName = MaildirTarget.ValidateFolderName(folderName);
            _options = options ?? new GraphTargetOptions();
            UploadChunks.Validate(_options.UploadChunkSize);
            _graph = GraphEndpoints.ResolveGraph(settings, _options.AllowHttpLoopback);
            _tokens = GraphAuthentication.CreateTokenProvider(settings, secrets, _graph, _options);

            // The SDK's middleware (redirects, headers, telemetry…) stays; its RetryHandler is told
            // never to retry: retries happen here, per mailbox, so a 429 holds back that mailbox only
            // and no request is retried twice over.
            var handlers = GraphClientFactory.CreateDefaultHandlers(new GraphClientOptions());
            for (int i = 0; i < handlers.Count; i++)
                if (handlers[i] is RetryHandler)
                    handlers[i] = new RetryHandler(new RetryHandlerOption { MaxRetry = 0, ShouldRetry = (delay, attempt, response) => false });
            _http = GraphClientFactory.Create(handlers, ApiVersion);
            _http.Timeout = _options.RequestTimeout;
            _client = new GraphServiceClient(_http, new BaseBearerTokenAuthenticationProvider(_tokens), _graph.GetLeftPart(UriPartial.Authority) + "/" + ApiVersion);
            if (_options.BatchSize > 1)
                _batcher = new GraphBatcher(_http, _tokens, new Uri(_graph.GetLeftPart(UriPartial.Authority) + "/" + ApiVersion + "/$batch"),
                    _options.BatchSize, _options.BatchDelay, _options.InlineRequestLimit);

            RaiseConnectionLimits();
        }

        /// <summary>Staged messages read and converted so far (a test sees a message sent to many mailboxes converted once).</summary>
        internal long Conversions => Interlocked.Read(ref _conversions);

        public string Location => _graph.GetLeftPart(UriPartial.Authority) + " (Inbox/" + _folderName + ")";

        /// <summary>
        /// ThrottleLimit mailboxes at once, each with up to 4 requests in flight; with batching, twice
        /// that many deliveries, so that creates are ready to join a batch the moment a slot is free
        /// (they wait in the batcher without holding a slot).
        /// </summary>
        public int MaxParallelism => Math.Max(1, _settings.ThrottleLimit) * Math.Max(1, _options.MaxConcurrentPerMailbox) * (_batcher != null ? 2 : 1);

        // ---- IMessageTarget ----

        public async Task<string?> CheckMailboxAsync(string mailbox, CancellationToken cancellationToken)
        {
            // No such user, or no Exchange Online mailbox: the address maps to nothing (Unmapped,
            // delivered once the mapping changes). A mailbox the app may not open (disabled, or
            // outside an access policy) is a failed delivery instead: an error record, retried next run.
            var info = await ResolveAsync(mailbox, cancellationToken).ConfigureAwait(false);
            return info.ErrorId == "ChatterTarget.AccessDenied" ? null : info.Problem;
        }

        /// <summary>
        /// Nothing to tidy: a delivery a stopped run may have finished is found by its Message-ID
        /// (checkFirst), a message whose files failed is deleted again at once, and an upload
        /// session a killed run left behind expires by itself.
        /// </summary>
        public void Recover(IEnumerable<string> mailboxesInFlight, CancellationToken cancellationToken) { }

        public DeliveryResult Deliver(string mailbox, OutgoingMessage message, bool checkFirst, CancellationToken cancellationToken) =>
            DeliverAsync(mailbox, message, checkFirst, cancellationToken).GetAwaiter().GetResult();

        public void Dispose() => _http.Dispose();

        // ---- Delivery ----

        public async Task<DeliveryResult> DeliverAsync(string mailbox, OutgoingMessage message, bool checkFirst, CancellationToken ct)
        {
            if (message == null) throw new ArgumentNullException(nameof(message));
            var box = await ResolveAsync(mailbox, ct).ConfigureAwait(false);
            if (box.Problem != null)
                throw new ChatterException(box.ErrorId!, box.Kind, $"Cannot deliver to '{mailbox}': {box.Problem}.", mailbox);
            string userId = box.UserId!;
            string folderId = await EnsureFolderAsync(mailbox, userId, ct).ConfigureAwait(false);

            string id = message.MessageId.Trim().Trim('<', '>');
            if (checkFirst && id.Length > 0)
            {
                // A stopped run may have created the message; but a message whose files never made it
                // (and whose removal failed too) is not delivered: remove it and create it again.
                var existing = await FindAsync(mailbox, userId, folderId, "<" + id + ">", ct).ConfigureAwait(false);
                if (existing != null)
                {
                    if (await IsCompleteAsync(mailbox, userId, existing, message.StagedPath, ct).ConfigureAwait(false))
                        return DeliveryResult.AlreadyPresent;
                    await DeleteQuietlyAsync(mailbox, userId, existing).ConfigureAwait(false);
                }
            }

            if (_settings.ImportMode == GraphImportMode.MimeBeta)
            {
                await ImportMimeAsync(mailbox, userId, folderId, message.StagedPath, ct).ConfigureAwait(false);
                return DeliveryResult.Delivered;
            }
            return await CreateAsync(mailbox, userId, folderId, message, id, ct).ConfigureAwait(false);
        }

        private async Task<DeliveryResult> CreateAsync(string mailbox, string userId, string folderId, OutgoingMessage outgoing, string id, CancellationToken ct)
        {
            // The same message, converted for another participant (or being converted now): its create is ready.
            var key = _batcher != null && id.Length > 0 ? RecentCreates.KeyOf(outgoing, id) : null;
            bool mine = false;
            var pending = key == null ? null : _recent.Claim(key, out mine);
            var ready = pending == null ? null : await pending.ConfigureAwait(false);
            if (ready != null && (!_customClassRefused || ready.MessageClass == GraphMessageBuilder.NoteClass))
            {
                try
                {
                    RequireId(await BatchCreateAsync(mailbox, userId, folderId, id, ready.Json, ready.RequestBytes, ct).ConfigureAwait(false), mailbox);
                    return DeliveryResult.Delivered;
                }
                catch (ChatterException e) when (ready.MessageClass != GraphMessageBuilder.NoteClass && StatusOf(e) == 400)
                {
                    _customClassRefused = true; // converted again below, as IPM.Note
                }
                catch (ChatterException e) when (StatusOf(e) == 404)
                {
                    ForgetFolder(userId);
                    throw;
                }
            }

            try
            {
                return await ConvertAndCreateAsync(mailbox, userId, folderId, outgoing, id, key, ct).ConfigureAwait(false);
            }
            finally
            {
                if (mine) _recent.Abandon(key!); // (nothing, once it was kept)
            }
        }

        private async Task<DeliveryResult> ConvertAndCreateAsync(string mailbox, string userId, string folderId, OutgoingMessage outgoing, string id, string? key, CancellationToken ct)
        {
            Interlocked.Increment(ref _conversions);
            using var staged = StagedMessage.Open(outgoing.StagedPath, ct);
            var mime = staged.Message;
            var files = staged.Attachments;
            string messageClass = _customClassRefused ? GraphMessageBuilder.NoteClass : GraphMessageBuilder.MessageClass(outgoing.ItemType, mime);

            // The request's size matters only to place files: a message without files is not measured.
            long baseBytes = files.Count == 0 ? outgoing.Size
                : System.Text.Encoding.UTF8.GetByteCount(GraphMessageBuilder.ToJson(GraphMessageBuilder.Build(mime, outgoing.ItemType, id, null, messageClass)));
            var routes = GraphMessageBuilder.Plan(files.Select(f => (f.Name, f.Size)).ToList(), baseBytes, _options.InlineRequestLimit);
            var inline = new List<(StagedAttachment File, byte[] Bytes)>();
            long requestBytes = baseBytes;
            for (int i = 0; i < files.Count; i++)
                if (routes[i] == AttachmentRoute.Inline)
                {
                    inline.Add((files[i], files[i].ReadAll()));
                    requestBytes += GraphMessageBuilder.Base64Length(files[i].Size) + GraphMessageBuilder.AttachmentOverhead;
                }

            // A fresh model per attempt: a Kiota model that was already sent serialises as {}.
            Func<string, Func<CancellationToken, Task<Message?>>> post = cls => c =>
                _client.Users[userId].MailFolders[folderId].Messages.PostAsync(
                    GraphMessageBuilder.Build(mime, outgoing.ItemType, id, inline.Select(a => GraphMessageBuilder.FileAttachment(a.File.Name, a.File.ContentType, a.Bytes)), cls),
                    cancellationToken: c);

            // The common case, a small create that holds everything (no file added after it), goes
            // into a JSON batch with others (of any mailbox); the rest is a request of its own.
            bool batched = _batcher != null && id.Length > 0
                && requestBytes <= _options.InlineRequestLimit / Math.Max(1, Math.Min(_options.BatchSize, 20))
                && routes.All(r => r == AttachmentRoute.Inline || r == AttachmentRoute.TooLarge);
            // Kept for the other participants when it carries everything (no file left out or added after).
            bool keep = batched && key != null && routes.All(r => r == AttachmentRoute.Inline);
            Func<string, Task<string?>> create = batched
                ? (Func<string, Task<string?>>)(cls =>
                {
                    var json = GraphMessageBuilder.WriteJson(GraphMessageBuilder.Read(mime, outgoing.ItemType, id, cls), inline.Select(a => (a.File.Name, a.File.ContentType, a.Bytes)).ToList());
                    if (keep) _recent.Add(key!, new RecentCreates.Entry(cls, json, requestBytes));
                    return BatchCreateAsync(mailbox, userId, folderId, id, json, requestBytes, ct);
                })
                : async cls => (await CallAsync(mailbox, "creating the message", post(cls), requestBytes, ct).ConfigureAwait(false))?.Id;

            string? messageId;
            try
            {
                messageId = await create(messageClass).ConfigureAwait(false);
            }
            catch (ChatterException e) when (messageClass != GraphMessageBuilder.NoteClass && StatusOf(e) == 400)
            {
                // Exchange may refuse a custom message class: fall back to IPM.Note for the rest of the run.
                messageId = await create(GraphMessageBuilder.NoteClass).ConfigureAwait(false);
                _customClassRefused = true;
            }
            catch (ChatterException e) when (StatusOf(e) == 404)
            {
                ForgetFolder(userId); // the folder was deleted meanwhile: the next delivery makes it again
                throw;
            }
            RequireId(messageId, mailbox);

            var left = new List<string>();
            try
            {
                for (int i = 0; i < files.Count; i++)
                {
                    var file = files[i];
                    switch (routes[i])
                    {
                        case AttachmentRoute.Post:
                            var bytes = file.ReadAll();
                            await CallAsync(mailbox, $"adding the file '{file.Name}'", c =>
                                _client.Users[userId].Messages[messageId].Attachments.PostAsync(GraphMessageBuilder.FileAttachment(file.Name, file.ContentType, bytes), cancellationToken: c),
                                GraphMessageBuilder.Base64Length(bytes.Length), ct).ConfigureAwait(false);
                            break;
                        case AttachmentRoute.Upload:
                            await UploadAsync(mailbox, userId, messageId!, file, ct).ConfigureAwait(false);
                            break;
                        case AttachmentRoute.TooLarge:
                            left.Add($"File '{file.Name}' ({Conversion.SafeFileName.FormatSize(file.Size)}) is over Exchange's 150 MB limit and was not imported.");
                            break;
                    }
                }
            }
            catch
            {
                // A message without its files must not stay: a later run would take it as delivered.
                await DeleteQuietlyAsync(mailbox, userId, messageId!).ConfigureAwait(false);
                throw;
            }
            return left.Count == 0 ? DeliveryResult.Delivered : new DeliveryResult(DeliveryOutcome.Delivered, string.Join(" ", left));
        }

        /// <summary>A create that answered without the new item's id has not shown that it worked.</summary>
        private static void RequireId(string? messageId, string mailbox)
        {
            if (string.IsNullOrEmpty(messageId))
                throw new ChatterException("ChatterTarget.Rejected", ChatterErrorKind.InvalidData,
                    $"Microsoft Graph created the message in '{mailbox}' but returned no id.", mailbox);
        }

        /// <summary>
        /// Creates the message through the batcher: the mailbox's slot is taken as the create joins a
        /// batch and given back when its answer is read, so the mailbox never sees more than its limit.
        /// Retries as <see cref="CallAsync"/> does (a 429's Retry-After holds back this mailbox only);
        /// after a batch that failed as a whole (other creates in it may have been carried out, this one
        /// too) the message is looked for by its Message-ID before it is sent again.
        /// </summary>
        private async Task<string?> BatchCreateAsync(string mailbox, string userId, string folderId, string id, string json, long uploadBytes, CancellationToken ct)
        {
            const string what = "creating the message";
            var gate = Gate(mailbox);
            var url = "/users/" + Uri.EscapeDataString(userId) + "/mailFolders/" + Uri.EscapeDataString(folderId) + "/messages";
            bool mayExist = false;
            for (int attempt = 0; ; attempt++)
            {
                if (mayExist)
                {
                    var found = await FindAsync(mailbox, userId, folderId, "<" + id + ">", ct).ConfigureAwait(false);
                    if (found != null) return found;
                    mayExist = false;
                }
                int tried = attempt;
                // The batcher takes this mailbox's slot as the create joins a batch, and gives it back
                // once the answer is read; a 429 holds back this mailbox before the slot is free again.
                var item = new GraphBatcher.Item(url, json, gate, uploadBytes, ct, o =>
                {
                    if (o.Status == 429) gate.Throttled(o.RetryAfter ?? Backoff(tried));
                });
                var task = _batcher!.Enqueue(item);
                if (!task.IsCompleted && ct.CanBeCanceled)
                {
                    // Given up: a create still waiting is dropped; one in a batch keeps its slot until the batch has its answer.
                    var cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                    using (ct.Register(() => cancelled.TrySetResult(true)))
                        if (await Task.WhenAny(task, cancelled.Task).ConfigureAwait(false) != task)
                        {
                            _batcher.Pump();
                            ct.ThrowIfCancellationRequested();
                        }
                }
                var outcome = await task.ConfigureAwait(false);
                if (outcome.Cancelled) { ct.ThrowIfCancellationRequested(); throw new OperationCanceledException(); }
                if (outcome.Error == null && outcome.Status >= 200 && outcome.Status < 300) return outcome.Id;
                ct.ThrowIfCancellationRequested();

                var ex = outcome.Error ?? new GraphHttpException(outcome.Status, outcome.Code, outcome.Message, outcome.RetryAfter);
                var failure = GraphFailure.From(ex, DateTimeOffset.UtcNow);
                if (failure == null) throw MapOther(ex, mailbox, what);
                var f = failure.Value;
                if (!f.IsTransient) throw Map(f, mailbox, what, ex);
                if (outcome.BatchFailed && !f.IsThrottled) mayExist = true;
                if (attempt >= _options.MaxRetries)
                    throw new ChatterException("ChatterTarget.Unavailable", ChatterErrorKind.ResourceUnavailable,
                        $"Microsoft Graph stayed unavailable while {what} for '{mailbox}' ({Describe(f)}) after {attempt + 1} attempts. The delivery is tried again in the next run.",
                        mailbox, ex);
                if (!f.IsThrottled) await Task.Delay(f.RetryAfter ?? Backoff(attempt), ct).ConfigureAwait(false);
                // (a 429: the gate already holds this mailbox back)
            }
        }

        private async Task UploadAsync(string mailbox, string userId, string messageId, StagedAttachment file, CancellationToken ct)
        {
            long size = file.Size;
            var session = await CallAsync(mailbox, $"starting the upload of '{file.Name}'", c =>
                _client.Users[userId].Messages[messageId].Attachments.CreateUploadSession.PostAsync(new CreateUploadSessionPostRequestBody
                {
                    AttachmentItem = new AttachmentItem { AttachmentType = AttachmentType.File, Name = file.Name, Size = size, ContentType = file.ContentType },
                }, cancellationToken: c), 0, ct).ConfigureAwait(false);
            if (string.IsNullOrEmpty(session?.UploadUrl))
                throw new ChatterException("ChatterTarget.Rejected", ChatterErrorKind.InvalidData,
                    $"Microsoft Graph returned no upload URL for the file '{file.Name}' in '{mailbox}'.", mailbox);
            var url = GraphEndpoints.Check(session!.UploadUrl!, "upload URL", _options.AllowHttpLoopback, keepPath: true);

            int chunk = _options.UploadChunkSize;
            var buffer = new byte[(int)Math.Min(chunk, Math.Max(1, size))];
            using var stream = file.OpenRead();
            foreach (var (first, last) in UploadChunks.Ranges(size, chunk))
            {
                int length = (int)(last - first + 1);
                int read = 0;
                while (read < length)
                {
                    int n = await stream.ReadAsync(buffer, read, length - read, ct).ConfigureAwait(false);
                    if (n == 0) throw new ChatterException("ChatterTarget.StagedMessageInvalid", ChatterErrorKind.InvalidData,
                        $"The file '{file.Name}' of the staged message '{messageId}' ended early.", file.Name);
                    read += n;
                }
                await CallAsync(mailbox, $"uploading '{file.Name}'", c => PutChunkAsync(url, buffer, length, first, last, size, c), length, ct).ConfigureAwait(false);
            }
        }

        private async Task<bool> PutChunkAsync(Uri url, byte[] buffer, int length, long first, long last, long total, CancellationToken ct)
        {
            // The upload URL carries its own authorisation: no token goes with it.
            using var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent(buffer, 0, length) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            request.Content.Headers.ContentRange = new ContentRangeHeaderValue(first, last, total);
            using var response = await _http.SendAsync(request, ct).ConfigureAwait(false);
            if (response.IsSuccessStatusCode) return true;
            throw await FailureOf(response).ConfigureAwait(false);
        }

        private async Task ImportMimeAsync(string mailbox, string userId, string folderId, string path, CancellationToken ct)
        {
            if (!File.Exists(path))
                throw new ChatterException("ChatterTarget.StagedMessageMissing", ChatterErrorKind.ReadError, $"The staged message '{path}' does not exist.", path);
            var url = new Uri(_graph.GetLeftPart(UriPartial.Authority) + "/beta/users/" + Uri.EscapeDataString(userId)
                + "/mailFolders/" + Uri.EscapeDataString(folderId) + "/importMime");
            long bytes = GraphMessageBuilder.Base64Length(new FileInfo(path).Length);
            await CallAsync(mailbox, "importing the message", async c =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new Base64FileContent(path) };
                var token = await _tokens.GetAuthorizationTokenAsync(url, null, c).ConfigureAwait(false);
                if (!string.IsNullOrEmpty(token)) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                using var response = await _http.SendAsync(request, c).ConfigureAwait(false);
                if (response.IsSuccessStatusCode) return true;
                throw await FailureOf(response).ConfigureAwait(false);
            }, bytes, ct).ConfigureAwait(false);
        }

        /// <summary>The Graph id of the message with this Message-ID in the folder, or null.</summary>
        private async Task<string?> FindAsync(string mailbox, string userId, string folderId, string internetMessageId, CancellationToken ct)
        {
            var found = await CallAsync(mailbox, "looking for the message", c =>
                _client.Users[userId].MailFolders[folderId].Messages.GetAsync(r =>
                {
                    r.QueryParameters.Filter = "internetMessageId eq '" + Quote(internetMessageId) + "'";
                    r.QueryParameters.Select = new[] { "id" };
                }, c), 0, ct).ConfigureAwait(false);
            return found?.Value?.Select(m => m.Id).FirstOrDefault(i => !string.IsNullOrEmpty(i));
        }

        /// <summary>True when the message holds as many files as the staged message brings within Exchange's limit.</summary>
        private async Task<bool> IsCompleteAsync(string mailbox, string userId, string messageId, string stagedPath, CancellationToken ct)
        {
            int expected;
            using (var staged = StagedMessage.Open(stagedPath, ct))
                expected = staged.Attachments.Count(a => a.Size <= GraphMessageBuilder.MaxFileBytes);
            if (expected == 0) return true;
            var attachments = await CallAsync(mailbox, "counting the message's files", c =>
                _client.Users[userId].Messages[messageId].Attachments.GetAsync(r => r.QueryParameters.Select = new[] { "id" }, c), 0, ct).ConfigureAwait(false);
            return (attachments?.Value?.Count ?? 0) >= expected;
        }

        private async Task DeleteQuietlyAsync(string mailbox, string userId, string messageId)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
                await CallAsync(mailbox, "removing the incomplete message", async c =>
                {
                    await _client.Users[userId].Messages[messageId].DeleteAsync(cancellationToken: c).ConfigureAwait(false);
                    return true;
                }, 0, cts.Token).ConfigureAwait(false);
            }
            catch (Exception) { /* best effort: the delivery fails anyway, and is retried by a later run */ }
        }

        // ---- Test-ChatterConnector ----

        /// <summary>One finding of <see cref="CheckAccess"/>.</summary>
        public sealed class AccessCheck
        {
            public AccessCheck(string check, bool succeeded, string message) { Check = check; Succeeded = succeeded; Message = message; }
            public string Check { get; }
            public bool Succeeded { get; }
            public string Message { get; }
        }

        /// <summary>
        /// Signs in, reads one user (User.Read.All) and, when <paramref name="mailbox"/> is given,
        /// opens that mailbox (Mail.ReadWrite, and any access policy), saying what to grant. Creates nothing.
        /// </summary>
        public IEnumerable<AccessCheck> CheckAccess(string? mailbox, CancellationToken ct)
        {
            AccessCheck signIn;
            try
            {
                CallAsync("", "reading users", c => _client.Users.GetAsync(r => { r.QueryParameters.Top = 1; r.QueryParameters.Select = new[] { "id" }; }, c), 0, ct)
                    .GetAwaiter().GetResult();
                signIn = new AccessCheck("Microsoft Graph sign-in", true, $"Signed in to {_graph.GetLeftPart(UriPartial.Authority)}; the app can read users (User.Read.All).");
            }
            catch (ChatterException ex)
            {
                var grant = ex.ErrorId == "ChatterTarget.PermissionMissing" ? " Grant the application permission User.Read.All, with admin consent." : "";
                signIn = new AccessCheck("Microsoft Graph sign-in", false, ex.ErrorId + ": " + ex.Message + grant);
            }
            yield return signIn;
            if (!signIn.Succeeded) yield break;
            if (string.IsNullOrWhiteSpace(mailbox))
            {
                yield return new AccessCheck("Microsoft Graph mailbox", true, "No mailbox was checked: give -Mailbox (or set a default mailbox) to check that the app may write to one.");
                yield break;
            }
            AccessCheck result;
            try
            {
                var info = ResolveAsync(mailbox!, ct).GetAwaiter().GetResult();
                result = info.Problem == null
                    ? new AccessCheck("Microsoft Graph mailbox", true, $"The app can open {mailbox} (Mail.ReadWrite).")
                    : new AccessCheck("Microsoft Graph mailbox", false, $"{info.ErrorId}: {mailbox}: {info.Problem}." +
                        (info.ErrorId == "ChatterTarget.AccessDenied" ? " Grant Mail.ReadWrite and include the mailbox in the app's access policy or management scope." : ""));
            }
            catch (ChatterException ex)
            {
                result = new AccessCheck("Microsoft Graph mailbox", false, ex.ErrorId + ": " + ex.Message);
            }
            yield return result;
        }

        // ---- Users and the folder, cached for the target's life ----

        internal sealed class MailboxInfo
        {
            public string? UserId;
            public string? Problem;
            public string? ErrorId;
            public ChatterErrorKind Kind;
        }

        private async Task<MailboxInfo> ResolveAsync(string mailbox, CancellationToken ct)
        {
            if (string.IsNullOrWhiteSpace(mailbox))
                throw new ChatterException("ChatterTarget.InvalidMailbox", ChatterErrorKind.InvalidArgument, "A mailbox address is required.", mailbox);
            var key = mailbox.Trim();
            var lazy = _mailboxes.GetOrAdd(key, k => new Lazy<Task<MailboxInfo>>(() => LookUpAsync(k, ct)));
            try { return await lazy.Value.ConfigureAwait(false); }
            catch
            {
                ((ICollection<KeyValuePair<string, Lazy<Task<MailboxInfo>>>>)_mailboxes).Remove(new KeyValuePair<string, Lazy<Task<MailboxInfo>>>(key, lazy));
                throw;
            }
        }

        private async Task<MailboxInfo> LookUpAsync(string address, CancellationToken ct)
        {
            var q = Quote(address);
            var users = await CallAsync(address, "looking up the user", c => _client.Users.GetAsync(r =>
            {
                r.QueryParameters.Filter = "mail eq '" + q + "' or proxyAddresses/any(p:p eq 'smtp:" + q + "')";
                r.QueryParameters.Select = new[] { "id", "mail", "userPrincipalName" };
            }, c), 0, ct).ConfigureAwait(false);
            var list = users?.Value?.Where(u => !string.IsNullOrEmpty(u.Id)).ToList() ?? new List<User>();
            if (list.Count == 0)
                return new MailboxInfo { Problem = "no Microsoft 365 user has that address", ErrorId = "ChatterTarget.MailboxNotFound", Kind = ChatterErrorKind.ObjectNotFound };
            var user = list.FirstOrDefault(u => string.Equals(u.Mail, address, StringComparison.OrdinalIgnoreCase)) ?? list[0];
            // Looking for the folder proves the app can open the mailbox, and spares the first delivery that request.
            string? folder;
            try
            {
                folder = await FindFolderAsync(address, user.Id!, ct).ConfigureAwait(false);
            }
            catch (ChatterException e) when (e.ErrorId == "ChatterTarget.MailboxNotEnabled" || e.ErrorId == "ChatterTarget.MailboxNotFound")
            {
                return new MailboxInfo { Problem = "the user has no Exchange Online mailbox", ErrorId = "ChatterTarget.MailboxNotEnabled", Kind = ChatterErrorKind.ObjectNotFound };
            }
            catch (ChatterException e) when (e.ErrorId == "ChatterTarget.AccessDenied")
            {
                return new MailboxInfo
                {
                    Problem = "the app may not open this mailbox (the account is disabled, an application access policy excludes it, or the app lacks Mail.ReadWrite)",
                    ErrorId = e.ErrorId, Kind = e.Kind,
                };
            }
            var userId = user.Id!;
            _folders.TryAdd(userId, new Lazy<Task<string>>(() => folder != null ? Task.FromResult(folder) : CreateFolderAsync(address, userId, ct)));
            return new MailboxInfo { UserId = userId };
        }

        private async Task<string> EnsureFolderAsync(string mailbox, string userId, CancellationToken ct)
        {
            var lazy = _folders.GetOrAdd(userId, k => new Lazy<Task<string>>(() => FindOrCreateFolderAsync(mailbox, k, ct)));
            try { return await lazy.Value.ConfigureAwait(false); }
            catch
            {
                ((ICollection<KeyValuePair<string, Lazy<Task<string>>>>)_folders).Remove(new KeyValuePair<string, Lazy<Task<string>>>(userId, lazy));
                throw;
            }
        }

        private void ForgetFolder(string userId) => _folders.TryRemove(userId, out _);

        private async Task<string> FindOrCreateFolderAsync(string mailbox, string userId, CancellationToken ct) =>
            await FindFolderAsync(mailbox, userId, ct).ConfigureAwait(false) ?? await CreateFolderAsync(mailbox, userId, ct).ConfigureAwait(false);

        private async Task<string> CreateFolderAsync(string mailbox, string userId, CancellationToken ct)
        {
            try
            {
                var created = await CallAsync(mailbox, "creating the folder", c =>
                    _client.Users[userId].MailFolders["inbox"].ChildFolders.PostAsync(new MailFolder { DisplayName = _folderName }, cancellationToken: c), 0, ct).ConfigureAwait(false);
                if (!string.IsNullOrEmpty(created?.Id)) return created!.Id!;
            }
            catch (ChatterException e) when (e.ErrorId == "ChatterTarget.FolderExists")
            {
                // Another worker or process made it first.
            }
            return await FindFolderAsync(mailbox, userId, ct).ConfigureAwait(false)
                ?? throw new ChatterException("ChatterTarget.FolderUnavailable", ChatterErrorKind.ResourceUnavailable,
                    $"The folder Inbox/{_folderName} in '{mailbox}' could neither be found nor created.", mailbox);
        }

        private async Task<string?> FindFolderAsync(string mailbox, string userId, CancellationToken ct)
        {
            var folders = await CallAsync(mailbox, "looking for the folder", c =>
                _client.Users[userId].MailFolders["inbox"].ChildFolders.GetAsync(r =>
                {
                    r.QueryParameters.Filter = "displayName eq '" + Quote(_folderName) + "'";
                    r.QueryParameters.Select = new[] { "id", "displayName" };
                }, c), 0, ct).ConfigureAwait(false);
            var list = folders?.Value?.Where(f => !string.IsNullOrEmpty(f.Id)).ToList() ?? new List<MailFolder>();
            return (list.FirstOrDefault(f => string.Equals(f.DisplayName, _folderName, StringComparison.OrdinalIgnoreCase)) ?? list.FirstOrDefault())?.Id;
        }

        // ---- One request: the mailbox's gate, retries, errors ----

        internal MailboxGate Gate(string mailbox) =>
            _gates.GetOrAdd(mailbox.Trim(), _ => new MailboxGate(Math.Max(1, _options.MaxConcurrentPerMailbox), _options.UploadBytesPerWindow, _options.UploadWindow,
                released: _batcher == null ? null : (Action)_batcher.Pump));

        private async Task<T> CallAsync<T>(string mailbox, string what, Func<CancellationToken, Task<T>> call, long uploadBytes, CancellationToken ct)
        {
            var gate = Gate(mailbox);
            for (int attempt = 0; ; attempt++)
            {
                try
                {
                    return await gate.RunAsync(call, uploadBytes, ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (!(ex is ChatterException) && !ct.IsCancellationRequested)
                {
                    var failure = GraphFailure.From(ex, DateTimeOffset.UtcNow);
                    if (failure == null) throw MapOther(ex, mailbox, what);
                    var f = failure.Value;
                    if (!f.IsTransient) throw Map(f, mailbox, what, ex);
                    if (attempt >= _options.MaxRetries)
                        throw new ChatterException("ChatterTarget.Unavailable", ChatterErrorKind.ResourceUnavailable,
                            $"Microsoft Graph stayed unavailable while {what} for '{mailbox}' ({Describe(f)}) after {attempt + 1} attempts. The delivery is tried again in the next run.",
                            mailbox, ex);
                    var wait = f.RetryAfter ?? Backoff(attempt);
                    if (f.IsThrottled) gate.Throttled(wait); // every request to this mailbox waits, no other mailbox does
                    else await Task.Delay(wait, ct).ConfigureAwait(false);
                }
            }
        }

        internal TimeSpan Backoff(int attempt)
        {
            double factor;
            lock (_randomLock) factor = 0.5 + _random.NextDouble();
            double ms = _options.BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 20)) * factor;
            return TimeSpan.FromMilliseconds(Math.Min(ms, _options.MaxDelay.TotalMilliseconds));
        }

        private static int StatusOf(ChatterException e) =>
            e.InnerException != null && GraphFailure.From(e.InnerException, DateTimeOffset.UtcNow) is GraphFailure f ? f.Status : 0;

        private static string Describe(GraphFailure f)
        {
            if (f.Connection) return "no response: " + f.Message;
            var s = f.Status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!string.IsNullOrEmpty(f.Code)) s += " " + f.Code;
            if (!string.IsNullOrEmpty(f.Message)) s += ": " + f.Message;
            return s;
        }

        internal static ChatterException Map(GraphFailure f, string mailbox, string what, Exception inner)
        {
            string detail = Describe(f);
            string code = f.Code ?? "";
            if (f.Status == 401 || code == "InvalidAuthenticationToken")
                return new ChatterException("ChatterTarget.AuthFailed", ChatterErrorKind.AuthenticationError,
                    $"Microsoft Graph refused the app's access token while {what} ({detail}). Check the tenant, the app's credentials, and that the token has not expired.", mailbox, inner);
            if (f.Status == 403 && code == "Authorization_RequestDenied")
                return new ChatterException("ChatterTarget.PermissionMissing", ChatterErrorKind.AuthenticationError,
                    $"The app may not read users in Microsoft Entra ID ({detail}). Grant it the application permissions User.Read.All and Mail.ReadWrite, with admin consent.", mailbox, inner);
            if (code == "MailboxNotEnabledForRESTAPI")
                return new ChatterException("ChatterTarget.MailboxNotEnabled", ChatterErrorKind.ObjectNotFound,
                    $"'{mailbox}' has no Exchange Online mailbox ({detail}).", mailbox, inner);
            if (code == "ErrorInvalidUser" || code == "Request_ResourceNotFound" || code == "ErrorNonExistentMailbox")
                return new ChatterException("ChatterTarget.MailboxNotFound", ChatterErrorKind.ObjectNotFound,
                    $"No Microsoft 365 user or mailbox '{mailbox}' was found while {what} ({detail}).", mailbox, inner);
            if (code == "ErrorFolderExists")
                return new ChatterException("ChatterTarget.FolderExists", ChatterErrorKind.ResourceExists,
                    $"The folder already exists in '{mailbox}' ({detail}).", mailbox, inner);
            if (f.Status == 403 || code == "ErrorAccessDenied" || code == "ErrorAccountDisabled")
                return new ChatterException("ChatterTarget.AccessDenied", ChatterErrorKind.PermissionDenied,
                    $"Access to the mailbox '{mailbox}' was denied while {what} ({detail}). The account may be disabled, an application access policy may exclude it, or the app lacks Mail.ReadWrite.", mailbox, inner);
            if (f.Status == 413 || code == "ErrorMessageSizeExceeded")
                return new ChatterException("ChatterTarget.TooLarge", ChatterErrorKind.InvalidData,
                    $"The message is too large for '{mailbox}' ({detail}).", mailbox, inner);
            return new ChatterException("ChatterTarget.Rejected", ChatterErrorKind.InvalidData,
                $"Microsoft Graph refused {what} for '{mailbox}' ({detail}).", mailbox, inner);
        }

        private static Exception MapOther(Exception ex, string mailbox, string what)
        {
            // Azure.Identity's sign-in failures (no secret or token in their messages).
            if (ex is Azure.Identity.AuthenticationFailedException || ex is Azure.Identity.CredentialUnavailableException || ex is Azure.RequestFailedException)
                return new ChatterException("ChatterTarget.AuthFailed", ChatterErrorKind.AuthenticationError,
                    $"The app could not sign in to Microsoft Entra ID while {what}: {SignInFailure(ex)}", mailbox, ex);
            return ex;
        }

        private static readonly System.Text.RegularExpressions.Regex Aadsts =
            new System.Text.RegularExpressions.Regex(@"AADSTS\d+:.*?(?=\s+Trace ID:|\r|\n|$)", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

        /// <summary>
        /// Why Azure.Identity could not sign in: its own first line ("ClientSecretCredential authentication failed:") and
        /// the token service's answer, which MSAL keeps in an inner exception — the AADSTS code and text when there is one
        /// (AADSTS7000215 invalid secret, AADSTS700027 unknown certificate, AADSTS700016 unknown app, AADSTS90002 unknown
        /// tenant), else the innermost message. Neither holds a secret.
        /// </summary>
        internal static string SignInFailure(Exception ex)
        {
            string First(string m) => m.Split(new[] { '\r', '\n' }, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "";
            var head = First(ex.Message);
            string? reason = null;
            for (var e = ex.InnerException; e != null; e = e.InnerException)
            {
                var m = Aadsts.Match(e.Message);
                if (m.Success) { reason = m.Value.Trim(); break; }
                if (e.InnerException == null) reason = First(e.Message);
            }
            if (string.IsNullOrEmpty(reason) || head.IndexOf(reason!, StringComparison.Ordinal) >= 0) return head;
            return head + " " + reason;
        }

        internal static async Task<GraphHttpException> FailureOf(HttpResponseMessage response)
        {
            string? body = null;
            try { body = response.Content == null ? null : await response.Content.ReadAsStringAsync().ConfigureAwait(false); }
            catch (Exception e) when (e is IOException || e is HttpRequestException) { }
            var (code, message) = GraphHttpException.ParseError(body);
            return new GraphHttpException((int)response.StatusCode, code, message, RetryAfterHeader.From(response, DateTimeOffset.UtcNow));
        }

        /// <summary>A value inside single quotes of an OData $filter.</summary>
        internal static string Quote(string value) => value.Replace("'", "''");

        private void RaiseConnectionLimits()
        {
            // .NET Framework (Windows PowerShell 5.1) allows 2 connections per host unless told otherwise.
            // (The pipeline delivers through DeliverAsync, holding no thread while Graph answers, so the
            // thread pool is left as it is: more threads would only spin.)
            try { ServicePointManager.FindServicePoint(_graph).ConnectionLimit = Math.Max(MaxParallelism, 2); }
            catch (Exception) { }
        }
    }
}
