using ChatterConnector.Engine.Mapping;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources;

namespace ChatterConnector.Engine.Tests;

public class UserMapperTests
{
    /// <summary>A target's check that takes a while, and records how many ran at once and which mailboxes it was asked about.</summary>
    private sealed class SlowCheck
    {
        private int _now;
        public int Highest;
        public readonly List<string> Asked = new();

        public async Task<string?> CheckAsync(string mailbox)
        {
            var n = Interlocked.Increment(ref _now);
            lock (Asked)
            {
                Asked.Add(mailbox);
                if (n > Highest) Highest = n;
            }
            await Task.Delay(30);
            Interlocked.Decrement(ref _now);
            return mailbox.StartsWith("gone", StringComparison.Ordinal) ? "no Microsoft 365 user has that address" : null;
        }
    }

    private static (ChatterConnectorInfo Connector, SourceDirectory Directory) Org(int users)
    {
        var dir = new SourceDirectory();
        for (int i = 0; i < users; i++)
        {
            var id = "005" + i.ToString("D15");
            dir.Users[id] = new ChatterUser { Id = id, Name = "User " + i, Email = (i % 5 == 4 ? "gone" : "user") + i + "@contoso.com", IsActive = true };
        }
        dir.Users["005NOMAIL00000000"] = new ChatterUser { Id = "005NOMAIL00000000", Name = "No Mail", IsActive = true };
        var connector = new ChatterConnectorInfo { Name = "T", AutomaticMapping = true, DefaultMailbox = "archive@contoso.com" };
        return (connector, dir);
    }

    [Fact]
    public void ManyParticipantsAreCheckedAtOnce_EachMailboxOnce_AndResolveAsTheyWouldOneByOne()
    {
        var (connector, dir) = Org(40);
        var check = new SlowCheck();
        var mapper = new UserMapper(connector, dir, check.CheckAsync) { CheckParallelism = 8 };
        var ids = dir.Users.Keys.ToList();

        mapper.Prefetch(ids.Concat(ids)); // a user named twice is asked about once
        Assert.InRange(check.Highest, 2, 8);
        Assert.Equal(41, check.Asked.Count); // 40 addresses and the default mailbox of the user without one
        Assert.Equal(check.Asked.Count, check.Asked.Distinct(StringComparer.OrdinalIgnoreCase).Count());

        var prefetched = ids.Select(mapper.Resolve).ToList();
        Assert.Equal(41, check.Asked.Count); // resolving asked nothing more

        var oneByOne = new UserMapper(connector, dir, new SlowCheck().CheckAsync);
        var expected = ids.Select(oneByOne.Resolve).ToList();
        Assert.Equal(expected.Select(e => (e.SalesforceUserId, e.Mailbox, e.Source, e.Reason)), prefetched.Select(e => (e.SalesforceUserId, e.Mailbox, e.Source, e.Reason)));
        Assert.Equal(8, prefetched.Count(e => e.Source == MappingSource.Unmapped)); // the "gone" ones
        Assert.Contains(prefetched, e => e.Source == MappingSource.Default && e.Mailbox == "archive@contoso.com");
    }

    [Fact]
    public void ResolveAllChecksAPageAtATime()
    {
        var (connector, dir) = Org(450);
        var check = new SlowCheck();
        var mapper = new UserMapper(connector, dir, check.CheckAsync) { CheckParallelism = 16 };
        using var all = mapper.ResolveAll().GetEnumerator();
        Assert.True(all.MoveNext());
        Assert.Equal(200, check.Asked.Count); // the first page only, before the first user comes out
        var count = 1;
        while (all.MoveNext()) count++;
        Assert.Equal(451, count);
        Assert.True(check.Highest > 1);
    }
}
