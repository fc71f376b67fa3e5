using System;
using System.Collections.Generic;

namespace ChatterConnector.Engine.Model
{
    /// <summary>One line of a mapping file: a Salesforce user (Id, Username or Email) and the mailbox it goes to.</summary>
    public sealed class UserMappingRule
    {
        public string SalesforceUser { get; set; } = "";
        public string Mailbox { get; set; } = "";
    }

    /// <summary>
    /// A named connector: where it reads, stages and delivers, how users map to mailboxes, and
    /// when it runs. This is the object the cmdlets pass along the pipeline.
    /// </summary>
    public sealed class ChatterConnectorInfo
    {
        public string Name { get; set; } = "";
        /// <summary>The Salesforce data-export folder (the offline source); null when the connector reads the REST API.</summary>
        public string? SourcePath { get; set; }

        /// <summary>How the connector reads the org through the REST API; null when it reads an export folder.</summary>
        public SalesforceSettings? Salesforce { get; set; }

        /// <summary>Where the connector reads: the export folder, or the org's login URL.</summary>
        public string Source => SourcePath ?? (Salesforce != null ? Salesforce.LoginUrl + " (" + Salesforce.AuthFlow + ")" : "");
        /// <summary>Where converted messages are staged (one .eml per message). Default: under the store.</summary>
        public string? StagingPath { get; set; }

        /// <summary>An Azure Blob container to stage messages in instead of <see cref="StagingPath"/>; null for local staging.</summary>
        public BlobStagingSettings? BlobStaging { get; set; }

        /// <summary>Where messages are staged: the container's URL, or the local folder (empty for the default under the store).</summary>
        public string Staging => BlobStaging != null ? BlobStaging.Location : StagingPath ?? "";

        /// <summary>How long a staged blob is kept after every delivery of its message is done (blob staging; default 7 days).</summary>
        public TimeSpan StagingRetention { get; set; } = DefaultStagingRetention;
        /// <summary>The root of the Maildir target: one Maildir per mailbox below it; null when the connector delivers through Microsoft Graph.</summary>
        public string? MaildirPath { get; set; }

        /// <summary>How the connector delivers into Microsoft 365 mailboxes; null when it writes a Maildir.</summary>
        public GraphSettings? Graph { get; set; }

        /// <summary>Where the connector delivers: the Maildir root, or the Graph endpoint.</summary>
        public string Target => MaildirPath ?? (Graph != null ? Graph.Endpoint + " (tenant " + Graph.TenantId + ")" : "");
        public string FolderName { get; set; } = DefaultFolderName;
        public string[] AcceptedDomain { get; set; } = new string[0];
        public TimeSpan Schedule { get; set; } = TimeSpan.FromHours(24);
        public bool Suspended { get; set; }
        /// <summary>The org's URL, used for the links back to items (X-Chatter-Url).</summary>
        public string InstanceUrl { get; set; } = DefaultInstanceUrl;

        public bool AutomaticMapping { get; set; }
        public string? DefaultMailbox { get; set; }
        public string? MappingFile { get; set; }
        public List<UserMappingRule> MappingRules { get; set; } = new List<UserMappingRule>();

        public DateTimeOffset Created { get; set; }
        public DateTimeOffset Modified { get; set; }
        public DateTimeOffset? LastRunTime { get; set; }
        public string? LastRunStatus { get; set; }

        /// <summary>When the last run that completed (Succeeded or CompletedWithErrors) started.</summary>
        public DateTimeOffset? LastCompletedRunTime { get; set; }

        /// <summary>
        /// When the connector is next due: the last completed run plus the schedule (now, if none
        /// completed). A failed, stopped or interrupted run leaves the connector due, so the next
        /// scheduled Start-ChatterImport retries it.
        /// </summary>
        public DateTimeOffset? NextRunTime => Suspended ? (DateTimeOffset?)null : LastCompletedRunTime == null ? Created : LastCompletedRunTime + Schedule;

        /// <summary>The store the connector lives in, so that piping it on binds -StorePath.</summary>
        public string StorePath { get; set; } = "";

        /// <summary>
        /// The version of the stored definition this object was read from (an ETag in an Azure store).
        /// Set-ChatterConnector writes only over that version, so two admins changing one connector at
        /// once get a ChatterStore.Conflict error rather than one change silently lost.
        /// </summary>
        public string? ETag { get; set; }

        public const string DefaultFolderName = "Salesforce Chatter";
        public static readonly TimeSpan DefaultStagingRetention = TimeSpan.FromDays(7);
        public const string DefaultInstanceUrl = "https://login.salesforce.com";

        public bool IsDue(DateTimeOffset now) => !Suspended && (NextRunTime ?? now) <= now;

        public override string ToString() => Name;
    }
}
