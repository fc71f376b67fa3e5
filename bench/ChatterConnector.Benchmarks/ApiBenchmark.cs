using System.Diagnostics;
using ChatterConnector.Engine.Import;
using ChatterConnector.Engine.Model;
using ChatterConnector.Engine.Sources.Sample;
using ChatterConnector.Engine.State;
using ChatterConnector.Fakes;

/// <summary>
/// `--source api`: an org served by the fake Salesforce server, read through the REST API into
/// staging and a Maildir. Prints items per second, API calls and peak memory, then a no-change
/// rerun's time and calls, beside the same rerun on an org a tenth of the size (it must not grow
/// with the org).
/// </summary>
static class ApiBenchmark
{
    public static void Run(int users, int posts, string root)
    {
        Console.WriteLine($"Serving a sample org ({users} users, {posts} posts) from the fake Salesforce server …");
        var big = Measure(users, posts, Path.Combine(root, "big"), print: true);
        var small = Measure(Math.Max(10, users / 10), Math.Max(10, posts / 10), Path.Combine(root, "small"), print: false);
        Console.WriteLine($"No-change rerun: {big.RerunSeconds:N2} s and {big.RerunCalls} API calls for {big.Items:N0} items; " +
                          $"{small.RerunSeconds:N2} s and {small.RerunCalls} calls for an org of {small.Items:N0} items (ratio of calls {(double)big.RerunCalls / Math.Max(1, small.RerunCalls):N2})");
    }

    private sealed record Figures(int Items, double RerunSeconds, int RerunCalls);

    private static Figures Measure(int users, int posts, string root, bool print)
    {
        Directory.CreateDirectory(root);
        var org = SampleOrgGenerator.Generate(new SampleOrgOptions { Users = users, Posts = posts, Seed = 1 });
        using var fake = FakeSalesforce.Start(org);
        using var store = ConnectorStore.Open(Path.Combine(root, "store"));
        var secrets = SecretProtector.ForStore(store.StorePath);
        var connector = new ChatterConnectorInfo
        {
            Name = "bench", MaildirPath = Path.Combine(root, "maildir"), AutomaticMapping = true,
            Created = DateTimeOffset.UtcNow, Modified = DateTimeOffset.UtcNow,
            Salesforce = new SalesforceSettings
            {
                AuthFlow = SalesforceAuthFlow.ClientCredentials, LoginUrl = fake.Url, ClientId = fake.Options.ClientId,
                ClientSecret = secrets.Protect(fake.Options.ClientSecret),
            },
        };
        store.AddConnector(connector);

        GC.Collect();
        var sw = Stopwatch.StartNew();
        var run = new ImportPipeline(store, connector).Run();
        var seconds = sw.Elapsed.TotalSeconds;
        var peak = Process.GetCurrentProcess().PeakWorkingSet64;

        sw.Restart();
        var rerun = new ImportPipeline(store, connector).Run();
        var rerunSeconds = sw.Elapsed.TotalSeconds;

        if (print)
        {
            Console.WriteLine($"Import through the API: {run.ItemsAvailable:N0} items → {run.Imported + run.PartiallyImported:N0} messages, status {run.Status}");
            Console.WriteLine($"  time            {seconds,10:N2} s");
            Console.WriteLine($"  items/s         {run.ItemsAvailable / seconds,10:N0}");
            Console.WriteLine($"  API calls       {run.ApiCalls,10:N0} (the fake counted {fake.ApiCalls:N0} including the rerun's)");
            Console.WriteLine($"  peak memory     {peak / 1048576.0,10:N0} MB (process peak working set, the fake server included)");
        }
        return new Figures(run.ItemsAvailable, rerunSeconds, rerun.ApiCalls);
    }
}
