using System.Collections.Concurrent;
using ChatterConnector.Engine.Import;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources.Sample;
using ChatterConnector.Engine.State;
using ChatterConnector.Engine.Targets;

namespace ChatterConnector.IntegrationTests;

/// <summary>How the pipeline asks a target about the participants' mailboxes.</summary>
public class MailboxLookupTests
{
    /// <summary>Delivers nothing anywhere; each mailbox check takes 20 ms and is recorded with its start and end.</summary>
    private sealed class CheckingTarget : IMessageTarget
    {
        public readonly ConcurrentBag<(string Mailbox, long Start, long End)> Checks = new();
        public string Location => "memory";
        public int MaxParallelism => 8;

        public async Task<string?> CheckMailboxAsync(string mailbox, CancellationToken cancellationToken)
        {
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            await Task.Delay(20, cancellationToken);
            Checks.Add((mailbox, start, System.Diagnostics.Stopwatch.GetTimestamp()));
            return null;
        }

        public void Recover(IEnumerable<string> mailboxesInFlight, CancellationToken cancellationToken) { }
        public DeliveryResult Deliver(string mailbox, OutgoingMessage message, bool checkFirst, CancellationToken cancellationToken) => DeliveryResult.Delivered;
        public Task<DeliveryResult> DeliverAsync(string mailbox, OutgoingMessage message, bool checkFirst, CancellationToken cancellationToken) => Task.FromResult(DeliveryResult.Delivered);
        public void Dispose() { }

        /// <summary>The most checks of these mailboxes that ran at the same time.</summary>
        public int HighestOverlap(ISet<string> mailboxes)
        {
            var edges = Checks.Where(c => mailboxes.Contains(c.Mailbox))
                .SelectMany(c => new[] { (At: c.Start, Step: 1), (At: c.End, Step: -1) })
                .OrderBy(e => e.At).ThenBy(e => e.Step);
            int now = 0, highest = 0;
            foreach (var e in edges) highest = Math.Max(highest, now += e.Step);
            return highest;
        }
    }

    [Fact]
    public void NewcomersToEarlierThreadsAreLookedUpTogether()
    {
        using var t = new Scratch();
        using var store = ConnectorStore.Open(t.Sub("store"));
        var org = SampleOrgGenerator.Generate(new SampleOrgOptions { Users = 30, Posts = 60, Seed = 11 });
        org.WriteExport(t.Sub("export"));
        var comments = Path.Combine(t.Sub("export"), "FeedComment.csv");
        var allComments = File.ReadAllLines(comments);
        File.WriteAllLines(comments, allComments.Take(1)); // the first run sees the posts only
        var c = new ChatterConnectorInfo
        {
            Name = "Threads", SourcePath = t.Sub("export"), MaildirPath = t.Sub("unused"), AutomaticMapping = true, StorePath = store.StorePath,
            Created = DateTimeOffset.UtcNow, Modified = DateTimeOffset.UtcNow,
        };
        store.AddConnector(c);
        Assert.Equal(ImportRunStatus.Succeeded, new ImportPipeline(store, c) { TargetOverride = new CheckingTarget() }.Run().Status);
        var before = store.GetAllParticipants(c.Name).Select(p => (p.ThreadId, p.UserId)).ToHashSet();
        var threads = before.Select(p => p.ThreadId).ToHashSet();

        // The comments arrive: their authors join the posts' threads, and get the posts too.
        File.WriteAllLines(comments, allComments);
        var target = new CheckingTarget();
        Assert.Equal(ImportRunStatus.Succeeded, new ImportPipeline(store, c) { TargetOverride = target }.Run().Status);
        var emails = org.Users.Where(u => !string.IsNullOrEmpty(u.Email)).ToDictionary(u => u.Id, u => u.Email!.ToLowerInvariant());
        var newcomers = store.GetAllParticipants(c.Name).Select(p => (p.ThreadId, p.UserId))
            .Where(p => threads.Contains(p.ThreadId) && !before.Contains(p) && emails.ContainsKey(p.UserId))
            .Select(p => emails[p.UserId]).ToHashSet(StringComparer.OrdinalIgnoreCase);

        Assert.True(newcomers.Count >= 4, $"the sample has newcomers ({newcomers.Count})");
        // They are looked up before the new items are staged, several at once: one after another, they never overlap.
        Assert.True(target.HighestOverlap(newcomers) > 1, "the newcomers' mailboxes were looked up one after another");
    }
}
