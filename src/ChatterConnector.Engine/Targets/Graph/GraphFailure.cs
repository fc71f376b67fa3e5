using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Text.Json;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions;

namespace ChatterConnector.Engine.Targets.Graph
{
    /// <summary>A failed HTTP exchange outside the SDK (upload chunks, importMime).</summary>
    internal sealed class GraphHttpException : Exception
    {
        public GraphHttpException(int status, string? code, string? graphMessage, TimeSpan? retryAfter)
            : base("Microsoft Graph answered " + status.ToString(CultureInfo.InvariantCulture) + (code != null ? " " + code : "") + (graphMessage != null ? ": " + graphMessage : ""))
        {
            Status = status; Code = code; GraphMessage = graphMessage; RetryAfter = retryAfter;
        }

        public int Status { get; }
        public string? Code { get; }
        public string? GraphMessage { get; }
        public TimeSpan? RetryAfter { get; }

        /// <summary>Reads {"error":{"code","message"}} from an error body, if it is one.</summary>
        public static (string? Code, string? Message) ParseError(string? body)
        {
            if (string.IsNullOrWhiteSpace(body)) return (null, null);
            try
            {
                using var doc = JsonDocument.Parse(body!);
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object)
                {
                    string? code = e.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                    string? msg = e.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
                    return (code, msg);
                }
            }
            catch (JsonException) { }
            return (null, null);
        }
    }

    /// <summary>What went wrong with one Graph request, from whichever exception reported it.</summary>
    internal readonly struct GraphFailure
    {
        public GraphFailure(int status, string? code, string? message, TimeSpan? retryAfter, bool connection)
        {
            Status = status; Code = code; Message = message; RetryAfter = retryAfter; Connection = connection;
        }

        /// <summary>The HTTP status; 0 when no response came (a dropped connection, a timeout).</summary>
        public int Status { get; }
        public string? Code { get; }
        public string? Message { get; }
        public TimeSpan? RetryAfter { get; }
        public bool Connection { get; }

        public bool IsThrottled => Status == 429;

        /// <summary>Worth another try: 429, 503, 504, a dropped connection, and Exchange's busy codes.</summary>
        public bool IsTransient =>
            Connection || Status == 429 || Status == 503 || Status == 504
            || (Status >= 500 && Code != null && (Code == "ErrorServerBusy" || Code == "ErrorTimeoutExpired" || Code == "ErrorMailboxStoreUnavailable" || Code == "ServiceUnavailable"));

        /// <summary>The failure an exception stands for, or null when it is not a Graph or HTTP failure.</summary>
        public static GraphFailure? From(Exception ex, DateTimeOffset now)
        {
            switch (ex)
            {
                case GraphHttpException h:
                    return new GraphFailure(h.Status, h.Code, h.GraphMessage, h.RetryAfter, false);
                case ODataError o:
                    return new GraphFailure(o.ResponseStatusCode, o.Error?.Code, o.Error?.Message, RetryAfterHeader.From(o.ResponseHeaders, now), false);
                case ApiException a:
                    return new GraphFailure(a.ResponseStatusCode, null, null, RetryAfterHeader.From(a.ResponseHeaders, now), false);
                case HttpRequestException _:
                case IOException _:
                case OperationCanceledException _: // HttpClient's timeout (the caller's cancellation is filtered before)
                    return new GraphFailure(0, null, ex.Message, null, true);
                default:
                    return null;
            }
        }
    }

    /// <summary>Reads a Retry-After header: delta-seconds or an HTTP date.</summary>
    public static class RetryAfterHeader
    {
        /// <summary>How long to wait, or null when the value is missing or not understood; never negative.</summary>
        public static TimeSpan? Parse(string? value, DateTimeOffset now)
        {
            if (string.IsNullOrWhiteSpace(value)) return null;
            var v = value!.Trim();
            if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
            {
                if (double.IsNaN(seconds) || seconds < 0) return null;
                return TimeSpan.FromSeconds(Math.Min(seconds, 24 * 3600));
            }
            if (DateTimeOffset.TryParseExact(v, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
                || DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out at))
            {
                var wait = at - now;
                return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            }
            return null;
        }

        /// <summary>The Retry-After of a response's headers (name matched case-insensitively).</summary>
        public static TimeSpan? From(IDictionary<string, IEnumerable<string>>? headers, DateTimeOffset now)
        {
            if (headers == null) return null;
            foreach (var h in headers)
                if (string.Equals(h.Key, "Retry-After", StringComparison.OrdinalIgnoreCase))
                    return Parse(h.Value?.FirstOrDefault(), now);
            return null;
        }

        /// <summary>The Retry-After of an HttpResponseMessage.</summary>
        public static TimeSpan? From(HttpResponseMessage response, DateTimeOffset now)
        {
            var ra = response.Headers.RetryAfter;
            if (ra == null) return null;
            if (ra.Delta is TimeSpan d) return d < TimeSpan.Zero ? TimeSpan.Zero : d;
            if (ra.Date is DateTimeOffset at) return at > now ? at - now : TimeSpan.Zero;
            return null;
        }
    }
}
