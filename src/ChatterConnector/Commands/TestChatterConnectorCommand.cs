using System;
using System.IO;
using System.Management.Automation;
using ChatterConnector.Engine;
using ChatterConnector.Engine.Import;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources;
using ChatterConnector.Engine.Sources.Salesforce;
using ChatterConnector.Engine.Staging;
using ChatterConnector.Engine.Targets;
using ChatterConnector.Engine.Targets.Graph;

namespace ChatterConnector.Commands
{
    /// <summary>One check of Test-ChatterConnector.</summary>
    public sealed class ChatterConnectorTestResult
    {
        public string ConnectorName { get; set; } = "";
        public string Check { get; set; } = "";
        public string Target { get; set; } = "";
        public bool Succeeded { get; set; }
        public string Message { get; set; } = "";
    }

    /// <summary>Checks that the connector's source can be read and its staging folder and Maildir written.</summary>
    [Cmdlet(VerbsDiagnostic.Test, "ChatterConnector", DefaultParameterSetName = ByName)]
    [OutputType(typeof(ChatterConnectorTestResult))]
    public sealed class TestChatterConnectorCommand : ConnectorCmdlet
    {
        /// <summary>For a Microsoft Graph connector: a mailbox to open, to check the app may write to it (default: the default mailbox).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Mailbox { get; set; }

        protected override void ProcessRecord()
        {
            Try(() =>
            {
                var c = ResolveConnector();
                if (c == null) return;
                if (c.Salesforce != null)
                {
                    using var api = (SalesforceApiSource)SourceFactory.Create(c, Store(), cancellationToken: CancellationToken);
                    foreach (var check in api.CheckAccess())
                        WriteObject(new ChatterConnectorTestResult { ConnectorName = c.Name, Check = check.Check, Target = c.Salesforce.LoginUrl, Succeeded = check.Succeeded, Message = check.Message });
                }
                else
                {
                    WriteObject(Check(c, "Source", c.SourcePath ?? "", () =>
                    {
                        var dir = SourceReader.ReadDirectory(c, Store());
                        return $"The export can be read: {dir.Users.Count} users, {dir.GroupNames.Count} groups.";
                    }));
                }
                WriteObject(CheckStaging(c));
                if (c.Graph != null)
                {
                    using var graph = (GraphTarget)TargetFactory.Create(c, Store());
                    foreach (var check in graph.CheckAccess(Mailbox ?? c.DefaultMailbox, CancellationToken))
                        WriteObject(new ChatterConnectorTestResult { ConnectorName = c.Name, Check = check.Check, Target = c.Graph.Endpoint, Succeeded = check.Succeeded, Message = check.Message });
                }
                else
                {
                    WriteObject(Check(c, "Target", c.MaildirPath ?? "", () => LocalStaging.Writable(c.MaildirPath ?? "")));
                }
            });
        }

        private static ChatterConnectorTestResult Check(ChatterConnectorInfo c, string check, string target, Func<string> probe, bool rethrow = false)
        {
            var result = new ChatterConnectorTestResult { ConnectorName = c.Name, Check = check, Target = target };
            try
            {
                result.Message = probe();
                result.Succeeded = true;
            }
            catch (ChatterException ex) when (!rethrow) { result.Message = ex.ErrorId + ": " + ex.Message; }
            catch (IOException ex) { result.Message = ex.Message; }
            catch (UnauthorizedAccessException ex) { result.Message = ex.Message; }
            return result;
        }

        /// <summary>
        /// The staging check: a probe blob written (and removed) in the container, or a probe file in
        /// the folder. A failure is also an error record with its own id and the container as target,
        /// so a runbook's -ErrorAction Stop catches it.
        /// </summary>
        private ChatterConnectorTestResult CheckStaging(ChatterConnectorInfo c)
        {
            var location = c.BlobStaging?.Location ?? (string.IsNullOrEmpty(c.StagingPath) ? ImportPipeline.DefaultStagingPath(Store().WorkPath, c.Name) : c.StagingPath!);
            try
            {
                using var staging = StagingFactory.Create(c, Store());
                return Check(c, "Staging", location, () => staging.Check(CancellationToken), rethrow: true);
            }
            catch (ChatterException ex)
            {
                WriteError(ToErrorRecord(ex));
                return new ChatterConnectorTestResult { ConnectorName = c.Name, Check = "Staging", Target = location, Message = ex.ErrorId + ": " + ex.Message };
            }
        }
    }
}
