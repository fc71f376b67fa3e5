using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Security;
using System.Threading;
using ChatterConnector.Engine;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.State;

namespace ChatterConnector.Commands
{
    /// <summary>
    /// Base of every ChatterConnector cmdlet: a cancellation token that Ctrl+C (StopProcessing)
    /// cancels, path resolution, and the one place where engine exceptions become error records.
    /// </summary>
    public abstract class ChatterCmdletBase : PSCmdlet, IDisposable
    {
        private readonly CancellationTokenSource _cancel = new CancellationTokenSource();

        protected CancellationToken CancellationToken => _cancel.Token;

        protected override void StopProcessing() => _cancel.Cancel();

        /// <summary>Resolves a path the user typed against the current PowerShell location.</summary>
        protected string ResolvePath(string path) =>
            SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

        protected string? ResolveOptionalPath(string? path) =>
            string.IsNullOrEmpty(path) ? null : ResolvePath(path!);

        public virtual void Dispose() => _cancel.Dispose();
    }

    /// <summary>
    /// Base of the cmdlets that use the connector store: the -StorePath, -StoreUri and -StoreConnectionString
    /// parameters (one at most) and the open store.
    /// </summary>
    public abstract class ChatterCmdlet : ChatterCmdletBase
    {
        private readonly Dictionary<string, IConnectorStore> _stores = new Dictionary<string, IConnectorStore>(StringComparer.Ordinal);
        private string? _typedStore;

        /// <summary>The local connector store folder. Default: $env:CHATTERCONNECTOR_STORE, else $env:CHATTERCONNECTOR_HOME, else a folder in the user's profile.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? StorePath { get; set; }

        /// <summary>An Azure store: its blob container URI, signed in with Microsoft Entra ID (managed identity, Az or az login).</summary>
        [Parameter]
        [ValidateNotNull]
        public Uri? StoreUri { get; set; }

        /// <summary>An Azure store: the storage account's connection string (with Container=… and TablePrefix=… when not the defaults).</summary>
        [Parameter]
        [ValidateNotNull]
        public SecureString? StoreConnectionString { get; set; }

        /// <summary>Whether the command line named a store (not a piped object's store).</summary>
        protected bool StoreGiven => _typedStore != null;

        protected override void BeginProcessing()
        {
            // Only parameters typed on the command line are bound yet; piped ones come per record.
            var given = Given(nameof(StorePath), nameof(StoreUri), nameof(StoreConnectionString));
            if (given.Count > 1)
                ThrowTerminatingError(NewError("ChatterStore.AmbiguousStore", ErrorCategory.InvalidArgument, null,
                    $"-{given[0]} and -{given[1]} both name a connector store; give one of -StorePath, -StoreUri and -StoreConnectionString."));
            _typedStore = given.Count == 1 ? given[0] : null;
            base.BeginProcessing();
        }

        /// <summary>Which of <paramref name="parameters"/> the command line gives, in that order.</summary>
        protected List<string> Given(params string[] parameters) =>
            parameters.Where(p => MyInvocation.BoundParameters.ContainsKey(p)).ToList();

        /// <summary>
        /// The store the command line names, else the store of the piped object (-StorePath bound by property
        /// name: a folder or a container URI), else $env:CHATTERCONNECTOR_STORE, else the default local store;
        /// opened once per cmdlet.
        /// </summary>
        protected IConnectorStore Store()
        {
            string key;
            Func<IConnectorStore> open;
            if (_typedStore == nameof(StoreConnectionString))
            {
                var cs = SecureStrings.ToPlainText(StoreConnectionString!);
                key = "cs:" + cs;
                open = () => StoreFactory.OpenConnectionString(cs);
            }
            else if (_typedStore == nameof(StoreUri))
            {
                key = StoreUri!.ToString();
                open = () => StoreFactory.OpenUri(StoreUri!);
            }
            else if (!string.IsNullOrEmpty(StorePath) && StoreFactory.IsUri(StorePath!))
            {
                key = StorePath!;
                open = () => StoreFactory.OpenUri(new Uri(StorePath!));
            }
            else if (!string.IsNullOrEmpty(StorePath))
            {
                key = StoreLocation.Resolve(ResolvePath(StorePath!));
                open = () => ConnectorStore.Open(key);
            }
            else
            {
                key = "";
                open = () => StoreFactory.Open(null);
            }
            if (!_stores.TryGetValue(key, out var store))
            {
                store = open();
                _stores[key] = store;
            }
            return store;
        }

        /// <summary>
        /// Where <see cref="Store"/> would open the store, without opening (and so creating) it: for
        /// -WhatIf messages. A connection string is never shown.
        /// </summary>
        protected string StoreDescription()
        {
            if (_typedStore == nameof(StoreConnectionString)) return "the store of the given connection string";
            if (_typedStore == nameof(StoreUri)) return StoreUri!.ToString();
            if (!string.IsNullOrEmpty(StorePath))
                return StoreFactory.IsUri(StorePath!) ? StorePath! : StoreLocation.Resolve(ResolvePath(StorePath!));
            var env = Environment.GetEnvironmentVariable(StoreFactory.EnvironmentVariable);
            if (string.IsNullOrWhiteSpace(env)) return StoreLocation.Resolve(null);
            return StoreFactory.IsConnectionString(env!) ? "the store named by $env:" + StoreFactory.EnvironmentVariable : env!.Trim();
        }

        /// <summary>Turns an engine failure into an error record with its own id, category and target.</summary>
        protected static ErrorRecord ToErrorRecord(ChatterException ex) =>
            new ErrorRecord(ex, ex.ErrorId, Category(ex.Kind), ex.Target);

        protected static ErrorRecord NewError(string errorId, ErrorCategory category, object? target, string message, Exception? inner = null) =>
            new ErrorRecord(new ChatterException(errorId, ChatterErrorKind.InvalidArgument, message, target, inner), errorId, category, target);

        protected static ErrorCategory Category(ChatterErrorKind kind)
        {
            switch (kind)
            {
                case ChatterErrorKind.InvalidArgument: return ErrorCategory.InvalidArgument;
                case ChatterErrorKind.InvalidData: return ErrorCategory.InvalidData;
                case ChatterErrorKind.ObjectNotFound: return ErrorCategory.ObjectNotFound;
                case ChatterErrorKind.ResourceExists: return ErrorCategory.ResourceExists;
                case ChatterErrorKind.ResourceBusy: return ErrorCategory.ResourceBusy;
                case ChatterErrorKind.ResourceUnavailable: return ErrorCategory.ResourceUnavailable;
                case ChatterErrorKind.PermissionDenied: return ErrorCategory.PermissionDenied;
                case ChatterErrorKind.WriteError: return ErrorCategory.WriteError;
                case ChatterErrorKind.ReadError: return ErrorCategory.ReadError;
                case ChatterErrorKind.AuthenticationError: return ErrorCategory.AuthenticationError;
                case ChatterErrorKind.OperationStopped: return ErrorCategory.OperationStopped;
                default: return ErrorCategory.InvalidOperation;
            }
        }

        /// <summary>
        /// Runs <paramref name="action"/>; a ChatterException becomes a non-terminating error (the
        /// pipeline goes on with the next input), or a terminating one with <paramref name="terminating"/>.
        /// </summary>
        protected void Try(Action action, bool terminating = false)
        {
            try
            {
                action();
            }
            catch (ChatterException ex)
            {
                if (terminating) ThrowTerminatingError(ToErrorRecord(ex));
                WriteError(ToErrorRecord(ex));
            }
        }

        /// <summary>Connectors named by wildcard patterns; a plain name that matches nothing is a not-found error.</summary>
        protected IEnumerable<ChatterConnectorInfo> FindConnectors(string[]? names)
        {
            var all = Store().ListConnectors();
            if (names == null || names.Length == 0)
            {
                foreach (var c in all) yield return c;
                yield break;
            }
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var name in names)
            {
                var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
                var found = false;
                foreach (var c in all)
                {
                    if (!pattern.IsMatch(c.Name)) continue;
                    found = true;
                    if (seen.Add(c.Name)) yield return c;
                }
                if (!found && !WildcardPattern.ContainsWildcardCharacters(name))
                    WriteError(ToErrorRecord(new ChatterException("ChatterConnector.NotFound", ChatterErrorKind.ObjectNotFound,
                        $"There is no connector named '{name}' in the store '{Store().StorePath}'. Get-ChatterConnector lists them.", name)));
            }
        }

        /// <summary>A piped object's store is used when the command line names none.</summary>
        protected void UseStoreOf(string? storePath)
        {
            if (!StoreGiven && !string.IsNullOrEmpty(storePath)) StorePath = storePath;
        }

        public override void Dispose()
        {
            foreach (var s in _stores.Values) s.Dispose();
            _stores.Clear();
            base.Dispose();
        }
    }

    /// <summary>
    /// Base of the cmdlets that act on one connector: -Name (bound by property name, so a
    /// ChatterImportRun or a CSV row works too) or -InputObject (a piped connector).
    /// </summary>
    public abstract class ConnectorCmdlet : ChatterCmdlet
    {
        protected const string ByName = "ByName";
        protected const string ByObject = "ByInputObject";

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByName, ValueFromPipelineByPropertyName = true)]
        [Alias("ConnectorName")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ConnectorNameCompleter))]
        public string Name { get; set; } = "";

        [Parameter(Mandatory = true, ParameterSetName = ByObject, ValueFromPipeline = true)]
        [ValidateNotNull]
        public ChatterConnectorInfo? InputObject { get; set; }

        /// <summary>The connector this record is about, read fresh from its store; null after writing a not-found error.</summary>
        protected ChatterConnectorInfo? ResolveConnector()
        {
            UseStoreOf(InputObject?.StorePath);
            var name = InputObject?.Name ?? Name;
            var c = Store().FindConnector(name);
            if (c == null)
                WriteError(ToErrorRecord(new ChatterException("ChatterConnector.NotFound", ChatterErrorKind.ObjectNotFound,
                    $"There is no connector named '{name}' in the store '{Store().StorePath}'. Get-ChatterConnector lists them.", name)));
            return c;
        }
    }
}
