using System;
using System.Collections.Generic;
using System.Text.Json;
using ChatterConnector.Engine.Model;

namespace ChatterConnector.Engine.State
{
    /// <summary>What is persisted of a connector: its settings, not the figures derived from runs.</summary>
    internal sealed class StoredDefinition
    {
        private static readonly JsonSerializerOptions Json = new JsonSerializerOptions { WriteIndented = false };

        public static string Serialize(ChatterConnectorInfo c) => JsonSerializer.Serialize(new StoredDefinition(c), Json);

        public static ChatterConnectorInfo Deserialize(string json) => JsonSerializer.Deserialize<StoredDefinition>(json, Json)!.ToConnector();

        public StoredDefinition() { }
        public StoredDefinition(ChatterConnectorInfo c)
        {
            Name = c.Name; SourcePath = c.SourcePath; Salesforce = c.Salesforce; Graph = c.Graph; StagingPath = c.StagingPath; MaildirPath = c.MaildirPath;
            BlobStaging = c.BlobStaging; StagingRetention = c.StagingRetention;
            FolderName = c.FolderName; AcceptedDomain = c.AcceptedDomain; Schedule = c.Schedule; Suspended = c.Suspended;
            InstanceUrl = c.InstanceUrl; AutomaticMapping = c.AutomaticMapping; DefaultMailbox = c.DefaultMailbox;
            MappingFile = c.MappingFile; MappingRules = c.MappingRules; Created = c.Created; Modified = c.Modified;
        }
        public string Name { get; set; } = "";
        public string? SourcePath { get; set; }
        public SalesforceSettings? Salesforce { get; set; }
        public GraphSettings? Graph { get; set; }
        public string? StagingPath { get; set; }
        public BlobStagingSettings? BlobStaging { get; set; }
        /// <summary>Null in definitions stored before blob staging: the default then.</summary>
        public TimeSpan? StagingRetention { get; set; }
        public string? MaildirPath { get; set; }
        public string FolderName { get; set; } = ChatterConnectorInfo.DefaultFolderName;
        public string[] AcceptedDomain { get; set; } = new string[0];
        public TimeSpan Schedule { get; set; }
        public bool Suspended { get; set; }
        public string InstanceUrl { get; set; } = ChatterConnectorInfo.DefaultInstanceUrl;
        public bool AutomaticMapping { get; set; }
        public string? DefaultMailbox { get; set; }
        public string? MappingFile { get; set; }
        public List<UserMappingRule> MappingRules { get; set; } = new List<UserMappingRule>();
        public DateTimeOffset Created { get; set; }
        public DateTimeOffset Modified { get; set; }

        public ChatterConnectorInfo ToConnector() => new ChatterConnectorInfo
        {
            Name = Name, SourcePath = SourcePath, Salesforce = Salesforce, Graph = Graph, StagingPath = StagingPath, MaildirPath = MaildirPath, FolderName = FolderName,
            BlobStaging = BlobStaging, StagingRetention = StagingRetention ?? ChatterConnectorInfo.DefaultStagingRetention,
            AcceptedDomain = AcceptedDomain ?? new string[0], Schedule = Schedule, Suspended = Suspended, InstanceUrl = InstanceUrl,
            AutomaticMapping = AutomaticMapping, DefaultMailbox = DefaultMailbox, MappingFile = MappingFile,
            MappingRules = MappingRules ?? new List<UserMappingRule>(), Created = Created, Modified = Modified,
        };
    }

    /// <summary>Errors every store raises the same way.</summary>
    internal static class StoreErrors
    {
        public static ChatterException Busy(string connector, string? holder, Exception? inner = null) =>
            new ChatterException("ChatterImport.ConnectorBusy", ChatterErrorKind.ResourceBusy,
                $"The connector '{connector}' is being imported by another process{(holder != null ? " (" + holder + ")" : "")}; this run was skipped.", connector, inner);

        public static ChatterException Conflict(string connector, string store) =>
            new ChatterException("ChatterStore.Conflict", ChatterErrorKind.ResourceBusy,
                $"The connector '{connector}' was changed in the store '{store}' by someone else since it was read; nothing was written. " +
                "Read it again (Get-ChatterConnector), check the other change, and make yours again.", connector);
    }
}
