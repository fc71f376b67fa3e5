using ChatterConnector.Engine.Model;

namespace ChatterConnector.Engine.State
{
    /// <summary>A staged item: its message in staging and the facts the log needs.</summary>
    public sealed class StagedItem
    {
        public string ItemKey { get; set; } = "";
        public string ItemId { get; set; } = "";
        public string ThreadId { get; set; } = "";
        public ChatterItemType ItemType { get; set; }
        public string AuthorId { get; set; } = "";
        public string MessageId { get; set; } = "";
        public string StagedPath { get; set; } = "";
        public string Sha256 { get; set; } = "";
        public long Size { get; set; }
        public string? PartialReason { get; set; }
    }

    /// <summary>One row of the ledger: an item for one recipient (a mailbox, or an unmapped user).</summary>
    public sealed class DeliveryRecord
    {
        /// <summary>The ledger row, for paging; 0 for a record not read from the ledger.</summary>
        public long Row { get; set; }
        public string ItemKey { get; set; } = "";
        /// <summary>The mailbox address (lower case), or "user:{id}" while the user maps to nothing.</summary>
        public string Recipient { get; set; } = "";
        public string UserId { get; set; } = "";
        public string? Mailbox { get; set; }
        public DeliveryStatus Status { get; set; }
        public string? Reason { get; set; }
        public int Attempts { get; set; }
        /// <summary>Bytes delivered (not stored; for the run's figures).</summary>
        public long Size { get; set; }

        public static string UnmappedRecipient(string userId) => "user:" + userId;
    }
}
