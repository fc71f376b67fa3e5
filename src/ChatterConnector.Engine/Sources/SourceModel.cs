using System;
using System.Collections.Generic;
using ChatterConnector.Engine.Model;

namespace ChatterConnector.Engine.Sources
{
    /// <summary>The org's directory: users, groups and memberships, read whole at the start of a run.</summary>
    public sealed class SourceDirectory
    {
        public Dictionary<string, ChatterUser> Users { get; } = new Dictionary<string, ChatterUser>(StringComparer.Ordinal);
        public Dictionary<string, string> GroupNames { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
        public Dictionary<string, List<string>> ConversationMembers { get; } = new Dictionary<string, List<string>>(StringComparer.Ordinal);

        public ChatterUser? FindUser(string? id) => id != null && Users.TryGetValue(id, out var u) ? u : null;
    }

    /// <summary>One item read from a source, or the reason a row could not be read.</summary>
    public sealed class SourceRecord
    {
        /// <summary>The object the row came from (FeedItem, FeedComment…): its watermark moves with it.</summary>
        public string Object { get; set; } = "";
        /// <summary>The item key, or "{file}:{line}" when the row has no usable Id.</summary>
        public string Key { get; set; } = "";
        public DateTimeOffset Modstamp { get; set; }
        /// <summary>The Salesforce Id of the row, the tie-break of the watermark among rows of one Modstamp.</summary>
        public string RowId { get; set; } = "";
        public ChatterItem? Item { get; set; }
        /// <summary>Why the row could not become an item; null when Item is set.</summary>
        public string? Error { get; set; }
        public ChatterItemType? ItemType { get; set; }
    }

    /// <summary>How far a connector has read each object: rows modified before it were read in an earlier run.</summary>
    public sealed class SourceWatermarks
    {
        public Dictionary<string, DateTimeOffset> ByObject { get; } = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);

        /// <summary>The Id of the last row read at the watermark's Modstamp, for sources that can order by (SystemModstamp, Id).</summary>
        public Dictionary<string, string> LastIdByObject { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

        public DateTimeOffset? Get(string obj) => ByObject.TryGetValue(obj, out var v) ? v : (DateTimeOffset?)null;

        public string? GetLastId(string obj) => LastIdByObject.TryGetValue(obj, out var v) ? v : null;

        /// <summary>True when a row of <paramref name="obj"/> modified at <paramref name="modstamp"/> may be new. Ties count as new: the ledger tells.</summary>
        public bool IsNew(string obj, DateTimeOffset modstamp) => !ByObject.TryGetValue(obj, out var w) || modstamp >= w;

        public static readonly string[] Objects = { "FeedItem", "FeedComment", "FeedRevision", "ChatterMessage" };
    }
}
