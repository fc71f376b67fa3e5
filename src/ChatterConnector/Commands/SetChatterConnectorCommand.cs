using System;
using System.Linq;
using System.Management.Automation;
using System.Security;
using ChatterConnector.Engine;
using ChatterConnector.Engine.State;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Targets;

namespace ChatterConnector.Commands
{
    /// <summary>Changes the settings given; every other setting keeps its value.</summary>
    [Cmdlet(VerbsCommon.Set, "ChatterConnector", SupportsShouldProcess = true, DefaultParameterSetName = ByName)]
    [OutputType(typeof(ChatterConnectorInfo))]
    public sealed class SetChatterConnectorCommand : ConnectorCmdlet
    {
        [Parameter] [ValidateNotNullOrEmpty] public string? SourcePath { get; set; }
        [Parameter] [ValidateNotNullOrEmpty] public string? MaildirPath { get; set; }
        [Parameter] [ValidateNotNullOrEmpty] public string? StagingPath { get; set; }
        [Parameter] [ValidateNotNullOrEmpty] public string? StagingContainerUri { get; set; }
        [Parameter] public SecureString? StagingConnectionString { get; set; }
        [Parameter] [ValidateNotNullOrEmpty] public string? StagingContainerName { get; set; }
        [Parameter] public SecureString? StagingSasUri { get; set; }
        [Parameter] public TimeSpan? StagingRetention { get; set; }
        [Parameter] [ValidateNotNullOrEmpty] public string? FolderName { get; set; }
        [Parameter] [AllowEmptyCollection] public string[]? AcceptedDomain { get; set; }
        [Parameter] public TimeSpan? Schedule { get; set; }
        [Parameter] [ValidateNotNullOrEmpty] public string? InstanceUrl { get; set; }
        [Parameter] public SwitchParameter PassThru { get; set; }

        // Settings of a connector that reads the Salesforce REST API; secrets are replaced, never shown.
        [Parameter] [ValidateNotNullOrEmpty] public string? SalesforceLoginUrl { get; set; }
        [Parameter] [ValidatePattern(@"^\d{2,3}\.0$")] public string? SalesforceApiVersion { get; set; }
        [Parameter] [ValidateRange(1, 100)] public int? MaxApiUsagePercent { get; set; }
        [Parameter] public DateTime? StartDate { get; set; }
        [Parameter] [ValidateNotNullOrEmpty] public string? SalesforceCertificatePath { get; set; }
        [Parameter] [ValidatePattern("^[0-9A-Fa-f]{40}$")] public string? SalesforceCertificateThumbprint { get; set; }
        [Parameter] public SecureString? SalesforceCertificatePassword { get; set; }
        [Parameter] public SecureString? SalesforceClientSecret { get; set; }
        [Parameter] public SecureString? SalesforceRefreshToken { get; set; }
        [Parameter] public SecureString? SalesforcePassword { get; set; }
        [Parameter] public SecureString? SalesforceSecurityToken { get; set; }
        [Parameter] public SecureString? SalesforceAccessToken { get; set; }

        // Settings of a connector that delivers through Microsoft Graph.
        [Parameter] [ValidateNotNullOrEmpty] public string? CertificatePath { get; set; }
        [Parameter] [ValidatePattern("^[0-9A-Fa-f]{40}$")] public string? CertificateThumbprint { get; set; }
        [Parameter] public SecureString? CertificatePassword { get; set; }
        [Parameter] public SecureString? ClientSecret { get; set; }
        [Parameter] public SecureString? GraphAccessToken { get; set; }
        [Parameter] public SwitchParameter ManagedIdentity { get; set; }
        [Parameter] [ValidateNotNullOrEmpty] public string? ManagedIdentityClientId { get; set; }
        [Parameter] [ValidateNotNullOrEmpty] public string? TenantId { get; set; }
        [Parameter] [ValidateNotNullOrEmpty] public string? ClientId { get; set; }
        [Parameter] public GraphImportMode? GraphImportMode { get; set; }
        [Parameter] [ValidateRange(1, 64)] public int? ThrottleLimit { get; set; }

        private static readonly string[] GraphParameters =
        {
            nameof(CertificatePath), nameof(CertificateThumbprint), nameof(CertificatePassword), nameof(ClientSecret), nameof(GraphAccessToken),
            nameof(ManagedIdentity), nameof(ManagedIdentityClientId), nameof(TenantId), nameof(ClientId), nameof(GraphImportMode), nameof(ThrottleLimit),
        };

        private static void ClearGraphSignIn(GraphSettings g)
        {
            g.CertificatePath = null;
            g.CertificateThumbprint = null;
            g.ClientSecret = null;
            g.AccessToken = null;
            g.ManagedIdentity = false;
            g.ManagedIdentityClientId = null;
        }

        /// <summary>
        /// Applies the Graph sign-in parameters: one new sign-in at most, which replaces the one before;
        /// a new tenant or app registration; and then checks that what the connector holds can sign in.
        /// </summary>
        private void SetGraphSignIn(ChatterConnectorInfo c)
        {
            var g = c.Graph!;
            var signIns = new[] { CertificatePath != null, CertificateThumbprint != null, ClientSecret != null, GraphAccessToken != null, ManagedIdentity.IsPresent };
            if (signIns.Count(x => x) > 1)
                throw new ChatterException("ChatterConnector.GraphSignInAmbiguous", ChatterErrorKind.InvalidArgument,
                    "Give one new Microsoft Graph sign-in at a time: -CertificatePath, -CertificateThumbprint, -ClientSecret, -GraphAccessToken or -ManagedIdentity.", c.Name);
            if (ManagedIdentityClientId != null && !ManagedIdentity && !g.ManagedIdentity)
                throw new ChatterException("ChatterConnector.GraphSettingMissing", ChatterErrorKind.InvalidArgument,
                    $"The connector '{c.Name}' does not sign in with a managed identity: -ManagedIdentityClientId goes with -ManagedIdentity.", c.Name);

            // One Graph sign-in at a time: a new certificate, secret, token or identity replaces the one before.
            if (CertificatePath != null) { ClearGraphSignIn(g); g.CertificatePath = ResolvePath(CertificatePath); }
            if (CertificateThumbprint != null) { ClearGraphSignIn(g); g.CertificateThumbprint = CertificateThumbprint.ToUpperInvariant(); }
            if (ClientSecret != null || GraphAccessToken != null) ClearGraphSignIn(g); // the secret itself is stored after -WhatIf
            if (ManagedIdentity) { ClearGraphSignIn(g); g.ManagedIdentity = true; }
            if (ManagedIdentityClientId != null) g.ManagedIdentityClientId = ManagedIdentityClientId.Trim();
            if (TenantId != null) g.TenantId = TenantId.Trim();
            if (ClientId != null) g.ClientId = ClientId.Trim();

            // An app registration's sign-in (certificate or secret) needs the tenant and the app.
            var appSignIn = g.CertificatePath != null || g.CertificateThumbprint != null || g.ClientSecret != null || ClientSecret != null;
            if (appSignIn && (string.IsNullOrWhiteSpace(g.TenantId) || string.IsNullOrWhiteSpace(g.ClientId)))
                throw new ChatterException("ChatterConnector.GraphSettingMissing", ChatterErrorKind.InvalidArgument,
                    $"The connector '{c.Name}' would sign in as an app registration but has no {(string.IsNullOrWhiteSpace(g.TenantId) ? "-TenantId" : "-ClientId")}: give it with this command.", c.Name);
        }

        private static readonly string[] SalesforceParameters =
        {
            nameof(SalesforceLoginUrl), nameof(SalesforceApiVersion), nameof(MaxApiUsagePercent), nameof(StartDate), nameof(SalesforceCertificatePath),
            nameof(SalesforceCertificateThumbprint), nameof(SalesforceCertificatePassword), nameof(SalesforceClientSecret), nameof(SalesforceRefreshToken),
            nameof(SalesforcePassword), nameof(SalesforceSecurityToken), nameof(SalesforceAccessToken),
        };

        protected override void ProcessRecord()
        {
            Try(() =>
            {
                var c = ResolveConnector();
                if (c == null) return;
                var salesforceChanges = Array.FindAll(SalesforceParameters, p => MyInvocation.BoundParameters.ContainsKey(p));
                if (salesforceChanges.Length > 0 && c.Salesforce == null)
                    throw new ChatterException("ChatterConnector.NotAnApiConnector", ChatterErrorKind.InvalidArgument,
                        $"The connector '{c.Name}' reads an export folder, so -{salesforceChanges[0]} does not apply. Create a connector with the -Salesforce* parameters of New-ChatterConnector to read the REST API.", c.Name);
                var graphChanges = Array.FindAll(GraphParameters, p => MyInvocation.BoundParameters.ContainsKey(p));
                if (graphChanges.Length > 0 && c.Graph == null)
                    throw new ChatterException("ChatterConnector.NotAGraphConnector", ChatterErrorKind.InvalidArgument,
                        $"The connector '{c.Name}' writes a Maildir, so -{graphChanges[0]} does not apply. Create a connector with -TenantId and a sign-in to deliver into Microsoft 365 mailboxes.", c.Name);
                if (MaildirPath != null && c.Graph != null)
                    throw new ChatterException("ChatterConnector.NotAMaildirConnector", ChatterErrorKind.InvalidArgument,
                        $"The connector '{c.Name}' delivers through Microsoft Graph, so -MaildirPath does not apply.", c.Name);
                if (GraphImportMode != null) c.Graph!.ImportMode = GraphImportMode.Value;
                if (ThrottleLimit != null) c.Graph!.ThrottleLimit = ThrottleLimit.Value;
                if (c.Graph != null) SetGraphSignIn(c);
                if (SourcePath != null && c.Salesforce != null)
                    throw new ChatterException("ChatterConnector.NotAnExportConnector", ChatterErrorKind.InvalidArgument,
                        $"The connector '{c.Name}' reads the Salesforce REST API, so -SourcePath does not apply. Create another connector to read an export folder.", c.Name);
                if (SalesforceLoginUrl != null) c.Salesforce!.LoginUrl = ConnectorSettings.ValidateSalesforceUrl(SalesforceLoginUrl, nameof(SalesforceLoginUrl));
                if (SalesforceApiVersion != null) c.Salesforce!.ApiVersion = SalesforceApiVersion;
                if (MaxApiUsagePercent != null) c.Salesforce!.MaxApiUsagePercent = MaxApiUsagePercent.Value;
                if (StartDate != null) c.Salesforce!.StartDate = new DateTimeOffset(StartDate.Value.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(StartDate.Value, DateTimeKind.Local) : StartDate.Value);
                if (SalesforceCertificatePath != null) { c.Salesforce!.CertificatePath = ResolvePath(SalesforceCertificatePath); c.Salesforce.CertificateThumbprint = null; }
                if (SalesforceCertificateThumbprint != null) { c.Salesforce!.CertificateThumbprint = SalesforceCertificateThumbprint.ToUpperInvariant(); c.Salesforce.CertificatePath = null; }
                if (FolderName != null) c.FolderName = MaildirTarget.ValidateFolderName(FolderName);
                if (Schedule != null) { ConnectorSettings.ValidateSchedule(Schedule.Value); c.Schedule = Schedule.Value; }
                if (AcceptedDomain != null) c.AcceptedDomain = ConnectorSettings.ValidateDomains(AcceptedDomain);
                if (InstanceUrl != null) c.InstanceUrl = ConnectorSettings.ValidateInstanceUrl(InstanceUrl);
                if (SourcePath != null) c.SourcePath = ResolvePath(SourcePath);
                if (MaildirPath != null) c.MaildirPath = ResolvePath(MaildirPath);
                if (StagingPath != null) { c.StagingPath = ResolvePath(StagingPath); c.BlobStaging = null; }
                // A new connection string alone (a rotated key) keeps the container it staged in.
                var containerName = StagingContainerName ?? (StagingConnectionString != null && c.BlobStaging?.ConnectionString != null ? c.BlobStaging.ContainerName : null);
                var blob = new BlobStagingParameters(StagingContainerUri, StagingConnectionString, containerName, StagingSasUri);
                blob.Validate(StagingPath);
                if (StagingContainerName != null && !blob.NamesContainer) BlobStagingParameters.Rename(c.BlobStaging, StagingContainerName, c.Name);
                if (StagingRetention != null) c.StagingRetention = BlobStagingParameters.ValidateRetention(StagingRetention.Value);
                if (!ShouldProcess($"Connector '{c.Name}'", "Set")) return;
                // A new container replaces the one before (and local staging): its messages stay where they are.
                if (blob.NamesContainer) { c.BlobStaging = blob.Create(Store().Secrets); c.StagingPath = null; }
                if (c.Graph != null)
                {
                    var secrets = Store().Secrets;
                    c.Graph.CertificatePassword = NewChatterConnectorCommand.Protect(secrets, CertificatePassword) ?? c.Graph.CertificatePassword;
                    c.Graph.ClientSecret = NewChatterConnectorCommand.Protect(secrets, ClientSecret) ?? c.Graph.ClientSecret;
                    c.Graph.AccessToken = NewChatterConnectorCommand.Protect(secrets, GraphAccessToken) ?? c.Graph.AccessToken;
                }
                if (c.Salesforce != null)
                {
                    var secrets = Store().Secrets;
                    var sf = c.Salesforce;
                    sf.CertificatePassword = NewChatterConnectorCommand.Protect(secrets, SalesforceCertificatePassword) ?? sf.CertificatePassword;
                    sf.ClientSecret = NewChatterConnectorCommand.Protect(secrets, SalesforceClientSecret) ?? sf.ClientSecret;
                    sf.RefreshToken = NewChatterConnectorCommand.Protect(secrets, SalesforceRefreshToken) ?? sf.RefreshToken;
                    sf.Password = NewChatterConnectorCommand.Protect(secrets, SalesforcePassword) ?? sf.Password;
                    sf.SecurityToken = NewChatterConnectorCommand.Protect(secrets, SalesforceSecurityToken) ?? sf.SecurityToken;
                    sf.AccessToken = NewChatterConnectorCommand.Protect(secrets, SalesforceAccessToken) ?? sf.AccessToken;
                }
                c.Modified = DateTimeOffset.UtcNow;
                Store().UpdateConnector(c);
                if (PassThru) WriteObject(Store().GetConnector(c.Name));
            });
        }
    }

    /// <summary>Removes a connector and its state from the store; what it archived stays in the mailboxes.</summary>
    [Cmdlet(VerbsCommon.Remove, "ChatterConnector", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = ByName)]
    [OutputType(typeof(void))]
    public sealed class RemoveChatterConnectorCommand : ConnectorCmdlet
    {
        protected override void ProcessRecord()
        {
            Try(() =>
            {
                var c = ResolveConnector();
                if (c == null) return;
                if (!ShouldProcess($"Connector '{c.Name}' and its checkpoints, ledger, runs and log (messages already archived stay)", "Remove")) return;
                Store().RemoveConnector(c.Name);
            });
        }
    }

    /// <summary>Shared by Suspend- and Resume-ChatterConnector.</summary>
    public abstract class SuspendResumeCommandBase : ConnectorCmdlet
    {
        [Parameter] public SwitchParameter PassThru { get; set; }

        protected abstract bool Suspend { get; }

        protected override void ProcessRecord()
        {
            Try(() =>
            {
                var c = ResolveConnector();
                if (c == null) return;
                if (!ShouldProcess($"Connector '{c.Name}'", Suspend ? "Suspend scheduled imports" : "Resume scheduled imports")) return;
                c.Suspended = Suspend;
                c.Modified = DateTimeOffset.UtcNow;
                Store().UpdateConnector(c);
                if (PassThru) WriteObject(Store().GetConnector(c.Name));
            });
        }
    }

    /// <summary>Pauses scheduled imports of a connector: Start-ChatterImport skips it unless -Force is given.</summary>
    [Cmdlet(VerbsLifecycle.Suspend, "ChatterConnector", SupportsShouldProcess = true, DefaultParameterSetName = ByName)]
    [OutputType(typeof(ChatterConnectorInfo))]
    public sealed class SuspendChatterConnectorCommand : SuspendResumeCommandBase
    {
        protected override bool Suspend => true;
    }

    /// <summary>Resumes scheduled imports of a suspended connector.</summary>
    [Cmdlet(VerbsLifecycle.Resume, "ChatterConnector", SupportsShouldProcess = true, DefaultParameterSetName = ByName)]
    [OutputType(typeof(ChatterConnectorInfo))]
    public sealed class ResumeChatterConnectorCommand : SuspendResumeCommandBase
    {
        protected override bool Suspend => false;
    }
}
