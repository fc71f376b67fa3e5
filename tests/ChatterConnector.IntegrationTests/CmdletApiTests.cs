using ChatterConnector.Engine.Sources.Sample;
using ChatterConnector.Fakes;
using ChatterConnector.Engine;

namespace ChatterConnector.IntegrationTests;

/// <summary>
/// The cmdlets against the fake org, run as an admin would: in a PowerShell host (the module's
/// shell, a child process that imports out/ChatterConnector) while the fake serves this process.
/// </summary>
public class CmdletApiTests
{
    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "ChatterConnector.sln"))) dir = dir.Parent;
        return dir!.FullName;
    }

    internal static (int Exit, string Out, string Err) Shell(string command) => ModuleShell.Run(command);

    internal static string Secure(string name, string value) =>
        $"${name} = [System.Security.SecureString]::new(); '{value}'.ToCharArray() | ForEach-Object {{ ${name}.AppendChar($_) }}; ";

    [Fact]
    public void NewConnectorMapImportAndTest_ThroughTheApi()
    {
        using var t = new Scratch();
        var org = SampleOrgGenerator.Generate(new SampleOrgOptions { Users = 15, Posts = 40, Seed = 12 });
        using var fake = FakeSalesforce.Start(org);
        var store = t.Sub("store");
        var script = Secure("secret", fake.Options.ClientSecret) +
            $"New-ChatterConnector -Name Api -MaildirPath '{t.Sub("maildir")}' -StorePath '{store}' -SalesforceLoginUrl {fake.Url} " +
            $"-SalesforceClientId {fake.Options.ClientId} -SalesforceClientSecret $secret | Set-ChatterUserMapping -Automatic -PassThru | Start-ChatterImport | " +
            "ForEach-Object { 'RUN {0} {1} {2}' -f $_.Status, $_.ItemsAvailable, $_.ApiCalls }; " +
            $"Test-ChatterConnector -Name Api -StorePath '{store}' | ForEach-Object {{ 'CHECK {{0}}={{1}}' -f $_.Check, $_.Succeeded }}";
        var (exit, stdout, stderr) = Shell(script);
        Assert.True(exit == 0, stderr + stdout);
        var run = stdout.Split('\n').Single(l => l.StartsWith("RUN ")).Trim().Split(' ');
        Assert.Equal("Succeeded", run[1]);
        Assert.True(int.Parse(run[2]) > 100);
        Assert.True(int.Parse(run[3]) > 0);
        Assert.Contains("CHECK Salesforce sign-in=True", stdout);
        Assert.Contains("CHECK Salesforce ChatterMessage=True", stdout);
        Assert.DoesNotContain(fake.Options.ClientSecret, File.ReadAllText(Path.Combine(store, "chatterconnector.db")));
        Assert.True(ApiImportTests.Archive(t.Sub("maildir")).Count > 100);
        Assert.False(Directory.Exists(Path.Combine(store, "spool", "Api")), "the spool is removed after the run");
    }

    [Fact]
    public void AConnectorWithoutPrivateMessageAccessIsToldWhatToGrant()
    {
        using var t = new Scratch();
        using var fake = FakeSalesforce.Start(SampleOrgGenerator.Generate(new SampleOrgOptions { Users = 8, Posts = 10 }),
            new FakeSalesforceOptions { PrivateMessagesAllowed = false });
        var store = t.Sub("store");
        var (exit, stdout, stderr) = Shell(Secure("secret", fake.Options.ClientSecret) +
            $"New-ChatterConnector -Name Api -MaildirPath '{t.Sub("maildir")}' -StorePath '{store}' -SalesforceLoginUrl {fake.Url} " +
            $"-SalesforceClientId {fake.Options.ClientId} -SalesforceClientSecret $secret | Out-Null; " +
            $"Test-ChatterConnector -Name Api -StorePath '{store}' | Where-Object {{ -not $_.Succeeded }} | ForEach-Object {{ 'FAIL ' + $_.Message }}; " +
            $"Start-ChatterImport -Name Api -StorePath '{store}' | ForEach-Object {{ 'RUN ' + $_.Status }}");
        Assert.True(exit == 0, stderr);
        Assert.Contains("Manage Chatter Messages and Direct Messages", stdout);
        Assert.Contains("RUN Succeeded", stdout);
        Assert.Contains("WARNING: Private messages are skipped", stderr);
    }
}

/// <summary>An import into Graph run in a child shell and killed after some creates, before their ledger write.</summary>
public class GraphKillAndResumeTests
{
    [Fact]
    public void ARunKilledBetweenCreatesAndTheirLedgerWriteIsResumedWithoutADuplicate()
    {
        using var t = new Scratch();
        using var graph = FakeGraph.Start();
        graph.Faults.Latency = TimeSpan.FromMilliseconds(20);
        using (var store = Engine.State.ConnectorStore.Open(t.Sub("store")))
        {
            var (c, _) = GraphImportTests.Setup(t, graph, store, users: 12, posts: 80, seed: 41);
        }

        var created = 0;
        var killed = ModuleShell.KillWhen($"Start-ChatterImport -Name Graph -StorePath '{t.Sub("store")}' -Force | Out-Null",
            () => (created = GraphImportTests.Created(graph).Count) >= 40);
        Assert.True(killed, "the child finished before it could be killed");

        using (var store = Engine.State.ConnectorStore.Open(t.Sub("store")))
        {
            Assert.True(store.CountDeliveries("Graph", Engine.Model.DeliveryStatus.InFlight) > 0, "the kill left deliveries in flight");
            var c = store.GetConnector("Graph");
            graph.Faults.Latency = TimeSpan.Zero;
            var run = GraphImportTests.Run(store, c);
            Assert.Equal(Engine.Model.ImportRunStatus.Succeeded, run.Status);
            Assert.True(run.SkippedDuplicates > 0, "the resumed run found messages the killed one had created");
            var all = GraphImportTests.Created(graph);
            Assert.Equal(all.Count, all.Distinct().Count());
            Assert.Equal(store.CountDeliveries("Graph", Engine.Model.DeliveryStatus.Imported) + store.CountDeliveries("Graph", Engine.Model.DeliveryStatus.PartiallyImported)
                + store.CountDeliveries("Graph", Engine.Model.DeliveryStatus.SkippedDuplicate), all.Count);
        }
    }
}
