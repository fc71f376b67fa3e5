using System;
using System.Collections.Concurrent;
using System.Management.Automation;
using System.Threading.Tasks;
using ChatterConnector.Engine;
using ChatterConnector.Engine.Import;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.State;

namespace ChatterConnector.Commands
{
    /// <summary>
    /// Runs a connector once: reads what is new, converts, stages and delivers it to every
    /// participant's mailbox. A connector that is not due, or is suspended, is skipped unless -Force.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Start, "ChatterImport", SupportsShouldProcess = true, DefaultParameterSetName = ByName)]
    [OutputType(typeof(ChatterImportRun))]
    public sealed class StartChatterImportCommand : ConnectorCmdlet
    {
        /// <summary>Run even if the connector is not due or is suspended.</summary>
        [Parameter] public SwitchParameter Force { get; set; }

        private static int _activityId = 1000;

        protected override void ProcessRecord()
        {
            Try(() =>
            {
                var c = ResolveConnector();
                if (c == null || !ShouldRun(c)) return;
                var pipeline = new ImportPipeline(Store(), c);
                var description = $"Connector '{c.Name}'";
                if (IsWhatIf())
                {
                    var plan = pipeline.Plan(CancellationToken);
                    description = $"Connector '{c.Name}': {plan}, from '{c.Source}' into '{c.Target}'";
                }
                if (!ShouldProcess(description, "Import Chatter")) return;
                // One worker per connector: a connector another worker is importing is a ConnectorBusy error
                // (non-terminating: the next connector in the pipeline goes on). Under the lock, read the
                // connector again: a worker that finished it meanwhile made it not due.
                using var runLock = Store().AcquireRunLock(c.Name);
                c = Store().FindConnector(c.Name);
                if (c == null || !ShouldRun(c)) return;
                Import(new ImportPipeline(Store(), c), c, runLock);
            });
        }

        /// <summary>Whether the connector runs now: it is due and not suspended, or -Force.</summary>
        private bool ShouldRun(ChatterConnectorInfo c)
        {
            if (Force) return true;
            if (c.Suspended)
            {
                WriteWarning($"The connector '{c.Name}' is suspended; it was skipped. Resume-ChatterConnector resumes it; -Force runs it once.");
                return false;
            }
            if (!c.IsDue(DateTimeOffset.UtcNow))
            {
                WriteVerbose($"The connector '{c.Name}' is not due until {c.NextRunTime:u}; it was skipped. -Force runs it now.");
                return false;
            }
            return true;
        }

        private bool IsWhatIf()
        {
            if (MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w)) return ((SwitchParameter)w).IsPresent;
            var pref = SessionState.PSVariable.GetValue("WhatIfPreference");
            return pref is bool b ? b : pref is SwitchParameter s && s.IsPresent;
        }

        /// <summary>Runs the engine on a worker thread; this (the pipeline) thread writes its progress and errors.</summary>
        private void Import(ImportPipeline pipeline, ChatterConnectorInfo c, IConnectorLease runLock)
        {
            var events = new BlockingCollection<object>();
            var observer = new QueueObserver(events);
            var task = Task.Run(() =>
            {
                try { return pipeline.Run(runLock, observer, CancellationToken); }
                finally { events.CompleteAdding(); }
            });
            var activityId = System.Threading.Interlocked.Increment(ref _activityId);
            var activity = $"Importing Chatter for connector '{c.Name}'";
            foreach (var e in events.GetConsumingEnumerable())
            {
                switch (e)
                {
                    case ImportProgress p:
                        var record = new ProgressRecord(activityId, activity, p.Status) { CurrentOperation = p.Stage };
                        if (p.Percent >= 0) record.PercentComplete = p.Percent;
                        WriteProgress(record);
                        break;
                    case Failure f:
                        WriteError(new ErrorRecord(new ChatterException(f.ErrorId, ChatterErrorKind.WriteError,
                                $"{f.Entry.ItemType?.ToString() ?? "Item"} {f.Entry.ItemKey}{(f.Entry.Mailbox != null ? " for " + f.Entry.Mailbox : "")}: {f.Entry.Reason}", f.Entry),
                            f.ErrorId, f.ErrorId == "ChatterSource.BadRow" ? ErrorCategory.InvalidData : ErrorCategory.WriteError, f.Entry));
                        break;
                    case string warning:
                        WriteWarning(warning);
                        break;
                }
            }
            WriteProgress(new ProgressRecord(activityId, activity, "Done") { RecordType = ProgressRecordType.Completed });
            ChatterImportRun run;
            try
            {
                run = task.GetAwaiter().GetResult();
            }
            catch (ChatterException ex)
            {
                // The run failed as a whole: say why, and still hand on the run (status Failed) so a
                // runbook sees it like any other.
                WriteError(ToErrorRecord(ex));
                var failed = Store().LastRun(c.Name);
                if (failed != null && failed.Status == ImportRunStatus.Failed)
                {
                    failed.StorePath = Store().StorePath;
                    WriteObject(failed);
                }
                return;
            }
            if (run.Unmapped > 0)
                WriteWarning($"{run.Unmapped} delivery(ies) of connector '{c.Name}' are unmapped: their users resolve to no mailbox. Get-ChatterConnectorLog -Status Unmapped lists them; Set-ChatterUserMapping fixes them for the next run.");
            if (run.Status == ImportRunStatus.Stopped) WriteWarning(run.Message);
            WriteObject(run);
        }

        private sealed class Failure
        {
            public Failure(string id, ChatterLogEntry entry) { ErrorId = id; Entry = entry; }
            public string ErrorId { get; }
            public ChatterLogEntry Entry { get; }
        }

        private sealed class QueueObserver : IImportObserver
        {
            private readonly BlockingCollection<object> _events;
            private DateTime _lastProgress;
            public QueueObserver(BlockingCollection<object> events) => _events = events;

            public void OnProgress(ImportProgress progress)
            {
                // Progress is for people: a few updates a second is plenty.
                var now = DateTime.UtcNow;
                if ((now - _lastProgress).TotalMilliseconds < 200 && progress.Percent != 100) return;
                _lastProgress = now;
                _events.Add(progress);
            }

            public void OnFailure(string errorId, ChatterLogEntry entry) => _events.Add(new Failure(errorId, entry));
            public void OnWarning(string message) => _events.Add(message);
        }
    }
}
