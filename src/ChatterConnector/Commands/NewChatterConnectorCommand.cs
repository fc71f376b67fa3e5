using System;
using System.IO;
using System.Management.Automation;
using ChatterConnector.Engine;
using ChatterConnector.Engine.Mapping;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Targets;
using ChatterConnector.Engine.Sources.Salesforce;
using ChatterConnector.Engine.State;
using System.Security;

namespace ChatterConnector.Commands
{
    /// <summary>Creates a named connector: where it reads Chatter, stages messages and archives them.</summary>
    [Cmdlet(VerbsCommon.New, "ChatterConnector", SupportsShouldProcess = true, DefaultParameterSetName = ExportFolder)]
    [OutputType(typeof(ChatterConnectorInfo))]
    public sealed class NewChatterConnectorCommand : ChatterCmdlet
    {
        private const string ExportFolder = "ExportFolder";
        private const string JwtFile = "SalesforceJwtCertificateFile";
        private const string JwtThumbprint = "SalesforceJwtCertificateThumbprint";
        private const string ClientCredentials = "SalesforceClientCredentials";
        private const string RefreshToken = "SalesforceRefreshToken";
        private const string Password = "SalesforcePassword";
        private const string AccessToken = "SalesforceAccessToken";

        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidatePattern(@"^[A-Za-z0-9][A-Za-z0-9._ -]{0,63}$")]
        public string Name { get; set; } = "";

        /// <summary>A Salesforce data-export folder (the offline source).</summary>
        [Parameter(Mandatory = true, ParameterSetName = ExportFolder, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string SourcePath { get; set; } = "";

        // ---- the Salesforce REST API source: one parameter set per sign-in flow ----

        [Parameter(Mandatory = true, ParameterSetName = JwtFile, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, ParameterSetName = JwtThumbprint, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, ParameterSetName = ClientCredentials, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, ParameterSetName = RefreshToken, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, ParameterSetName = Password, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? SalesforceClientId { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = JwtFile, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, ParameterSetName = JwtThumbprint, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, ParameterSetName = Password, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? SalesforceUsername { get; set; }

        /// <summary>A PFX or PEM file holding the certificate and its private key.</summary>
        [Parameter(Mandatory = true, ParameterSetName = JwtFile, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? SalesforceCertificatePath { get; set; }

        [Parameter(ParameterSetName = JwtFile)]
        public SecureString? SalesforceCertificatePassword { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = JwtThumbprint, ValueFromPipelineByPropertyName = true)]
        [ValidatePattern("^[0-9A-Fa-f]{40}$")]
        public string? SalesforceCertificateThumbprint { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = ClientCredentials)]
        [Parameter(ParameterSetName = RefreshToken)]
        [Parameter(Mandatory = true, ParameterSetName = Password)]
        public SecureString? SalesforceClientSecret { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = RefreshToken)]
        public SecureString? SalesforceRefreshToken { get; set; }

        /// <summary>Legacy: the password of the integration user (with -SalesforceSecurityToken).</summary>
        [Parameter(Mandatory = true, ParameterSetName = Password)]
        public SecureString? SalesforcePassword { get; set; }

        [Parameter(ParameterSetName = Password)]
        public SecureString? SalesforceSecurityToken { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = AccessToken)]
        public SecureString? SalesforceAccessToken { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = AccessToken, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? SalesforceInstanceUrl { get; set; }

        /// <summary>https://login.salesforce.com (default), https://test.salesforce.com for a sandbox, or the org's My Domain.</summary>
        [Parameter(ParameterSetName = JwtFile, ValueFromPipelineByPropertyName = true)]
        [Parameter(ParameterSetName = JwtThumbprint, ValueFromPipelineByPropertyName = true)]
        [Parameter(ParameterSetName = ClientCredentials, ValueFromPipelineByPropertyName = true)]
        [Parameter(ParameterSetName = RefreshToken, ValueFromPipelineByPropertyName = true)]
        [Parameter(ParameterSetName = Password, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string SalesforceLoginUrl { get; set; } = SalesforceSettings.DefaultLoginUrl;

        [Parameter(ParameterSetName = JwtFile)]
        [Parameter(ParameterSetName = JwtThumbprint)]
        [Parameter(ParameterSetName = ClientCredentials)]
        [Parameter(ParameterSetName = RefreshToken)]
        [Parameter(ParameterSetName = Password)]
        [Parameter(ParameterSetName = AccessToken)]
        [ValidatePattern(@"^\d{2,3}\.0$")]
        public string SalesforceApiVersion { get; set; } = SalesforceSettings.DefaultApiVersion;

        /// <summary>Stop a run cleanly once the org's daily API usage passes this percentage (default 80).</summary>
        [Parameter(ParameterSetName = JwtFile)]
        [Parameter(ParameterSetName = JwtThumbprint)]
        [Parameter(ParameterSetName = ClientCredentials)]
        [Parameter(ParameterSetName = RefreshToken)]
        [Parameter(ParameterSetName = Password)]
        [Parameter(ParameterSetName = AccessToken)]
        [ValidateRange(1, 100)]
        public int MaxApiUsagePercent { get; set; } = 80;

        /// <summary>The first run reads nothing older than this.</summary>
        [Parameter(ParameterSetName = JwtFile, ValueFromPipelineByPropertyName = true)]
        [Parameter(ParameterSetName = JwtThumbprint, ValueFromPipelineByPropertyName = true)]
        [Parameter(ParameterSetName = ClientCredentials, ValueFromPipelineByPropertyName = true)]
        [Parameter(ParameterSetName = RefreshToken, ValueFromPipelineByPropertyName = true)]
        [Parameter(ParameterSetName = Password, ValueFromPipelineByPropertyName = true)]
        [Parameter(ParameterSetName = AccessToken, ValueFromPipelineByPropertyName = true)]
        public DateTime? StartDate { get; set; }

        /// <summary>The root of a local Maildir archive; give this or the Microsoft Graph parameters (-TenantId …).</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? MaildirPath { get; set; }

        // ---- the Microsoft Graph target (instead of -MaildirPath); checked in code, since the
        //      source's parameter sets already name the sign-in to Salesforce ----

        [Parameter(ValueFromPipelineByPropertyName = true)] [ValidateNotNullOrEmpty] public string? TenantId { get; set; }
        [Parameter(ValueFromPipelineByPropertyName = true)] [ValidateNotNullOrEmpty] public string? ClientId { get; set; }
        [Parameter(ValueFromPipelineByPropertyName = true)] [ValidateNotNullOrEmpty] public string? CertificatePath { get; set; }
        [Parameter] public SecureString? CertificatePassword { get; set; }
        [Parameter(ValueFromPipelineByPropertyName = true)] [ValidatePattern("^[0-9A-Fa-f]{40}$")] public string? CertificateThumbprint { get; set; }
        [Parameter] public SecureString? ClientSecret { get; set; }
        [Parameter] public SwitchParameter ManagedIdentity { get; set; }
        [Parameter(ValueFromPipelineByPropertyName = true)] [ValidateNotNullOrEmpty] public string? ManagedIdentityClientId { get; set; }
        [Parameter] public SecureString? GraphAccessToken { get; set; }
        [Parameter(ValueFromPipelineByPropertyName = true)] public GraphEnvironment Environment { get; set; } = GraphEnvironment.Global;
        [Parameter(ValueFromPipelineByPropertyName = true)] [ValidateNotNullOrEmpty] public string? GraphEndpoint { get; set; }
        [Parameter(ValueFromPipelineByPropertyName = true)] public GraphImportMode GraphImportMode { get; set; } = GraphImportMode.Json;
        [Parameter(ValueFromPipelineByPropertyName = true)] [ValidateRange(1, 64)] public int ThrottleLimit { get; set; } = 8;

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? StagingPath { get; set; }

        // ---- blob staging (instead of -StagingPath) ----

        /// <summary>An Azure Blob container's URL, reached with the Graph app's credential or DefaultAzureCredential.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)] [ValidateNotNullOrEmpty] public string? StagingContainerUri { get; set; }
        [Parameter] public SecureString? StagingConnectionString { get; set; }
        [Parameter(ValueFromPipelineByPropertyName = true)] [ValidateNotNullOrEmpty] public string? StagingContainerName { get; set; }
        [Parameter] public SecureString? StagingSasUri { get; set; }
        [Parameter(ValueFromPipelineByPropertyName = true)] public TimeSpan StagingRetention { get; set; } = ChatterConnectorInfo.DefaultStagingRetention;

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
                    Name = Name, SourcePath = ParameterSetName == ExportFolder ? ResolvePath(SourcePath) : null, MaildirPath = ResolveOptionalPath(MaildirPath), StagingPath = ResolveOptionalPath(StagingPath),
                    FolderName = FolderName, AcceptedDomain = domains, Schedule = Schedule, InstanceUrl = url, Created = now, Modified = now,
                };
                var graph = GraphTargetSettings.Validate(this);
                var blob = new BlobStagingParameters(StagingContainerUri, StagingConnectionString, StagingContainerName, StagingSasUri);
                blob.Validate(StagingPath);
                if (StagingContainerName != null && !blob.NamesContainer)
                    throw new ChatterException("ChatterStaging.ContainerNameNotApplicable", ChatterErrorKind.InvalidArgument, "-StagingContainerName goes with -StagingConnectionString.", StagingContainerName);
                connector.StagingRetention = BlobStagingParameters.ValidateRetention(StagingRetention);
                var api = ParameterSetName != ExportFolder;
                if (api)
                {
                    ConnectorSettings.ValidateSalesforceUrl(SalesforceLoginUrl, nameof(SalesforceLoginUrl));
                    if (SalesforceInstanceUrl != null) ConnectorSettings.ValidateSalesforceUrl(SalesforceInstanceUrl, nameof(SalesforceInstanceUrl));
                }
                var source = api ? $"{SalesforceInstanceUrl ?? SalesforceLoginUrl} ({ParameterSetName})" : connector.SourcePath;
                var target = graph ? $"Microsoft Graph {GraphTargetSettings.EndpointFor(this)} (tenant {TenantId})" : $"Maildir '{connector.MaildirPath}'";
                // The store is opened only now: -WhatIf must not create it.
                if (!ShouldProcess($"Connector '{Name}' in store '{StoreDescription()}' (source '{source}', {target})", "Create"))
                    return;
                var store = Store();
                // Secrets are protected only now: -WhatIf must not create the store's key.
                if (api) connector.Salesforce = SalesforceSettingsFrom(store.Secrets);
                if (graph) connector.Graph = GraphTargetSettings.Create(this, store.Secrets);
                if (blob.NamesContainer) connector.BlobStaging = blob.Create(store.Secrets);
                if (connector.SourcePath != null && !Directory.Exists(connector.SourcePath))
                    WriteWarning($"The source folder '{connector.SourcePath}' does not exist yet; Start-ChatterImport will fail until it does.");
                store.AddConnector(connector);
                WriteObject(store.GetConnector(Name));
            });
        }

        private SalesforceSettings SalesforceSettingsFrom(SecretProtector secrets)
        {
            var flow = ParameterSetName switch
            {
                JwtFile => SalesforceAuthFlow.JwtBearer,
                JwtThumbprint => SalesforceAuthFlow.JwtBearer,
                ClientCredentials => SalesforceAuthFlow.ClientCredentials,
                RefreshToken => SalesforceAuthFlow.RefreshToken,
                Password => SalesforceAuthFlow.Password,
                _ => SalesforceAuthFlow.AccessToken,
            };
            var settings = new SalesforceSettings
            {
                AuthFlow = flow, LoginUrl = ConnectorSettings.ValidateSalesforceUrl(SalesforceLoginUrl, "SalesforceLoginUrl"), ApiVersion = SalesforceApiVersion,
                ClientId = SalesforceClientId, Username = SalesforceUsername, CertificateThumbprint = SalesforceCertificateThumbprint?.ToUpperInvariant(),
                CertificatePath = ResolveOptionalPath(SalesforceCertificatePath), MaxApiUsagePercent = MaxApiUsagePercent,
                InstanceUrl = SalesforceInstanceUrl == null ? null : ConnectorSettings.ValidateSalesforceUrl(SalesforceInstanceUrl, "SalesforceInstanceUrl"),
                StartDate = StartDate == null ? (DateTimeOffset?)null : new DateTimeOffset(StartDate.Value.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(StartDate.Value, DateTimeKind.Local) : StartDate.Value),
                ClientSecret = Protect(secrets, SalesforceClientSecret), RefreshToken = Protect(secrets, SalesforceRefreshToken),
                Password = Protect(secrets, SalesforcePassword), SecurityToken = Protect(secrets, SalesforceSecurityToken),
                AccessToken = Protect(secrets, SalesforceAccessToken), CertificatePassword = Protect(secrets, SalesforceCertificatePassword),
            };
            return settings;
        }

        internal static StoredSecret? Protect(SecretProtector secrets, SecureString? secret) =>
            secret == null ? null : secrets.Protect(SecureStrings.ToPlainText(secret));
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

        /// <summary>An endpoint URL: https, or http to a loopback address (tests); returns its scheme and authority.</summary>
        public static string ValidateHttpsUrl(string url, string parameter, string errorId)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)))
                throw new ChatterException(errorId, ChatterErrorKind.InvalidArgument,
                    $"-{parameter} '{url}' must be an https URL (http is accepted only for a loopback address).", url);
            return uri.GetLeftPart(UriPartial.Authority);
        }

        /// <summary>A Salesforce login or instance URL: https, or http to a loopback address (tests).</summary>
        public static string ValidateSalesforceUrl(string url, string parameter)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
                throw new ChatterException("ChatterConnector.InvalidSalesforceUrl", ChatterErrorKind.InvalidArgument,
                    $"-{parameter} '{url}' is not a URL. Use https://login.salesforce.com, https://test.salesforce.com for a sandbox, or your My Domain (https://contoso.my.salesforce.com).", url);
            SalesforceAuthenticator.CheckUrl(uri.GetLeftPart(UriPartial.Authority), "-" + parameter);
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
