using System;
using System.IO;
using System.Management.Automation;
using ChatterConnector.Engine;
using ChatterConnector.Engine.Import;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources;

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
        protected override void ProcessRecord()
        {
            Try(() =>
            {
                var c = ResolveConnector();
                if (c == null) return;
                WriteObject(Check(c, "Source", c.SourcePath ?? "", () =>
                {
                    var dir = SourceFactory.Create(c).ReadDirectory();
                    return $"The export can be read: {dir.Users.Count} users, {dir.GroupNames.Count} groups.";
                }));
                var staging = string.IsNullOrEmpty(c.StagingPath) ? ImportPipeline.DefaultStagingPath(Store().StorePath, c.Name) : c.StagingPath!;
                WriteObject(Check(c, "Staging", staging, () => Writable(staging)));
                WriteObject(Check(c, "Target", c.MaildirPath ?? "", () => Writable(c.MaildirPath ?? "")));
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

        private static string Writable(string folder)
        {
            if (folder.Length == 0) throw new IOException("No folder is set.");
            Directory.CreateDirectory(folder);
            var probe = Path.Combine(folder, ".chatterconnector-probe-" + Guid.NewGuid().ToString("N"));
            File.WriteAllText(probe, "probe");
            File.Delete(probe);
            return $"'{folder}' can be written.";
        }
    }
}
