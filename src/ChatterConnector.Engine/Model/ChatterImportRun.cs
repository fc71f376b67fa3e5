using System;

namespace ChatterConnector.Engine.Model
{
    /// <summary>How a run ended.</summary>
    public enum ImportRunStatus
    {
        Running,
        Succeeded,
        CompletedWithErrors,
        Failed,
        Stopped,
        Interrupted,
    }

    /// <summary>One import run, with the figures Purview's connector log reports.</summary>
    public sealed class ChatterImportRun
    {
        public string ConnectorName { get; set; } = "";
        public string RunId { get; set; } = "";
        public DateTimeOffset StartTime { get; set; }
        public DateTimeOffset? EndTime { get; set; }
        public ImportRunStatus Status { get; set; }
        /// <summary>New items read from the source in this run.</summary>
        public int ItemsAvailable { get; set; }
        /// <summary>Deliveries this run attempted: one per (item, participant's mailbox), unmapped ones included.</summary>
        public int MessagesAfterFanout { get; set; }
        public int Imported { get; set; }
        public int PartiallyImported { get; set; }
        public int SkippedDuplicates { get; set; }
        public int Failed { get; set; }
        public int Unmapped { get; set; }
        /// <summary>Bytes of the messages delivered in this run.</summary>
        public long Bytes { get; set; }
        /// <summary>Salesforce REST API calls the run made (0 for an export-folder source).</summary>
        public int ApiCalls { get; set; }
        public string? Message { get; set; }
        public string StorePath { get; set; } = "";
        /// <summary>The worker that ran it: machine, process id and a worker id (the holder of the connector's run lock).</summary>
        public string? Worker { get; set; }

        public TimeSpan? Duration => EndTime - StartTime;
    }

    /// <summary>The status of one (item, mailbox) delivery in the log.</summary>
    public enum DeliveryStatus
    {
        Pending,
        InFlight,
        Imported,
        PartiallyImported,
        SkippedDuplicate,
        Failed,
        Unmapped,
    }

    /// <summary>One line of the connector log: what happened to one item for one mailbox in one run.</summary>
    public sealed class ChatterLogEntry
    {
        public DateTimeOffset Time { get; set; }
        public string ConnectorName { get; set; } = "";
        public string RunId { get; set; } = "";
        public string ItemId { get; set; } = "";
        public string ItemKey { get; set; } = "";
        public ChatterItemType? ItemType { get; set; }
        public string? SalesforceUser { get; set; }
        public string? Mailbox { get; set; }
        public DeliveryStatus Status { get; set; }
        public string? Reason { get; set; }
        public string? InternetMessageId { get; set; }
        public long Size { get; set; }
        public string? Sha256 { get; set; }
    }

    /// <summary>How a Salesforce user was resolved to a mailbox.</summary>
    public enum MappingSource
    {
        File,
        Automatic,
        Default,
        Unmapped,
    }

    /// <summary>A Salesforce user, the mailbox it resolves to, and why.</summary>
    public sealed class ChatterUserMappingEntry
    {
        public string ConnectorName { get; set; } = "";
        public string SalesforceUserId { get; set; } = "";
        public string Name { get; set; } = "";
        public string? Username { get; set; }
        public string? Email { get; set; }
        public bool IsActive { get; set; }
        public string? Mailbox { get; set; }
        public MappingSource Source { get; set; }
        public string? Reason { get; set; }
    }
}
