using ChatterConnector.Engine.Targets.Graph;

namespace ChatterConnector.Engine.Tests.Graph;

public class RecentCreatesTests
{
    private static RecentCreates.Entry Entry(string json) => new("IPM.ExternalData.Chatter.Post", json, json.Length);

    [Fact]
    public async Task OneDeliveryConverts_TheOthersWaitForItsCreate()
    {
        var recent = new RecentCreates();
        Assert.Null(recent.Claim("k", out var mine));
        Assert.True(mine);
        var waiting = recent.Claim("k", out var second);
        Assert.False(second);
        Assert.NotNull(waiting);
        Assert.False(waiting!.IsCompleted);

        recent.Add("k", Entry("{\"subject\":\"x\"}"));
        Assert.Equal("{\"subject\":\"x\"}", (await waiting)!.Json);
        var later = recent.Claim("k", out var third);
        Assert.False(third);
        Assert.Equal("{\"subject\":\"x\"}", (await later!)!.Json);
    }

    [Fact]
    public async Task NothingKept_TheWaitingConvertForThemselves_AndTheNextClaimConvertsAgain()
    {
        var recent = new RecentCreates();
        recent.Claim("k", out _);
        var waiting = recent.Claim("k", out _);
        recent.Abandon("k");
        Assert.Null(await waiting!);
        Assert.Null(recent.Claim("k", out var mine));
        Assert.True(mine);
        Assert.Equal(0, recent.Count);
    }

    [Fact]
    public void TheLeastRecentlyUsedGoFirst_ByCountAndBySize()
    {
        var recent = new RecentCreates(maxEntries: 2, maxChars: 100);
        recent.Add("a", Entry(new string('a', 10)));
        recent.Add("b", Entry(new string('b', 10)));
        Assert.NotNull(recent.Claim("a", out _)); // a is now the most recent
        recent.Add("c", Entry(new string('c', 10)));
        Assert.NotNull(recent.Claim("a", out _));
        Assert.Null(recent.Claim("b", out var bGone)); // b went
        Assert.True(bGone);
        recent.Abandon("b");

        recent.Add("d", Entry(new string('d', 95))); // over the size with anything else: the others go
        Assert.Equal(1, recent.Count);
        recent.Add("e", Entry(new string('e', 101))); // larger than the whole bound: not kept
        Assert.Equal(1, recent.Count);
        Assert.NotNull(recent.Claim("d", out _));
    }
}
