using System;
using System.Management.Automation;
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
        [Parameter] [ValidateNotNullOrEmpty] public string? FolderName { get; set; }
        [Parameter] [AllowEmptyCollection] public string[]? AcceptedDomain { get; set; }
        [Parameter] public TimeSpan? Schedule { get; set; }
        [Parameter] [ValidateNotNullOrEmpty] public string? InstanceUrl { get; set; }
        [Parameter] public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            Try(() =>
            {
                var c = ResolveConnector();
                if (c == null) return;
                if (FolderName != null) c.FolderName = MaildirTarget.ValidateFolderName(FolderName);
                if (Schedule != null) { ConnectorSettings.ValidateSchedule(Schedule.Value); c.Schedule = Schedule.Value; }
                if (AcceptedDomain != null) c.AcceptedDomain = ConnectorSettings.ValidateDomains(AcceptedDomain);
                if (InstanceUrl != null) c.InstanceUrl = ConnectorSettings.ValidateInstanceUrl(InstanceUrl);
                if (SourcePath != null) c.SourcePath = ResolvePath(SourcePath);
                if (MaildirPath != null) c.MaildirPath = ResolvePath(MaildirPath);
                if (StagingPath != null) c.StagingPath = ResolvePath(StagingPath);
                if (!ShouldProcess($"Connector '{c.Name}'", "Set")) return;
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
