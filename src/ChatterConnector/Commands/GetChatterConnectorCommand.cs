using System.Management.Automation;
using ChatterConnector.Engine.Model;

namespace ChatterConnector.Commands
{
    /// <summary>Lists connectors; -Name takes wildcards.</summary>
    [Cmdlet(VerbsCommon.Get, "ChatterConnector")]
    [OutputType(typeof(ChatterConnectorInfo))]
    public sealed class GetChatterConnectorCommand : ChatterCmdlet
    {
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("ConnectorName")]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(ConnectorNameCompleter))]
        public string[]? Name { get; set; }

        protected override void ProcessRecord()
        {
            Try(() =>
            {
                foreach (var c in FindConnectors(Name)) WriteObject(c);
            }, terminating: true);
        }
    }
}
