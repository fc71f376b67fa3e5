using System;
using System.Security;
using ChatterConnector.Engine;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Staging;
using ChatterConnector.Engine.State;

namespace ChatterConnector.Commands
{
    /// <summary>
    /// The blob staging parameters of New- and Set-ChatterConnector: which combinations name a
    /// container, checked before -WhatIf (a bad connection string is a parameter error), and the
    /// settings they make, with their secrets protected only once the change is confirmed.
    /// </summary>
    internal sealed class BlobStagingParameters
    {
        private readonly string? _containerUri;
        private readonly SecureString? _connectionString;
        private readonly string? _containerName;
        private readonly SecureString? _sasUri;
        private string? _location;

        public BlobStagingParameters(string? containerUri, SecureString? connectionString, string? containerName, SecureString? sasUri)
        {
            _containerUri = containerUri;
            _connectionString = connectionString;
            _containerName = containerName;
            _sasUri = sasUri;
        }

        /// <summary>True when a container is named (-StagingContainerUri, -StagingConnectionString or -StagingSasUri).</summary>
        public bool NamesContainer => _containerUri != null || _connectionString != null || _sasUri != null;

        /// <summary>Checks the parameters; <paramref name="stagingPath"/> is -StagingPath, which local staging takes instead.</summary>
        public void Validate(string? stagingPath)
        {
            var count = (_containerUri != null ? 1 : 0) + (_connectionString != null ? 1 : 0) + (_sasUri != null ? 1 : 0);
            if (count > 1)
                throw Invalid("ChatterStaging.CredentialAmbiguous", "Give one of -StagingContainerUri (signed in with Microsoft Entra), -StagingConnectionString or -StagingSasUri.");
            if (count == 1 && stagingPath != null)
                throw Invalid("ChatterConnector.TwoStagingAreas", "Give either -StagingPath (a local folder) or a blob container (-StagingContainerUri, -StagingConnectionString or -StagingSasUri), not both.");
            if (_containerName != null && _connectionString == null && count == 1)
                throw Invalid("ChatterStaging.ContainerNameNotApplicable", "-StagingContainerName goes with -StagingConnectionString: the URL of -StagingContainerUri and -StagingSasUri names the container.");
            if (_containerUri != null) _location = StagingFactory.ValidateContainerUri(_containerUri);
            if (_connectionString != null)
                _location = StagingFactory.ValidateConnectionString(SecureStrings.ToPlainText(_connectionString), _containerName ?? BlobStagingSettings.DefaultContainerName);
            if (_sasUri != null) _location = StagingFactory.ValidateSasUri(SecureStrings.ToPlainText(_sasUri));
            if (_containerName != null) StagingFactory.ValidateContainerName(_containerName);
        }

        /// <summary>The settings of the container named, with its secret protected for the store (after <see cref="Validate"/>).</summary>
        public BlobStagingSettings Create(SecretProtector secrets) => new BlobStagingSettings
        {
            ContainerUri = _containerUri == null ? null : _location,
            ConnectionString = NewChatterConnectorCommand.Protect(secrets, _connectionString),
            ContainerName = _containerName ?? BlobStagingSettings.DefaultContainerName,
            SasUri = NewChatterConnectorCommand.Protect(secrets, _sasUri),
            Location = _location ?? "",
        };

        /// <summary>Changes the container name of a connection-string container (Set-ChatterConnector -StagingContainerName alone).</summary>
        public static void Rename(BlobStagingSettings? settings, string containerName, string connectorName)
        {
            if (settings?.ConnectionString == null)
                throw new ChatterException("ChatterStaging.ContainerNameNotApplicable", ChatterErrorKind.InvalidArgument,
                    $"-StagingContainerName applies to a connector that stages in a container reached with -StagingConnectionString; '{connectorName}' does not.", connectorName);
            StagingFactory.ValidateContainerName(containerName);
            var at = settings.Location.LastIndexOf('/');
            settings.Location = (at > 0 ? settings.Location.Substring(0, at + 1) : "") + containerName;
            settings.ContainerName = containerName;
        }

        public static TimeSpan ValidateRetention(TimeSpan retention)
        {
            if (retention < TimeSpan.Zero)
                throw Invalid("ChatterConnector.InvalidStagingRetention", $"-StagingRetention {retention} is negative: give how long a staged message is kept after its import (for example 7.00:00:00).");
            return retention;
        }

        private static ChatterException Invalid(string id, string message) => new ChatterException(id, ChatterErrorKind.InvalidArgument, message, null);
    }
}
