using System;

namespace ChatterConnector.Engine.State
{
    /// <summary>One lease on a connector's run lock, from the Azure store's lock history (the Locks table).</summary>
    public sealed class RunLockRecord
    {
        public string Connector { get; set; } = "";
        /// <summary>The worker that held it: machine/process id/worker id.</summary>
        public string Holder { get; set; } = "";
        public string LeaseId { get; set; } = "";
        /// <summary>When the worker asked for the lease (at most a little before it had it).</summary>
        public DateTimeOffset Acquired { get; set; }
        /// <summary>When it was let go (a little after); empty while held, or when the worker died holding it.</summary>
        public DateTimeOffset? Released { get; set; }
        /// <summary>The lease could not be renewed: another worker may have taken it before <see cref="Released"/>.</summary>
        public bool Lost { get; set; }
    }
}
