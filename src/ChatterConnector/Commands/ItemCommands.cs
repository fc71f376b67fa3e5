using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using ChatterConnector.Engine;
using ChatterConnector.Engine.Conversion;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources;

namespace ChatterConnector.Commands
{
    /// <summary>Reads items from a connector's source, or from an export folder, without importing them.</summary>
    [Cmdlet(VerbsCommon.Get, "ChatterItem", DefaultParameterSetName = ByName)]
    [OutputType(typeof(ChatterItem))]
    public sealed class GetChatterItemCommand : ChatterCmdlet
    {
        private const string ByName = "ByName";
        private const string ByObject = "ByInputObject";
        private const string BySource = "BySourcePath";

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByName, ValueFromPipelineByPropertyName = true)]
        [Alias("ConnectorName")]
        [ArgumentCompleter(typeof(ConnectorNameCompleter))]
        public string Name { get; set; } = "";

        [Parameter(Mandatory = true, ParameterSetName = ByObject, ValueFromPipeline = true)]
        public ChatterConnectorInfo? InputObject { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = BySource)]
        [ValidateNotNullOrEmpty]
        public string SourcePath { get; set; } = "";

        [Parameter] public ChatterItemType[]? ItemType { get; set; }

        /// <summary>Only the item(s) with these Salesforce ids or keys.</summary>
        [Parameter] [SupportsWildcards] public string[]? Id { get; set; }

        protected override void ProcessRecord()
        {
            Try(() =>
            {
                IChatterSource source;
                if (ParameterSetName == BySource) source = new ExportFolderSource(ResolvePath(SourcePath));
                else
                {
                    UseStoreOf(InputObject?.StorePath);
                    source = SourceFactory.Create(Store().GetConnector(InputObject?.Name ?? Name), Store());
                }
                using var owned = source as IDisposable;
                var dir = source.ReadDirectory();
                var patterns = Id?.Select(i => WildcardPattern.Get(i, WildcardOptions.IgnoreCase)).ToArray();
                foreach (var rec in ItemReader.ReadWithParticipants(source, dir))
                {
                    if (Stopping) return;
                    if (rec.Item == null)
                    {
                        WriteError(new ErrorRecord(new ChatterException("ChatterSource.BadRow", ChatterErrorKind.InvalidData, rec.Error!, rec.Key),
                            "ChatterSource.BadRow", ErrorCategory.InvalidData, rec.Key));
                        continue;
                    }
                    if (ItemType != null && !ItemType.Contains(rec.Item.ItemType)) continue;
                    if (patterns != null && !patterns.Any(p => p.IsMatch(rec.Item.Id) || p.IsMatch(rec.Item.Key))) continue;
                    WriteObject(rec.Item);
                }
            });
        }
    }

    /// <summary>Converts Chatter items to MIME messages, exactly as an import stages them.</summary>
    [Cmdlet(VerbsData.ConvertTo, "ChatterMessage")]
    [OutputType(typeof(ChatterMessage))]
    public sealed class ConvertToChatterMessageCommand : ChatterCmdletBase
    {
        private readonly MessageConverter _converter = new MessageConverter();

        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public ChatterItem[] Item { get; set; } = new ChatterItem[0];

        protected override void ProcessRecord()
        {
            foreach (var item in Item)
            {
                if (CancellationToken.IsCancellationRequested) return;
                try
                {
                    WriteObject(_converter.Convert(item));
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is ArgumentException || ex is FormatException)
                {
                    WriteError(new ErrorRecord(ex, "ChatterConvert.Failed", ErrorCategory.InvalidData, item));
                }
            }
        }
    }

    /// <summary>Writes Chatter items or messages as .eml files into a folder (for ad-hoc eDiscovery exports).</summary>
    [Cmdlet(VerbsData.Export, "ChatterMessage", SupportsShouldProcess = true, DefaultParameterSetName = "ByItem")]
    [OutputType(typeof(FileInfo))]
    public sealed class ExportChatterMessageCommand : ChatterCmdletBase
    {
        private readonly MessageConverter _converter = new MessageConverter();

        [Parameter(Mandatory = true, ParameterSetName = "ByItem", ValueFromPipeline = true)]
        [ValidateNotNull]
        public ChatterItem[]? Item { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "ByMessage", ValueFromPipeline = true)]
        [ValidateNotNull]
        public ChatterMessage[]? Message { get; set; }

        /// <summary>The folder the .eml files are written to; created when missing.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = "";

        /// <summary>Overwrite files that exist.</summary>
        [Parameter] public SwitchParameter Force { get; set; }

        protected override void ProcessRecord()
        {
            var folder = ResolvePath(Path);
            if (Item != null)
                foreach (var item in Item)
                {
                    try { Export(_converter.Convert(item), folder); }
                    catch (Exception ex) when (ex is ArgumentException || ex is FormatException)
                    {
                        WriteError(new ErrorRecord(ex, "ChatterConvert.Failed", ErrorCategory.InvalidData, item));
                    }
                }
            if (Message != null)
                foreach (var m in Message) Export(m, folder);
        }

        private void Export(ChatterMessage message, string folder)
        {
            var file = System.IO.Path.Combine(folder, FileNameFor(message.ItemKey));
            if (!ShouldProcess(file, "Write message " + message.MessageId)) return;
            try
            {
                if (File.Exists(file) && !Force)
                {
                    WriteError(new ErrorRecord(new IOException($"The file '{file}' exists; -Force overwrites it."), "ChatterExport.FileExists", ErrorCategory.ResourceExists, file));
                    return;
                }
                Directory.CreateDirectory(folder);
                var tmp = file + ".tmp";
                using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
                    message.WriteTo(stream);
                if (File.Exists(file)) File.Delete(file);
                File.Move(tmp, file);
                WriteObject(new FileInfo(file));
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                WriteError(new ErrorRecord(ex, "ChatterExport.WriteFailed", ErrorCategory.WriteError, file));
            }
        }

        /// <summary>Item keys are Salesforce ids with ".r2" or ".deleted": safe already, but keep only what is.</summary>
        private static string FileNameFor(string key) =>
            new string(key.Select(c => c < 128 && (char.IsLetterOrDigit(c) || c == '.' || c == '-' || c == '_') ? c : '_').ToArray()).TrimStart('.') + ".eml";
    }
}
