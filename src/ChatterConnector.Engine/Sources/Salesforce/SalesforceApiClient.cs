using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.State;
using Polly;
using Polly.Retry;

namespace ChatterConnector.Engine.Sources.Salesforce
{
    /// <summary>Retries and timeouts of <see cref="SalesforceApiClient"/>.</summary>
    public sealed class SalesforceClientOptions
    {
        /// <summary>Retries of a request that failed for a passing reason (503, 500/502/504, a dropped connection, a timeout).</summary>
        public int MaxRetries = 5;
        /// <summary>The first retry's delay; it doubles on each retry, with jitter.</summary>
        public TimeSpan BaseDelay = TimeSpan.FromSeconds(1);
        /// <summary>How long a request may wait for an answer (and a download for more bytes).</summary>
        public TimeSpan Timeout = TimeSpan.FromMinutes(5);
    }

    /// <summary>
    /// The Salesforce REST API calls the connector makes: SOQL queryAll with paging, and file bytes
    /// of ContentVersion. Signs in lazily, signs in again once on 401, retries passing failures with
    /// Polly, watches Sforce-Limit-Info, and turns Salesforce errors into <see cref="ChatterException"/>s.
    /// </summary>
    public sealed class SalesforceApiClient : IDisposable
    {
        private static readonly Regex FromObject = new Regex(@"\bFROM\s+([A-Za-z0-9_]+)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        private static readonly Regex LimitInfo = new Regex(@"(?:^|[\s;,])api-usage\s*=\s*(\d+)\s*/\s*(\d+)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        private static readonly Regex SalesforceId = new Regex("^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$", RegexOptions.CultureInvariant);
        private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(2);

        private readonly SalesforceSettings _settings;
        private readonly SalesforceClientOptions _options;
        private readonly HttpClient _http;
        private readonly SalesforceAuthenticator _authenticator;
        private readonly ResiliencePipeline _pipeline;
        private SalesforceToken? _token;
        private int _apiCalls;

        public SalesforceApiClient(SalesforceSettings settings, SecretProtector secrets, SalesforceClientOptions? options = null)
        {
            _settings = settings ?? throw new ArgumentNullException(nameof(settings));
            if (secrets == null) throw new ArgumentNullException(nameof(secrets));
            _options = options ?? new SalesforceClientOptions();
            var handler = new HttpClientHandler { AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate };
            _http = new HttpClient(handler, disposeHandler: true) { Timeout = _options.Timeout > TimeSpan.Zero ? _options.Timeout : System.Threading.Timeout.InfiniteTimeSpan };
            _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("ChatterConnector", typeof(SalesforceApiClient).Assembly.GetName().Version?.ToString(3) ?? "0"));
            _authenticator = new SalesforceAuthenticator(settings, secrets, _http);
            _pipeline = BuildPipeline(_options);
        }

        /// <summary>REST calls made, retries included (token requests are not counted).</summary>
        public int ApiCalls => Volatile.Read(ref _apiCalls);
        /// <summary>The org's API calls used in the last 24 hours, from the last Sforce-Limit-Info header.</summary>
        public long? ApiUsed { get; private set; }
        /// <summary>The org's daily API call limit, from the last Sforce-Limit-Info header.</summary>
        public long? ApiMax { get; private set; }
        /// <summary>The org's instance once signed in.</summary>
        public string? InstanceUrl => _token?.InstanceUrl;

        private string DataPath => "/services/data/v" + (string.IsNullOrWhiteSpace(_settings.ApiVersion) ? SalesforceSettings.DefaultApiVersion : _settings.ApiVersion.Trim().TrimStart('v', 'V'));

        // --- Queries

        /// <summary>
        /// Runs a SOQL query (queryAll, so deleted rows too, unless <paramref name="includeDeleted"/> is false)
        /// and yields its rows page by page, each field as a Salesforce data export writes it.
        /// </summary>
        public IEnumerable<IReadOnlyDictionary<string, string>> QueryAll(string soql, CancellationToken ct, bool includeDeleted = true)
        {
            if (string.IsNullOrWhiteSpace(soql)) throw new ArgumentException("A SOQL query is required.", nameof(soql));
            return Query(soql, includeDeleted, ct);
        }

        private IEnumerable<IReadOnlyDictionary<string, string>> Query(string soql, bool includeDeleted, CancellationToken ct)
        {
            var target = ObjectOf(soql);
            string? next = DataPath + (includeDeleted ? "/queryAll" : "/query") + "?q=" + Uri.EscapeDataString(soql);
            var batch = Math.Max(200, Math.Min(2000, _settings.BatchSize <= 0 ? 2000 : _settings.BatchSize));
            while (next != null)
            {
                ct.ThrowIfCancellationRequested();
                var url = next;
                var page = Send(
                    url,
                    HttpCompletionOption.ResponseContentRead,
                    request =>
                    {
                        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                        request.Headers.TryAddWithoutValidation("Sforce-Query-Options", "batchSize=" + batch.ToString(CultureInfo.InvariantCulture));
                    },
                    (response, token) =>
                    {
                        using var stream = response.Content.ReadAsStreamAsync().GetAwaiter().GetResult();
                        return ParsePage(stream, target);
                    },
                    target, ct);
                foreach (var record in page.Records) yield return record;
                next = page.Done ? null : page.NextRecordsUrl;
                if (!page.Done && next == null)
                    throw new ChatterException("ChatterSource.QueryFailed", ChatterErrorKind.InvalidData,
                        $"Salesforce said the query on {target} was not done but gave no nextRecordsUrl.", target);
            }
        }

        internal sealed class QueryPage
        {
            public List<IReadOnlyDictionary<string, string>> Records { get; } = new List<IReadOnlyDictionary<string, string>>();
            public bool Done { get; set; } = true;
            public string? NextRecordsUrl { get; set; }
        }

        /// <summary>One page of a query response: its records as export-style strings, done and nextRecordsUrl.</summary>
        internal static QueryPage ParsePage(Stream json, string target)
        {
            JsonDocument doc;
            try { doc = JsonDocument.Parse(json); }
            catch (JsonException e)
            {
                throw new ChatterException("ChatterSource.QueryFailed", ChatterErrorKind.InvalidData,
                    $"Salesforce answered the query on {target} with something that is not JSON: {e.Message}", target, e);
            }
            using (doc)
            {
                var page = new QueryPage();
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("records", out var records) || records.ValueKind != JsonValueKind.Array)
                    throw new ChatterException("ChatterSource.QueryFailed", ChatterErrorKind.InvalidData,
                        $"Salesforce answered the query on {target} without a records array.", target);
                if (root.TryGetProperty("done", out var done) && (done.ValueKind == JsonValueKind.False || done.ValueKind == JsonValueKind.True))
                    page.Done = done.GetBoolean();
                if (root.TryGetProperty("nextRecordsUrl", out var next) && next.ValueKind == JsonValueKind.String)
                    page.NextRecordsUrl = next.GetString();
                foreach (var record in records.EnumerateArray())
                {
                    if (record.ValueKind != JsonValueKind.Object) continue;
                    var row = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                    AddFields(row, "", record);
                    page.Records.Add(row);
                }
                return page;
            }
        }

        private static void AddFields(Dictionary<string, string> row, string prefix, JsonElement record)
        {
            foreach (var field in record.EnumerateObject())
            {
                if (field.NameEquals("attributes")) continue;
                var name = prefix + field.Name;
                // A parent relationship (CreatedBy.Name) becomes dotted columns, as in a data export.
                if (field.Value.ValueKind == JsonValueKind.Object && !field.Value.TryGetProperty("records", out _))
                    AddFields(row, name + ".", field.Value);
                else
                    row[name] = ExportString(field.Value);
            }
        }

        /// <summary>A JSON value as a Salesforce data export writes it: strings as they are, true/false, invariant numbers, null as empty.</summary>
        internal static string ExportString(JsonElement value)
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.String: return value.GetString() ?? "";
                case JsonValueKind.True: return "true";
                case JsonValueKind.False: return "false";
                case JsonValueKind.Null:
                case JsonValueKind.Undefined: return "";
                case JsonValueKind.Number:
                    var raw = value.GetRawText();
                    if (raw.IndexOfAny(new[] { 'e', 'E' }) < 0) return raw;
                    return value.TryGetDecimal(out var d) ? d.ToString(CultureInfo.InvariantCulture) : value.GetDouble().ToString("R", CultureInfo.InvariantCulture);
                default: return value.GetRawText(); // subquery results or other structures, kept as JSON
            }
        }

        internal static string ObjectOf(string soql)
        {
            var m = FromObject.Match(soql);
            return m.Success ? m.Groups[1].Value : "query";
        }

        // --- Files

        /// <summary>Streams the bytes of ContentVersion <paramref name="contentVersionId"/> into <paramref name="destination"/> without holding them in memory.</summary>
        public void DownloadVersionData(string contentVersionId, Stream destination, CancellationToken ct)
        {
            if (contentVersionId == null || !SalesforceId.IsMatch(contentVersionId))
                throw new ChatterException("ChatterSource.InvalidId", ChatterErrorKind.InvalidArgument,
                    $"'{contentVersionId}' is not a Salesforce record id.", contentVersionId);
            if (destination == null) throw new ArgumentNullException(nameof(destination));
            long start = destination.CanSeek ? destination.Position : -1;
            bool wrote = false;
            Send(
                DataPath + "/sobjects/ContentVersion/" + contentVersionId + "/VersionData",
                HttpCompletionOption.ResponseHeadersRead,
                request => request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("*/*")),
                (response, token) =>
                {
                    if (wrote)
                    {
                        if (start < 0)
                            throw new ChatterException("ChatterSource.Unavailable", ChatterErrorKind.ResourceUnavailable,
                                $"The download of ContentVersion {contentVersionId} broke off and cannot be restarted into this stream.", contentVersionId);
                        destination.SetLength(start);
                        destination.Position = start;
                    }
                    using var body = response.Content.ReadAsStreamAsync().GetAwaiter().GetResult();
                    var buffer = new byte[81920];
                    while (true)
                    {
                        int n;
                        using (var idle = CancellationTokenSource.CreateLinkedTokenSource(token))
                        {
                            if (_options.Timeout > TimeSpan.Zero) idle.CancelAfter(_options.Timeout);
                            try { n = body.ReadAsync(buffer, 0, buffer.Length, idle.Token).GetAwaiter().GetResult(); }
                            catch (OperationCanceledException) when (!token.IsCancellationRequested)
                            {
                                throw new TimeoutException($"No bytes of ContentVersion {contentVersionId} arrived for {_options.Timeout}.");
                            }
                        }
                        if (n == 0) break;
                        destination.Write(buffer, 0, n);
                        wrote = true;
                    }
                    return true;
                },
                "ContentVersion", ct, notFoundId: contentVersionId);
        }

        // --- Limits

        /// <summary>Throws ChatterSource.ApiLimitReached once the org's API usage reaches MaxApiUsagePercent of its limit.</summary>
        public void CheckUsage()
        {
            var percent = _settings.MaxApiUsagePercent;
            if (percent <= 0 || ApiUsed is not long used || ApiMax is not long max || max <= 0) return;
            if (used * 100 >= max * percent)
                throw new ChatterException("ChatterSource.ApiLimitReached", ChatterErrorKind.ResourceUnavailable,
                    $"The org has used {used} of its {max} daily API calls ({used * 100 / max}%), which reaches the connector's limit of {percent}% (-MaxApiUsagePercent). The run stops here and goes on from its checkpoint next time.",
                    InstanceUrl);
        }

        /// <summary>Reads "api-usage=18/5000" out of a Sforce-Limit-Info header value.</summary>
        internal static bool TryParseLimitInfo(string? header, out long used, out long max)
        {
            used = max = 0;
            if (string.IsNullOrEmpty(header)) return false;
            var m = LimitInfo.Match(header);
            return m.Success
                && long.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out used)
                && long.TryParse(m.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out max);
        }

        private void ReadLimitInfo(HttpResponseMessage response)
        {
            if (!response.Headers.TryGetValues("Sforce-Limit-Info", out var values)) return;
            foreach (var value in values)
                if (TryParseLimitInfo(value, out var used, out var max))
                {
                    ApiUsed = used;
                    ApiMax = max;
                    return;
                }
        }

        // --- Sending

        /// <summary>A failure worth another try: a 5xx answer, or the token endpoint being unavailable.</summary>
        private sealed class TransientException : Exception
        {
            public TransientException(string message, HttpStatusCode? status, TimeSpan? retryAfter, ChatterException? tokenFailure = null)
                : base(message, tokenFailure)
            {
                Status = status;
                RetryAfter = retryAfter;
                TokenFailure = tokenFailure;
            }

            public HttpStatusCode? Status { get; }
            public TimeSpan? RetryAfter { get; }
            public ChatterException? TokenFailure { get; }
        }

        private static ResiliencePipeline BuildPipeline(SalesforceClientOptions options)
        {
            if (options.MaxRetries <= 0) return ResiliencePipeline.Empty;
            var baseDelay = options.BaseDelay < TimeSpan.Zero ? TimeSpan.Zero : options.BaseDelay;
            return new ResiliencePipelineBuilder()
                .AddRetry(new RetryStrategyOptions
                {
                    MaxRetryAttempts = options.MaxRetries,
                    Delay = baseDelay,
                    MaxDelay = baseDelay > MaxRetryAfter ? baseDelay : MaxRetryAfter,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    ShouldHandle = new PredicateBuilder()
                        .Handle<TransientException>()
                        .Handle<HttpRequestException>()
                        .Handle<IOException>()
                        .Handle<TimeoutException>(),
                    DelayGenerator = args =>
                        new ValueTask<TimeSpan?>(args.Outcome.Exception is TransientException { RetryAfter: TimeSpan after }
                            ? (after > MaxRetryAfter ? MaxRetryAfter : after)
                            : (TimeSpan?)null),
                })
                .Build();
        }

        private SalesforceToken EnsureToken(CancellationToken ct)
        {
            var token = _token;
            if (token != null) return token;
            try { token = _authenticator.GetToken(ct); }
            catch (ChatterException e) when (e.ErrorId == "ChatterSource.Unavailable")
            {
                throw new TransientException(e.Message, null, null, e);
            }
            return _token = token;
        }

        /// <summary>
        /// Sends a GET to <paramref name="url"/> (relative to the instance) with the retry pipeline;
        /// on success hands the response to <paramref name="read"/> inside the pipeline, so a connection
        /// dropped while reading is retried too. Maps Salesforce errors to ChatterExceptions.
        /// </summary>
        private T Send<T>(string url, HttpCompletionOption completion, Action<HttpRequestMessage> configure,
            Func<HttpResponseMessage, CancellationToken, T> read, string target, CancellationToken ct, string? notFoundId = null)
        {
            for (int attempt = 0; ; attempt++)
            {
                bool unauthorized = false;
                (string? Code, string? Message) unauthorizedError = default;
                T result;
                try
                {
                    result = _pipeline.Execute(token =>
                    {
                        var session = EnsureToken(token);
                        var absolute = Resolve(session.InstanceUrl, url, target);
                        using var request = new HttpRequestMessage(HttpMethod.Get, absolute);
                        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", session.AccessToken);
                        configure(request);
                        HttpResponseMessage response;
                        try { response = _http.SendAsync(request, completion, token).GetAwaiter().GetResult(); }
                        catch (OperationCanceledException e) when (!token.IsCancellationRequested)
                        {
                            throw new TimeoutException($"Salesforce did not answer within {_options.Timeout}.", e);
                        }
                        finally { Interlocked.Increment(ref _apiCalls); }

                        using (response)
                        {
                            ReadLimitInfo(response);
                            var status = (int)response.StatusCode;
                            if (response.IsSuccessStatusCode)
                            {
                                CheckUsage();
                                return read(response, token);
                            }
                            if (status == 503 || status == 500 || status == 502 || status == 504 || status == 429)
                                throw new TransientException($"HTTP {status} {response.ReasonPhrase}", response.StatusCode, RetryAfterOf(response));
                            var error = ParseError(ReadBody(response));
                            if (status == 401)
                            {
                                unauthorized = true;
                                unauthorizedError = error;
                                return default!;
                            }
                            throw MapError(status, error.Code, error.Message, target, notFoundId);
                        }
                    }, ct);
                }
                catch (TransientException e)
                {
                    throw (Exception?)e.TokenFailure ?? Unavailable(e.Message, target, e);
                }
                catch (Exception e) when (e is HttpRequestException || e is IOException || e is TimeoutException)
                {
                    throw Unavailable(e.GetBaseException().Message, target, e);
                }

                if (!unauthorized) return result;
                _token = null;
                if (attempt == 0 && _settings.AuthFlow != SalesforceAuthFlow.AccessToken) continue;
                var detail = (unauthorizedError.Code ?? "HTTP 401") + (unauthorizedError.Message == null ? "" : ": " + unauthorizedError.Message);
                throw new ChatterException("ChatterSource.AuthFailed", ChatterErrorKind.AuthenticationError,
                    _settings.AuthFlow == SalesforceAuthFlow.AccessToken
                        ? $"Salesforce refused the connector's access token ({detail}). It has expired or was revoked: set a new -SalesforceAccessToken, or use a flow that can sign in again."
                        : $"Salesforce refused the connector's session even after signing in again ({detail}). Check the integration user's access to the API.",
                    target);
            }
        }

        private ChatterException Unavailable(string why, string target, Exception inner) =>
            new ChatterException("ChatterSource.Unavailable", ChatterErrorKind.ResourceUnavailable,
                $"Salesforce is unavailable ({why}) after {Math.Max(0, _options.MaxRetries)} retries; the run stops here and goes on from its checkpoint next time.",
                target, inner);

        private static ChatterException MapError(int status, string? code, string? message, string target, string? notFoundId)
        {
            var detail = (code ?? "HTTP " + status) + (string.IsNullOrEmpty(message) ? "" : ": " + message);
            switch (code)
            {
                case "REQUEST_LIMIT_EXCEEDED":
                    return new ChatterException("ChatterSource.ApiLimitReached", ChatterErrorKind.ResourceUnavailable,
                        $"The org has reached its API request limit ({detail}). The run stops here and goes on from its checkpoint next time.", target);
                case "INSUFFICIENT_ACCESS":
                case "INSUFFICIENT_ACCESS_OR_READONLY":
                case "INSUFFICIENT_PRIVILEGES":
                    return new ChatterException("ChatterSource.InsufficientAccess", ChatterErrorKind.PermissionDenied,
                        $"The Salesforce integration user may not read {target} ({detail}). Give it the permissions the connector's permission set lists.", target);
                case "API_DISABLED_FOR_ORG":
                case "API_CURRENTLY_DISABLED":
                    return new ChatterException("ChatterSource.ApiDisabled", ChatterErrorKind.PermissionDenied,
                        $"The REST API is not available to this org or user ({detail}). The org's edition must include API access and the user needs the API Enabled permission.", target);
                case "MALFORMED_QUERY":
                case "INVALID_FIELD":
                case "INVALID_TYPE":
                case "INVALID_QUERY_FILTER_OPERATOR":
                case "INVALID_QUERY_LOCATOR":
                    return new ChatterException("ChatterSource.QueryFailed", ChatterErrorKind.InvalidArgument,
                        $"Salesforce rejected the query on {target} ({detail}).", target);
            }
            if (status == 404 && notFoundId != null)
                return new ChatterException("ChatterSource.FileNotFound", ChatterErrorKind.ObjectNotFound,
                    $"Salesforce has no file bytes for ContentVersion {notFoundId} ({detail}).", notFoundId);
            if (status == 403)
                return new ChatterException("ChatterSource.InsufficientAccess", ChatterErrorKind.PermissionDenied,
                    $"Salesforce refused to give {target} to the integration user ({detail}).", target);
            return new ChatterException("ChatterSource.RequestFailed", ChatterErrorKind.ReadError,
                $"Salesforce failed a request on {target} with HTTP {status} ({detail})." + (status == 404 ? " Check -SalesforceApiVersion." : ""), target);
        }

        /// <summary>The errorCode and message of a REST error body: [{"message","errorCode"}], or an OAuth {"error","error_description"}.</summary>
        internal static (string? Code, string? Message) ParseError(string body)
        {
            if (string.IsNullOrWhiteSpace(body)) return (null, null);
            try
            {
                using var doc = JsonDocument.Parse(body);
                var e = doc.RootElement;
                if (e.ValueKind == JsonValueKind.Array)
                {
                    if (e.GetArrayLength() == 0) return (null, null);
                    e = e[0];
                }
                if (e.ValueKind != JsonValueKind.Object) return (null, null);
                string? Get(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                var code = Get("errorCode") ?? Get("error");
                var message = Get("message") ?? Get("error_description");
                return (code, message == null ? null : SalesforceAuthenticator.Truncate(message, 500));
            }
            catch (JsonException) { return (null, null); }
        }

        private static string ReadBody(HttpResponseMessage response)
        {
            try { return response.Content.ReadAsStringAsync().GetAwaiter().GetResult(); }
            catch (Exception e) when (e is IOException || e is HttpRequestException) { return ""; }
        }

        private static TimeSpan? RetryAfterOf(HttpResponseMessage response)
        {
            var retry = response.Headers.RetryAfter;
            if (retry == null) return null;
            if (retry.Delta is TimeSpan delta) return delta;
            if (retry.Date is DateTimeOffset date) { var d = date - DateTimeOffset.UtcNow; return d > TimeSpan.Zero ? d : TimeSpan.Zero; }
            return null;
        }

        /// <summary>A path such as nextRecordsUrl, made absolute on the instance; an absolute URL must point at the instance itself.</summary>
        private static Uri Resolve(string instanceUrl, string url, string target)
        {
            var instance = new Uri(instanceUrl.TrimEnd('/') + "/");
            if (url.StartsWith("/", StringComparison.Ordinal)) return new Uri(instanceUrl.TrimEnd('/') + url);
            if (Uri.TryCreate(url, UriKind.Absolute, out var absolute))
            {
                if (Uri.Compare(absolute, instance, UriComponents.SchemeAndServer, UriFormat.UriEscaped, StringComparison.OrdinalIgnoreCase) == 0)
                    return absolute;
                throw new ChatterException("ChatterSource.QueryFailed", ChatterErrorKind.InvalidData,
                    $"Salesforce sent a next-page link to another host than the instance {instanceUrl}; it is not followed.", target);
            }
            return new Uri(instance, url);
        }

        public void Dispose() => _http.Dispose();
    }
}
