using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatterConnector.Engine.Targets.Graph;
using Microsoft.Kiota.Abstractions.Authentication;

namespace ChatterConnector.Engine.Tests.Graph;

public class GraphBatcherTests
{
    private sealed class Tokens : IAccessTokenProvider
    {
        public AllowedHostsValidator AllowedHostsValidator { get; } = new();
        public Task<string> GetAuthorizationTokenAsync(Uri uri, Dictionary<string, object>? additionalAuthenticationContext = null, CancellationToken cancellationToken = default) =>
            Task.FromResult("t0ken");
    }

    /// <summary>Answers each $batch with <paramref name="answer"/>(the request's JSON), recording the batches.</summary>
    private sealed class Handler(Func<JsonObject, HttpResponseMessage> answer) : HttpMessageHandler
    {
        public readonly List<JsonObject> Batches = new();
        public readonly List<string?> Authorizations = new();
        /// <summary>Awaited before each answer (a test holds a batch in flight with it).</summary>
        public Func<Task>? Before;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var json = JsonNode.Parse(await request.Content!.ReadAsStringAsync(cancellationToken))!.AsObject();
            lock (Batches) { Batches.Add(json); Authorizations.Add(request.Headers.Authorization?.ToString()); }
            if (Before != null) await Before();
            return answer(json);
        }
    }

    private static HttpResponseMessage Json(HttpStatusCode status, JsonNode body) =>
        new(status) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };

    private static GraphBatcher Batcher(Handler handler, int size, int delayMs = 5) =>
        new(new HttpClient(handler), new Tokens(), new Uri("http://127.0.0.1:1/v1.0/$batch"), size, TimeSpan.FromMilliseconds(delayMs));

    /// <summary>Every inner request created, answered in reverse order; the one whose body says "fail" gets a 429 with Retry-After.</summary>
    private static HttpResponseMessage CreatedInReverse(JsonObject batch)
    {
        var responses = new JsonArray();
        foreach (var r in batch["requests"]!.AsArray().Reverse())
        {
            var id = r!["id"]!.GetValue<string>();
            var name = r["body"]!["subject"]!.GetValue<string>();
            responses.Add(name == "fail"
                ? new JsonObject { ["id"] = id, ["status"] = 429, ["headers"] = new JsonObject { ["Retry-After"] = "7" }, ["body"] = new JsonObject { ["error"] = new JsonObject { ["code"] = "ApplicationThrottled", ["message"] = "slow down" } } }
                : new JsonObject { ["id"] = id, ["status"] = 201, ["body"] = new JsonObject { ["id"] = "created-" + name } });
        }
        return Json(HttpStatusCode.OK, new JsonObject { ["responses"] = responses });
    }

    private static GraphBatcher.Item Item(string subject, List<string>? done = null, MailboxGate? gate = null, CancellationToken ct = default) =>
        new("/users/u%201/mailFolders/f/messages", new JsonObject { ["subject"] = subject }.ToJsonString(), gate ?? new MailboxGate(), 0, ct,
            o => { if (done != null) lock (done) done.Add(subject); });

    [Fact]
    public async Task FullBatchesGoAtOnce_TheRestAfterTheDelay_AndEachRequestGetsItsOwnAnswer()
    {
        var handler = new Handler(CreatedInReverse);
        var batcher = Batcher(handler, size: 4);
        var done = new List<string>();
        var names = Enumerable.Range(0, 10).Select(i => i == 5 ? "fail" : "m" + i).ToList();
        var outcomes = await Task.WhenAll(names.Select(n => batcher.Enqueue(Item(n, done))));

        Assert.Equal(new[] { 4, 4, 2 }, handler.Batches.Select(b => b["requests"]!.AsArray().Count).OrderByDescending(n => n));
        Assert.All(handler.Authorizations, a => Assert.Equal("Bearer t0ken", a));
        var first = handler.Batches[0]["requests"]![0]!;
        Assert.Equal("POST", first["method"]!.GetValue<string>());
        Assert.Equal("/users/u%201/mailFolders/f/messages", first["url"]!.GetValue<string>());
        Assert.Equal("application/json", first["headers"]!["Content-Type"]!.GetValue<string>());
        for (int i = 0; i < names.Count; i++)
        {
            if (names[i] == "fail")
            {
                Assert.Equal(429, outcomes[i].Status);
                Assert.Equal("ApplicationThrottled", outcomes[i].Code);
                Assert.Equal(TimeSpan.FromSeconds(7), outcomes[i].RetryAfter);
                Assert.False(outcomes[i].BatchFailed);
            }
            else
            {
                Assert.Equal(201, outcomes[i].Status);
                Assert.Equal("created-" + names[i], outcomes[i].Id);
            }
        }
        Assert.Equal(names.OrderBy(n => n), done.OrderBy(n => n)); // every Done ran, once
    }

    [Fact]
    public async Task ABatchIsKeptUnderItsByteLimit()
    {
        var handler = new Handler(CreatedInReverse);
        var batcher = new GraphBatcher(new HttpClient(handler), new Tokens(), new Uri("http://127.0.0.1:1/v1.0/$batch"), 20, TimeSpan.FromMilliseconds(5), maxBytes: 2500);
        var big = new string('x', 1000);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => batcher.Enqueue(new GraphBatcher.Item("/users/u/mailFolders/f/messages",
            new JsonObject { ["subject"] = "m" + i, ["pad"] = big }.ToJsonString(), new MailboxGate(), 0, CancellationToken.None, _ => { }))));
        Assert.All(outcomes, o => Assert.Equal(201, o.Status));
        Assert.Equal(new[] { 2, 2, 1 }, handler.Batches.Select(b => b["requests"]!.AsArray().Count).OrderByDescending(n => n));
    }

    [Fact]
    public async Task ABatchThatFailsAsAWholeFailsEveryRequestInIt()
    {
        var handler = new Handler(_ =>
        {
            var r = Json(HttpStatusCode.ServiceUnavailable, new JsonObject { ["error"] = new JsonObject { ["code"] = "ServiceUnavailable", ["message"] = "busy" } });
            r.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(3));
            return r;
        });
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => Batcher(handler, 20).Enqueue(Item("m" + i))));
        Assert.All(outcomes, o =>
        {
            Assert.True(o.BatchFailed);
            Assert.Equal(503, o.Status);
            Assert.Equal(TimeSpan.FromSeconds(3), o.RetryAfter);
            Assert.True(GraphFailure.From(o.Error!, DateTimeOffset.UtcNow)!.Value.IsTransient);
        });

        var dropping = Batcher(new Handler(_ => throw new HttpRequestException("connection reset")), 20);
        var dropped = await dropping.Enqueue(Item("x"));
        Assert.True(dropped.BatchFailed);
        Assert.True(GraphFailure.From(dropped.Error!, DateTimeOffset.UtcNow)!.Value.Connection);
    }

    [Fact]
    public async Task ARequestTheBatchResponseDoesNotAnswerHasFailedMaybeCarriedOut()
    {
        var handler = new Handler(b => Json(HttpStatusCode.OK, new JsonObject
        {
            ["responses"] = new JsonArray(new JsonObject { ["id"] = "1", ["status"] = 201, ["body"] = new JsonObject { ["id"] = "a" } }),
        }));
        var batcher = Batcher(handler, 2);
        var outcomes = await Task.WhenAll(batcher.Enqueue(Item("a")), batcher.Enqueue(Item("b")));
        Assert.Equal("a", outcomes[0].Id);
        Assert.True(outcomes[1].BatchFailed);
        Assert.NotNull(outcomes[1].Error);
    }

    [Fact]
    public async Task AGateSlotTakenForABatchIsHeldUntilGivenBackOnce()
    {
        var gate = new MailboxGate(2);
        var a = await gate.EnterAsync(0, CancellationToken.None);
        var b = await gate.EnterAsync(0, CancellationToken.None);
        Assert.Equal(2, gate.InFlight);
        var third = gate.EnterAsync(0, CancellationToken.None);
        await Task.Delay(20);
        Assert.False(third.IsCompleted);
        a.Dispose();
        a.Dispose(); // a second release gives back nothing more
        (await third).Dispose();
        Assert.Equal(1, gate.InFlight);
        b.Dispose();
        Assert.Equal(0, gate.InFlight);
    }

    [Fact]
    public async Task ACreateWaitsWithoutASlotUntilItsMailboxHasOne_AndGivesItBackWithItsAnswer()
    {
        var gate = new MailboxGate(2);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inFlightSeen = new List<int>();
        var handler = new Handler(CreatedInReverse);
        handler.Before = () =>
        {
            lock (inFlightSeen) inFlightSeen.Add(gate.InFlight);
            return inFlightSeen.Count == 1 ? release.Task : Task.CompletedTask;
        };
        var batcher = new GraphBatcher(new HttpClient(handler), new Tokens(), new Uri("http://127.0.0.1:1/v1.0/$batch"), 20, TimeSpan.FromMilliseconds(5));
        GraphBatcher.Item Boxed(string s) => new("/users/u/mailFolders/f/messages", new JsonObject { ["subject"] = s }.ToJsonString(), gate, 0, CancellationToken.None, _ => { });

        var tasks = Enumerable.Range(0, 5).Select(i => batcher.Enqueue(Boxed("m" + i))).ToList();
        await Task.Delay(100);
        Assert.Equal(2, gate.InFlight);                       // the first batch holds two slots…
        Assert.All(tasks.Skip(2), t => Assert.False(t.IsCompleted)); // …and the other three wait, holding none
        release.SetResult();
        var outcomes = await Task.WhenAll(tasks);
        Assert.All(outcomes, o => Assert.Equal(201, o.Status));
        Assert.All(handler.Batches, b => Assert.True(b["requests"]!.AsArray().Count <= 2));
        Assert.All(inFlightSeen, n => Assert.True(n <= 2));
        Assert.Equal(0, gate.InFlight);
    }

    [Fact]
    public async Task AThrottledMailboxWaitsItsTurn_WhileOtherMailboxesGoAtOnce()
    {
        var slow = new MailboxGate();
        slow.Throttled(TimeSpan.FromMilliseconds(300));
        var handler = new Handler(CreatedInReverse);
        var batcher = Batcher(handler, 20, delayMs: 1);
        var started = DateTimeOffset.UtcNow;
        var held = batcher.Enqueue(Item("held", gate: slow));
        var free = await batcher.Enqueue(Item("free"));
        Assert.Equal(201, free.Status);
        Assert.False(held.IsCompleted);
        Assert.Equal(201, (await held).Status);
        Assert.True(DateTimeOffset.UtcNow - started >= TimeSpan.FromMilliseconds(250));
        Assert.Equal(2, handler.Batches.Count);
    }

    [Fact]
    public async Task ACreateGivenUpWhileWaitingIsNeverSent()
    {
        var gate = new MailboxGate(1);
        var slot = await gate.EnterAsync(0, CancellationToken.None); // the mailbox is busy
        var handler = new Handler(CreatedInReverse);
        var batcher = Batcher(handler, 20, delayMs: 1);
        using var cts = new CancellationTokenSource();
        var waiting = batcher.Enqueue(Item("gone", gate: gate, ct: cts.Token));
        cts.Cancel();
        batcher.Pump();
        var outcome = await waiting;
        Assert.True(outcome.Cancelled);
        slot.Dispose();
        await Task.Delay(50);
        Assert.Empty(handler.Batches);
        Assert.Equal(0, gate.InFlight);
    }
    [Fact]
    public async Task ABatchGoesAtOnceWhenTheCreatesStillQueuedAllWaitForTheirMailbox()
    {
        var gate = new MailboxGate(1);
        var handler = new Handler(CreatedInReverse);
        var batcher = Batcher(handler, 20, delayMs: 3_600_000); // only the rule under test can send before an hour is out
        var first = batcher.Enqueue(Item("a1", gate: gate));
        var second = batcher.Enqueue(Item("a2", gate: gate)); // waits for the one slot: nothing more can join the first batch

        var outcome = await first.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(201, outcome.Status);
        Assert.Equal(1, handler.Batches[0]["requests"]!.AsArray().Count);
        await Task.Delay(100);
        Assert.False(second.IsCompleted); // the last create, with nothing queued behind it, waits for company as before
        Assert.Single(handler.Batches);
    }

    [Fact]
    public async Task TheSlotsABatchGivesBackAreFilledByOneBatch_NotOneBatchPerSlot()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new Handler(CreatedInReverse);
        handler.Before = () => handler.Batches.Count == 1 ? release.Task : Task.CompletedTask;
        var batcher = Batcher(handler, 20, delayMs: 3_600_000);
        // As the target makes them: a slot given back pumps the batcher.
        var gates = Enumerable.Range(0, 4).Select(_ => new MailboxGate(1, released: batcher.Pump)).ToList();

        // Four mailboxes of one slot each, three creates for each: the first round fills a batch and the rest queue.
        var tasks = new List<Task<GraphBatcher.Outcome>>();
        for (int round = 0; round < 3; round++)
            for (int g = 0; g < gates.Count; g++)
                tasks.Add(batcher.Enqueue(Item($"m{g}-{round}", gate: gates[g])));
        await WaitUntil(() => handler.Batches.Count == 1);
        Assert.Equal(4, handler.Batches[0]["requests"]!.AsArray().Count);

        release.SetResult(); // the four answers come back together…
        await Task.WhenAll(tasks.Take(8)).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, handler.Batches.Count); // …and the second round went as one batch of four
        Assert.Equal(4, handler.Batches[1]["requests"]!.AsArray().Count);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException();
            await Task.Delay(10);
        }
    }
}
