using System;
using System.IO;
using System.Management.Automation;
using ChatterConnector.Engine;
using ChatterConnector.Engine.Import;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources;
using ChatterConnector.Engine.Sources.Salesforce;
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
                var staging = string.IsNullOrEmpty(c.StagingPath) ? ImportPipeline.DefaultStagingPath(Store().WorkPath, c.Name) : c.StagingPath!;
                WriteObject(Check(c, "Staging", staging, () => Writable(staging)));
                if (c.Graph != null)
                {
                    using var graph = (GraphTarget)TargetFactory.Create(c, Store());
                    foreach (var check in graph.CheckAccess(Mailbox ?? c.DefaultMailbox, CancellationToken))
                        WriteObject(new ChatterConnectorTestResult { ConnectorName = c.Name, Check = check.Check, Target = c.Graph.Endpoint, Succeeded = check.Succeeded, Message = check.Message });
                }
                else
                {
                    WriteObject(Check(c, "Target", c.MaildirPath ?? "", () => Writable(c.MaildirPath ?? "")));
                }
            });
        }

        private static ChatterConnectorTestResult Check(ChatterConnectorInfo c, string check, string target, Func<string> probe)
        {
            var result = new ChatterConnectorTestResult { ConnectorName = c.Name, Check = check, Target = target };
            try
            {
                result.Message = probe();
                result.Succeeded = true;
            }
            catch (ChatterException ex) { result.Message = ex.ErrorId + ": " + ex.Message; }
            catch (IOException ex) { result.Message = ex.Message; }
            catch (UnauthorizedAccessException ex) { result.Message = ex.Message; }
            return result;
        }

        /// <summary>Probes that a file can be created in the folder, or, when it does not exist yet, in the nearest folder above it that does (creating nothing).</summary>
        private static string Writable(string folder)
        {
            if (folder.Length == 0) throw new IOException("No folder is set.");
            var existing = folder;
            while (!Directory.Exists(existing))
            {
                if (File.Exists(existing)) throw new IOException($"'{existing}' is a file, so '{folder}' cannot be created.");
                existing = Path.GetDirectoryName(existing) ?? throw new IOException($"No part of '{folder}' exists.");
            }
            var probe = Path.Combine(existing, ".chatterconnector-probe-" + Guid.NewGuid().ToString("N"));
            File.WriteAllText(probe, "probe");
            File.Delete(probe);
            return existing == folder ? $"'{folder}' can be written." : $"'{folder}' does not exist yet; it can be created in '{existing}'.";
        }
    }
}
