using ChatterConnector.Engine.Model;

namespace ChatterConnector.Engine.Import
{
    /// <summary>Where a run is: the stage and how far through it.</summary>
    public sealed class ImportProgress
    {
        public ImportProgress(string stage, string status, long current, long total)
        {
            Stage = stage; Status = status; Current = current; Total = total;
        }
        public string Stage { get; }
        public string Status { get; }
        public long Current { get; }
        /// <summary>0 when the total is not known yet.</summary>
        public long Total { get; }
        public int Percent => Total <= 0 ? -1 : (int)System.Math.Min(100, Current * 100 / Total);
    }

    /// <summary>
    /// What a run reports while it works. Called on the run's thread: a cmdlet queues these and
    /// writes them from the pipeline thread.
    /// </summary>
    public interface IImportObserver
    {
        void OnProgress(ImportProgress progress);
        /// <summary>An item or a delivery failed; the run goes on. <paramref name="errorId"/> names the kind of failure.</summary>
        void OnFailure(string errorId, ChatterLogEntry entry);
        void OnWarning(string message);
    }

    /// <summary>An observer that ignores everything.</summary>
    public sealed class NullImportObserver : IImportObserver
    {
        public static readonly NullImportObserver Instance = new NullImportObserver();
        public void OnProgress(ImportProgress progress) { }
        public void OnFailure(string errorId, ChatterLogEntry entry) { }
        public void OnWarning(string message) { }
    }
}
