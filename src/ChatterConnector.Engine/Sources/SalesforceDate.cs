using System;
using System.Globalization;

namespace ChatterConnector.Engine.Sources
{
    /// <summary>Datetimes as the Salesforce API writes them: ISO 8601 UTC, <c>2024-03-04T10:00:00.000+0000</c>.</summary>
    public static class SalesforceDate
    {
        private static readonly string[] Formats =
        {
            "yyyy-MM-dd'T'HH:mm:ss.fffzzz", "yyyy-MM-dd'T'HH:mm:ss.fffK", "yyyy-MM-dd'T'HH:mm:ssK",
            "yyyy-MM-dd'T'HH:mm:ss.fff", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd HH:mm:ss",
        };

        public static string Format(DateTimeOffset value) =>
            value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff", CultureInfo.InvariantCulture) + "+0000";

        public static bool TryParse(string? text, out DateTimeOffset value)
        {
            value = default;
            if (string.IsNullOrWhiteSpace(text)) return false;
            var t = text!.Trim();
            // "+0000" has no colon; .NET's zzz wants "+00:00".
            if (t.Length > 5 && (t[t.Length - 5] == '+' || t[t.Length - 5] == '-') && t.IndexOf(':', t.Length - 5) < 0)
                t = t.Substring(0, t.Length - 2) + ":" + t.Substring(t.Length - 2);
            return DateTimeOffset.TryParseExact(t, Formats, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);
        }
    }
}
