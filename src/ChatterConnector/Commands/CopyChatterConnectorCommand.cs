using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Security;
using ChatterConnector.Engine;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.State;

namespace ChatterConnector.Commands
{
    /// <summary>
    /// Copies connectors with their state (checkpoints, staged items, participants, ledger, runs, log) to
    /// another store: a local store to Azure and back. Exactly-once survives the move.
    /// </summary>
    [Cmdlet(VerbsCommon.Copy, "ChatterConnector", SupportsShouldProcess = true, DefaultParameterSetName = ByName)]
    [OutputType(typeof(ChatterConnectorInfo))]
    public sealed class CopyChatterConnectorCommand : ChatterCmdlet
    {
        private const string ByName = "ByName";
        private const string ByObject = "ByInputObject";

        private IConnectorStore? _destination;
        private int _copies;

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByName, ValueFromPipelineByPropertyName = true)]
        [Alias("ConnectorName")]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ConnectorNameCompleter))]
        public string[] Name { get; set; } = new string[0];

        [Parameter(Mandatory = true, ParameterSetName = ByObject, ValueFromPipeline = true)]
        [ValidateNotNull]
        public ChatterConnectorInfo? InputObject { get; set; }

        /// <summary>A local store folder to copy into.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? DestinationStorePath { get; set; }

        /// <summary>An Azure store to copy into: its blob container URI, signed in with Microsoft Entra ID.</summary>
        [Parameter]
        [ValidateNotNull]
        public Uri? DestinationStoreUri { get; set; }

        /// <summary>An Azure store to copy into: the storage account's connection string.</summary>
        [Parameter]
        [ValidateNotNull]
        public SecureString? DestinationStoreConnectionString { get; set; }

        /// <summary>The name of the copy (only when one connector is copied).</summary>
        [Parameter]
        [ValidatePattern(@"^[A-Za-z0-9][A-Za-z0-9._ -]{0,63}$")]
        public string? NewName { get; set; }

        /// <summary>Replaces a connector of the same name in the destination.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            var given = Given(nameof(DestinationStorePath), nameof(DestinationStoreUri), nameof(DestinationStoreConnectionString));
            if (given.Count == 0)
                ThrowTerminatingError(NewError("ChatterStore.DestinationMissing", ErrorCategory.InvalidArgument, null,
                    "Name the store to copy into with one of -DestinationStorePath, -DestinationStoreUri and -DestinationStoreConnectionString."));
            if (given.Count > 1)
                ThrowTerminatingError(NewError("ChatterStore.AmbiguousDestination", ErrorCategory.InvalidArgument, null,
                    $"-{given[0]} and -{given[1]} both name a destination store; give one of -DestinationStorePath, -DestinationStoreUri and -DestinationStoreConnectionString."));
            if (NewName != null && Array.Exists(Name, WildcardPattern.ContainsWildcardCharacters))
                ThrowTerminatingError(NewError("ChatterConnector.NewNameNeedsOneConnector", ErrorCategory.InvalidArgument, NewName,
                    "-NewName names the copy of one connector; -Name has wildcards that may match several."));
        }

        protected override void ProcessRecord()
        {
            List<ChatterConnectorInfo> connectors = new List<ChatterConnectorInfo>();
            Try(() =>
            {
                if (InputObject != null)
                {
                    UseStoreOf(InputObject.StorePath);
                    connectors.Add(InputObject);
                }
                else connectors.AddRange(FindConnectors(Name));
            }, terminating: true);

            foreach (var c in connectors)
            {
                if (NewName != null && ++_copies > 1)
                {
                    WriteError(NewError("ChatterConnector.NewNameNeedsOneConnector", ErrorCategory.InvalidArgument, c.Name,
                        $"-NewName '{NewName}' names the copy of one connector; '{c.Name}' was not copied."));
                    continue;
                }
                var target = NewName ?? c.Name;
                if (!ShouldProcess($"Connector '{c.Name}' with its checkpoints, staged items, ledger, runs and log, as '{target}' in {DestinationDescription}", "Copy"))
                    continue;
                Try(() =>
                {
                    // An Azure destination protects secrets with the shared key: without it, fail before the store is even created.
                    if (_destination == null && DestinationStorePath == null && ConnectorCopy.HasProtectedSecrets(c))
                        SecretProtector.ForSharedStore(DestinationStoreUri?.ToString() ?? "(-DestinationStoreConnectionString)").CheckKey();
                    var copied = ConnectorCopy.Copy(Store(), c.Name, Destination(), NewName, Force, CancellationToken);
                    if (ConnectorCopy.WaitsOnLocalStaging(Store(), c))
                        WriteWarning($"The connector '{c.Name}' has deliveries still to do whose messages are staged in a local folder " +
                            $"('{(string.IsNullOrEmpty(c.StagingPath) ? Store().WorkPath : c.StagingPath)}'). Workers on other machines cannot read it: " +
                            "finish those deliveries with Start-ChatterImport before the copy takes over, or stage in Azure Blob storage " +
                            "(Set-ChatterConnector -StagingConnectionString or -StagingContainerUri).");
                    if (PassThru) WriteObject(copied);
                });
            }
        }

        /// <summary>The destination as a message names it; never the connection string (it holds the account key).</summary>
        private string DestinationDescription =>
            DestinationStorePath != null ? $"the store '{ResolvePath(DestinationStorePath)}'"
            : DestinationStoreUri != null ? $"the store '{DestinationStoreUri}'"
            : "the Azure store of -DestinationStoreConnectionString";

        /// <summary>The destination store, opened the first time a copy is confirmed (so -WhatIf creates nothing).</summary>
        private IConnectorStore Destination()
        {
            if (_destination != null) return _destination;
            if (DestinationStoreConnectionString != null)
                _destination = StoreFactory.OpenConnectionString(SecureStrings.ToPlainText(DestinationStoreConnectionString));
            else if (DestinationStoreUri != null)
                _destination = StoreFactory.OpenUri(DestinationStoreUri);
            else
                _destination = ConnectorStore.Open(ResolvePath(DestinationStorePath!));
            return _destination;
        }

        public override void Dispose()
        {
            _destination?.Dispose();
            _destination = null;
            base.Dispose();
        }
    }
}
