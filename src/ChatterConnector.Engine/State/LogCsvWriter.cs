using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using ChatterConnector.Engine.Model;
using CsvHelper;

namespace ChatterConnector.Engine.State
{
    /// <summary>Writes the connector log as CSV (the "Download log" of the Purview connector), streamed.</summary>
    public static class LogCsvWriter
    {
        public static long Write(string path, IEnumerable<ChatterLogEntry> entries)
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            long count = 0;
            using var writer = new StreamWriter(path, false, new UTF8Encoding(true));
            using var csv = new CsvWriter(writer, CultureInfo.InvariantCulture);
            foreach (var h in new[] { "Time", "ConnectorName", "RunId", "ItemId", "ItemKey", "ItemType", "SalesforceUser", "Mailbox", "Status", "Reason", "InternetMessageId", "Size", "Sha256" })
                csv.WriteField(h);
            csv.NextRecord();
            foreach (var e in entries)
            {
                csv.WriteField(e.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                csv.WriteField(e.ConnectorName);
                csv.WriteField(e.RunId);
                csv.WriteField(e.ItemId);
                csv.WriteField(e.ItemKey);
                csv.WriteField(e.ItemType?.ToString() ?? "");
                csv.WriteField(e.SalesforceUser ?? "");
                csv.WriteField(e.Mailbox ?? "");
                csv.WriteField(e.Status.ToString());
                csv.WriteField(e.Reason ?? "");
                csv.WriteField(e.InternetMessageId ?? "");
                csv.WriteField(e.Size.ToString(CultureInfo.InvariantCulture));
                csv.WriteField(e.Sha256 ?? "");
                csv.NextRecord();
                count++;
            }
            return count;
        }
    }
}
