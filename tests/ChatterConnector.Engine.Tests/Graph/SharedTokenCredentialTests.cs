using Azure.Core;
using ChatterConnector.Engine.Targets.Graph;

namespace ChatterConnector.Engine.Tests.Graph;

public class SharedTokenCredentialTests
{
    /// <summary>A token service that takes a while to answer, counting its sign-ins; each token lives <see cref="Lifetime"/>.</summary>
    private sealed class SlowCredential : TokenCredential
    {
        public int SignIns;
        public TimeSpan Lifetime = TimeSpan.FromHours(1);

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            var n = Interlocked.Increment(ref SignIns);
            await Task.Delay(50, cancellationToken);
            return new AccessToken("token-" + n, DateTimeOffset.UtcNow + Lifetime);
        }
    }

    private static readonly TokenRequestContext Graph = new(new[] { "https://graph.microsoft.com/.default" });

    [Fact]
    public async Task ManyRequestsAtOnceShareOneSignIn()
    {
        var inner = new SlowCredential();
        var shared = new GraphAuthentication.SharedTokenCredential(inner);
        var tokens = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => shared.GetTokenAsync(Graph, CancellationToken.None).AsTask()));
        Assert.Equal(1, inner.SignIns);
        Assert.All(tokens, t => Assert.Equal("token-1", t.Token));
        Assert.Equal("token-1", shared.GetToken(Graph, CancellationToken.None).Token);
    }

    [Fact]
    public async Task ATokenNearItsEndIsReplaced_AndAChallengeAlwaysSignsIn()
    {
        var inner = new SlowCredential { Lifetime = TimeSpan.FromMinutes(4) }; // under the 5 minutes it must still be good for
        var shared = new GraphAuthentication.SharedTokenCredential(inner);
        await shared.GetTokenAsync(Graph, CancellationToken.None);
        await shared.GetTokenAsync(Graph, CancellationToken.None);
        Assert.Equal(2, inner.SignIns);

        inner.Lifetime = TimeSpan.FromHours(1);
        await shared.GetTokenAsync(Graph, CancellationToken.None);
        var challenged = new TokenRequestContext(Graph.Scopes, claims: "{\"access_token\":{\"nbf\":{\"essential\":true}}}");
        Assert.Equal("token-4", (await shared.GetTokenAsync(challenged, CancellationToken.None)).Token);
        Assert.Equal("token-3", (await shared.GetTokenAsync(Graph, CancellationToken.None)).Token);
    }
}
