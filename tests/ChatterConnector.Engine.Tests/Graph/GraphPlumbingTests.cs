using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.State;
using ChatterConnector.Engine.Targets.Graph;

namespace ChatterConnector.Engine.Tests.Graph;

public class UploadChunksTests
{
    [Fact]
    public void DefaultChunkIsTheLargestMultipleOf320KiBUnder4MiB()
    {
        Assert.Equal(12 * 327_680, UploadChunks.DefaultChunkSize);
        Assert.True(UploadChunks.DefaultChunkSize < 4 * 1024 * 1024);
        Assert.Equal(0, UploadChunks.DefaultChunkSize % (320 * 1024));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(327_679)]
    [InlineData(4 * 1024 * 1024)]
    [InlineData(13 * 327_680)]
    [InlineData(-327_680)]
    public void ChunkSizesThatAreNotMultiplesOf320KiBUnder4MiBAreRefused(int size)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => UploadChunks.Validate(size));
    }

    [Fact]
    public void RangesCoverTheFileInOrderAndTheLastTakesTheRest()
    {
        var ranges = UploadChunks.Ranges(5_000_000, 327_680).ToList();
        Assert.Equal(16, ranges.Count);
        Assert.Equal((0L, 327_679L), ranges[0]);
        Assert.Equal((327_680L, 655_359L), ranges[1]);
        Assert.Equal((15 * 327_680L, 4_999_999L), ranges[^1]);
        for (int i = 1; i < ranges.Count; i++) Assert.Equal(ranges[i - 1].Last + 1, ranges[i].First);
        Assert.All(ranges.Take(ranges.Count - 1), r => Assert.Equal(327_680L, r.Last - r.First + 1));
        Assert.Equal("bytes 0-327679/5000000", UploadChunks.ContentRange(0, 327_679, 5_000_000));
    }

    [Fact]
    public void ExactMultiplesAndTinyFiles()
    {
        Assert.Equal(new[] { (0L, 3_932_159L), (3_932_160L, 7_864_319L) }, UploadChunks.Ranges(2 * 3_932_160L, UploadChunks.DefaultChunkSize));
        Assert.Equal(new[] { (0L, 0L) }, UploadChunks.Ranges(1, UploadChunks.DefaultChunkSize));
        Assert.Empty(UploadChunks.Ranges(0, UploadChunks.DefaultChunkSize));
    }
}

public class MailboxGateTests
{
    [Fact]
    public async Task FiveCallsToOneMailboxRunAtMostFourAtOnce()
    {
        var gate = new MailboxGate();
        int inside = 0, most = 0;
        var release = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var fourIn = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, 5).Select(_ => Task.Run(() => gate.RunAsync(async ct =>
        {
            int now = Interlocked.Increment(ref inside);
            lock (gate) most = Math.Max(most, now);
            if (now == 4) fourIn.TrySetResult(true);
            await release.Task;
            Interlocked.Decrement(ref inside);
            return true;
        }, 0, CancellationToken.None))).ToList();

        await fourIn.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(100);
        Assert.Equal(4, Volatile.Read(ref inside));
        Assert.Equal(4, gate.InFlight);
        release.SetResult(true);
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(4, most);
        Assert.Equal(0, gate.InFlight);
    }

    [Fact]
    public async Task A429HoldsBackEveryCallerOfThatMailboxOnly()
    {
        var throttled = new MailboxGate();
        var other = new MailboxGate();
        throttled.Throttled(TimeSpan.FromMilliseconds(400));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var otherDone = await other.RunAsync(ct => Task.FromResult(sw.ElapsedMilliseconds), 0, CancellationToken.None);
        var a = throttled.RunAsync(ct => Task.FromResult(sw.ElapsedMilliseconds), 0, CancellationToken.None);
        var b = throttled.RunAsync(ct => Task.FromResult(sw.ElapsedMilliseconds), 0, CancellationToken.None);
        var times = await Task.WhenAll(a, b);
        Assert.True(otherDone < 200, $"other mailbox waited {otherDone} ms");
        Assert.All(times, t => Assert.True(t >= 350, $"throttled mailbox ran after {t} ms"));
    }

    [Fact]
    public async Task UploadsWaitWhenTheWindowIsFull()
    {
        var now = DateTimeOffset.UtcNow;
        var gate = new MailboxGate(uploadLimit: 1000, uploadWindow: TimeSpan.FromMilliseconds(300));
        await gate.ReserveUploadAsync(600, CancellationToken.None);
        await gate.ReserveUploadAsync(400, CancellationToken.None);
        Assert.Equal(1000, gate.UploadedInWindow);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        await gate.ReserveUploadAsync(1, CancellationToken.None);
        Assert.True(sw.ElapsedMilliseconds >= 250, $"waited only {sw.ElapsedMilliseconds} ms");
        Assert.True(gate.UploadedInWindow <= 1000);
        // One upload larger than the whole window still goes, alone.
        var big = new MailboxGate(uploadLimit: 10, uploadWindow: TimeSpan.FromMinutes(5));
        await big.ReserveUploadAsync(50, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
    }
}

public class RetryAfterTests
{
    private static readonly DateTimeOffset Now = new DateTimeOffset(2024, 3, 5, 15, 30, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("30", 30)]
    [InlineData(" 5 ", 5)]
    [InlineData("0", 0)]
    [InlineData("1.5", 1.5)]
    [InlineData("Tue, 05 Mar 2024 15:30:10 GMT", 10)]
    [InlineData("Tue, 05 Mar 2024 15:29:00 GMT", 0)]
    public void ParsesSecondsAndHttpDates(string value, double seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), RetryAfterHeader.Parse(value, Now));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("-3")]
    public void IgnoresWhatItCannotRead(string? value)
    {
        Assert.Null(RetryAfterHeader.Parse(value, Now));
    }

    [Fact]
    public void FindsTheHeaderCaseInsensitively()
    {
        var headers = new Dictionary<string, IEnumerable<string>> { ["retry-after"] = new[] { "7" } };
        Assert.Equal(TimeSpan.FromSeconds(7), RetryAfterHeader.From(headers, Now));
        Assert.Null(RetryAfterHeader.From(new Dictionary<string, IEnumerable<string>>(), Now));
    }
}

public class GraphEndpointsTests
{
    [Theory]
    [InlineData(GraphEnvironment.Global, "https://graph.microsoft.com/", "https://login.microsoftonline.com/")]
    [InlineData(GraphEnvironment.USGov, "https://graph.microsoft.us/", "https://login.microsoftonline.us/")]
    [InlineData(GraphEnvironment.USGovDoD, "https://dod-graph.microsoft.us/", "https://login.microsoftonline.us/")]
    [InlineData(GraphEnvironment.China, "https://microsoftgraph.chinacloudapi.cn/", "https://login.chinacloudapi.cn/")]
    public void EachCloudHasItsHosts(GraphEnvironment environment, string graph, string authority)
    {
        var settings = new GraphSettings { Environment = environment };
        Assert.Equal(graph, GraphEndpoints.ResolveGraph(settings).ToString());
        Assert.Equal(authority, GraphEndpoints.ResolveAuthority(settings).ToString());
        Assert.Equal(graph + ".default", GraphEndpoints.Scope(GraphEndpoints.ResolveGraph(settings)));
    }

    [Fact]
    public void AnExplicitEndpointWinsAndLosesItsPath()
    {
        var settings = new GraphSettings { Environment = GraphEnvironment.China, Endpoint = "http://127.0.0.1:5123/v1.0/", AuthorityHost = "https://login.example.test" };
        Assert.Equal("http://127.0.0.1:5123/", GraphEndpoints.ResolveGraph(settings).ToString());
        Assert.Equal("https://login.example.test/", GraphEndpoints.ResolveAuthority(settings).ToString());
    }

    [Theory]
    [InlineData("http://graph.example.com")]
    [InlineData("http://10.0.0.1:8080")]
    public void PlainHttpIsRefusedExceptToLoopback(string endpoint)
    {
        var ex = Assert.Throws<ChatterException>(() => GraphEndpoints.ResolveGraph(new GraphSettings { Endpoint = endpoint }));
        Assert.Equal("ChatterTarget.InsecureUrl", ex.ErrorId);
    }

    [Fact]
    public void LoopbackHttpNeedsTheOption()
    {
        Assert.Equal("http://localhost:1234/", GraphEndpoints.ResolveGraph(new GraphSettings { Endpoint = "http://localhost:1234" }).ToString());
        Assert.Equal("http://[::1]:1234/", GraphEndpoints.ResolveGraph(new GraphSettings { Endpoint = "http://[::1]:1234" }).ToString());
        var ex = Assert.Throws<ChatterException>(() => GraphEndpoints.ResolveGraph(new GraphSettings { Endpoint = "http://127.0.0.1:1234" }, allowHttpLoopback: false));
        Assert.Equal("ChatterTarget.InsecureUrl", ex.ErrorId);
        Assert.Equal("ChatterTarget.InsecureUrl", Assert.Throws<ChatterException>(() => GraphEndpoints.ResolveAuthority(new GraphSettings { AuthorityHost = "http://127.0.0.1:1" })).ErrorId);
    }
}

public class GraphTargetTests : IDisposable
{
    private readonly string _store = Path.Combine(Path.GetTempPath(), "cc-graph-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_store, true); } catch (IOException) { }
    }

    private GraphSettings TokenSettings(string endpoint)
    {
        var secrets = SecretProtector.ForStoreWithKeyFile(_store);
        return new GraphSettings { Endpoint = endpoint, AccessToken = secrets.Protect("not-a-real-token"), ThrottleLimit = 3 };
    }

    [Fact]
    public void AnAccessTokenAgainstALoopbackFakeIsAccepted()
    {
        using var target = new GraphTarget(TokenSettings("http://127.0.0.1:9"), SecretProtector.ForStoreWithKeyFile(_store), "Salesforce Chatter");
        Assert.Equal(3 * 4 * 2, target.MaxParallelism); // 3 mailboxes, 4 requests each, twice that many deliveries ready for a batch
        Assert.Equal("http://127.0.0.1:9 (Inbox/Salesforce Chatter)", target.Location);
    }

    [Fact]
    public void AnInsecureEndpointIsRefused()
    {
        var ex = Assert.Throws<ChatterException>(() => new GraphTarget(TokenSettings("http://graph.example.com"), SecretProtector.ForStoreWithKeyFile(_store), "Salesforce Chatter"));
        Assert.Equal("ChatterTarget.InsecureUrl", ex.ErrorId);
    }

    [Fact]
    public void SettingsWithoutACredentialAreRefused()
    {
        var ex = Assert.Throws<ChatterException>(() => new GraphTarget(new GraphSettings { TenantId = "t", ClientId = "c" }, SecretProtector.ForStoreWithKeyFile(_store), "Salesforce Chatter"));
        Assert.Equal("ChatterTarget.NoCredential", ex.ErrorId);
        var missing = Assert.Throws<ChatterException>(() => new GraphTarget(new GraphSettings { CertificatePath = "/nope.pfx", TenantId = "t", ClientId = "c" }, SecretProtector.ForStoreWithKeyFile(_store), "Salesforce Chatter"));
        Assert.Equal("ChatterTarget.CertificateNotFound", missing.ErrorId);
    }

    [Fact]
    public void TheTokenGoesOnlyToTheConfiguredHost()
    {
        var provider = new GraphAuthentication.StaticTokenProvider("tok", new[] { "127.0.0.1" });
        Assert.Equal("tok", provider.GetAuthorizationTokenAsync(new Uri("http://127.0.0.1:5000/v1.0/users")).Result);
        Assert.Equal("", provider.GetAuthorizationTokenAsync(new Uri("https://outlook.office.com/upload")).Result);
    }

    [Theory]
    [InlineData(401, "InvalidAuthenticationToken", "ChatterTarget.AuthFailed", ChatterErrorKind.AuthenticationError)]
    [InlineData(403, "Authorization_RequestDenied", "ChatterTarget.PermissionMissing", ChatterErrorKind.AuthenticationError)]
    [InlineData(403, "ErrorAccessDenied", "ChatterTarget.AccessDenied", ChatterErrorKind.PermissionDenied)]
    [InlineData(404, "MailboxNotEnabledForRESTAPI", "ChatterTarget.MailboxNotEnabled", ChatterErrorKind.ObjectNotFound)]
    [InlineData(404, "ErrorInvalidUser", "ChatterTarget.MailboxNotFound", ChatterErrorKind.ObjectNotFound)]
    [InlineData(409, "ErrorFolderExists", "ChatterTarget.FolderExists", ChatterErrorKind.ResourceExists)]
    [InlineData(400, "ErrorFolderExists", "ChatterTarget.FolderExists", ChatterErrorKind.ResourceExists)]
    [InlineData(400, "ErrorInvalidRequest", "ChatterTarget.Rejected", ChatterErrorKind.InvalidData)]
    public void GraphErrorsMapToErrorIds(int status, string code, string errorId, ChatterErrorKind kind)
    {
        var f = new GraphFailure(status, code, "m", null, false);
        Assert.False(f.IsTransient);
        var ex = GraphTarget.Map(f, "ann@example.com", "doing it", new Exception());
        Assert.Equal(errorId, ex.ErrorId);
        Assert.Equal(kind, ex.Kind);
    }

    [Fact]
    public void ThrottlingAndOutagesAreTransient()
    {
        Assert.True(new GraphFailure(429, "ApplicationThrottled", null, TimeSpan.FromSeconds(1), false).IsTransient);
        Assert.True(new GraphFailure(503, null, null, null, false).IsTransient);
        Assert.True(new GraphFailure(504, null, null, null, false).IsTransient);
        Assert.True(new GraphFailure(0, null, "reset", null, true).IsTransient);
        Assert.False(new GraphFailure(500, "ErrorInternalServerError", null, null, false).IsTransient);
        var parsed = GraphFailure.From(new HttpRequestException("connection reset"), DateTimeOffset.UtcNow);
        Assert.True(parsed!.Value.Connection);
    }
}
