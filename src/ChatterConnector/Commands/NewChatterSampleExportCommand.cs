using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using ChatterConnector.Engine.Sources.Sample;

namespace ChatterConnector.Commands
{
    /// <summary>
    /// <para type="synopsis">Writes a deterministic sample Salesforce data export (CSV files and file bytes) to a folder.</para>
    /// <para type="description">The same -Seed always produces the same bytes. The org has users, groups, posts on
    /// user, group and record feeds, comments, @mentions, edits, deletions, private messages and files, including
    /// awkward cases (non-ASCII names, hostile rich text, odd file names, a listed-but-missing file).</para>
    /// </summary>
    [Cmdlet(VerbsCommon.New, "ChatterSampleExport", SupportsShouldProcess = true)]
    [OutputType(typeof(SampleExportSummary))]
    public sealed class NewChatterSampleExportCommand : ChatterCmdletBase
    {
        /// <summary>The folder to write the export to; created when missing.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = "";

        /// <summary>Number of users (default 25).</summary>
        [Parameter]
        [ValidateRange(1, 1000000)]
        public int Users { get; set; } = 25;

        /// <summary>Number of feed items (default 200).</summary>
        [Parameter]
        [ValidateRange(0, 10000000)]
        public int Posts { get; set; } = 200;

        /// <summary>The seed (default 1): the same seed gives the same export, byte for byte.</summary>
        [Parameter]
        public int Seed { get; set; } = 1;

        /// <summary>Write into a folder that is not empty (files of the same names are overwritten).</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void ProcessRecord()
        {
            var path = ResolvePath(Path);
            if (File.Exists(path))
            {
                ThrowTerminatingError(new ErrorRecord(
                    new IOException($"'{path}' is a file, not a folder."),
                    "ChatterSample.PathIsFile", ErrorCategory.ResourceExists, path));
            }
            if (Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any() && !Force)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new IOException($"The folder '{path}' is not empty. Use -Force to write into it anyway."),
                    "ChatterSample.FolderNotEmpty", ErrorCategory.ResourceExists, path));
            }
            if (!ShouldProcess(path, "Write a sample Salesforce data export")) return;

            try
            {
                var org = SampleOrgGenerator.Generate(new SampleOrgOptions { Users = Users, Posts = Posts, Seed = Seed });
                CancellationToken.ThrowIfCancellationRequested();
                WriteObject(org.WriteExport(path, CancellationToken));
            }
            catch (OperationCanceledException) when (CancellationToken.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                ThrowTerminatingError(new ErrorRecord(ex, "ChatterSample.WriteFailed", ErrorCategory.WriteError, path));
            }
        }
    }
}
