using System;
using System.Management.Automation;
using System.Threading;

namespace ChatterConnector.Commands
{
    /// <summary>
    /// Base of every ChatterConnector cmdlet: the -StorePath parameter, a cancellation token that
    /// Ctrl+C (StopProcessing) cancels, and the one place where engine exceptions become error records.
    /// </summary>
    public abstract class ChatterCmdlet : PSCmdlet
    {
        private readonly CancellationTokenSource _cancel = new CancellationTokenSource();

        /// <summary>The connector store folder. Default: $env:CHATTERCONNECTOR_HOME, else a folder in the user's profile.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? StorePath { get; set; }

        protected CancellationToken CancellationToken => _cancel.Token;

        protected override void StopProcessing() => _cancel.Cancel();

        /// <summary>Resolves a path the user typed against the current PowerShell location.</summary>
        protected string ResolvePath(string path) =>
            SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

        protected string? ResolveOptionalPath(string? path) =>
            string.IsNullOrEmpty(path) ? null : ResolvePath(path!);
    }
}
