using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using ChatterConnector.Engine;
using ChatterConnector.Engine.Mapping;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources;
using ChatterConnector.Engine.Targets;

namespace ChatterConnector.Commands
{
    /// <summary>
    /// Sets how Salesforce users map to mailboxes: a mapping file (read first), automatic mapping by
    /// the user's Email, and a default mailbox for the rest.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "ChatterUserMapping", SupportsShouldProcess = true, DefaultParameterSetName = ByName)]
    [OutputType(typeof(ChatterConnectorInfo))]
    public sealed class SetChatterUserMappingCommand : ConnectorCmdlet
    {
        [Parameter] public SwitchParameter Automatic { get; set; }

        [Parameter] [ValidateNotNullOrEmpty] public string? MappingFile { get; set; }

        /// <summary>The mailbox that receives what maps to nothing else. An empty string removes it.</summary>
        [Parameter] [AllowEmptyString] public string? DefaultMailbox { get; set; }

        [Parameter] public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            Try(() =>
            {
                var c = ResolveConnector();
                if (c == null) return;
                var changes = new List<string>();
                List<UserMappingRule>? rules = null;
                string? file = null;
                if (MappingFile != null)
                {
                    file = ResolvePath(MappingFile);
                    var problems = new List<MappingProblem>();
                    rules = UserMapper.ReadMappingFile(file, problems);
                    problems.AddRange(CheckAgainstSource(c, rules));
                    foreach (var p in problems)
                        WriteError(ToErrorRecord(new ChatterException(p.ErrorId, p.ErrorId == "ChatterMapping.UnknownUser" ? ChatterErrorKind.ObjectNotFound : ChatterErrorKind.InvalidData, p.Message, p.Target)));
                    changes.Add($"{rules.Count} rule(s) from '{file}'");
                }
                string? defaultMailbox = null;
                if (DefaultMailbox != null)
                {
                    defaultMailbox = DefaultMailbox.Length == 0 ? "" : ConnectorSettings.ValidateMailbox(DefaultMailbox, nameof(DefaultMailbox));
                    changes.Add(defaultMailbox.Length == 0 ? "no default mailbox" : "default mailbox " + defaultMailbox);
                }
                if (MyInvocation.BoundParameters.ContainsKey(nameof(Automatic)))
                    changes.Add(Automatic ? "automatic mapping by email on" : "automatic mapping off");
                if (changes.Count == 0)
                {
                    WriteWarning("No mapping setting was given: use -Automatic, -MappingFile or -DefaultMailbox.");
                    if (PassThru) WriteObject(c);
                    return;
                }
                if (!ShouldProcess($"Connector '{c.Name}': {string.Join(", ", changes)}", "Set user mapping")) return;
                if (rules != null) { c.MappingRules = rules; c.MappingFile = file; }
                if (defaultMailbox != null) c.DefaultMailbox = defaultMailbox.Length == 0 ? null : defaultMailbox;
                if (MyInvocation.BoundParameters.ContainsKey(nameof(Automatic))) c.AutomaticMapping = Automatic;
                c.Modified = DateTimeOffset.UtcNow;
                Store().UpdateConnector(c);
                if (PassThru) WriteObject(Store().GetConnector(c.Name));
            });
        }

        private IEnumerable<MappingProblem> CheckAgainstSource(ChatterConnectorInfo c, List<UserMappingRule> rules)
        {
            SourceDirectory dir;
            try
            {
                dir = SourceReader.ReadDirectory(c, Store());
            }
            catch (ChatterException ex)
            {
                WriteWarning($"The mapping file's users could not be checked against the source: {ex.Message}");
                return Enumerable.Empty<MappingProblem>();
            }
            return UserMapper.Check(rules, dir, c.AcceptedDomain);
        }
    }

    /// <summary>Shows each Salesforce user of the source, the mailbox it resolves to, and why.</summary>
    [Cmdlet(VerbsCommon.Get, "ChatterUserMapping", DefaultParameterSetName = ByName)]
    [OutputType(typeof(ChatterUserMappingEntry))]
    public sealed class GetChatterUserMappingCommand : ConnectorCmdlet
    {
        /// <summary>Only users resolved this way (File, Automatic, Default, Unmapped).</summary>
        [Parameter] public MappingSource[]? Source { get; set; }

        protected override void ProcessRecord()
        {
            Try(() =>
            {
                var c = ResolveConnector();
                if (c == null) return;
                var dir = SourceReader.ReadDirectory(c, Store());
                // The target has its word too: with Microsoft Graph, an address that is no user, or a
                // user without a mailbox, maps to nothing.
                using var target = TargetFactory.Create(c, Store());
                var mapper = new UserMapper(c, dir, mailbox => target.CheckMailboxAsync(mailbox, CancellationToken)) { CheckParallelism = target.MaxParallelism };
                foreach (var e in mapper.ResolveAll(CancellationToken))
                    if (Source == null || Source.Contains(e.Source)) WriteObject(e);
            });
        }
    }
}
