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
    /// Gathers JSON POSTs (message creates, of any mailbox) into Graph's JSON batches: a batch goes
    /// when <c>size</c> requests are queued, when one more would take its body over <c>maxBytes</c>,
    /// or <c>delay</c> after the first was queued. Each request
    /// learns its own answer (responses come in any order); a batch that fails as a whole (no answer,
    /// an error status) fails every request in it. Retries, mailbox gates and error mapping are the
    /// caller's: the batcher sends once and reports.
    /// </summary>
    internal sealed class GraphBatcher
    {
        /// <summary>One inner request: a POST of <see cref="Body"/> (JSON) to <see cref="Url"/> (relative to the version, e.g. /users/…).</summary>
        internal sealed class Item
        {
            public Item(string url, string body, CancellationToken cancellationToken, Action<Outcome> done)
            {
                Url = url; Body = body; CancellationToken = cancellationToken; Done = done;
            }

            public string Url { get; }
            public string Body { get; }
            public CancellationToken CancellationToken { get; }

            /// <summary>Runs once, with the outcome, before <see cref="Result"/> completes (the caller releases its mailbox slot here).</summary>
            public Action<Outcome> Done { get; }

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
        private long _pendingBytes;
        private readonly object _lock = new object();
        private List<Item> _pending;
        private long _generation;

        public GraphBatcher(HttpClient http, IAccessTokenProvider tokens, Uri batchUrl, int size, TimeSpan delay, long maxBytes = 3L * 1000 * 1000)
        {
            _maxBytes = maxBytes;
            _http = http; _tokens = tokens; _url = batchUrl;
            _size = Math.Max(1, Math.Min(size, 20));
            _delay = delay < TimeSpan.Zero ? TimeSpan.Zero : delay;
            _pending = new List<Item>(_size);
        }

        /// <summary>Queues a request; the task completes (never faults) when its answer is known.</summary>
        public Task<Outcome> Enqueue(Item item)
        {
            List<Item>? full = null, before = null;
            long generation = 0;
            bool arm = false;
            long bytes = item.Body.Length + item.Url.Length + 128; // characters: about the bytes of JSON that is mostly ASCII
            lock (_lock)
            {
                if (_pending.Count > 0 && _pendingBytes + bytes > _maxBytes)
                {
                    // Too large together: what is queued goes now, this one starts the next batch.
                    before = _pending;
                    _pending = new List<Item>(_size);
                    _pendingBytes = 0;
                    _generation++;
                }
                _pending.Add(item);
                _pendingBytes += bytes;
                if (_pending.Count >= _size)
                {
                    full = _pending;
                    _pending = new List<Item>(_size);
                    _pendingBytes = 0;
                    _generation++;
                }
                else if (_pending.Count == 1)
                {
                    arm = true;
                    generation = _generation;
                }
            }
            if (before != null) _ = SendAsync(before);
            if (full != null) _ = SendAsync(full);
            else if (arm) _ = FlushLaterAsync(generation);
            return item.Result.Task;
        }

        private async Task FlushLaterAsync(long generation)
        {
            if (_delay > TimeSpan.Zero) await Task.Delay(_delay).ConfigureAwait(false);
            else await Task.Yield();
            List<Item>? take = null;
            lock (_lock)
            {
                if (_generation == generation && _pending.Count > 0)
                {
                    take = _pending;
                    _pending = new List<Item>(_size);
                    _pendingBytes = 0;
                    _generation++;
                }
            }
            if (take != null) await SendAsync(take).ConfigureAwait(false);
        }

        private static void Complete(Item item, Outcome outcome)
        {
            try { item.Done(outcome); }
            finally { item.Result.TrySetResult(outcome); }
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
            for (int i = 0; i < items.Count; i++)
                Complete(items[i], answered[i] ?? new Outcome
                {
                    Error = new HttpRequestException("Microsoft Graph's batch response had no answer for this request."),
                    BatchFailed = true,
                });
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
