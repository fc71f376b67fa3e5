using System.Diagnostics;
using ChatterConnector.Engine.Conversion;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Staging;
using ChatterConnector.Engine.State;
using ChatterConnector.Engine.Targets;
using ChatterConnector.Engine.Targets.Graph;
using ChatterConnector.Fakes;

/// <summary>
/// `--target graph`: 20 mailboxes × 500 messages delivered through the Graph target (the real SDK)
/// into the fake Graph with 50 ms latency per request and its limit of 4 concurrent requests per
/// mailbox. The best possible rate is mailboxes × 4 / latency; prints messages/s, that limit,
/// the ratio (goal ≥ 0.9), requests per message and peak memory.
/// </summary>
static class GraphBenchmark
{
    public static void Run(string root, int mailboxes = 20, int perMailbox = 500, int latencyMs = 50, int batchSize = 20)
    {
        Directory.CreateDirectory(root);
        using var graph = FakeGraph.Start();
        graph.Faults.Latency = TimeSpan.FromMilliseconds(latencyMs);
        var addresses = Enumerable.Range(1, mailboxes).Select(i => $"archive{i:00}@contoso.com").ToList();
        foreach (var a in addresses) graph.AddUser(a);

        // 500 distinct staged messages, as an import stages them.
        var staging = new LocalStaging(Path.Combine(root, "staging"));
        var converter = new MessageConverter();
        var author = new ChatterUser { Id = "005000000000001AAA", Name = "Ann Lee", Email = "ann@contoso.com" };
        var messages = Enumerable.Range(0, perMailbox).Select(i =>
        {
            var id = "0D5" + i.ToString("D15");
            var item = new ChatterItem
            {
                Key = id, Id = id, ThreadId = id, ItemType = ChatterItemType.Post, FeedType = "TextPost", AuthorId = author.Id, Author = author,
                CreatedDate = new DateTimeOffset(2024, 3, 1, 10, 0, 0, TimeSpan.Zero).AddMinutes(i), Body = "Benchmark post number " + i,
                Participants = new List<ChatterUser> { author },
            };
            var message = converter.Convert(item);
            var staged = staging.Stage(message);
            return new OutgoingMessage { ItemKey = id, ItemType = ChatterItemType.Post, MessageId = message.MessageId, StagedPath = staged.Path, Size = staged.Size };
        }).ToList();

        var secrets = SecretProtector.ForStore(Path.Combine(root, "store"));
        var settings = new GraphSettings { AccessToken = secrets.Protect(graph.Options.AcceptedToken), Endpoint = graph.Url, TenantId = "contoso.com", ThrottleLimit = mailboxes };
        var options = new GraphTargetOptions { BatchSize = batchSize };

        // A warm-up through another target, into two other mailboxes: the code is compiled (JIT) before
        // the clock starts. The measured target starts cold all the same: it looks up its users, finds
        // and makes their folders, opens its own connections and converts every message afresh.
        var warmAddresses = new[] { "warmup1@contoso.com", "warmup2@contoso.com" };
        foreach (var a in warmAddresses) graph.AddUser(a);
        using (var warm = new GraphTarget(settings, secrets, "Salesforce Chatter", options))
            Deliver(warm, messages.Take(20).SelectMany(m => warmAddresses.Select(a => (a, m))).ToList());

        using var target = new GraphTarget(settings, secrets, "Salesforce Chatter", options);
        graph.ResetRequests();

        // Item by item, each to every mailbox: the order the ledger hands deliveries to a run.
        var work = messages.SelectMany(m => addresses.Select(a => (Mailbox: a, Message: m))).ToList();
        GC.Collect();
        var (gc0, gc1, gc2, pause) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        // How many of the 80 mailbox slots are taken, sampled every 2 ms: with the rate, how long one
        // request holds its slot (the limit assumes exactly the latency).
        long samples = 0, slotSum = 0;
        bool sampling = true;
        var sampler = new Thread(() =>
        {
            while (Volatile.Read(ref sampling)) { slotSum += addresses.Sum(a => target.Gate(a).InFlight); samples++; Thread.Sleep(2); }
        }) { IsBackground = true };
        sampler.Start();
        Deliver(target, work);
        var seconds = sw.Elapsed.TotalSeconds;
        Volatile.Write(ref sampling, false);
        sampler.Join();
        var slotsInUse = samples == 0 ? 0 : slotSum / (double)samples;
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        var gcs = $"{GC.CollectionCount(0) - gc0}/{GC.CollectionCount(1) - gc1}/{GC.CollectionCount(2) - gc2}";
        var gcPause = (GC.GetTotalPauseDuration() - pause).TotalMilliseconds;
        var peak = Process.GetCurrentProcess().PeakWorkingSet64;

        var limit = mailboxes * 4 / (latencyMs / 1000.0);
        var log = graph.Requests;
        var rate = work.Count / seconds;
        Console.WriteLine($"Graph target: {mailboxes} mailboxes × {perMailbox} messages = {work.Count:N0} messages, {latencyMs} ms latency per request, 4 requests at once per mailbox");
        var batches = log.Count(r => !r.InBatch && r.Path.EndsWith("/$batch", StringComparison.Ordinal));
        Console.WriteLine(batchSize <= 1 ? $"  batch size      {1,10} (batching off)"
            : $"  batch size      {batchSize,10} creates per $batch at most; {log.Count(r => r.InBatch) / (double)Math.Max(1, batches):N1} on average in {batches:N0} batches");
        Console.WriteLine($"  time            {seconds,10:N2} s");
        Console.WriteLine($"  messages/s      {rate,10:N0}");
        Console.WriteLine($"  limit           {limit,10:N0} messages/s ({mailboxes} × 4 / {latencyMs / 1000.0:N2} s)");
        Console.WriteLine($"  ratio           {rate / limit,10:N2} (goal ≥ 0.9)");
        // Graph counts each request inside a $batch against the mailbox; the $batch itself is one HTTP request.
        var graphRequests = log.Count(r => r.InBatch || !r.Path.EndsWith("/$batch", StringComparison.Ordinal));
        Console.WriteLine($"  requests/msg    {graphRequests / (double)work.Count,10:N2} ({graphRequests:N0} Graph requests, user lookups and folders included; sent in {log.Count(r => !r.InBatch):N0} HTTP requests)");
        Console.WriteLine($"  highest concurrency seen by one mailbox: {graph.HighestConcurrencyAnyMailbox}; 429s for concurrency: {graph.ConcurrencyRejectionsAnyMailbox}");
        Console.WriteLine($"  slots in use    {slotsInUse,10:N1} of {mailboxes * 4} on average; a request holds its slot {slotsInUse / rate * 1000:N1} ms (latency {latencyMs} ms)");
        Console.WriteLine($"  fake's latency  {graph.AverageLatency.TotalMilliseconds,10:N2} ms per request on average, as the fake measured its own waits");
        Console.WriteLine($"  cpu             {cpuSeconds,10:N2} s ({cpuSeconds / seconds / Environment.ProcessorCount:P0} of {Environment.ProcessorCount} cores, client and fake); GCs {gcs} (gen 0/1/2), {gcPause:N0} ms paused");
        Console.WriteLine($"  peak memory     {peak / 1048576.0,10:N0} MB (process peak working set, the fake server included)");
        Console.WriteLine($"  created         {addresses.Sum(a => graph.Messages(a).Count):N0} messages in the fake");
    }

    /// <summary>As the pipeline does it: every delivery a task on the pool, at most the target's parallelism at once.</summary>
    private static void Deliver(GraphTarget target, IReadOnlyList<(string Mailbox, OutgoingMessage Message)> work)
    {
        using var slots = new SemaphoreSlim(target.MaxParallelism);
        Task.WhenAll(work.Select(async w =>
        {
            await slots.WaitAsync();
            try { await Task.Run(() => target.DeliverAsync(w.Mailbox, w.Message, checkFirst: false, CancellationToken.None)); }
            finally { slots.Release(); }
        })).GetAwaiter().GetResult();
    }
}
