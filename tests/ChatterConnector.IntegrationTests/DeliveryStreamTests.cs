using System.Collections.Concurrent;
using ChatterConnector.Engine.Import;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources.Sample;
using ChatterConnector.Engine.State;
using ChatterConnector.Engine.Targets;

namespace ChatterConnector.IntegrationTests;

/// <summary>How the pipeline hands deliveries to a target: a sliding window, never a drain at a chunk's end.</summary>
public class DeliveryStreamTests
{
    /// <summary>
    /// Two deliveries at once; the first one finishes only after <see cref="HoldFor"/> others have:
    /// a pipeline that waits for every delivery of a chunk before starting the next chunk never gets
    /// there (its chunks are 200 deliveries long), so the held delivery gives up and fails.
    /// </summary>
    private sealed class HoldingTarget : IMessageTarget
    {
        public const int HoldFor = 260;
        private readonly TaskCompletionSource _othersDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _calls, _finished, _running;
        public int HighestRunning;
        public readonly ConcurrentBag<string> Delivered = new();
        public bool HeldOneGaveUp;

        public string Location => "memory";
        public int MaxParallelism => 2;
        public Task<string?> CheckMailboxAsync(string mailbox, CancellationToken cancellationToken) => Task.FromResult<string?>(null);
        public void Recover(IEnumerable<string> mailboxesInFlight, CancellationToken cancellationToken) { }
        public DeliveryResult Deliver(string mailbox, OutgoingMessage message, bool checkFirst, CancellationToken cancellationToken) =>
            DeliverAsync(mailbox, message, checkFirst, cancellationToken).GetAwaiter().GetResult();

        public async Task<DeliveryResult> DeliverAsync(string mailbox, OutgoingMessage message, bool checkFirst, CancellationToken cancellationToken)
        {
            var running = Interlocked.Increment(ref _running);
            lock (Delivered) HighestRunning = Math.Max(HighestRunning, running);
            try
            {
                if (Interlocked.Increment(ref _calls) == 1)
                {
                    if (await Task.WhenAny(_othersDone.Task, Task.Delay(TimeSpan.FromSeconds(30), cancellationToken)) != _othersDone.Task)
                    {
                        HeldOneGaveUp = true;
                        throw new ChatterConnector.Engine.ChatterException("Test.Held", ChatterConnector.Engine.ChatterErrorKind.ResourceUnavailable, "held", mailbox);
                    }
                }
                else
                {
                    await Task.Yield();
                    if (Interlocked.Increment(ref _finished) == HoldFor) _othersDone.TrySetResult();
                }
                Delivered.Add(mailbox + " " + message.MessageId);
                return DeliveryResult.Delivered;
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        }

        public void Dispose() { }
    }

    [Fact]
    public void ASlowDeliveryDoesNotHoldUpTheRest_TheWindowSlidesAcrossLedgerChunks()
    {
        using var t = new Scratch();
        using var store = ConnectorStore.Open(t.Sub("store"));
        SampleOrgGenerator.Generate(new SampleOrgOptions { Users = 20, Posts = 150, Seed = 5 }).WriteExport(t.Sub("export"));
        var c = new ChatterConnectorInfo
        {
            Name = "Stream", SourcePath = t.Sub("export"), MaildirPath = t.Sub("unused"), AutomaticMapping = true, StorePath = store.StorePath,
            Created = DateTimeOffset.UtcNow, Modified = DateTimeOffset.UtcNow,
        };
        store.AddConnector(c);
        var target = new HoldingTarget();

        var run = new ImportPipeline(store, c) { TargetOverride = target }.Run();

        Assert.True(run.Imported > HoldingTarget.HoldFor + 1, $"the sample gives enough deliveries ({run.Imported})");
        Assert.False(target.HeldOneGaveUp, "the other slot went on past the chunk boundary while one delivery was held");
        Assert.Equal(ImportRunStatus.Succeeded, run.Status);
        Assert.Equal(0, run.Failed);
        Assert.Equal(run.Imported + run.PartiallyImported, target.Delivered.Count);
        Assert.Equal(target.Delivered.Count, target.Delivered.Distinct().Count());
        Assert.Equal(2, target.HighestRunning);
        Assert.Equal(0, store.CountDeliveries(c.Name, DeliveryStatus.InFlight));
    }
}
