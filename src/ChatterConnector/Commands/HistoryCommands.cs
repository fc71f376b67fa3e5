using System;
using System.Linq;
using System.Management.Automation;
using ChatterConnector.Engine;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.State;

namespace ChatterConnector.Commands
{
    /// <summary>
    /// Shared by the cmdlets that read a connector's history: -Name (wildcards; bound from a piped
    /// connector or run) and -RunId (bound from a piped run).
    /// </summary>
    public abstract class RunHistoryCmdlet : ChatterCmdlet
    {
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("ConnectorName")]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(ConnectorNameCompleter))]
        public string[]? Name { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? RunId { get; set; }
    }

    /// <summary>The history of import runs, oldest first.</summary>
    [Cmdlet(VerbsCommon.Get, "ChatterImportRun")]
    [OutputType(typeof(ChatterImportRun))]
    public sealed class GetChatterImportRunCommand : RunHistoryCmdlet
    {
        /// <summary>Only the most recent N runs of each connector.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int Last { get; set; }

        protected override void ProcessRecord()
        {
            Try(() =>
            {
                foreach (var c in FindConnectors(Name))
                {
                    var runs = Store().GetRuns(c.Name, RunId).ToList();
                    foreach (var r in Last > 0 ? runs.Skip(Math.Max(0, runs.Count - Last)) : runs) WriteObject(r);
                }
            }, terminating: true);
        }
    }

    /// <summary>
    /// The connector log: one entry per item and mailbox and run, with its status and reason.
    /// -OutFile writes it as CSV instead.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "ChatterConnectorLog", SupportsShouldProcess = true)]
    [OutputType(typeof(ChatterLogEntry))]
    public sealed class GetChatterConnectorLogCommand : RunHistoryCmdlet
    {
        [Parameter] public DeliveryStatus[]? Status { get; set; }

        [Parameter] public DateTime? Since { get; set; }

        /// <summary>Write the entries to this CSV file instead of the pipeline.</summary>
        [Parameter] [ValidateNotNullOrEmpty] public string? OutFile { get; set; }

        protected override void ProcessRecord()
        {
            Try(() =>
            {
                var since = Since == null ? (DateTimeOffset?)null : new DateTimeOffset(Since.Value.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(Since.Value, DateTimeKind.Local) : Since.Value);
                var connectors = FindConnectors(Name).ToList();
                var entries = connectors.SelectMany(c => Store().QueryLog(c.Name, RunId, Status, since));
                if (OutFile != null)
                {
                    var path = ResolvePath(OutFile);
                    if (!ShouldProcess(path, "Write the connector log as CSV")) return;
                    try
                    {
                        var n = LogCsvWriter.Write(path, entries);
                        WriteVerbose($"Wrote {n} log entries to '{path}'.");
                    }
                    catch (Exception ex) when (ex is System.IO.IOException || ex is UnauthorizedAccessException)
                    {
                        WriteError(ToErrorRecord(new ChatterException("ChatterLog.OutFileNotWritable", ChatterErrorKind.WriteError,
                            $"The log cannot be written to '{path}': {ex.Message}", path, ex)));
                    }
                    return;
                }
                foreach (var e in entries) WriteObject(e);
            }, terminating: true);
        }
    }
}
