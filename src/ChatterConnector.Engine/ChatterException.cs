using System;

namespace ChatterConnector.Engine
{
    /// <summary>What kind of failure a <see cref="ChatterException"/> is; the cmdlets map it to an ErrorCategory.</summary>
    public enum ChatterErrorKind
    {
        InvalidArgument,
        InvalidData,
        ObjectNotFound,
        ResourceExists,
        ResourceBusy,
        ResourceUnavailable,
        PermissionDenied,
        WriteError,
        ReadError,
        AuthenticationError,
        OperationStopped,
    }

    /// <summary>
    /// A failure the engine can name: a specific error id (ChatterSource.FolderNotFound…), its kind,
    /// and the thing it is about (a path, an item id, a mailbox, a connector name).
    /// </summary>
    public class ChatterException : Exception
    {
        public ChatterException(string errorId, ChatterErrorKind kind, string message, object? target = null, Exception? inner = null)
            : base(message, inner)
        {
            ErrorId = errorId;
            Kind = kind;
            Target = target;
        }

        public string ErrorId { get; }
        public ChatterErrorKind Kind { get; }
        public object? Target { get; }
    }
}
