using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Kiota.Abstractions.Authentication;

namespace ChatterConnector.Engine.Targets.Graph
{
    /// <summary>
    /// Gathers JSON POSTs (message creates, of any mailbox) into Graph's JSON batches. A queued
    /// request waits without holding anything until its mailbox has a slot free (and no 429 or
    /// upload window holds it back); only then does it take the slot and join the batch being
    /// formed, so no slot is held by a request that is merely waiting its turn. A batch goes when
    /// <c>size</c> requests are in it, when one more would take its body over <c>maxBytes</c>, when
    /// the requests still queued all wait for their mailboxes (none could join it), or <c>delay</c>
    /// after its first joined. Each request learns its own answer (responses come in
    /// any order); a batch that fails as a whole (no answer, an error status) fails every request in
    /// it. The slot is given back once the request's answer is known. Retries and error mapping are
    /// the caller's: the batcher sends once and reports.
    /// </summary>
    internal sealed class GraphBatcher
    {
        /// <summary>One inner request: a POST of <see cref="Body"/> (JSON) to <see cref="Url"/> (relative to the version, e.g. /users/…).</summary>
        internal sealed class Item
        {
            public Item(string url, string body, MailboxGate gate, long uploadBytes, CancellationToken cancellationToken, Action<Outcome> done)
            {
                Url = url; Body = body; Gate = gate; UploadBytes = uploadBytes; CancellationToken = cancellationToken; Done = done;
            }

            public string Url { get; }
            public string Body { get; }
            /// <summary>The mailbox's limits: the request goes only with one of its slots.</summary>
            public MailboxGate Gate { get; }
            public long UploadBytes { get; }
            public CancellationToken CancellationToken { get; }

            /// <summary>Runs once, with the outcome, while the request still holds its slot (the caller notes a 429 here).</summary>
            public Action<Outcome> Done { get; }

            internal IDisposable? Slot;
            internal readonly TaskCompletionSource<Outcome> Result = new TaskCompletionSource<Outcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        /// <summary>What became of one inner request.</summary>
        internal sealed class Outcome
        {
            /// <summary>The inner status; of the whole batch when it failed as a whole; 0 when no answer came.</summary>
            public int Status;
            public string? Code;
            public string? Message;
            public TimeSpan? RetryAfter;
            /// <summary>The created item's id (a 2xx answer).</summary>
            public string? Id;
            /// <summary>Why the batch failed as a whole (a dropped connection, an error status, a failed sign-in), or why this request got no answer.</summary>
            public Exception? Error;
            /// <summary>The batch failed as a whole, or had no answer for this request: it may or may not have been carried out.</summary>
            public bool BatchFailed;
            /// <summary>Not sent: the caller had given up before the batch went.</summary>
            public bool Cancelled;
        }

        private readonly HttpClient _http;
        private readonly IAccessTokenProvider _tokens;
        private readonly Uri _url;
        private readonly int _size;
        private readonly TimeSpan _delay;
        private readonly long _maxBytes;
        private readonly object _lock = new object();
        /// <summary>Queued requests, oldest first, that have no slot yet.</summary>
        private readonly List<Item> _waiting = new List<Item>();
        /// <summary>The batch being formed: every request in it holds its slot.</summary>
        private List<Item> _forming;
        private long _formingBytes;
        private long _generation;
        private bool _pumping, _again;
        /// <summary>Batches whose answers are being handed out: their slots come back one by one, and the pump waits for all of them.</summary>
        private int _completing;
        private DateTimeOffset _wakeAt = DateTimeOffset.MaxValue;

        public GraphBatcher(HttpClient http, IAccessTokenProvider tokens, Uri batchUrl, int size, TimeSpan delay, long maxBytes = 3L * 1000 * 1000)
        {
            _maxBytes = maxBytes;
            _http = http; _tokens = tokens; _url = batchUrl;
            _size = Math.Max(1, Math.Min(size, 20));
            _delay = delay < TimeSpan.Zero ? TimeSpan.Zero : delay;
            _forming = new List<Item>(_size);
        }

        /// <summary>Queues a request; the task completes (never faults) when its answer is known.</summary>
        public Task<Outcome> Enqueue(Item item)
        {
            lock (_lock) _waiting.Add(item);
            Pump();
            return item.Result.Task;
        }

        /// <summary>
        /// Moves waiting requests whose mailbox can take them now into batches, oldest first; sends
        /// the full ones. Called when a request is queued, a slot is given back, a wait for time
        /// ends or a caller gives up. One thread pumps at a time; a call meanwhile makes it go round again.
        /// </summary>
        public void Pump()
        {
            lock (_lock)
            {
                if (_pumping || _completing > 0) { _again = true; return; }
                _pumping = true;
            }
            while (true)
            {
                List<List<Item>>? ready = null;
                List<Item>? dropped = null;
                long armGeneration = -1;
                DateTimeOffset? wake = null;
                lock (_lock)
                {
                    _again = false;
                    for (int i = 0; i < _waiting.Count;)
                    {
                        var item = _waiting[i];
                        if (item.CancellationToken.IsCancellationRequested)
                        {
                            _waiting.RemoveAt(i);
                            (dropped ??= new List<Item>()).Add(item);
                            continue;
                        }
                        var slot = item.Gate.TryEnter(item.UploadBytes, out var retryAt);
                        if (slot == null)
                        {
                            if (retryAt != null && (wake == null || retryAt < wake)) wake = retryAt;
                            i++;
                            continue;
                        }
                        _waiting.RemoveAt(i);
                        item.Slot = slot;
                        long bytes = item.Body.Length + item.Url.Length + 128; // characters: about the bytes of JSON that is mostly ASCII
                        if (_forming.Count > 0 && _formingBytes + bytes > _maxBytes)
                            (ready ??= new List<List<Item>>()).Add(TakeFormingLocked()); // too large together: this one starts the next batch
                        _forming.Add(item);
                        _formingBytes += bytes;
                        if (_forming.Count >= _size) (ready ??= new List<List<Item>>()).Add(TakeFormingLocked());
                        else if (_forming.Count == 1) armGeneration = _generation;
                    }
                    // Creates left waiting now wait for a slot (or a 429, the upload window): none of them can
                    // join, so the batch would only hold its slots idle through the delay. It goes now.
                    if (_waiting.Count > 0 && _forming.Count > 0) (ready ??= new List<List<Item>>()).Add(TakeFormingLocked());
                    if (armGeneration != _generation) armGeneration = -1; // that batch is full and gone already
                    if (wake != null && wake < _wakeAt) _wakeAt = wake.Value;
                    else wake = null;
                }
                if (dropped != null) foreach (var d in dropped) Complete(d, new Outcome { Cancelled = true });
                if (ready != null) foreach (var batch in ready) _ = SendAsync(batch);
                if (armGeneration >= 0) _ = FlushLaterAsync(armGeneration);
                if (wake != null) _ = WakeAsync(wake.Value);
                lock (_lock)
                {
                    if (!_again) { _pumping = false; return; }
                }
            }
        }

        private List<Item> TakeFormingLocked()
        {
            var take = _forming;
            _forming = new List<Item>(_size);
            _formingBytes = 0;
            _generation++;
            return take;
        }

        /// <summary>Pumps again when a 429 or the upload window lets a waiting request go.</summary>
        private async Task WakeAsync(DateTimeOffset at)
        {
            var wait = at - DateTimeOffset.UtcNow;
            if (wait > TimeSpan.Zero) await Task.Delay(wait).ConfigureAwait(false);
            lock (_lock) if (_wakeAt <= at) _wakeAt = DateTimeOffset.MaxValue;
            Pump();
        }

        private async Task FlushLaterAsync(long generation)
        {
            if (_delay > TimeSpan.Zero) await Task.Delay(_delay).ConfigureAwait(false);
            else await Task.Yield();
            List<Item>? take = null;
            lock (_lock)
            {
                if (_generation == generation && _forming.Count > 0) take = TakeFormingLocked();
            }
            if (take != null) await SendAsync(take).ConfigureAwait(false);
        }

        private static void Complete(Item item, Outcome outcome)
        {
            try { item.Done(outcome); }
            finally
            {
                item.Slot?.Dispose(); // the gate then pumps: a waiting create of this mailbox may go
                item.Result.TrySetResult(outcome);
            }
        }

        private async Task SendAsync(List<Item> queued)
        {
            var items = new List<Item>(queued.Count);
            foreach (var i in queued)
                if (i.CancellationToken.IsCancellationRequested) Complete(i, new Outcome { Cancelled = true });
                else items.Add(i);
            if (items.Count == 0) return;

            var answered = new Outcome?[items.Count];

            try
            {
                var json = new StringBuilder(256 + items.Count * 1024);
                json.Append("{\"requests\":[");
                for (int i = 0; i < items.Count; i++)
                {
                    if (i > 0) json.Append(',');
                    json.Append("{\"id\":\"").Append(i + 1).Append("\",\"method\":\"POST\",\"url\":\"")
                        .Append(JsonEncodedText.Encode(items[i].Url).Value)
                        .Append("\",\"headers\":{\"Content-Type\":\"application/json\"},\"body\":")
                        .Append(items[i].Body).Append('}');
                }
                json.Append("]}");

                using var request = new HttpRequestMessage(HttpMethod.Post, _url) { Content = new StringContent(json.ToString(), Encoding.UTF8, "application/json") };
                var token = await _tokens.GetAuthorizationTokenAsync(_url, null, CancellationToken.None).ConfigureAwait(false);
                if (!string.IsNullOrEmpty(token)) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, CancellationToken.None).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    var failure = await GraphTarget.FailureOf(response).ConfigureAwait(false);
                    for (int i = 0; i < items.Count; i++)
                        answered[i] = new Outcome { Status = failure.Status, Code = failure.Code, Message = failure.GraphMessage, RetryAfter = failure.RetryAfter, Error = failure, BatchFailed = true };
                }
                else
                {
                    var bytes = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
                    Read(bytes, answered);
                }
            }
            catch (Exception e)
            {
                for (int i = 0; i < items.Count; i++)
                    if (answered[i] == null) answered[i] = new Outcome { Error = e, BatchFailed = true };
            }
            // The slots come back together, and then one pump fills them: pumping at each one would
            // send a batch per slot, since the creates still waiting could not join it.
            lock (_lock) _completing++;
            try
            {
                for (int i = 0; i < items.Count; i++)
                    Complete(items[i], answered[i] ?? new Outcome
                    {
                        Error = new HttpRequestException("Microsoft Graph's batch response had no answer for this request."),
                        BatchFailed = true,
                    });
            }
            finally
            {
                lock (_lock) _completing--;
            }
            Pump(); // the slots given back may let waiting creates go (a gate also pumps when it has a callback)
        }

        /// <summary>Reads {"responses":[{"id","status","headers","body"}]} into <paramref name="answered"/> (by id, 1-based).</summary>
        private static void Read(byte[] bytes, Outcome?[] answered)
        {
            using var doc = JsonDocument.Parse(bytes);
            if (!doc.RootElement.TryGetProperty("responses", out var responses) || responses.ValueKind != JsonValueKind.Array) return;
            var now = DateTimeOffset.UtcNow;
            foreach (var r in responses.EnumerateArray())
            {
                if (r.ValueKind != JsonValueKind.Object || !r.TryGetProperty("id", out var idElement)) continue;
                var idText = idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : idElement.GetRawText();
                if (!int.TryParse(idText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index)
                    || index < 1 || index > answered.Length || answered[index - 1] != null) continue;
                var o = new Outcome();
                if (r.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.Number && status.TryGetInt32(out var s)) o.Status = s;
                if (r.TryGetProperty("headers", out var headers) && headers.ValueKind == JsonValueKind.Object)
                    foreach (var h in headers.EnumerateObject())
                        if (string.Equals(h.Name, "Retry-After", StringComparison.OrdinalIgnoreCase))
                            o.RetryAfter = RetryAfterHeader.Parse(h.Value.ValueKind == JsonValueKind.String ? h.Value.GetString() : h.Value.GetRawText(), now);
                if (r.TryGetProperty("body", out var body) && body.ValueKind == JsonValueKind.Object)
                {
                    if (o.Status >= 200 && o.Status < 300)
                    {
                        if (body.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String) o.Id = id.GetString();
                    }
                    else if (body.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object)
                    {
                        if (e.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String) o.Code = c.GetString();
                        if (e.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String) o.Message = m.GetString();
                    }
                }
                if (o.Status == 0)
                {
                    o.Error = new HttpRequestException("Microsoft Graph's batch response had no status for this request.");
                    o.BatchFailed = true;
                }
                answered[index - 1] = o;
            }
        }
    }
}
