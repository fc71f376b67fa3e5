using System;
using System.IO;
using System.Management.Automation;
using ChatterConnector.Engine;
using ChatterConnector.Engine.Mapping;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Targets;

namespace ChatterConnector.Commands
{
    /// <summary>Creates a named connector: where it reads Chatter, stages messages and archives them.</summary>
    [Cmdlet(VerbsCommon.New, "ChatterConnector", SupportsShouldProcess = true)]
    [OutputType(typeof(ChatterConnectorInfo))]
    public sealed class NewChatterConnectorCommand : ChatterCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidatePattern(@"^[A-Za-z0-9][A-Za-z0-9._ -]{0,63}$")]
        public string Name { get; set; } = "";

        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string SourcePath { get; set; } = "";

        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string MaildirPath { get; set; } = "";

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? StagingPath { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string FolderName { get; set; } = ChatterConnectorInfo.DefaultFolderName;

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowEmptyCollection]
        public string[] AcceptedDomain { get; set; } = new string[0];

        [Parameter(ValueFromPipelineByPropertyName = true)]
        public TimeSpan Schedule { get; set; } = TimeSpan.FromHours(24);

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string InstanceUrl { get; set; } = ChatterConnectorInfo.DefaultInstanceUrl;

        protected override void ProcessRecord()
        {
            Try(() =>
            {
                MaildirTarget.ValidateFolderName(FolderName);
                ConnectorSettings.ValidateSchedule(Schedule);
                var domains = ConnectorSettings.ValidateDomains(AcceptedDomain);
                var url = ConnectorSettings.ValidateInstanceUrl(InstanceUrl);
                var now = DateTimeOffset.UtcNow;
                var connector = new ChatterConnectorInfo
                {
                    Name = Name, SourcePath = ResolvePath(SourcePath), MaildirPath = ResolvePath(MaildirPath), StagingPath = ResolveOptionalPath(StagingPath),
                    FolderName = FolderName, AcceptedDomain = domains, Schedule = Schedule, InstanceUrl = url, Created = now, Modified = now,
                };
                var store = Store();
                if (!ShouldProcess($"Connector '{Name}' in store '{store.StorePath}' (source '{connector.SourcePath}', Maildir '{connector.MaildirPath}')", "Create"))
                    return;
                if (!Directory.Exists(connector.SourcePath))
                    WriteWarning($"The source folder '{connector.SourcePath}' does not exist yet; Start-ChatterImport will fail until it does.");
                store.AddConnector(connector);
                WriteObject(store.GetConnector(Name));
            });
        }
    }

    /// <summary>Checks shared by New- and Set-ChatterConnector.</summary>
    internal static class ConnectorSettings
    {
        public static void ValidateSchedule(TimeSpan schedule)
        {
            if (schedule < TimeSpan.FromMinutes(1))
                throw new ChatterException("ChatterConnector.InvalidSchedule", ChatterErrorKind.InvalidArgument,
                    $"The schedule {schedule} is too short: give one minute or more (for example 01:00:00 for hourly).", schedule);
        }

        public static string[] ValidateDomains(string[]? domains)
        {
            if (domains == null) return new string[0];
            var result = new string[domains.Length];
            for (var i = 0; i < domains.Length; i++)
            {
                var d = (domains[i] ?? "").Trim().TrimStart('@').ToLowerInvariant();
                if (!UserMapper.IsValidMailbox("x@" + d))
                    throw new ChatterException("ChatterConnector.InvalidDomain", ChatterErrorKind.InvalidArgument,
                        $"'{domains[i]}' is not a domain name (for example contoso.com).", domains[i]);
                result[i] = d;
            }
            return result;
        }

        public static string ValidateInstanceUrl(string url)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)))
                throw new ChatterException("ChatterConnector.InvalidInstanceUrl", ChatterErrorKind.InvalidArgument,
                    $"'{url}' is not an https URL of a Salesforce org (for example https://contoso.my.salesforce.com).", url);
            return uri.GetLeftPart(UriPartial.Authority);
        }

        public static string ValidateMailbox(string mailbox, string parameter)
        {
            if (!UserMapper.IsValidMailbox(mailbox))
                throw new ChatterException("ChatterMapping.InvalidMailbox", ChatterErrorKind.InvalidArgument,
                    $"-{parameter} '{mailbox}' is not a mailbox address (name@domain).", mailbox);
            return UserMapper.NormalizeMailbox(mailbox);
        }
    }
}
