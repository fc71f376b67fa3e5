using System;
using System.Collections.Generic;
using System.Threading;
using ChatterConnector.Engine.Model;

namespace ChatterConnector.Engine.Targets
{
    /// <summary>A staged message on its way to a mailbox.</summary>
    public sealed class OutgoingMessage
    {
        public string ItemKey { get; set; } = "";
        public ChatterItemType ItemType { get; set; }
        /// <summary>The Message-ID without angle brackets.</summary>
        public string MessageId { get; set; } = "";
        /// <summary>The staged .eml: the exact bytes of the message.</summary>
        public string StagedPath { get; set; } = "";
        public long Size { get; set; }
    }

    /// <summary>What a delivery did; <see cref="PartialReason"/> when the target left part of the message out (a file over its size limit).</summary>
    public sealed class DeliveryResult
    {
        public DeliveryResult(DeliveryOutcome outcome, string? partialReason = null)
        {
            Outcome = outcome;
            PartialReason = partialReason;
        }

        public DeliveryOutcome Outcome { get; }
        public string? PartialReason { get; }

        public static readonly DeliveryResult Delivered = new DeliveryResult(DeliveryOutcome.Delivered);
        public static readonly DeliveryResult AlreadyPresent = new DeliveryResult(DeliveryOutcome.AlreadyPresent);
    }

    /// <summary>
    /// Where messages are archived: a local Maildir, or (later) Exchange Online through Microsoft
    /// Graph. A target never knows a source. It may be called from several threads at once, up to
    /// <see cref="MaxParallelism"/>, and keeps its own per-mailbox limits.
    /// </summary>
    public interface IMessageTarget : IDisposable
    {
        /// <summary>Where it delivers, for messages.</summary>
        string Location { get; }

        /// <summary>How many deliveries the pipeline may run at once.</summary>
        int MaxParallelism { get; }

        /// <summary>
        /// Null when <paramref name="mailbox"/> can receive messages; else why not (it then maps to
        /// nothing). Called for many mailboxes at once (up to <see cref="MaxParallelism"/>) when a run
        /// maps the participants of a batch of items.
        /// </summary>
        System.Threading.Tasks.Task<string?> CheckMailboxAsync(string mailbox, CancellationToken cancellationToken);

        /// <summary>Tidies what a stopped run may have left in these mailboxes (half-written files, sessions).</summary>
        void Recover(IEnumerable<string> mailboxesInFlight, CancellationToken cancellationToken);

        /// <summary>
        /// Delivers one message. With <paramref name="checkFirst"/> (a delivery a stopped run may have
        /// finished) the target looks for the Message-ID first; the normal path makes no lookup.
        /// A failure of this one delivery is a <see cref="ChatterException"/>; one of kind
        /// AuthenticationError means no delivery can succeed, and fails the run.
        /// </summary>
        DeliveryResult Deliver(string mailbox, OutgoingMessage message, bool checkFirst, CancellationToken cancellationToken);

        /// <summary>
        /// <see cref="Deliver"/> without holding a thread while the network answers: the pipeline
        /// runs up to <see cref="MaxParallelism"/> of these at once.
        /// </summary>
        System.Threading.Tasks.Task<DeliveryResult> DeliverAsync(string mailbox, OutgoingMessage message, bool checkFirst, CancellationToken cancellationToken);
    }
}
